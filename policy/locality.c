// SPDX-License-Identifier: MIT
/*
 * locality: every page should sit on the top-tier node whose CPUs use it.
 *
 * Promotion (a page on a lower-tier node): to the top-tier node whose CPUs
 * contribute the most decayed heat, when its share is at least min_share_bp
 * (majority). Otherwise, once the page has fallback_heat samples (pg->seen:
 * counted, not decayed, so a page with few samples an interval gets there), to the
 * top-tier node nearest the weighted accessors: argmin over k of
 * sum_s heat[s] * distance(node(s), k), ties going to the node nearer the
 * page, then to the lower node index (nearest). A page without a majority
 * waits for fallback_heat samples first (undecided): a 1:1 split of two
 * samples says more about sampling noise than about sharing. When the first
 * choice is full, the engine demotes cold pages there if it can
 * (can_take()); otherwise the next node by the same weighted distance
 * (capacity_next).
 *
 * Confidence of a first choice: while the page has fewer than 2 x min_heat
 * samples (pg->seen), its majority must also lead every other node by
 * PROMOTE_LEAD samples. A 2:1 split is little evidence: where owners make 80%
 * of the accesses, one page in five that shows it belongs to the other
 * socket, and a wrong socket costs a second move later (on the suite's
 * steady recordings, every page moved twice was a first promotion on 2-3
 * samples that went the wrong way). 2:0 and 3:1 go (in decayed heat: two
 * samples three or more intervals apart lead by less than 1.5); 2:1 waits for
 * a fourth sample. Longer (up to fallback_heat) halves the pages moved twice too, but
 * delays evenly shared pages, for which any socket is as good. Where the
 * engine's noise estimate is low (v->low_noise: under 1/8 of a private page's
 * samples come from elsewhere), a first sample is seldom wrong and waiting
 * for a second costs every access until then: the lead is then half a
 * sample (1:0 goes), and the engine asks about such a page from its first
 * sample (docs/policy.md, "The engine's noise estimate"). Where the host's
 * pages agree with their neighbours (v->near_agrees), a first decision counts
 * the neighbours' leader (pg->near) as one sample more in the lead: 1:0
 * toward it goes, 1:0 against it waits (docs/policy.md, "What a page's
 * neighbours say").
 *
 * Following (a page on a top-tier node that is not its majority node's).
 * A page the engine never moved sits where the kernel's first touch or the
 * application put it: its first move risks what a first promotion risks
 * (one move that may prove wrong), so it needs the same evidence: the new
 * node holds min_share_bp of the heat and leads every other node by
 * PROMOTE_LEAD samples (a 2:1 split waits: undecided). Unlike a promotion,
 * which is decided once, on a page's first samples, this question is asked
 * again at every interval of the page's life, so a page on its right socket
 * gets many chances to show a chance lead elsewhere: it also needs leave
 * evidence of IBSP_FIRST_MOVE_LEAVE half steps (4 samples from the leading other
 * node net of 3 for each from its own, since the evidence was last 0), so a
 * page with a recent sample from its own node stays (first_move_leave(): with
 * the neighbours believed, IBSP_NEAR_LEAVE less toward their node, more away
 * from it). On altgen recordings
 * with first-touch placement (most pages already right) the lead alone moved
 * 11 pages away and back of 339 moved (3.2%; bar: 2%); with the evidence 2 of
 * 224, and 98.8% of the static oracle instead of 98.5%; where 40% of the
 * pages start on a random socket it costs 0.5-0.8 point. With the z-score and
 * the gain below, such a page needed decayed heat of 6.25 samples on the
 * new node, which a page with under ~1.5 samples a second never has: on
 * recordings of another generator (bench/altgen, log-normal page rates,
 * 40% of the pages placed on a random socket), 172 of 178 sparse pages that
 * started on the wrong socket never followed, and locality reached 88% of
 * the static oracle (93.6% with this rule, 94.0% with the engine's count of
 * sparse pages' samples, docs/evaluation.md).
 * A page the engine moved already is another matter: a second move is a
 * bounce, so it needs more evidence and a gain worth the move (hysteresis):
 *  - the new node holds min_share_bp of the heat;
 *  - its heat beats the current node's by a z-score
 *    (a - b) / sqrt(a + b) >= FOLLOW_Z (in samples): 3.5
 *    (at 3.0, 14 of the 2,400 pages of a 180 s
 *    recording where every page is shared by two sockets moved twice, 6 with
 *    this test alone; at 3.5, 9, none with this test alone, and the suite's
 *    phase changes lose 0.03 point at most), and a page placed as shared (nearest) twice that, so a
 *    shared page does not bounce on sampling noise;
 *    or, instead, the engine's leave CUSUM (pg->leave, see ibsp_engine__note_leave() in
 *    engine/core/evidence.h) has reached FOLLOW_LEAVE half steps (fewer for a
 *    page that had shown itself private there: follow_leave()), twice that for
 *    a page placed as shared: the decayed heat caps the evidence of a page
 *    with few samples per interval (at 2.5 samples a second and decay 3/4,
 *    z stays near 2.5 even when all of them come from the new node), so
 *    without it half the pages of a phase change never followed; the
 *    CUSUM's 18 steps (36 half steps) are 10.6 nats, a false alarm per excursion of a 50/50
 *    shared page below e^-10.6 (Wald): a page makes an excursion every few
 *    samples, so at 14 steps (8.2 nats) 1 to 5 of a steady recording's ~700
 *    shared pages still moved twice (replay's shared_moved_twice); at 18,
 *    none in 12 of 15 runs of the suite, for 1-2 points of a phase change;
 *  - the heat it gains, a - b, is at least FOLLOW_GAIN x min_heat samples
 *    (4 KiB) or 4 x that for a 2 MiB page, which costs 512 times the copy.
 * On a host whose private pages' excursions, from some length on, are moves
 * of their users rather than noise (view.trusted_leave, measured by the
 * engine: docs/policy.md step 5), a page that had shown itself private
 * follows on that length (trusted()), and when too sparse for the gain in
 * decayed heat, on the gain counted in samples (gains_enough()).
 * Once the CUSUM has fired, the page need not wait for the decayed heat to
 * turn (left_for_one_node()): it goes to the node leading the heat outside
 * its own. Either way the destination is that node.
 * The same holds when the engine's slow CUSUM (pg->drift: 70% elsewhere
 * against 50/50) reaches FOLLOW_DRIFT steps (twice that for a page placed
 * as shared). The fast one tests 90% and drifts down on a page whose users
 * are 70/30 on the other socket, and the decayed heat (about 4 intervals of
 * samples) never shows such a page's majority at z >= 3, so a page placed on
 * the wrong socket by its first few samples stayed there for good; the slow
 * one reaches 84 steps after ~170 samples of such a page. 84 steps are 14.1
 * nats, more than the fast one's 10.6: at 63 (10.6 nats) 1-2 more shared
 * pages of the suite's 4-socket low-locality recordings moved twice.
 *
 * Demotion (demote()): a cold page leaves a full top-tier node for the
 * lower-tier node nearest to it that has room.
 */
