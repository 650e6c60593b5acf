// SPDX-License-Identifier: MIT
/*
 * Resolution: which NUMA node holds a physical address, and which node a CPU
 * belongs to, from a topology (the host's, or a recording's NUMA_TOPOLOGY and
 * MEM_TOPOLOGY features, so recordings resolve offline). The topology model
 * itself comes from samplers/topology.c, upstream in the data flow.
 *
 * Memory blocks: Documentation/admin-guide/mm/memory-hotplug.rst; a block
 * index is the physical address divided by block_size_bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "log_print.h"
#include "topology_internal.h"

struct find_cpu {
	int cpu;
};

static int find_cb(int cpu, void *ctx)
{
	return cpu == ((struct find_cpu *)ctx)->cpu;
}

struct ibsp_node_id ibsp_topology__node_of_cpu(const struct ibsp_topology *t, int cpu)
{
	struct find_cpu f = { .cpu = cpu };

	for (uint32_t i = 0; i < t->nr_nodes; i++) {
		if (t->nodes[i].cpulist &&
		    ibsp_cpulist__parse(t->nodes[i].cpulist, find_cb, &f) == 1)
			return t->nodes[i].node;
	}
	return ibsp_node_id(-ENOENT);
}

struct ibsp_node_id ibsp_topology__node_of_paddr(const struct ibsp_topology *t, uint64_t paddr)
{
	uint64_t block;

	if (!t->has_block_map || !t->block_size_bytes)
		return ibsp_node_id(-ENODATA);
	block = paddr / t->block_size_bytes;
	for (uint32_t i = 0; i < t->nr_nodes; i++) {
		const struct ibsp_topo_node *n = &t->nodes[i];
		uint32_t lo = 0, hi = n->nr_ranges;

		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			const struct ibsp_block_range *r = &n->ranges[mid];

			if (block < r->first)
				hi = mid;
			else if (block >= r->first + r->nr)
				lo = mid + 1;
			else
				return n->node;
		}
	}
	return ibsp_node_id(-ENOENT);
}

static int fill_cb(int cpu, void *ctx)
{
	struct {
		struct ibsp_node_id *map;
		uint32_t nr;
		struct ibsp_node_id node;
	} *f = ctx;

	if ((uint32_t)cpu < f->nr)
		f->map[cpu] = f->node;
	return 0;
}

int ibsp_topology__cpu_node_map(const struct ibsp_topology *t, uint32_t nr_cpus,
				struct ibsp_node_id **out)
{
	struct {
		struct ibsp_node_id *map;
		uint32_t nr;
		struct ibsp_node_id node;
	} f = { .nr = nr_cpus };

	f.map = malloc((nr_cpus ? nr_cpus : 1) * sizeof(*f.map));
	if (!f.map)
		return -ENOMEM;
	for (uint32_t c = 0; c < nr_cpus; c++)
		f.map[c] = ibsp_node_id(-1);
	for (uint32_t i = 0; i < t->nr_nodes; i++) {
		f.node = t->nodes[i].node;
		if (t->nodes[i].cpulist)
			ibsp_cpulist__parse(t->nodes[i].cpulist, fill_cb, &f);
	}
	*out = f.map;
	return 0;
}

struct ibsp_node_idx ibsp_topology__index_of(const struct ibsp_topology *t, struct ibsp_node_id id)
{
	for (uint32_t i = 0; i < t->nr_nodes; i++) {
		if (t->nodes[i].node.id == id.id)
			return ibsp_node_idx((int)i);
	}
	return ibsp_node_idx(-ENOENT);
}

uint32_t ibsp_topology__distance(const struct ibsp_topology *t, struct ibsp_node_idx ia,
				 struct ibsp_node_idx ib)
{
	uint32_t a = (uint32_t)ia.idx, b = (uint32_t)ib.idx;

	if (a >= t->nr_nodes || b >= t->nr_nodes)
		return UINT32_MAX;
	if (t->distance)
		return t->distance[a * t->nr_nodes + b];
	if (a == b)
		return 10;
	return t->nodes[a].nr_cpus && t->nodes[b].nr_cpus ? 20 : 30;
}

struct top_mark {
	struct ibsp_topology *t;
	int bad;
};

static int top_mark_cb(int node, void *ctx)
{
	struct top_mark *m = ctx;
	struct ibsp_node_idx idx = ibsp_topology__index_of(m->t, ibsp_node_id(node));

	if (!ibsp_node_idx__valid(idx)) {
		m->bad = node;
		return 1;
	}
	m->t->nodes[idx.idx].top_tier = true;
	return 0;
}

int ibsp_topology__set_top_tier(struct ibsp_topology *t, const char *nodelist)
{
	struct top_mark m = { .t = t, .bad = -1 };
	uint32_t nr_top = 0;
	int ret;

	for (uint32_t i = 0; i < t->nr_nodes; i++)
		t->nodes[i].top_tier = !nodelist && t->nodes[i].nr_cpus > 0;
	if (nodelist) {
		ret = ibsp_cpulist__parse(nodelist, top_mark_cb, &m);
		if (ret < 0) {
			pr_err("top tier: malformed node list '%s'\n", nodelist);
			return -EDOM;
		}
		if (ret == 1) {
			pr_err("top tier: node %d is not a NUMA node of this topology\n", m.bad);
			return -EDOM;
		}
	}
	for (uint32_t i = 0; i < t->nr_nodes; i++)
		nr_top += t->nodes[i].top_tier;
	if (!nr_top) {
		pr_err("top tier: no node qualifies (%s)\n",
		       nodelist ? "the list is empty" : "no node has CPUs");
		return nodelist ? -EDOM : -EINVAL;
	}
	return 0;
}
