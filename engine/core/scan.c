// SPDX-License-Identifier: MIT
/*
 * Step 1 of the interval pass (tick.c): every page's heat into the
 * histogram, the policy's select() and the engine's checks on each page,
 * live node lookups for hot pages without a physical address, and the pages
 * the engine may demote on nodes short of room.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tick_internal.h"

/*
 * The top-tier nodes short of room: less free above the watermark than one
 * interval's budget (or 1% of the node when the budget is unlimited). Only
 * their pages are demotion candidates, so a host with room pays nothing.
 */
void ibsp_engine__note_pressure(struct ibsp_engine *e, uint64_t budget)
{
	e->any_pressure = false;
	e->any_short = false;
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(e->topo); i++) {
		uint64_t want = budget != UINT64_MAX ? budget : e->wmark_bytes[i] / 2;
		bool is_short = e->top_tier[i] && e->free_bytes[i] < e->wmark_bytes[i] + want;

		e->pressure[i] = e->demotes && is_short;
		e->any_pressure |= e->pressure[i];
		e->any_short |= is_short;
	}
}

/*
 * A page on a lower-tier node that has had min_heat samples since it came
 * there, or a page the engine never moved on a top-tier node whose leave
 * evidence has reached what its first move needs (IBSP_FIRST_MOVE_LEAVE:
 * samples from another node, counted, not decayed). While every top-tier
 * node has room, such a page is a candidate even
 * when its decayed heat is below the floor: the decayed heat measures a rate,
 * and a page sampled less than about min_heat / 4 times an interval (decay
 * 3/4) stays below it between its samples, so it waited for two samples close
 * together, for most of a run, while each of its accesses went to slow memory.
 * With room to spare that rate ranks nothing; where a node is short of room
 * the floor applies, and the hotter pages go first. Where the noise is low, or
 * the pages agree with their neighbours (near.h), a lower-tier page's first
 * sample is enough to ask, and a never-moved page's first move may need as
 * little as IBSP_FIRST_MOVE_LEAVE - IBSP_NEAR_LEAVE: the policy weighs them.
 */
static inline bool seen_enough(const struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	if (he->node < 0)
		return false;
	if (e->top_tier[he->node])
		return (!he->nr_moves &&
			he->leave >=
			    IBSP_FIRST_MOVE_LEAVE - (e->view.near_agrees ? IBSP_NEAR_LEAVE : 0)) ||
		       (e->view.trusted_leave && he->stay >= IBSP_TRUSTED_STAY &&
			he->leave >= e->view.trusted_leave) ||
		       page_owner(e, he) >= 0;
	return he->seen >= (e->view.low_noise || e->view.near_agrees ? 1 : e->opts.min_heat);
}

/* Count @sz bytes into heat bucket @b; raise the floor while the buckets above it cover the budget. */
static void note_bytes(struct ibsp_engine *e, unsigned int b, uint32_t sz)
{
	e->cand_bytes[b] += sz;
	e->cand_total += sz;
	if (b >= e->cand_floor)
		e->cand_cum += sz;
	while (e->cand_floor < NR_BUCKETS - 1 &&
	       e->cand_cum - e->cand_bytes[e->cand_floor] >= e->budget)
		e->cand_cum -= e->cand_bytes[e->cand_floor++];
}

/* Past the budget, is a page of heat @total below the threshold already (it only rises)? */
static bool below_floor(const struct ibsp_engine *e, uint64_t total)
{
	return e->cand_total > e->budget && bucket_of(total) < e->cand_floor;
}

/*
 * The candidates kept so far fill their array: drop those the floor has
 * passed since. When that frees less than half, the array doubles, so each
 * candidate is checked a bounded number of times.
 */
static int make_room_for_cand(struct ibsp_engine *e)
{
	uint64_t kept = 0;

	for (uint64_t i = 0; i < e->nr_cand; i++) {
		const struct ibsp_heat_entry *he = ibsp_heat_table__at(e->ht, cand_pos(e->cand[i]));

		if (below_floor(e, cand_worth(he, entry_total(he, e->nr_acc))))
			e->st.skips[IBSP_SKIP_BELOW_THRESHOLD]++;
		else
			e->cand[kept++] = e->cand[i];
	}
	e->nr_cand = kept;
	return grow((void **)&e->cand, &e->cap_cand,
		    kept < e->cap_cand / 2 ? kept + 1 : e->cap_cand + 1, sizeof(*e->cand));
}

