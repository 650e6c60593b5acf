// SPDX-License-Identifier: MIT
/*
 * Destination rules.
 *
 * locality: the top-tier node whose CPUs contribute the most decayed heat,
 * when its share is at least min_share_bp. Otherwise the top-tier node
 * nearest to the weighted accessors: argmin over k of
 * sum_s heat[s] * distance(node(s), k), with ties going to the node nearer
 * the page's current node, then to the lower node index. When the first
 * choice is at its watermark, the next by the same weighted distance.
 *
 * last-accessor: the node of the CPU of the latest sample (NUMA balancing,
 * pghot "precise"). fixed-node:N: node N (A-bit scanners, DAMON
 * migrate_hot). Neither falls back when its node is full.
 *
 * A page without a majority goes to the nearest node only once it has
 * fallback_heat samples: with two or three samples, a 1:1 split says more
 * about sampling noise than about sharing, and a wrong guess would stay
 * (top-tier pages move again only with rebalance).
 */
#include "policy_internal.h"

static bool has_room(const struct ibsp_engine *e, int idx, uint32_t bytes)
{
	uint64_t wmark = e->total_bytes[idx] / 10000 * e->opts.watermark_bp;

	return e->free_bytes[idx] >= wmark + bytes;
}

static uint64_t weighted_distance(const struct ibsp_engine *e, const struct heat_entry *he,
				  uint32_t k)
{
	uint64_t cost = 0;

	for (uint32_t s = 0; s < e->nr_acc; s++) {
		if (he->heat[s])
			cost += (uint64_t)he->heat[s] *
				ibsp_topology__distance(e->topo, (uint32_t)e->acc_node[s], k);
	}
	return cost;
}

/* The nearest top-tier node to the weighted accessors, skipping @skip; -1 if none. */
static int nearest(const struct ibsp_engine *e, const struct heat_entry *he, int skip,
		   bool need_room, uint32_t bytes)
{
	uint64_t best_cost = UINT64_MAX;
	uint32_t best_tie = UINT32_MAX;
	int best = -1;

	for (uint32_t k = 0; k < e->topo->nr_nodes; k++) {
		uint64_t cost;
		uint32_t tie;

		if (!e->topo->nodes[k].top_tier || (int)k == skip)
			continue;
		if (need_room && !has_room(e, (int)k, bytes))
			continue;
		cost = weighted_distance(e, he, k);
		tie = he->node >= 0 ? ibsp_topology__distance(e->topo, k, (uint32_t)he->node) : 0;
		if (cost < best_cost || (cost == best_cost && tie < best_tie)) {
			best_cost = cost;
			best_tie = tie;
			best = (int)k;
		}
	}
	return best;
}

static bool has_majority(const struct ibsp_engine *e, const struct heat_entry *he, uint64_t total)
{
	for (uint32_t s = 0; s < e->nr_acc; s++) {
		if ((uint64_t)he->heat[s] * 10000 >= total * e->opts.min_share_bp &&
		    e->topo->nodes[e->acc_node[s]].top_tier)
			return true;
	}
	return false;
}

int ibsp_policy__destination(const struct ibsp_engine *e, const struct heat_entry *he,
			     uint64_t total, bool rebalance, uint32_t bytes,
			     enum ibsp_reason *reason)
{
	if (e->opts.policy == IBSP_POLICY_LOCALITY && !rebalance &&
	    total < (uint64_t)e->opts.fallback_heat * IBSP_HEAT_ONE && !has_majority(e, he, total))
		return DEST_UNDECIDED;

	int first, next;

	switch (e->opts.policy) {
	case IBSP_POLICY_LAST_ACCESSOR:
		*reason = IBSP_REASON_LAST_ACCESSOR;
		first = e->acc_node[he->last_acc];
		return has_room(e, first, bytes) ? first : -1;
	case IBSP_POLICY_FIXED_NODE:
		*reason = IBSP_REASON_FIXED;
		return has_room(e, e->fixed_idx, bytes) ? e->fixed_idx : -1;
	case IBSP_POLICY_LOCALITY:
		break;
	default:
		return -1;
	}

	first = -1;
	if (total) {
		uint32_t m = 0;

		for (uint32_t s = 1; s < e->nr_acc; s++) {
			if (he->heat[s] > he->heat[m])
				m = s;
		}
		if ((uint64_t)he->heat[m] * 10000 >= total * e->opts.min_share_bp &&
		    e->topo->nodes[e->acc_node[m]].top_tier) {
			first = e->acc_node[m];
			*reason = rebalance ? IBSP_REASON_REBALANCE : IBSP_REASON_MAJORITY;
		}
	}
	if (rebalance)
		return first >= 0 && has_room(e, first, bytes) ? first : -1;
	if (first < 0) {
		first = nearest(e, he, -1, false, bytes);
		*reason = IBSP_REASON_NEAREST;
	}
	if (first >= 0 && has_room(e, first, bytes))
		return first;
	next = nearest(e, he, first, true, bytes);
	if (next >= 0)
		*reason = IBSP_REASON_CAPACITY_NEXT;
	return next;
}
