// SPDX-License-Identifier: MIT
/*
 * The interval pass, once per interval over the whole heat table. The
 * policy (ibsp/policy.h) only selects and decides, on read-only views; the
 * engine does the rest:
 *
 *  1. Candidates: the policy's select() on every page with a known node and
 *     some heat, within the policy's scope (live, the hot pages of unknown node are located first, in
 *     batches per pid); then the engine's own checks: the min_heat floor,
 *     the ping-pong guard (no page moved within pingpong_intervals), and a
 *     mapping to move the page by.
 *  2. Budget: the threshold adapts (a heat histogram, as Memtis does) so
 *     the planned bytes fit rate x interval, hottest pages first.
 *  3. Destination: the policy's decide(), one page at a time; the engine
 *     holds every destination to its watermark and applies each move (free
 *     memory, moved map, ping-pong count, the plan) before the next.
 *  4. Decay, after the decisions: heat -= heat >> decay_shift per accessor
 *     node (integer math), so an interval's samples count in full once; a
 *     nearly full table is trimmed, coldest first.
 *
 * See docs/policy.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tick_internal.h"

static uint64_t bucket_floor(unsigned int b)
{
	unsigned int msb = b / 4;

	if (b < 4)
		return b;
	/*
	 * Buckets 4-7 hold nothing (bucket_of() goes from 3 to 8), but a trim's
	 * cut reaches bucket 4 when buckets 0-3 cover the excess: its floor has
	 * always been 2 (the shift below by -1, undefined, gave that on x86).
	 */
	if (b < 8)
		return 2;
	return (1ULL << msb) | ((uint64_t)(b & 3) << (msb - 2));
}

static const enum ibsp_cand_field hottest_first[] = { CAND_HOTTEST, CAND_KEY };
/* Coldest first: least heat, then the longest idle, then the key. */
static const enum ibsp_cand_field coldest_first[] = { CAND_COLDEST, CAND_LONGEST_IDLE, CAND_KEY };

static struct ibsp_heat_entry *cand_entry(const struct ibsp_engine *e, uint64_t c)
{
	return ibsp_heat_table__at(e->ht, cand_pos(c));
}

/*
 * Candidates are in heat order, their entries anywhere: a batch's entries are
 * loaded together, and with @vpn their alias page numbers (a planned move reads them).
 */
#define CAND_BATCH 32

static void load_cands(const struct ibsp_engine *e, const uint64_t *cand, uint64_t i, uint64_t nr,
		       bool vpn)
{
	unsigned int sink = 0;

	for (uint64_t end = i + CAND_BATCH < nr ? i + CAND_BATCH : nr; i < end; i++) {
		sink += ibsp_heat_table__load_at(e->ht, cand_pos(cand[i]));
		if (vpn)
			sink += e->ht->vpn[cand_pos(cand[i]) * VPN_BYTES];
	}
	__asm__ volatile("" : : "r"(sink));
}

/*
 * Step 2: keep the candidates of most worth (cand_worth(): heat per byte)
 * whose bytes just cover @budget; return the threshold, as the heat a 4 KiB
 * page needed (at least the floor). The scan counted their bytes per worth
 * bucket (and left out those larger than the budget and those already below
 * the threshold). A candidate below the heat floor (scan.c's seen_enough():
 * a sparse page whose decayed heat never reaches it) races on its worth like
 * the others; it was dropped whenever the budget bound, even where the bytes
 * above it left room for it.
 */
static uint64_t fit_budget(struct ibsp_engine *e, uint64_t budget, uint64_t floor_heat)
{
	uint64_t total = e->cand_total, cum = 0, thr;
	uint64_t kept = 0;
	int b;

	if (total <= budget)
		return floor_heat;
	for (b = NR_BUCKETS - 1; b > 0; b--) {
		cum += e->cand_bytes[b];
		if (cum >= budget)
			break;
	}
	thr = bucket_floor((unsigned int)b);
	for (uint64_t i = 0; i < e->nr_cand; i++) {
		const struct ibsp_heat_entry *he;

		if (i % CAND_BATCH == 0)
			load_cands(e, e->cand, i, e->nr_cand, false);
		he = cand_entry(e, e->cand[i]);
		if (cand_worth(he, entry_total(he, e->nr_acc)) >= thr)
			e->cand[kept++] = e->cand[i];
		else
			e->st.skips[IBSP_SKIP_BELOW_THRESHOLD]++;
	}
	e->nr_cand = kept;
	thr >>= WORTH_SHIFT_4K;
	return thr > floor_heat ? thr : floor_heat;
}