/*
 * A candidate of heat @total joins e->cand, unless it can never be planned:
 * larger than the whole budget (not a peer in the race), or below the
 * threshold its peers so far set (tick.c's fit_budget() would drop it).
 */
static int keep_cand(struct ibsp_engine *e, const struct ibsp_heat_entry *he, uint64_t total,
		     enum ibsp_pick pick)
{
	uint32_t sz = ibsp_heat_entry__bytes(he);

	if (sz > e->budget) {
		e->st.skips[IBSP_SKIP_BUDGET]++;
		return 0;
	}
	note_bytes(e, bucket_of(cand_worth(he, total)), sz);
	if (below_floor(e, cand_worth(he, total))) {
		e->st.skips[IBSP_SKIP_BELOW_THRESHOLD]++;
		return 0;
	}
	if (e->nr_cand == e->cap_cand && e->nr_cand && make_room_for_cand(e))
		return -ENOMEM;
	if (grow((void **)&e->cand, &e->cap_cand, e->nr_cand + 1, sizeof(*e->cand)))
		return -ENOMEM;
	e->cand[e->nr_cand++] = cand_make(ibsp_heat_table__pos(e->ht, he), pick);
	return 0;
}

/*
 * select()'s answer for @he (on a known node, of heat @total). Where it
 * depends on the page's place only (ibsp_policy_ops.select_by_place: a page
 * on a lower-tier node, any page below the floor), it is asked once per
 * node and latest accessor each tick (e->select_memo: valid bit 7, the skip
 * in bits 2-6, the pick in bits 0-1), and the other pages take the same.
 */
#define MEMO_VALID	0x80u
#define MEMO_SKIP_SHIFT 2

_Static_assert(IBSP_SKIP__MAX < 32 && IBSP_PICK_FOLLOW < 4, "a memoised answer's fields");

static enum ibsp_pick ask(struct ibsp_engine *e, const struct ibsp_heat_entry *he, uint64_t total,
			  enum ibsp_skip *skip)
{
	uint8_t *memo = NULL;
	struct ibsp_page_view pg;
	enum ibsp_pick pick;

	if (e->select_by_place &&
	    (!e->top_tier[he->node] || (total < heat_floor(e) && !seen_enough(e, he)))) {
		memo = &e->select_memo[(uint32_t)he->node * IBSP_MAX_ACC_NODES + he->last_acc];
		if (*memo) {
			*skip = (enum ibsp_skip)((*memo & ~MEMO_VALID) >> MEMO_SKIP_SHIFT);
			return (enum ibsp_pick)(*memo & 3);
		}
	}
	page_view(e, he, total, IBSP_PICK_NONE, &pg);
	pick = e->ops->select(&e->view, &pg, skip);
	if (memo) /* a skip out of range counts nothing: kept as IBSP_SKIP__MAX */
		*memo = (uint8_t)(MEMO_VALID |
				  ((unsigned int)*skip < IBSP_SKIP__MAX ? (unsigned int)*skip
									: IBSP_SKIP__MAX)
				      << MEMO_SKIP_SHIFT |
				  ((unsigned int)pick & 3));
	return pick;
}

/*
 * Step 1 for @he, on a known node: the policy's select() (ask()), then the engine's
 * checks. Counts the skips that follow from the page itself (not from the
 * budget or capacity); a candidate joins e->cand. Below the floor, *@counted
 * says which skip was counted (select()'s or below_threshold), if any.
 */
