// SPDX-License-Identifier: MIT
/*
 * fixed-node:N: every lower-tier page goes to node N (A-bit scanners,
 * DAMON migrate_hot: they know a page is hot, not who uses it). No fallback
 * when N is full.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ibsp/policies.h"

struct fixed_node {
	struct ibsp_node_idx idx; /* where N is */
};

/* N: a node id, 0 to 1023, digits only. */
static int fixed_node_parse(const char *text, int *arg)
{
	char *end;
	long n;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	n = strtol(text, &end, 10);
	if (*end || n > 1023)
		return -EINVAL;
	*arg = (int)n;
	return 0;
}

static int fixed_node_start(const struct ibsp_policy_view *v, char *why, size_t why_len)
{
	struct fixed_node *f = v->priv;

	f->idx = ibsp_topology__index_of(v->topo, ibsp_node_id(v->arg));
	if (!ibsp_node_idx__valid(f->idx)) {
		snprintf(why, why_len, "fixed-node:%d: node %d is not in the topology", v->arg,
			 v->arg);
		return -EDOM; /* the option, not the topology, is wrong */
	}
	return 0;
}

static enum ibsp_scope fixed_node_scope(const struct ibsp_policy_view *v)
{
	(void)v;
	return IBSP_SCOPE_LOWER_TIER;
}

static enum ibsp_pick fixed_node_select(const struct ibsp_policy_view *v,
					const struct ibsp_page_view *pg, enum ibsp_skip *skip)
{
	const struct fixed_node *f = v->priv;

	(void)skip;
	if (ibsp_policy_view__is_top_tier(v, pg->node) || ibsp_node_idx__eq(pg->node, f->idx))
		return IBSP_PICK_NONE;
	return IBSP_PICK_PROMOTE;
}

static void fixed_node_decide(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
			      struct ibsp_decision *d)
{
	const struct fixed_node *f = v->priv;

	d->reason = IBSP_REASON_FIXED;
	d->skip = IBSP_SKIP_CAPACITY;
	if (ibsp_policy_view__has_room(v, f->idx, pg->bytes))
		d->dst = f->idx;
}

const struct ibsp_policy_ops ibsp_policy_fixed_node = {
	.name = "fixed-node",
	.priv_size = sizeof(struct fixed_node),
	.parse = fixed_node_parse,
	.start = fixed_node_start,
	.scope = fixed_node_scope,
	.select = fixed_node_select,
	.select_by_place = true, /* every answer: its node only */
	.decide = fixed_node_decide,
};