/* Record @he's move to node index @dst: its entry, the moved map, the ping-pong count. */
static void note_move(struct ibsp_engine *e, struct ibsp_heat_entry *he, int dst,
		      enum ibsp_reason reason)
{
	struct ibsp_moved_rec rec;

	ibsp_heat_table__touch(e->ht, he); /* its view changes: the next scan looks again */
	if (he->nr_moves && dst == he->prev_node)
		e->st.pingpong++;
	he->prev_node = he->node;
	he->node = (int8_t)dst;
	he->last_move = e->interval;
	he->last_reason = (uint8_t)(reason + 1);
	if (he->nr_moves < NR_MOVES_MAX)
		he->nr_moves++;
	ibsp_heat_entry__evidence_reset(he);
	he->flags |= e->opts.simulate ? HE_MOVED : HE_INFLIGHT;
	if (e->opts.simulate) {
		/* The entry holds its history; the moved map gets it on eviction (heat.c). */
		e->st.pages_moved += he->nr_moves == 1;
		e->st.moved_twice += he->nr_moves == 2;
		return;
	}
	rec = (struct ibsp_moved_rec){ .key = ibsp_engine__moved_key(e, he),
				       .last_move = he->last_move,
				       .node = he->node,
				       .prev_node = he->prev_node,
				       .nr_moves = he->nr_moves };
	/* Out of memory only weakens the guard for this page; the move stands. */
	if (rec.key)
		(void)ibsp_moved_map__put(e->moved, &rec);
}

/* A tick plans up to its budget's pages (64 Ki at the default rate): the record stays small. */
_Static_assert(sizeof(struct ibsp_migration) == 56, "struct ibsp_migration grew");

/* Step 3, applied: plan @he's move to @d->dst into @m and account for it. */
static void apply(struct ibsp_engine *e, struct ibsp_heat_entry *he, const struct ibsp_decision *d,
		  struct ibsp_migration *m)
{
	uint32_t bytes = ibsp_heat_entry__bytes(he);

	memset(m, 0, sizeof(*m));
	m->vaddr = ibsp_heat_table__vaddr(e->ht, he);
	m->pid = he->pid;
	m->key = he->key;
	m->has_pfn = he->key & KEY_PFN;
	m->pfn = m->has_pfn ? he->key & ~(KEY_PFN | KEY_HUGE) : 0;
	m->bytes = bytes;
	m->src_idx = ibsp_node_idx(he->node);
	m->dst_idx = d->dst;
	m->src_node = ibsp_topology__node_id(e->topo, m->src_idx);
	m->dst_node = ibsp_topology__node_id(e->topo, m->dst_idx);
	m->reason = (uint8_t)d->reason;
	if (e->opts.plan_heat)
		memcpy(e->plan_heat + (size_t)(m - e->plan) * e->nr_acc, he->heat,
		       e->nr_acc * sizeof(*he->heat));
	e->free_bytes[d->dst.idx] -= bytes;
	e->free_bytes[he->node] += bytes;
	note_move(e, he, d->dst.idx, d->reason);
	if (d->kind == IBSP_MOVE_DEMOTE) {
		e->st.demoted++;
		e->st.demoted_bytes += bytes;
	}
}

/*
 * Can @victim make room for a page of heat @hot? When it has had no sample
 * for demote_idle_intervals, or when @hot is at least DEMOTE_RATIO times
 * its heat: a clear gain, so two warm pages do not swap places on noise.
 */
#define DEMOTE_RATIO 4