static inline __attribute__((always_inline)) int
consider(struct ibsp_engine *e, const struct ibsp_heat_entry *he, uint64_t total, int *counted)
{
	const struct ibsp_engine_opts *o = &e->opts;
	enum ibsp_skip skip = IBSP_SKIP__MAX;
	enum ibsp_pick pick = ask(e, he, total, &skip);

	if (pick == IBSP_PICK_SKIP && (unsigned int)skip < IBSP_SKIP__MAX) {
		e->st.skips[skip]++;
		*counted = (int)skip;
	}
	if (pick < IBSP_PICK_PROMOTE)
		return 0;
	if (total < heat_floor(e) && (e->any_short || !seen_enough(e, he))) {
		e->st.skips[IBSP_SKIP_BELOW_THRESHOLD]++;
		*counted = IBSP_SKIP_BELOW_THRESHOLD;
		return 0;
	}
	if ((he->last_move && e->interval - he->last_move < o->pingpong_intervals) ||
	    (he->flags & HE_INFLIGHT)) {
		e->st.skips[IBSP_SKIP_PINGPONG]++; /* moved recently, or its move is under way */
		return 0;
	}
	if (!(he->flags & HE_ALIAS)) {
		e->st.skips[IBSP_SKIP_NO_MAPPING]++;
		return 0;
	}
	return keep_cand(e, he, total, pick);
}

/*
 * A page the engine may demote to make room: on a top-tier node that is
 * short of room (e->pressure), movable (a mapping), and not moved within the
 * ping-pong window. Whether it goes depends on the page that needs the room
 * (make_room()).
 */
static bool is_demotable(const struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	return he->node >= 0 && e->pressure[he->node] && (he->flags & HE_ALIAS) &&
	       !(he->flags & HE_INFLIGHT) &&
	       !(he->last_move && e->interval - he->last_move < e->opts.pingpong_intervals);
}

static int add_cold(struct ibsp_engine *e, const struct ibsp_heat_entry *he)
{
	if (grow((void **)&e->cold, &e->cap_cold, e->nr_cold + 1, sizeof(*e->cold)))
		return -ENOMEM;
	e->cold[e->nr_cold++] = cand_make(ibsp_heat_table__pos(e->ht, he), IBSP_PICK_NONE);
	e->reclaim_bytes[he->node] += ibsp_heat_entry__bytes(he);
	return 0;
}

/*
 * A page of unknown node keeps in its drift byte, which only a page on a
 * top-tier node uses, the queries in a row that found no page there (the
 * top 3 bits) and the intervals it still waits before the next (the low 5).
 */
#define NOWHERE_WAIT_BITS 5
#define NOWHERE_WAIT_MASK ((1u << NOWHERE_WAIT_BITS) - 1)
#define NOWHERE_MAX_FAILS 5 /* waits of 1, 3, 7, 15, then 31 intervals */

/* A query found no page at @he's address: wait twice as long as after the one before. */
static void nowhere_backoff(struct ibsp_heat_entry *he)
{
	uint32_t fails = (uint32_t)he->drift >> NOWHERE_WAIT_BITS;

	if (!(he->flags & HE_NOWHERE))
		fails = 0; /* the count of a page found since */
	if (fails < NOWHERE_MAX_FAILS)
		fails++;
	he->flags |= HE_NOWHERE;
	he->drift = (uint8_t)(fails << NOWHERE_WAIT_BITS | ((1u << fails) - 1));
}

/*
 * A hot page of unknown node: live, its node is asked (resolve_unknown()),
 * unless the last query found no page there (unmapped, or not present:
 * HE_NOWHERE): then it waits, one interval after the first such query and
 * twice as long after each one that follows (nowhere_backoff()), so a page
 * that keeps failing (a mapping that comes and goes, a process gone) costs
 * a query every 32 intervals, not every other one.
 */
static int queue_unknown(struct ibsp_engine *e, struct ibsp_heat_entry *he)
{
	if (!e->opts.resolver) {
		e->st.skips[IBSP_SKIP_NODE_UNKNOWN]++;
		return 0;
	}
	if ((he->flags & HE_NOWHERE) && (he->drift & NOWHERE_WAIT_MASK)) {
		he->drift--;
		e->st.skips[IBSP_SKIP_NODE_UNKNOWN]++;
		return 0;
	}
	if (grow((void **)&e->unres, &e->cap_unres, e->nr_unres + 1, sizeof(*e->unres)))
		return -ENOMEM;
	e->unres[e->nr_unres++] = cand_make(ibsp_heat_table__pos(e->ht, he), IBSP_PICK_NONE);
	return 0;
}