#include "ibsp/engine.h"
#include "ibsp/policies.h"

#define FOLLOW_Z_X10		   35 /* a page already moved: z >= 3.5 */
#define FOLLOW_GAIN		   2  /* x min_heat samples of heat gained */
#define FOLLOW_LEAVE		   36 /* half steps of the engine's leave CUSUM: 10.6 nats */
#define PROMOTE_LEAD_X10	   15 /* a first majority leads the runner-up by 1.5 samples */
#define PROMOTE_LEAD_LOW_NOISE_X10 5  /* by half a sample where the noise is low */
#define FOLLOW_DRIFT		   84 /* steps of the engine's slow leave CUSUM: 14.1 nats */
#define STAY_MARGIN		   8 /* half steps: ~log2 of the points a history could be split at */

/* The accessor slot with the most heat (the first of equals). */
static uint32_t majority_slot(const struct ibsp_page_view *pg, uint32_t nr_acc)
{
	uint32_t best = 0;

	for (uint32_t s = 1; s < nr_acc; s++) {
		if (pg->heat[s] > pg->heat[best])
			best = s;
	}
	return best;
}

/*
 * Does the majority slot @m lead every other slot by PROMOTE_LEAD samples
 * (PROMOTE_LEAD_LOW_NOISE where the host's noise is low)?
 */
