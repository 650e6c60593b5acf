// SPDX-License-Identifier: MIT
/*
 * The engine's settings: defaults, checks, the policy's start, and their
 * change between ticks (ibsp_engine__set_opts(): a daemon's reload).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "log_print.h"
#include "util.h"

/* The default heat-table bound: 64 MiB of slots at 3/4 occupancy. */
/* The default heat-table bound (what 64 MiB of 64-byte slots held at 3/4 occupancy). */
#define DEFAULT_MAX_PAGES 786432ULL

void ibsp_engine_opts__fill_defaults(struct ibsp_engine_opts *o)
{
	if (!o->interval_ms)
		o->interval_ms = 1000;
	if (!o->min_share_bp)
		o->min_share_bp = 6000;
	if (!o->min_heat)
		o->min_heat = 2;
	if (!o->fallback_heat)
		o->fallback_heat = o->min_heat < 64 ? 4 * o->min_heat : 255;
	if (!o->decay_shift)
		o->decay_shift = 2;
	if (!o->demote_idle_intervals)
		o->demote_idle_intervals = 4;
	if (!o->pingpong_intervals)
		o->pingpong_intervals = 10;
	if (!o->watermark_bp)
		o->watermark_bp = 200;
	if (!o->max_pages)
		o->max_pages = DEFAULT_MAX_PAGES;
}

int ibsp_engine_opts__check(const struct ibsp_engine_opts *o)
{
	const struct ibsp_policy_ops *ops = o->policy.ops;

	if (o->min_share_bp > 10000 || o->decay_shift > 31 || o->watermark_bp >= 10000 ||
	    o->fallback_heat > 255) {
		pr_err("engine: option out of range (min_share_bp %u, decay_shift %u, "
		       "watermark_bp %u, fallback_heat %u: at most 255 samples are counted)\n",
		       o->min_share_bp, o->decay_shift, o->watermark_bp, o->fallback_heat);
		return -EINVAL;
	}
	if (ops && ops->select && !ops->decide) {
		pr_err("engine: policy %s selects pages but has no decide()\n",
		       ops->name ? ops->name : "?");
		return -EINVAL;
	}
	return 0;
}

void ibsp_engine__set_watermarks(struct ibsp_engine *e)
{
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(e->topo); i++) {
		uint64_t total = ibsp_topology__mem_total_kb(e->topo, ibsp_node_idx((int)i)) << 10;

		e->wmark_bytes[i] = total / 10000 * e->opts.watermark_bp;
	}
}

/* The policy's view of the engine, its state, and its start(). */
int ibsp_engine__start_policy(struct ibsp_engine *e)
{
	const struct ibsp_policy_ops *ops = e->opts.policy.ops;

	e->ops = ops;
	e->demotes = false;
	e->lower_tier_only = false;
	e->select_by_place = false;
	e->view = (struct ibsp_policy_view){ .topo = e->topo,
					     .free_bytes = e->free_bytes,
					     .watermark_bytes = e->wmark_bytes,
					     .reclaimable_bytes = e->reclaim_bytes,
					     .top_tier = e->top_tier,
					     .nr_acc = e->nr_acc,
					     .acc_node = e->acc_idx,
					     .opts = &e->opts,
					     .arg = e->opts.policy.arg };
	if (!ops)
		return 0;
	e->demotes = ops->demote && !e->opts.no_demote;
	if (ops->priv_size) {
		e->view.priv = calloc(1, ops->priv_size);
		if (!e->view.priv)
			return -ENOMEM;
	}
	if (ops->start) {
		char why[128] = "";
		int ret = ops->start(&e->view, why, sizeof(why));

		if (ret) {
			pr_err("engine: %s\n", why[0] ? why : ops->name);
			return ret;
		}
	}
	e->lower_tier_only = ops->scope && ops->scope(&e->view) == IBSP_SCOPE_LOWER_TIER;
	e->select_by_place = ops->select_by_place;
	return 0;
}

/* Did the policy (or what its start() reads) change? Then it starts again. */
static bool policy_changed(const struct ibsp_engine_opts *a, const struct ibsp_engine_opts *b)
{
	return a->policy.ops != b->policy.ops || a->policy.arg != b->policy.arg ||
	       a->no_demote != b->no_demote || a->no_follow != b->no_follow;
}

int ibsp_engine__set_opts(struct ibsp_engine *e, const struct ibsp_engine_opts *opts)
{
	struct ibsp_engine_opts o, old = e->opts;
	struct ibsp_policy_view old_view = e->view;
	const struct ibsp_policy_ops *old_ops = e->ops;
	bool old_demotes = e->demotes, old_lower = e->lower_tier_only;
	int ret;

	IBSP_OPTS_COPY(o, opts);
	ibsp_engine_opts__fill_defaults(&o);
	ret = ibsp_engine_opts__check(&o);
	if (ret)
		return ret;
	/* What the tables were built for stays. */
	if (o.max_pages != old.max_pages)
		pr_warn("engine: max_pages stays %llu until a restart\n",
			(unsigned long long)old.max_pages);
	o.max_pages = old.max_pages;
	o.simulate = old.simulate;
	o.resolver = old.resolver;
	/* The passes so far decay by the old shift; the next scan sees every page by the new rules. */
	ibsp_heat_table__catch_up_all(e->ht);
	e->full_scan = true;
	e->opts = o;
	e->ht->shift = o.decay_shift;
	ibsp_engine__set_watermarks(e);
	if (!policy_changed(&old, &o))
		return 0;
	ret = ibsp_engine__start_policy(e);
	if (ret) {
		/* The new policy cannot start here: the old one goes on as it was. */
		free(e->view.priv);
		e->opts = old;
		e->ht->shift = old.decay_shift;
		ibsp_engine__set_watermarks(e);
		e->view = old_view;
		e->ops = old_ops;
		e->demotes = old_demotes;
		e->lower_tier_only = old_lower;
		return ret;
	}
	free(old_view.priv);
	return 0;
}
