/* SPDX-License-Identifier: MIT */
/*
 * The layout of a topology, private to samplers/host: everyone else reads it
 * with the accessors of ibsp/topology.h and builds one with
 * topology_build.h.
 */
#ifndef IBSP_TOPOLOGY_INTERNAL_H
#define IBSP_TOPOLOGY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/topology.h"

/** struct ibsp_topo_node - one NUMA node */
struct ibsp_topo_node {
	struct ibsp_node_id node;
	uint64_t mem_total_kb; /* MemTotal of the node, kB */
	uint64_t mem_free_kb;  /* MemFree of the node at discovery/recording time, kB */
	char *cpulist;	       /* kernel cpulist syntax ("0-3,8"); "" for a CPU-less node */
	uint32_t nr_cpus;      /* number of CPUs in @cpulist */
	uint32_t nr_ranges;    /* entries in @ranges, sorted by first block */
	struct ibsp_block_range *ranges;
	int32_t tier;  /* kernel memory tier (N of memory_tierN, lower is faster); -1 unknown */
	bool top_tier; /* a promotion destination; see ibsp_topology__set_top_tier() */
};

/** struct ibsp_topology - all NUMA nodes of a host, sorted by node id */
struct ibsp_topology {
	uint32_t nr_nodes;
	struct ibsp_topo_node *nodes;
	uint64_t block_size_bytes; /* memory block size; 0 when the block map is unknown */
	bool has_block_map;	   /* the nodes' @ranges are filled */
	/*
	 * SLIT distances by node *index* (position in @nodes, not node id):
	 * distance[a * nr_nodes + b]. NULL when unknown; use
	 * ibsp_topology__distance(), which falls back to defaults.
	 */
	uint32_t *distance;
};

/* The node at index @i, or NULL out of range. */
static inline const struct ibsp_topo_node *ibsp_topology__node(const struct ibsp_topology *t,
							       struct ibsp_node_idx i)
{
	return i.idx >= 0 && (uint32_t)i.idx < t->nr_nodes ? &t->nodes[i.idx] : NULL;
}

/*
 * The SLIT matrix from hwloc (which honours HWLOC_FSROOT; tests use that) into
 * @t->distance, mapping hwloc's objects to @t's nodes by os_index. -ENODATA
 * when hwloc has none or its nodes are not @t's (logged), -ENOMEM.
 */
int ibsp_topology__distance_from_hwloc(struct ibsp_topology *t);

#endif /* IBSP_TOPOLOGY_INTERNAL_H */