static bool colder(const struct ibsp_engine *e, const struct ibsp_heat_entry *victim, uint64_t hot)
{
	return victim->idle >= e->opts.demote_idle_intervals ||
	       entry_total(victim, e->nr_acc) * DEMOTE_RATIO <= hot;
}

/*
 * Make room for @bytes of heat @hot on the node at @node by demoting its
 * coldest pages, as the policy's demote() directs, within what is left of
 * @budget. Return true when the node has room; the demotions stand either way.
 */
static bool make_room(struct ibsp_engine *e, struct ibsp_node_idx node, uint64_t bytes,
		      uint64_t hot, uint64_t budget, uint64_t *planned_bytes, long *nr_plan)
{
	/* Entries this node can no longer use this tick are passed once, not at every call. */
	uint64_t *next = &e->cold_next[node.idx];

	for (uint64_t i = *next; i < e->nr_cold; i++) {
		struct ibsp_heat_entry *he = cand_entry(e, e->cold[i]);
		struct ibsp_decision d = { .dst = IBSP_NODE_IDX_NONE,
					   .kind = IBSP_MOVE_DEMOTE,
					   .reason = IBSP_REASON_DEMOTE };
		uint32_t sz = ibsp_heat_entry__bytes(he);
		struct ibsp_page_view pg;

		if (ibsp_policy_view__has_room(&e->view, node, bytes))
			return true;
		if (he->node != node.idx || he->last_move == e->interval) {
			*next += i == *next;
			continue;
		}
		if (!colder(e, he, hot))
			break; /* coldest first: no page further on qualifies */
		if (*planned_bytes + sz + bytes > budget)
			return false;
		page_view(e, he, entry_total(he, e->nr_acc), IBSP_PICK_NONE, &pg);
		e->ops->demote(&e->view, &pg, &d);
		if (!ibsp_node_idx__valid(d.dst) ||
		    d.dst.idx >= (int)ibsp_topology__nr_nodes(e->topo) || e->top_tier[d.dst.idx] ||
		    !ibsp_policy_view__has_room(&e->view, d.dst, sz))
			continue;
		e->reclaim_bytes[node.idx] -= sz;
		apply(e, he, &d, &e->plan[(*nr_plan)++]);
		*planned_bytes += sz;
		*next += i == *next;
	}
	return ibsp_policy_view__has_room(&e->view, node, bytes);
}

/*
 * The engine's word on @d for @he: true to apply it. A skip is counted; a
 * destination at its watermark is refused whatever the policy says, unless
 * demoting cold pages there makes room; a node out of range is not applied.
 */
static bool accept(struct ibsp_engine *e, const struct ibsp_heat_entry *he, uint64_t hot,
		   const struct ibsp_decision *d, uint64_t budget, uint64_t *planned_bytes,
		   long *nr_plan)
{
	uint32_t bytes = ibsp_heat_entry__bytes(he);

	if (!ibsp_node_idx__valid(d->dst)) {
		e->st
		    .skips[(unsigned int)d->skip < IBSP_SKIP__MAX ? d->skip : IBSP_SKIP_CAPACITY]++;
		return false;
	}
	if (d->dst.idx == he->node || d->dst.idx >= (int)ibsp_topology__nr_nodes(e->topo) ||
	    d->kind != IBSP_MOVE_PROMOTE)
		return false;
	if (ibsp_policy_view__has_room(&e->view, d->dst, bytes))
		return true;
	if (e->reclaim_bytes[d->dst.idx] &&
	    make_room(e, d->dst, bytes, hot, budget, planned_bytes, nr_plan))
		return true;
	if (e->reclaim_bytes[d->dst.idx]) {
		/* Nothing there is cold enough for this page: ask the policy again
		 * without counting on that node (its next choice, if any). */
		e->reclaim_bytes[d->dst.idx] = 0;
		return false;
	}
	e->st.skips[IBSP_SKIP_CAPACITY]++;
	return false;
}