static bool leads_clearly(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			  uint32_t m)
{
	int64_t lead = v->low_noise ? PROMOTE_LEAD_LOW_NOISE_X10 : PROMOTE_LEAD_X10;

	for (uint32_t s = 0; s < v->nr_acc; s++) {
		int64_t d = (int64_t)pg->heat[m] - pg->heat[s];

		if (s == m)
			continue;
		if (pg->near == (int)m) /* the neighbours: one sample more from their leader */
			d += IBSP_HEAT_ONE;
		else if (pg->near == (int)s)
			d -= IBSP_HEAT_ONE;
		if (d * 10 < lead * IBSP_HEAT_ONE)
			return false;
	}
	return true;
}

/*
 * The leave evidence a page the engine never moved needs to make its first
 * move to the node of slot @m: IBSP_FIRST_MOVE_LEAVE, with its neighbours
 * counted as one sample (pg->near, worth IBSP_NEAR_LEAVE half steps): that
 * many less when they lead to @m, that many more when they lead to the node
 * the page is on.
 */
static uint32_t first_move_leave(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
				 uint32_t m)
{
	if (pg->near < 0)
		return IBSP_FIRST_MOVE_LEAVE;
	if (pg->near == (int)m)
		return IBSP_FIRST_MOVE_LEAVE - IBSP_NEAR_LEAVE;
	if (ibsp_node_idx__eq(v->acc_node[pg->near], pg->node))
		return IBSP_FIRST_MOVE_LEAVE + IBSP_NEAR_LEAVE;
	return IBSP_FIRST_MOVE_LEAVE;
}

/*
 * Is heat @a (IBSP_HEAT_ONE units) above @b by z_x10/10 standard deviations,
 * taking the counts as Poisson: (A - B)^2 >= z^2 (A + B) in samples, that is
 * (a - b)^2 * 100 >= z_x10^2 * IBSP_HEAT_ONE * (a + b) in heat units.
 */
static bool clearly_above(uint64_t a, uint64_t b, uint64_t z_x10)
{
	if (a <= b)
		return false;
	return (a - b) * (a - b) * 100 >= z_x10 * z_x10 * IBSP_HEAT_ONE * (a + b);
}

/* The z-score a move within the top tier needs for @pg, in tenths. */
static uint64_t follow_z(const struct ibsp_page_view *pg)
{
	uint64_t z = FOLLOW_Z_X10;

	if (pg->last_reason == IBSP_REASON_NEAREST)
		z *= 2;
	return z;
}

/*
 * May @pg follow on the length from which, on this host, the excursions of
 * private-looking pages are moves (view.trusted_leave)? Not a page placed as
 * shared.
 */
static bool trusted(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg)
{
	return v->trusted_leave && pg->stay >= IBSP_TRUSTED_STAY &&
	       pg->last_reason != IBSP_REASON_NEAREST;
}

/*
 * The leave evidence (pg->leave) that stands in for the z-score: doubled like
 * it for shared pages. A page that had shown itself private to its node
 * before the excursion (pg->stay = n: its samples there, +1 each, less 3 for
 * each sample of an excursion that came back) holds evidence against
 * "shared evenly" too, a step (two half steps) each, less STAY_MARGIN half
 * steps for the points at which its history and the excursion could have
 * been split.
 */
