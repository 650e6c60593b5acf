// SPDX-License-Identifier: MIT
/*
 * locality: pages on a lower-tier node go to the top-tier node whose CPUs
 * contribute the most decayed heat, when its share is at least
 * min_share_bp (reason majority). Otherwise, once the page has
 * fallback_heat samples, to the top-tier node nearest the weighted
 * accessors: argmin over k of sum_s heat[s] * distance(node(s), k), ties
 * going to the node nearer the page's current node, then to the lower node
 * index (nearest). When the first choice is at its watermark, the next by
 * the same weighted distance (capacity_next).
 *
 * A page without a majority waits for fallback_heat samples (undecided):
 * with two or three samples, a 1:1 split says more about sampling noise
 * than about sharing, and a wrong guess would stay (top-tier pages move
 * again only with rebalance).
 *
 * With rebalance, a top-tier page whose majority accessor node (>=
 * min_share_bp) is another top-tier node is a candidate too, and goes there
 * only (rebalance); one with no majority is counted as no_majority.
 */
#include "ibsp/engine.h"
#include "ibsp/policies.h"

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

static enum ibsp_pick locality_select(const struct ibsp_policy_view *v,
				      const struct ibsp_page_view *pg, enum ibsp_skip *skip)
{
	const struct ibsp_engine_opts *o = v->opts;
	uint32_t m, share;

	if (!ibsp_topology__is_top_tier(v->topo, pg->node))
		return IBSP_PICK_PROMOTE;
	if (!o->rebalance)
		return IBSP_PICK_NONE;
	m = majority_slot(pg, v->nr_acc);
	if (ibsp_node_idx__eq(v->acc_node[m], pg->node))
		return IBSP_PICK_NONE;
	share = pg->total ? (uint32_t)(pg->heat[m] * 10000ULL / pg->total) : 0;
	if (share < o->min_share_bp) {
		if (pg->total < (uint64_t)o->min_heat * IBSP_HEAT_ONE)
			return IBSP_PICK_NONE;
		*skip = IBSP_SKIP_NO_MAJORITY;
		return IBSP_PICK_SKIP;
	}
	return IBSP_PICK_REBALANCE;
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

		if (!ibsp_topology__is_top_tier(v->topo, k) || ibsp_node_idx__eq(k, skip))
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

/* The top-tier node of an accessor slot holding min_share of the heat; -1 if none. */
static struct ibsp_node_idx majority_node(const struct ibsp_policy_view *v,
					  const struct ibsp_page_view *pg)
{
	uint32_t m;

	if (!pg->total)
		return IBSP_NODE_IDX_NONE;
	m = majority_slot(pg, v->nr_acc);
	if ((uint64_t)pg->heat[m] * 10000 >= pg->total * v->opts->min_share_bp &&
	    ibsp_topology__is_top_tier(v->topo, v->acc_node[m]))
		return v->acc_node[m];
	return IBSP_NODE_IDX_NONE;
}

static bool has_majority(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg)
{
	for (uint32_t s = 0; s < v->nr_acc; s++) {
		if ((uint64_t)pg->heat[s] * 10000 >= pg->total * v->opts->min_share_bp &&
		    ibsp_topology__is_top_tier(v->topo, v->acc_node[s]))
			return true;
	}
	return false;
}

static void locality_decide(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			    struct ibsp_decision *d)
{
	bool rebalance = pg->pick == IBSP_PICK_REBALANCE;
	struct ibsp_node_idx first, next;

	if (!rebalance && pg->total < (uint64_t)v->opts->fallback_heat * IBSP_HEAT_ONE &&
	    !has_majority(v, pg)) {
		d->skip = IBSP_SKIP_UNDECIDED;
		return;
	}
	d->skip = IBSP_SKIP_CAPACITY;
	first = majority_node(v, pg);
	d->reason = rebalance ? IBSP_REASON_REBALANCE : IBSP_REASON_MAJORITY;
	if (rebalance) {
		if (ibsp_node_idx__valid(first) && ibsp_policy_view__has_room(v, first, pg->bytes))
			d->dst = first;
		return;
	}
	if (!ibsp_node_idx__valid(first)) {
		first = nearest(v, pg, IBSP_NODE_IDX_NONE, false);
		d->reason = IBSP_REASON_NEAREST;
	}
	if (ibsp_node_idx__valid(first) && ibsp_policy_view__has_room(v, first, pg->bytes)) {
		d->dst = first;
		return;
	}
	next = nearest(v, pg, first, true);
	if (ibsp_node_idx__valid(next)) {
		d->dst = next;
		d->reason = IBSP_REASON_CAPACITY_NEXT;
	}
}

/* Top-tier pages are candidates only with rebalance. */
static enum ibsp_scope locality_scope(const struct ibsp_policy_view *v)
{
	return v->opts->rebalance ? IBSP_SCOPE_ALL : IBSP_SCOPE_LOWER_TIER;
}

const struct ibsp_policy_ops ibsp_policy_locality = {
	.name = "locality",
	.scope = locality_scope,
	.select = locality_select,
	.decide = locality_decide,
};
