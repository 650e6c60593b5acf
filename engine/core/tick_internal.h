/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the interval pass, private to engine/core: shared by the scan
 * for candidates (scan.c) and the planning (tick.c).
 */
#ifndef IBSP_TICK_INTERNAL_H
#define IBSP_TICK_INTERNAL_H

#include <errno.h>
#include <stdlib.h>

#include "engine_internal.h"
#include "util.h"

/*
 * Heat histogram: bucket = 4 * floor(log2(h)) + the next two bits, so each
 * power of two is split in four (~19% wide buckets). 64 * 4 buckets cover u64.
 */
#define NR_BUCKETS 256

static inline unsigned int bucket_of(uint64_t h)
{
	unsigned int msb;

	if (h < 4)
		return (unsigned int)h;
	msb = 63 - (unsigned int)__builtin_clzll(h);
	return msb * 4 + (unsigned int)((h >> (msb - 2)) & 3);
}

/* Per-tick scratch arrays start at 1024 entries. */
static inline int grow(void **p, uint64_t *cap, uint64_t need, size_t size)
{
	return ibsp_array_grow(p, cap, need, size, 1024);
}

static inline uint64_t entry_total(const struct ibsp_heat_entry *he, uint32_t nr_acc)
{
	uint64_t total = 0;

	for (uint32_t s = 0; s < nr_acc; s++)
		total += he->heat[s];
	return total;
}

static inline void page_view(const struct ibsp_heat_entry *he, uint64_t total, enum ibsp_pick pick,
			     struct ibsp_page_view *pg)
{
	pg->heat = he->heat;
	pg->total = total;
	pg->bytes = ibsp_heat_entry__bytes(he);
	pg->node = ibsp_node_idx(he->node);
	pg->prev_node = ibsp_node_idx(he->prev_node);
	pg->last_acc = he->last_acc;
	pg->last_move = he->last_move;
	pg->nr_moves = he->nr_moves;
	pg->idle = he->idle;
	pg->last_reason = he->last_reason ? he->last_reason - 1 : -1;
	pg->pick = pick;
	pg->leave = he->leave; /* one byte, read by the tier the page is on */
	pg->seen = he->seen;
}

/* Outside the policy's scope, @he (on a known node) is not a candidate. */
static inline bool out_of_scope(const struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	return e->lower_tier_only && e->top_tier[he->node];
}

/* scan.c: step 1 of the interval pass, and the nodes short of room. */
void ibsp_engine__note_pressure(struct ibsp_engine *e, uint64_t budget);
int ibsp_engine__scan(struct ibsp_engine *e, uint64_t *hist);
int ibsp_engine__resolve_unknown(struct ibsp_engine *e);

#endif /* IBSP_TICK_INTERNAL_H */