static uint32_t follow_leave(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg)
{
	uint32_t credit = 2 * pg->stay, need;

	if (pg->last_reason == IBSP_REASON_NEAREST)
		return 2 * FOLLOW_LEAVE;
	if (credit <= STAY_MARGIN) {
		need = FOLLOW_LEAVE;
	} else {
		credit -= STAY_MARGIN;
		need = credit + IBSP_FIRST_MOVE_LEAVE >= FOLLOW_LEAVE ? IBSP_FIRST_MOVE_LEAVE
								      : FOLLOW_LEAVE - credit;
	}
	if (trusted(v, pg) && v->trusted_leave < need)
		need = v->trusted_leave;
	return need;
}

/* The slow leave evidence (pg->drift) that does the same, doubled for shared pages. */
static uint32_t follow_drift(const struct ibsp_page_view *pg)
{
	return pg->last_reason == IBSP_REASON_NEAREST ? 2 * FOLLOW_DRIFT : FOLLOW_DRIFT;
}

/* The heat a move within the top tier must gain, in heat units. */
static uint64_t follow_gain(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg)
{
	uint64_t gain = (uint64_t)FOLLOW_GAIN * v->opts->min_heat * IBSP_HEAT_ONE;

	return pg->bytes > 4096 ? 4 * gain : gain;
}

/*
 * Is a follow worth its move: the new node's heat @h is at least the gain, or,
 * for a page following on the trusted length and too sparse to hold that much
 * decayed heat (under ~1 sample an interval at the default decay), its leave
 * evidence counts that many samples from elsewhere.
 */
static bool gains_enough(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			 uint64_t h)
{
	uint64_t gain = follow_gain(v, pg);

	return h >= gain || (trusted(v, pg) && pg->leave >= v->trusted_leave &&
			     (uint64_t)pg->leave * IBSP_HEAT_ONE >= 2 * gain);
}

/* The accessor slot, other than the page's own node's, with the most heat (the first of equals). */
static uint32_t best_other_slot(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg)
{
	uint32_t best = UINT32_MAX;

	for (uint32_t s = 0; s < v->nr_acc; s++) {
		if (ibsp_node_idx__eq(v->acc_node[s], pg->node) ||
		    !ibsp_policy_view__is_top_tier(v, v->acc_node[s]))
			continue;
		if (best == UINT32_MAX || pg->heat[s] > pg->heat[best])
			best = s;
	}
	return best;
}

/*
 * Has the leave CUSUM fired for a page whose users went to one other node?
 * The decayed heat lags such a move by its decay: at 20 samples an interval
 * the old node still leads it for two intervals after every sample went
 * elsewhere, and the majority rule below waits for that. The CUSUM does not,
 * so once it has reached its threshold the page follows to the node that
 * leads the heat outside its own, provided that node holds min_share of that
 * heat (with three other sockets sharing a page evenly, none does: such a page
 * stays) and the page is warm there (the gain rule, on that node's heat).
 */
static bool left_for_one_node(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			      int cur)
{
	uint64_t rest = pg->total - (cur >= 0 ? pg->heat[cur] : 0);
	uint32_t x;

	if (pg->leave < follow_leave(v, pg) && pg->drift < follow_drift(pg))
		return false; /* the usual case: the leading node is not looked for */
	x = best_other_slot(v, pg);
	return x != UINT32_MAX && gains_enough(v, pg, pg->heat[x]) &&
	       (uint64_t)pg->heat[x] * 10000 >= rest * v->opts->min_share_bp;
}

