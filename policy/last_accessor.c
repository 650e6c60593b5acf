// SPDX-License-Identifier: MIT
/*
 * last-accessor: every page that is not on the node of the CPU of its latest
 * sample goes there (NUMA balancing, pghot "precise"), top-tier pages too.
 * No fallback when that node is full.
 */
#include "ibsp/policies.h"

static enum ibsp_pick last_accessor_select(const struct ibsp_policy_view *v,
					   const struct ibsp_page_view *pg, enum ibsp_skip *skip)
{
	(void)skip;
	return ibsp_node_idx__eq(v->acc_node[pg->last_acc], pg->node) ? IBSP_PICK_NONE
								      : IBSP_PICK_PROMOTE;
}

static void last_accessor_decide(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
				 struct ibsp_decision *d)
{
	struct ibsp_node_idx node = v->acc_node[pg->last_acc];

	d->reason = IBSP_REASON_LAST_ACCESSOR;
	d->skip = IBSP_SKIP_CAPACITY;
	if (ibsp_policy_view__has_room(v, node, pg->bytes))
		d->dst = node;
}

const struct ibsp_policy_ops ibsp_policy_last_accessor = {
	.name = "last-accessor",
	.select = last_accessor_select,
	.select_by_place = true, /* every answer: its node against its latest accessor's */
	.decide = last_accessor_decide,
};