/* Step 3: the policy's destination for each candidate, hottest first, within @budget. */
static long plan_moves(struct ibsp_engine *e, uint64_t budget, uint64_t *planned_bytes)
{
	long nr_plan = 0;

	for (uint64_t i = 0; i < e->nr_cand; i++) {
		struct ibsp_heat_entry *he = cand_entry(e, e->cand[i]);
		uint32_t bytes;

		if (i % CAND_BATCH == 0)
			load_cands(e, e->cand, i, e->nr_cand, true);
		bytes = ibsp_heat_entry__bytes(he);
		struct ibsp_page_view pg;
		struct ibsp_decision d = { .dst = IBSP_NODE_IDX_NONE, .kind = IBSP_MOVE_PROMOTE };

		if (*planned_bytes + bytes > budget) {
			e->st.skips[IBSP_SKIP_BUDGET]++;
			continue;
		}
		if (he->last_move == e->interval)
			continue; /* demoted this interval to make room */
		page_view(e, he, entry_total(he, e->nr_acc), cand_pick(e->cand[i]), &pg);
		d.skip = IBSP_SKIP_CAPACITY;
		e->ops->decide(&e->view, &pg, &d);
		if (!accept(e, he, pg.total, &d, budget, planned_bytes, &nr_plan)) {
			if (!ibsp_node_idx__valid(d.dst) || d.dst.idx == he->node ||
			    e->reclaim_bytes[d.dst.idx] ||
			    ibsp_policy_view__has_room(&e->view, d.dst, bytes))
				continue;
			/* accept() gave up reclaiming on d.dst: one more decide(). */
			d = (struct ibsp_decision){ .dst = IBSP_NODE_IDX_NONE,
						    .kind = IBSP_MOVE_PROMOTE,
						    .skip = IBSP_SKIP_CAPACITY };
			e->ops->decide(&e->view, &pg, &d);
			if (!accept(e, he, pg.total, &d, budget, planned_bytes, &nr_plan))
				continue;
		}
		apply(e, he, &d, &e->plan[nr_plan++]);
		*planned_bytes += bytes;
	}
	return nr_plan;
}

/*
 * The slots the walk below looks ahead: in the index's order the entries lie
 * anywhere in the dense array, so each one is fetched this many slots early.
 */
#define TRIM_AHEAD 16

/*
 * Drop the entries of heat below @cut and age the rest, walking the index's
 * slots down, so backward shifts move entries into slots already seen (at
 * the wrap-around, an entry moved up skips this aging: the order the
 * decisions have always had). Every entry was brought up to date by the
 * scan; after the walk each one stands one pass on, aged or not.
 */
static void trim_and_age(struct ibsp_engine *e, uint64_t cut)
{
	struct ibsp_heat_table *t = e->ht;

	for (uint64_t i = t->mask + 1; i-- > 0;) {
		struct ibsp_heat_entry *he = ibsp_heat_table__slot(t, i);

		if (i >= TRIM_AHEAD && t->slots[i - TRIM_AHEAD])
			ibsp_heat_table__prefetch_at(t,
						     (t->slots[i - TRIM_AHEAD] & t->pos_mask) - 1);
		if (!he)
			continue;
		if (entry_total(he, e->nr_acc) < cut) {
			ibsp_heat_table__del(t, he);
			t->evictions++;
			/* Slot i now holds an entry from above, already aged. */
			continue;
		}
		ibsp_heat_entry__age(he, e->nr_acc, t->shift, 1);
	}
	for (uint64_t i = 0; i < t->count; i++)
		ibsp_heat_table__at(t, i)->aged = (uint8_t)(t->aged + 1);
}

/* Is the table nearly full, so that this tick's aging trims it (and its scan must see every page)? */
static bool trim_due(const struct ibsp_heat_table *t)
{
	return t->count > t->max - t->max / 16;
}

/*
 * Step 4: decay every entry, and when the table is nearly full, first drop
 * the coldest (by this interval's heat, @hist) down to 7/8 of its bound.
 * The decay itself is lazy: the entries take it when next read (heat.c).
 */