static enum ibsp_pick follow_select(const struct ibsp_policy_view *v,
				    const struct ibsp_page_view *pg, enum ibsp_skip *skip)
{
	const struct ibsp_engine_opts *o = v->opts;
	uint32_t m = majority_slot(pg, v->nr_acc), share;
	int cur = ibsp_policy_view__slot_of(v, pg->node);
	uint64_t a = pg->heat[m], b = cur >= 0 ? pg->heat[cur] : 0;

	if (pg->owner >= 0) /* its owner thread moved (threads.h): no need to wait for its heat */
		return IBSP_PICK_FOLLOW;
	if (pg->total < (uint64_t)o->min_heat * IBSP_HEAT_ONE) {
		/* Below the floor the engine asks only a page with leave evidence. */
		if (pg->nr_moves)
			return trusted(v, pg) && left_for_one_node(v, pg, cur) ? IBSP_PICK_FOLLOW
									       : IBSP_PICK_NONE;
		m = best_other_slot(v, pg);
		if (pg->leave < first_move_leave(v, pg, m))
			return IBSP_PICK_NONE;
		if (m == UINT32_MAX ||
		    (uint64_t)pg->heat[m] * 10000 < pg->total * o->min_share_bp) {
			*skip = IBSP_SKIP_NO_MAJORITY;
			return IBSP_PICK_SKIP;
		}
		return IBSP_PICK_FOLLOW;
	}
	if (left_for_one_node(v, pg, cur))
		return IBSP_PICK_FOLLOW;
	if (ibsp_node_idx__eq(v->acc_node[m], pg->node) ||
	    !ibsp_policy_view__is_top_tier(v, v->acc_node[m]))
		return IBSP_PICK_NONE;
	share = (uint32_t)(a * 10000ULL / pg->total);
	if (share < o->min_share_bp) {
		*skip = IBSP_SKIP_NO_MAJORITY;
		return IBSP_PICK_SKIP;
	}
	if (!pg->nr_moves) {
		/* Where the kernel put it: a first move, judged as a promotion is. */
		if (!leads_clearly(v, pg, m) || pg->leave < first_move_leave(v, pg, m)) {
			*skip = IBSP_SKIP_UNDECIDED;
			return IBSP_PICK_SKIP;
		}
		return IBSP_PICK_FOLLOW;
	}
	if ((!clearly_above(a, b, follow_z(pg)) && pg->leave < follow_leave(v, pg)) ||
	    a - b < follow_gain(v, pg)) {
		*skip = IBSP_SKIP_HYSTERESIS;
		return IBSP_PICK_SKIP;
	}
	return IBSP_PICK_FOLLOW;
}

static enum ibsp_pick locality_select(const struct ibsp_policy_view *v,
				      const struct ibsp_page_view *pg, enum ibsp_skip *skip)
{
	if (!ibsp_policy_view__is_top_tier(v, pg->node))
		return IBSP_PICK_PROMOTE;
	if (v->opts->no_follow)
		return IBSP_PICK_NONE;
	return follow_select(v, pg, skip);
}

static uint64_t weighted_distance(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
				  struct ibsp_node_idx k)
{
	uint64_t cost = 0;

	for (uint32_t s = 0; s < v->nr_acc; s++) {
		if (pg->heat[s])
			cost += (uint64_t)pg->heat[s] *
				ibsp_topology__distance(v->topo, v->acc_node[s], k);
	}
	return cost;
}

/* The nearest top-tier node to the weighted accessors, skipping @skip; -1 if none. */
static struct ibsp_node_idx nearest(const struct ibsp_policy_view *v,
				    const struct ibsp_page_view *pg, struct ibsp_node_idx skip,
				    bool need_room)
{
	uint32_t nr_nodes = ibsp_topology__nr_nodes(v->topo);
	uint64_t best_cost = UINT64_MAX;
	uint32_t best_tie = UINT32_MAX;
	struct ibsp_node_idx best = IBSP_NODE_IDX_NONE;

	for (uint32_t i = 0; i < nr_nodes; i++) {
		struct ibsp_node_idx k = ibsp_node_idx((int)i);
		uint64_t cost;
		uint32_t tie;

		if (!ibsp_policy_view__is_top_tier(v, k) || ibsp_node_idx__eq(k, skip))
			continue;
		if (need_room && !ibsp_policy_view__has_room(v, k, pg->bytes))
			continue;
		cost = weighted_distance(v, pg, k);
		tie = ibsp_node_idx__valid(pg->node) ? ibsp_topology__distance(v->topo, k, pg->node)
						     : 0;
		if (cost < best_cost || (cost == best_cost && tie < best_tie)) {
			best_cost = cost;
			best_tie = tie;
			best = k;
		}
	}
	return best;
}