/*
 * After the scan looked at @he (at position @pos, of heat @total): a page
 * below the floor leaves the warm set. Until a sample (or a move, or a fold)
 * touches it again, its heat only decays, so it stays below the floor, and
 * a scan of it would count the same skip at every tick (@counted: the
 * policy's select() of a page below the floor does not depend on its heat
 * or idle count, ibsp/policy.h): the later scans add that count instead of
 * visiting it. With a decay shift of 1 a page's heat can still reach 0,
 * where select() is no longer asked: such a page stays warm until then.
 * So does a page that seen_enough() makes a candidate below the floor
 * (whether a node is short of room changes from tick to tick).
 */
static void settle(struct ibsp_engine *e, struct ibsp_heat_entry *he, uint32_t pos, uint64_t total,
		   int counted)
{
	struct ibsp_heat_table *t = e->ht;

	if (total < heat_floor(e) && (t->shift >= 2 || !total) && !seen_enough(e, he))
		ibsp_heat_table__make_cold(t, he, pos, (unsigned int)(counted + 1));
	else
		ibsp_heat_table__set_warm(t, pos);
}

/*
 * Bring @he up to date and return its heat. One pass behind is the warm
 * scan's common case (a page at or above the floor with no sample since the
 * last tick): that pass is done here, as ibsp_heat_entry__age() does it.
 */
static inline uint64_t catch_up_total(const struct ibsp_heat_table *t, struct ibsp_heat_entry *he)
{
	uint8_t gap = (uint8_t)(t->aged - he->aged);
	uint64_t total = 0;

	if (gap > 1) {
		ibsp_heat_table__catch_up(t, he);
		return entry_total(he, t->nr_acc);
	}
	/* Without branches on @gap (0 or 1): which it is follows no pattern. */
	for (uint32_t s = 0; s < t->nr_acc; s++) {
		uint32_t h = he->heat[s], d = ibsp_heat_decay_once(h, t->shift);

		h = gap ? d : h;
		he->heat[s] = h;
		total += h;
	}
	he->idle += gap && he->idle < UINT8_MAX;
	he->aged = (uint8_t)t->aged;
	return total;
}

/* Step 1 for the page at position @pos: its heat into @hist (if any); a candidate, a hot page of unknown
 * node, a cold page. */
static inline __attribute__((always_inline)) int scan_one(struct ibsp_engine *e, uint32_t pos,
							  uint64_t *hist)
{
	uint64_t floor_heat = heat_floor(e);
	struct ibsp_heat_entry *he = ibsp_heat_table__at(e->ht, pos);
	int counted = -1;
	uint64_t total;

	total = catch_up_total(e->ht, he);
	if (hist)
		hist[bucket_of(total)]++;
	if (e->any_pressure && is_demotable(e, he) && add_cold(e, he))
		return -ENOMEM;
	if (!e->ops || !e->ops->select || !total) {
		/* nothing to ask */
	} else if (he->node < 0) {
		if (total >= floor_heat && queue_unknown(e, he))
			return -ENOMEM;
	} else {
		if (total >= floor_heat)
			e->st.considered++;
		if (!out_of_scope(e, he) && consider(e, he, total, &counted))
			return -ENOMEM;
	}
	settle(e, he, pos, total, counted);
	return 0;
}

/* Warm entries are found a batch at a time, each prefetched, then scanned: their misses overlap. */
#define WARM_BATCH 32

static int scan_warm(struct ibsp_engine *e)
{
	const struct ibsp_heat_table *t = e->ht;
	uint64_t words = (t->count + 63) / 64, w = 0, bits = words ? t->warm[0] : 0;
	uint32_t batch[WARM_BATCH];

	for (;;) {
		uint32_t n = 0;

		while (n < WARM_BATCH) {
			uint32_t pos;

			if (!bits) {
				if (++w >= words)
					break;
				bits = t->warm[w];
				continue;
			}
			pos = (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(bits));
			bits &= bits - 1;
			__builtin_prefetch(ibsp_heat_table__at(t, pos));
			batch[n++] = pos;
		}
		if (!n)
			return 0;
		for (uint32_t k = 0; k < n; k++) {
			if (scan_one(e, batch[k], NULL))
				return -ENOMEM;
		}
	}
}