static void age(struct ibsp_engine *e, const uint64_t *hist)
{
	struct ibsp_heat_table *t = e->ht;
	uint64_t target = t->max - t->max / 8, excess = 0, sum = 0, cut = 0;
	unsigned int b;

	if (trim_due(t)) {
		excess = t->count - target;
		for (b = 0; b < NR_BUCKETS && sum < excess; b++)
			sum += hist[b];
		cut = b < NR_BUCKETS ? bucket_floor(b) : 0; /* buckets below b go */
	}
	if (cut)
		trim_and_age(e, cut);
	t->aged++;
	ibsp_heat_table__sweep(t);
}

/*
 * The most moves a tick can plan: each candidate or demotable page once,
 * and no more than the budget holds (every move takes at least 4 KiB of it).
 */
static uint64_t plan_bound(const struct ibsp_engine *e, uint64_t budget)
{
	uint64_t n = e->nr_cand + e->nr_cold;

	if (budget >> PAGE_SHIFT_4K < n)
		n = budget >> PAGE_SHIFT_4K;
	return n + 1;
}

/* Steps 1 to 3; return the number of planned migrations or -ENOMEM. */
static long run_interval(struct ibsp_engine *e, uint64_t *hist)
{
	const struct ibsp_engine_opts *o = &e->opts;
	uint64_t budget = UINT64_MAX, planned_bytes = 0;
	long nr_plan;
	bool full;

	if (o->rate_bytes_per_s)
		budget = o->rate_bytes_per_s * o->interval_ms / 1000;
	e->budget = budget;
	ibsp_engine__fold_aliases(e);
	ibsp_engine__note_pressure(e, budget);
	/* Every page, when its heat decides what goes (a trim, demotions) or the rules changed. */
	full = e->full_scan || e->any_pressure || trim_due(e->ht);
	e->full_scan = false;
	if (ibsp_engine__scan(e, hist, full) || (e->nr_unres && ibsp_engine__resolve_unknown(e))) {
		e->full_scan = true; /* the warm set is half updated */
		return -ENOMEM;
	}
	ibsp_engine__sort_cands(e, e->cold, e->nr_cold, coldest_first, 3);
	e->st.threshold = fit_budget(e, budget, heat_floor(e));
	ibsp_engine__sort_cands(e, e->cand, e->nr_cand, hottest_first, 2);
	if (grow((void **)&e->plan, &e->cap_plan, plan_bound(e, budget), sizeof(*e->plan)) ||
	    (o->plan_heat && grow((void **)&e->plan_heat, &e->cap_plan_heat,
				  plan_bound(e, budget) * e->nr_acc, sizeof(*e->plan_heat))))
		return -ENOMEM;
	nr_plan = plan_moves(e, budget, &planned_bytes);
	e->st.planned += (uint64_t)nr_plan;
	e->st.planned_bytes += planned_bytes;
	e->st.interval_planned_bytes = planned_bytes;
	e->st.interval_budget_bytes = o->rate_bytes_per_s ? budget : 0;
	return nr_plan;
}

/*
 * The excursion length (EXC_MIN_K to EXC_MAX samples) from which the pure
 * excursions of private-looking pages are moves of their users, on this host
 * (note_excursion() in evidence.h): the plateau is the lowest hazard among
 * lengths EXC_PLATEAU_K and up seen EXC_MIN_PLATEAU times (kept while none
 * is: once the policy follows sooner, the longer excursions stop); the answer
 * is the shortest length seen EXC_MIN_REACH times from which every length
 * seen EXC_MIN_PLATEAU times has a hazard within 1.5 x the plateau + 1 point,
 * and at most EXC_MAX_HAZARD (its count of ends within 3 standard deviations
 * of what that hazard allows: a few hundred counts are noisy). In half steps
 * of leave evidence; 0 while none.
 */
#define EXC_MIN_K	3U
#define EXC_PLATEAU_K	5U
#define EXC_MIN_PLATEAU 200U
#define EXC_MIN_REACH	400U
#define EXC_MAX_HAZARD	1500U /* x 10000 */

static uint64_t hazard(const struct ibsp_engine *e, uint32_t k)
{
	return (uint64_t)e->exc_back[k] * 10000 / e->exc_reach[k];
}

