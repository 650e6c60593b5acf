/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer targets: an input as a file the reader can open by path. */
#ifndef IBSP_FUZZ_UTIL_H
#define IBSP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The largest input a target takes: larger ones only slow the runs down. */
#define FUZZ_MAX_INPUT (4u << 20)

/*
 * Write @data to a memfd (reused across runs) and return its /proc/self/fd
 * path, or NULL (also for an input over FUZZ_MAX_INPUT). The path stays
 * valid until the next call.
 */
const char *fuzz_memfd_path(const uint8_t *data, size_t size);

/* Silence the library's log (one line per malformed input would slow the runs down). */
void fuzz_quiet_log(void);

#endif