/*
 * Step 1: candidates, hot pages of unknown node, cold pages; every page's
 * heat into @hist when @full. Otherwise only the warm set is visited (the
 * pages at or above the floor, and those touched since the last scan), and
 * the pages out of it add the skip each counts (settle()).
 */
int ibsp_engine__scan(struct ibsp_engine *e, uint64_t *hist, bool full)
{
	struct ibsp_heat_table *t = e->ht;

	memset(e->select_memo, 0, (size_t)ibsp_topology__nr_nodes(e->topo) * IBSP_MAX_ACC_NODES);
	if (full) {
		memset(t->cold_count, 0, sizeof(t->cold_count));
		for (uint32_t i = 0; i < t->count; i++) {
			if (scan_one(e, i, hist))
				return -ENOMEM;
		}
		return 0;
	}
	for (int k = 0; k < IBSP_SKIP__MAX; k++)
		e->st.skips[k] += t->cold_count[k + 1];
	return scan_warm(e); /* no histogram: it serves a trim, and a trim scans every page */
}

/* Per pid, in address order (the key ends ties: a 4 KiB and a 2 MiB entry at one address). */
static const enum ibsp_cand_field by_mapping[] = { CAND_PID, CAND_VADDR, CAND_KEY };

/* Live: ask where the pages e->unres[@i...] of one pid live (up to a batch); return how many. */
static uint32_t locate_batch(struct ibsp_engine *e, uint64_t i)
{
	const struct ibsp_resolver_ops *ops = e->opts.resolver;
	enum { BATCH = 512 };
	uint32_t pid = ibsp_heat_table__at(e->ht, cand_pos(e->unres[i]))->pid, n = 0;
	uint64_t vaddrs[BATCH] = { 0 }; /* n >= 1 always; GCC cannot tell */
	int status[BATCH];
	int ret;

	while (i + n < e->nr_unres && n < BATCH &&
	       ibsp_heat_table__at(e->ht, cand_pos(e->unres[i + n]))->pid == pid) {
		const struct ibsp_heat_entry *he =
		    ibsp_heat_table__at(e->ht, cand_pos(e->unres[i + n]));

		vaddrs[n++] = ibsp_heat_table__vaddr(e->ht, he);
	}
	ret = ops->query(ops->ctx, pid, n, vaddrs, status);
	for (uint32_t k = 0; k < n; k++) {
		struct ibsp_heat_entry *he = ibsp_heat_table__at(e->ht, cand_pos(e->unres[i + k]));
		struct ibsp_node_idx idx = /* move_pages' status: a node id */
		    ret || status[k] < 0
			? IBSP_NODE_IDX_NONE
			: ibsp_topology__index_of(e->topo, ibsp_node_id(status[k]));

		if (!ibsp_node_idx__valid(idx)) {
			nowhere_backoff(he);
			e->st.resolve_failed++;
			e->st.skips[IBSP_SKIP_NODE_UNKNOWN]++;
			continue;
		}
		he->node = (int8_t)idx.idx;
		he->flags &= (uint8_t)~HE_NOWHERE;
		he->drift = 0; /* the backoff's count, not evidence */
		if (e->top_tier[idx.idx])
			ibsp_engine__seed_leave(e, he); /* it counted samples (seen) */
	}
	return n;
}

/* Live: locate the hot pages without a physical address, per pid, and consider them. */
int ibsp_engine__resolve_unknown(struct ibsp_engine *e)
{
	int counted = -1; /* these pages are at or above the floor: nothing to note */

	ibsp_engine__sort_cands(e, e->unres, e->nr_unres, by_mapping, 3);
	e->st.resolve_queries += e->nr_unres;
	for (uint64_t i = 0; i < e->nr_unres;)
		i += locate_batch(e, i);
	/* Now consider the located ones like the rest. */
	for (uint64_t i = 0; i < e->nr_unres; i++) {
		const struct ibsp_heat_entry *he =
		    ibsp_heat_table__at(e->ht, cand_pos(e->unres[i]));

		if (he->node < 0)
			continue;
		e->st.considered++;
		if (!out_of_scope(e, he) && consider(e, he, entry_total(he, e->nr_acc), &counted))
			return -ENOMEM;
	}
	return 0;
}
