/* SPDX-License-Identifier: MIT */
/* Small helpers shared inside the library. */
#ifndef IBSP_UTIL_H
#define IBSP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/topology.h"

#define IBSP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Read a small text file into @buf (NUL-terminated, trailing newline kept). Return length or -errno. */
int ibsp_read_file_str(const char *path, char *buf, size_t size);

int ibsp_topo_node__set_cpulist(struct ibsp_topo_node *n, const char *list);
int ibsp_topo_node__add_block(struct ibsp_topo_node *n, uint64_t block);

#endif
