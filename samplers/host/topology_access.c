// SPDX-License-Identifier: MIT
/*
 * What a topology knows, node by node, for the code outside samplers/host:
 * the layout (topology_internal.h) stays private, so it can change without
 * touching the engine, the policies, the perf.data writer or the command.
 */
#include <errno.h>
#include <stdint.h>

#include "topology_internal.h"

uint32_t ibsp_topology__nr_nodes(const struct ibsp_topology *t)
{
	return t->nr_nodes;
}

struct ibsp_node_id ibsp_topology__node_id(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->node : ibsp_node_id(-ENOENT);
}

const char *ibsp_topology__cpulist(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n && n->cpulist ? n->cpulist : "";
}

uint32_t ibsp_topology__nr_cpus(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->nr_cpus : 0;
}

uint64_t ibsp_topology__mem_total_kb(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->mem_total_kb : 0;
}

uint64_t ibsp_topology__mem_free_kb(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->mem_free_kb : 0;
}

int32_t ibsp_topology__tier(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->tier : -1;
}

bool ibsp_topology__is_top_tier(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n && n->top_tier;
}

uint32_t ibsp_topology__nr_ranges(const struct ibsp_topology *t, struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->nr_ranges : 0;
}

const struct ibsp_block_range *ibsp_topology__ranges(const struct ibsp_topology *t,
						     struct ibsp_node_idx i)
{
	const struct ibsp_topo_node *n = ibsp_topology__node(t, i);

	return n ? n->ranges : NULL;
}

bool ibsp_topology__has_block_map(const struct ibsp_topology *t)
{
	return t->has_block_map;
}

uint64_t ibsp_topology__block_size_bytes(const struct ibsp_topology *t)
{
	return t->block_size_bytes;
}

bool ibsp_topology__has_distances(const struct ibsp_topology *t)
{
	return t->distance;
}
