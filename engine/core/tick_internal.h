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
#include "evidence.h"
#include "threads.h"
#include "util.h"

/*
 * Heat histogram: bucket = 4 * floor(log2(h)) + the next two bits, so each
 * power of two is split in four (~19% wide buckets). 64 * 4 buckets cover u64.
 */
#define NR_BUCKETS IBSP_HEAT_BUCKETS

static inline unsigned int bucket_of(uint64_t h)
{
	unsigned int msb;

	if (h < 4)
		return (unsigned int)h;
	msb = 63 - (unsigned int)__builtin_clzll(h);
	return msb * 4 + (unsigned int)((h >> (msb - 2)) & 3);
}

/*
 * What a candidate is worth in the race for the budget: its heat per byte,
 * scaled so that a 2 MiB page's is its heat and a 4 KiB page's its heat x 512
 * (WORTH_SHIFT_4K). The budget is bytes, so this is the knapsack's greedy
 * order: a 2 MiB page with the heat of 200 samples costs what 512 pages of 4
 * KiB cost and serves what two of them with 100 samples each serve. Ranked by
 * heat, the hot 2 MiB pages took the budget of the first intervals while
 * pages of 4 KiB that each had more samples per byte waited.
 */
#define WORTH_SHIFT_4K (PAGE_SHIFT_2M - PAGE_SHIFT_4K)

static inline uint64_t cand_worth(const struct ibsp_heat_entry *he, uint64_t total)
{
	return he->key & KEY_HUGE ? total : total << WORTH_SHIFT_4K;
}

/* Per-tick scratch arrays start at 1024 entries. */
static inline int grow(void **p, uint64_t *cap, uint64_t need, size_t size)
{
	return ibsp_array_grow(p, cap, need, size, 1024);
}

/* The --min-heat floor in heat units: a page's total below it is not a candidate (but see scan.c). */
static inline uint64_t heat_floor(const struct ibsp_engine *e)
{
	return (uint64_t)e->opts.min_heat * IBSP_HEAT_ONE;
}

/*
 * The accessor slot @he's neighbours lead to (near.h), for a first decision:
 * while the host's pages agree with their neighbours, for a page the engine
 * never moved that is on a lower-tier node with under 2 x min_heat samples,
 * or on a top-tier node during an excursion; -1 otherwise. While the
 * neighbours may help (believed, or their agreement not known yet), such a
 * page's question is counted, and whether its neighbourhood was in the
 * table: the table grows where many are not (ibsp_near_table__tick()).
 */
static inline int page_near(const struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	struct ibsp_near *n;
	uint64_t key;

	/* A KEY_VIRT entry has its alias from its first sample (init_entry()). */
	if (!(e->view.near_agrees || e->st.near_agreement < 0) || he->nr_moves || he->node < 0 ||
	    (he->key & KEY_HUGE) || !(he->flags & HE_ALIAS) ||
	    (e->top_tier[he->node] ? !he->leave : he->seen >= 2 * e->opts.min_heat))
		return -1;
	key = ibsp_near__key(he->pid, ibsp_heat_table__vaddr(e->ht, he));
	n = ibsp_near_table__find(e->near, key);
	e->near->asked++;
	e->near->missed += !n;
	if (!e->view.near_agrees || !n)
		return -1;
	ibsp_near__catch_up(n, e->nr_acc, e->ht->aged, e->ht->shift);
	return ibsp_near__leader(n, he, e->nr_acc);
}

/*
 * The accessor slot @he should follow its owner thread to (threads.h): while
 * the host's private pages agree with their owners' homes, a page on a
 * top-tier node whose owner's home is another top-tier node, where its latest
 * sample came from; -1 otherwise.
 */
static inline int page_owner(const struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	const struct ibsp_thread *th;
	uint32_t tid;

	if (!e->view.owner_agrees || he->node < 0 || !e->top_tier[he->node])
		return -1;
	tid = ibsp_owner__of(e->ht, ibsp_heat_table__pos(e->ht, he));
	th = tid ? ibsp_thread_table__find(e->threads, tid) : NULL;
	if (!th || th->home != he->last_acc || th->prev < 0 ||
	    e->acc_node[(int)th->prev] != he->node)
		return -1;
	return e->acc_node[(int)th->home] != he->node && e->top_tier[e->acc_node[(int)th->home]]
		   ? th->home
		   : -1;
}

static inline void page_view(const struct ibsp_engine *e, const struct ibsp_heat_entry *he,
			     uint64_t total, enum ibsp_pick pick, struct ibsp_page_view *pg)
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
	pg->drift = he->drift;
	pg->stay = he->stay;
	pg->seen = he->seen;
	pg->near = page_near(e, he);
	pg->owner = page_owner(e, he);
}

/*
 * A candidate of one tick, in one word: its entry's position in the dense
 * array (bits 0-31), whether select() picked IBSP_PICK_FOLLOW rather than
 * IBSP_PICK_PROMOTE (bit 32); bits 33-63 are the sort's scratch (candsort.c).
 * Its heat and key are read from the entry, which the tick does not move.
 */
#define CAND_FOLLOW (1ULL << 32)

static inline uint64_t cand_make(uint32_t pos, enum ibsp_pick pick)
{
	return pos | (pick == IBSP_PICK_FOLLOW ? CAND_FOLLOW : 0);
}

static inline uint32_t cand_pos(uint64_t c)
{
	return (uint32_t)c;
}

static inline enum ibsp_pick cand_pick(uint64_t c)
{
	return c & CAND_FOLLOW ? IBSP_PICK_FOLLOW : IBSP_PICK_PROMOTE;
}

/* What candidates are ordered by, in turn (ibsp_engine__sort_cands()). */
enum ibsp_cand_field {
	CAND_HOTTEST, /* most worth first: heat over all accessor nodes per byte (cand_worth()) */
	CAND_COLDEST, /* least heat first */
	CAND_LONGEST_IDLE, /* most intervals without a sample first */
	CAND_PID,	   /* the alias mapping's pid, ascending */
	CAND_VADDR,	   /* the alias mapping's address, ascending */
	CAND_KEY,	   /* the key, ascending: keys are unique, so this ends any tie */
};

/* candsort.c: order @c[0, @n) by @fields, in place (no copy); and a plain ascending sort. */
void ibsp_engine__sort_cands(const struct ibsp_engine *e, uint64_t *c, uint64_t n,
			     const enum ibsp_cand_field *fields, unsigned int nr_fields);
void ibsp_sort_u64(uint64_t *a, uint64_t n);

/* Outside the policy's scope, @he (on a known node) is not a candidate. */
static inline bool out_of_scope(const struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	return e->lower_tier_only && e->top_tier[he->node];
}

/* scan.c: step 1 of the interval pass, and the nodes short of room. */
void ibsp_engine__note_pressure(struct ibsp_engine *e, uint64_t budget);
int ibsp_engine__scan(struct ibsp_engine *e, uint64_t *hist, bool full);
int ibsp_engine__resolve_unknown(struct ibsp_engine *e);

#endif /* IBSP_TICK_INTERNAL_H */
