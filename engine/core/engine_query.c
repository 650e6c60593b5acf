// SPDX-License-Identifier: MIT
/*
 * The engine's accessors: capacity per node (read and set by the drivers),
 * accessor slots, stats and options. Split from engine.c, which holds
 * construction, resolution and the per-sample path.
 */
#include <errno.h>

#include "engine_internal.h"
#include "evidence.h"

static bool node_in_range(const struct ibsp_engine *e, struct ibsp_node_idx i)
{
	return i.idx >= 0 && (uint32_t)i.idx < ibsp_topology__nr_nodes(e->topo);
}

int ibsp_engine__set_free(struct ibsp_engine *e, struct ibsp_node_idx i, uint64_t free_bytes)
{
	if (!node_in_range(e, i))
		return -ENOENT;
	e->free_bytes[i.idx] = free_bytes;
	return 0;
}

uint64_t ibsp_engine__free_bytes(const struct ibsp_engine *e, struct ibsp_node_idx i)
{
	return node_in_range(e, i) ? e->free_bytes[i.idx] : 0;
}

uint64_t ibsp_engine__watermark_bytes(const struct ibsp_engine *e, struct ibsp_node_idx i)
{
	return node_in_range(e, i) ? e->wmark_bytes[i.idx] : 0;
}

struct ibsp_node_idx ibsp_engine__acc_node(const struct ibsp_engine *e, uint32_t slot)
{
	return slot < e->nr_acc ? e->acc_idx[slot] : IBSP_NODE_IDX_NONE;
}

uint32_t ibsp_engine__nr_acc(const struct ibsp_engine *e)
{
	return e->nr_acc;
}

const uint32_t *ibsp_engine__plan_heat(const struct ibsp_engine *e, long i)
{
	if (!e->opts.plan_heat || i < 0 || i >= e->nr_plan)
		return NULL;
	return e->plan_heat + (size_t)i * e->nr_acc;
}

const struct ibsp_engine_stats *ibsp_engine__stats(const struct ibsp_engine *e)
{
	return &e->st;
}

double ibsp_engine__noise(const struct ibsp_engine *e)
{
	return ibsp_share__value(&e->noise);
}

const struct ibsp_engine_opts *ibsp_engine__opts(const struct ibsp_engine *e)
{
	return &e->opts;
}