static uint32_t trusted_leave(struct ibsp_engine *e)
{
	uint64_t plateau = UINT64_MAX;

	for (uint32_t k = EXC_PLATEAU_K; k <= EXC_MAX; k++) {
		if (e->exc_reach[k] >= EXC_MIN_PLATEAU && hazard(e, k) < plateau)
			plateau = hazard(e, k);
	}
	if (plateau != UINT64_MAX)
		e->exc_plateau = (uint32_t)(plateau + 1); /* 0 stays "not known" */
	if (!e->exc_plateau)
		return 0;
	plateau = (uint64_t)(e->exc_plateau - 1) * 3 / 2 + 100;
	if (plateau > EXC_MAX_HAZARD)
		plateau = EXC_MAX_HAZARD;
	for (uint32_t k = EXC_MIN_K; k <= EXC_MAX; k++) {
		bool low = e->exc_reach[k] >= EXC_MIN_REACH;

		for (uint32_t j = k; j <= EXC_MAX && low; j++) {
			/* the ends counted at j against those the plateau allows, with 3 sigma */
			double allowed = (double)e->exc_reach[j] * (double)plateau / 10000;

			low = e->exc_reach[j] < EXC_MIN_PLATEAU ||
			      e->exc_back[j] <= allowed + 3 * sqrt(allowed) + 3;
		}
		if (low)
			return LEAVE_UP * k;
	}
	return 0;
}

long ibsp_engine__tick(struct ibsp_engine *e, uint64_t now_ns, const struct ibsp_migration **plan)
{
	uint64_t hist[NR_BUCKETS] = { 0 };
	long n;

	(void)now_ns; /* the plan's time: its caller's to report (struct ibsp_migration) */
	e->interval++;
	e->view.interval = e->interval;
	e->st.noise = ibsp_engine__noise(e);
	e->view.low_noise = e->st.noise >= 0
				? ibsp_noise__is_low(e->st.noise)
				: ibsp_share__surely_below(&e->noise, false, IBSP_LOW_NOISE_DIV);
	e->view.trusted_leave = trusted_leave(e);
	e->st.near_agreement = ibsp_share__value(&e->near_agree);
	e->view.near_agrees =
	    e->st.near_agreement >= 0
		? ibsp_near__agrees(e->st.near_agreement)
		: ibsp_share__surely_below(&e->near_agree, true, IBSP_NEAR_AGREE_DIV);
	ibsp_thread_table__tick(e->threads);
	e->st.owner_agreement = ibsp_share__value(&e->owner_agree);
	e->st.thread_moves = e->threads->moves;
	e->view.owner_agrees =
	    e->st.owner_agreement >= 0
		? ibsp_owner__agrees(e->st.owner_agreement)
		: ibsp_share__surely_below(&e->owner_agree, true, IBSP_OWNER_AGREE_DIV);
	e->st.trusted_follow = e->view.trusted_leave / LEAVE_UP;
	e->st.low_noise = e->view.low_noise;
	e->st.near_believed = e->view.near_agrees;
	e->st.owner_believed = e->view.owner_agrees;
	e->st.intervals++;
	e->nr_cand = 0;
	e->nr_unres = 0;
	e->nr_cold = 0;
	memset(e->cand_bytes, 0, sizeof(e->cand_bytes));
	e->cand_total = e->cand_cum = 0;
	e->cand_floor = 0;
	memset(e->reclaim_bytes, 0, ibsp_topology__nr_nodes(e->topo) * sizeof(*e->reclaim_bytes));
	memset(e->cold_next, 0, ibsp_topology__nr_nodes(e->topo) * sizeof(*e->cold_next));
	n = run_interval(e, hist);
	if (n >= 0)
		age(e, hist);
	e->st.near_slots =
	    ibsp_near_table__tick(e->near, e->view.near_agrees || e->st.near_agreement < 0);
	*plan = e->plan;
	e->nr_plan = n > 0 ? n : 0;
	e->st.pages_tracked = e->ht->count;
	e->st.evictions = e->ht->evictions;
	return n;
}
