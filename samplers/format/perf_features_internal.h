/* SPDX-License-Identifier: MIT */
/* Feature parsing, shared by perf_features{,_cursor,_topo}.c. */
#ifndef IBSP_PERF_FEATURES_INTERNAL_H
#define IBSP_PERF_FEATURES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/perf_file.h"

/** struct ibsp_fcur - a read position in one feature section */
struct ibsp_fcur {
	const uint8_t *p;
	size_t pos, len;
	const char *path;
	const char *feat;
	uint64_t file_off; /* file offset of p[0] */
};

/* Log that @field of the feature at the cursor is bad because @why; return -EINVAL. */
int ibsp_fcur__bad(struct ibsp_fcur *c, const char *field, const char *why);
/* Take @n bytes; *@out points at them. */
int ibsp_fcur__take(struct ibsp_fcur *c, const char *field, size_t n, const uint8_t **out);
int ibsp_fcur__u32(struct ibsp_fcur *c, const char *field, uint32_t *v);
int ibsp_fcur__u64(struct ibsp_fcur *c, const char *field, uint64_t *v);
/* A perf string { u32 len; char s[len]; } into a malloc'd *@out. */
int ibsp_fcur__str(struct ibsp_fcur *c, const char *field, char **out);
/* A count of items of at least @min_each bytes each must fit in what is left. */
int ibsp_fcur__count(struct ibsp_fcur *c, const char *field, uint64_t nr, size_t min_each);

/* NUMA_TOPOLOGY: replaces info->topo. */
int ibsp_feature_parse_numa(struct ibsp_fcur *c, struct ibsp_recording_info *info);
/* MEM_TOPOLOGY: the block map of info->topo (made when NUMA_TOPOLOGY was absent). */
int ibsp_feature_parse_mem_topology(struct ibsp_fcur *c, struct ibsp_recording_info *info);
/* IBSP_TOPOLOGY: distances and tiers of the nodes NUMA_TOPOLOGY listed. */
int ibsp_feature_parse_ibsp_topology(struct ibsp_fcur *c, struct ibsp_recording_info *info);

#endif