/*
 * The top-tier node of an accessor slot holding min_share of the heat; -1 if
 * none. *@unsure: it does, but too early to tell (see PROMOTE_LEAD_X10).
 */
static struct ibsp_node_idx majority_node(const struct ibsp_policy_view *v,
					  const struct ibsp_page_view *pg, bool *unsure)
{
	uint32_t m;

	*unsure = false;
	if (!pg->total)
		return IBSP_NODE_IDX_NONE;
	m = majority_slot(pg, v->nr_acc);
	if ((uint64_t)pg->heat[m] * 10000 < pg->total * v->opts->min_share_bp ||
	    !ibsp_policy_view__is_top_tier(v, v->acc_node[m]))
		return IBSP_NODE_IDX_NONE;
	*unsure = pg->seen < 2 * v->opts->min_heat && !leads_clearly(v, pg, m);
	return v->acc_node[m];
}

static void locality_decide(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			    struct ibsp_decision *d)
{
	struct ibsp_node_idx first, next;
	bool unsure;

	d->skip = IBSP_SKIP_CAPACITY;
	if (pg->pick == IBSP_PICK_FOLLOW) {
		uint32_t x = pg->owner >= 0 ? (uint32_t)pg->owner : best_other_slot(v, pg);

		d->reason = pg->owner >= 0 ? IBSP_REASON_OWNER : IBSP_REASON_FOLLOW;
		if (x != UINT32_MAX && ibsp_policy_view__can_take(v, v->acc_node[x], pg->bytes))
			d->dst = v->acc_node[x];
		return;
	}
	first = majority_node(v, pg, &unsure);
	d->reason = IBSP_REASON_MAJORITY;

	if (unsure) {
		d->skip = IBSP_SKIP_UNDECIDED;
		return;
	}
	if (!ibsp_node_idx__valid(first)) {
		if (pg->seen < v->opts->fallback_heat) {
			d->skip = IBSP_SKIP_UNDECIDED;
			return;
		}
		first = nearest(v, pg, IBSP_NODE_IDX_NONE, false);
		d->reason = IBSP_REASON_NEAREST;
	}
	if (ibsp_node_idx__valid(first) && ibsp_policy_view__can_take(v, first, pg->bytes)) {
		d->dst = first;
		return;
	}
	next = nearest(v, pg, first, true);
	if (ibsp_node_idx__valid(next)) {
		d->dst = next;
		d->reason = IBSP_REASON_CAPACITY_NEXT;
	}
}

/* The lower-tier node nearest to the page's node with room for it. */
static void locality_demote(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			    struct ibsp_decision *d)
{
	uint32_t nr_nodes = ibsp_topology__nr_nodes(v->topo), best_dist = UINT32_MAX;

	for (uint32_t i = 0; i < nr_nodes; i++) {
		struct ibsp_node_idx k = ibsp_node_idx((int)i);
		uint32_t dist;

		if (ibsp_policy_view__is_top_tier(v, k) ||
		    !ibsp_policy_view__has_room(v, k, pg->bytes))
			continue;
		dist = ibsp_topology__distance(v->topo, pg->node, k);
		if (dist < best_dist) {
			best_dist = dist;
			d->dst = k;
		}
	}
}

/* Top-tier pages are candidates only when they may follow their accessors. */
static enum ibsp_scope locality_scope(const struct ibsp_policy_view *v)
{
	return v->opts->no_follow ? IBSP_SCOPE_LOWER_TIER : IBSP_SCOPE_ALL;
}

const struct ibsp_policy_ops ibsp_policy_locality = {
	.name = "locality",
	.scope = locality_scope,
	.select = locality_select,
	.select_by_place = true, /* a lower-tier page: PROMOTE; below the floor: NONE (top tier) */
	.decide = locality_decide,
	.demote = locality_demote,
};
