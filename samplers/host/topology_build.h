/* SPDX-License-Identifier: MIT */
/*
 * Building a topology node by node, for whoever learns one from somewhere
 * other than sysfs: a recording's NUMA_TOPOLOGY, MEM_TOPOLOGY and
 * IBSP_TOPOLOGY features (samplers/format), the workload generator and the
 * tests. Nodes are addressed by index; a new topology's nodes have id 0,
 * no CPUs, no memory and tier -1 until set.
 */
#ifndef IBSP_TOPOLOGY_BUILD_H
#define IBSP_TOPOLOGY_BUILD_H

#include <stdint.h>

#include "ibsp/topology.h"

/** ibsp_topology__new() - an empty topology with room for @nr_nodes nodes; NULL+errno on failure */
struct ibsp_topology *ibsp_topology__new(uint32_t nr_nodes);

/**
 * ibsp_topology__add_node() - append a CPU-less node @id without memory
 * @out: receives its index
 *
 * Return: 0 or -ENOMEM.
 */
int ibsp_topology__add_node(struct ibsp_topology *t, struct ibsp_node_id id,
			    struct ibsp_node_idx *out);

/* Every setter: -ENOENT for an index out of range. */

int ibsp_topology__set_node_id(struct ibsp_topology *t, struct ibsp_node_idx i,
			       struct ibsp_node_id id);

/*
 * The node's CPUs, in cpulist syntax (a trailing newline is ignored); it is a
 * top-tier node by default when it has any. -EINVAL malformed, -ENOMEM.
 */
int ibsp_topology__set_cpulist(struct ibsp_topology *t, struct ibsp_node_idx i, const char *list);

int ibsp_topology__set_mem_kb(struct ibsp_topology *t, struct ibsp_node_idx i, uint64_t total_kb,
			      uint64_t free_kb);

int ibsp_topology__set_tier(struct ibsp_topology *t, struct ibsp_node_idx i, int32_t tier);

/* A node's block ranges are few on real hosts (holes in the map); more means a hostile file. */
#define IBSP_TOPO_MAX_RANGES (1u << 16)

/*
 * Append @nr blocks from @first to the node's ranges, in ascending order,
 * merging with the last range. -EINVAL out of order or empty, -E2BIG past
 * IBSP_TOPO_MAX_RANGES ranges, -ENOMEM.
 */
int ibsp_topology__add_range(struct ibsp_topology *t, struct ibsp_node_idx i, uint64_t first,
			     uint64_t nr);

/* The memory block size, which makes the ranges a block map; 0: no block map. */
void ibsp_topology__set_block_size(struct ibsp_topology *t, uint64_t bytes);

/*
 * The SLIT matrix, copied: @dist[a * nr_nodes + b] between the nodes at
 * indices a and b; NULL forgets it. 0 or -ENOMEM.
 */
int ibsp_topology__set_distances(struct ibsp_topology *t, const uint32_t *dist);

#endif /* IBSP_TOPOLOGY_BUILD_H */
