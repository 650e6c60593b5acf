// SPDX-License-Identifier: MIT
/* What `replay` prints: the text summary and the JSON one (replay_out.h, docs/replay.md). */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "replay_out.h"

static void fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1ULL << 30)
		snprintf(buf, len, "%.1f GiB", (double)b / (1ULL << 30));
	else if (b >= 1ULL << 20)
		snprintf(buf, len, "%.1f MiB", (double)b / (1ULL << 20));
	else
		snprintf(buf, len, "%.1f KiB", (double)b / 1024);
}

/* Row @k's local fraction as a share of oracle @kind's (0 when that one is 0). */
static double of_oracle(const struct ibsp_replay_result *r, uint32_t k, enum ibsp_oracle_kind kind)
{
	const struct ibsp_eval_counts *o = &r->eval[r->nr_policies + (uint32_t)kind];
	double of = cli_frac(o->local, o->placed);

	return of > 0 ? cli_frac(r->eval[k].local, r->eval[k].placed) / of : 0.0;
}

/* --evaluate's table: a row per policy, then the oracles. */
static void print_evaluate(FILE *f, const struct ibsp_replay_result *r)
{
	char b[32], mpp[16], pp[24];

	fprintf(f, "\nevaluate: sampled accesses served from the accessing CPU's own node\n");
	fprintf(f, "  %-16s %7s %10s %12s %11s %12s %8s %11s %9s %10s\n", "policy", "local",
		"of oracle", "of capacity", "of dynamic", "migrated", "pages", "moves/page",
		"moved >1", "ping-pong");
	for (uint32_t k = 0; k < r->nr_eval; k++) {
		const struct ibsp_eval_counts *c = &r->eval[k];

		fmt_bytes(c->migrated_bytes, b, sizeof(b));
		if (r->eval_pages_moved[k])
			snprintf(mpp, sizeof(mpp), "%.2f",
				 cli_frac(c->migrations, r->eval_pages_moved[k]));
		else
			snprintf(mpp, sizeof(mpp), "-");
		if (k < r->nr_policies)
			snprintf(pp, sizeof(pp), "%" PRIu64, r->eval_pingpong[k]);
		else
			snprintf(pp, sizeof(pp), "-");
		fprintf(f,
			"  %-16s %6.1f%% %9.1f%% %11.1f%% %10.1f%% %12s %8" PRIu64 " %11s %9" PRIu64
			" %10s\n",
			r->eval_name[k], cli_frac(c->local, c->placed) * 100,
			of_oracle(r, k, IBSP_ORACLE_STATIC) * 100,
			of_oracle(r, k, IBSP_ORACLE_CAPACITY) * 100,
			of_oracle(r, k, IBSP_ORACLE_DYNAMIC) * 100, b, c->migrations, mpp,
			r->eval_moved_twice[k], pp);
	}
}

void cli_replay_print_text(FILE *f, const char *path, const char *policy,
			   const struct ibsp_replay_result *r)
{
	const struct ibsp_engine_stats *st = &r->st;
	uint64_t pages = 0, bytes = 0, unres = 0;
	char b[32];

	fprintf(f,
		"replay %s: %" PRIu64 " samples, %.1f s, %" PRIu64
		" intervals of %u ms; policy %s\n",
		path, r->samples, (double)(r->last_ns - r->first_ns) / 1e9, r->intervals,
		r->opts.interval_ms, policy);
	if (r->events)
		fprintf(f, "  events: %s only (%" PRIu64 " samples of the others left out)\n",
			r->events, r->samples_filtered);
	fprintf(f, "  promotions        pages        bytes\n");
	for (uint32_t s = 0; s < r->nr_nodes; s++) {
		for (uint32_t d = 0; d < r->nr_nodes; d++) {
			uint64_t n = r->moves_pages[s * r->nr_nodes + d];
			char route[32];

			if (!n)
				continue;
			snprintf(route, sizeof(route), "node%d->node%d", r->node_ids[s],
				 r->node_ids[d]);
			fmt_bytes(r->moves_bytes[s * r->nr_nodes + d], b, sizeof(b));
			fprintf(f, "  %-16s %6" PRIu64 " %12s\n", route, n, b);
			pages += n;
			bytes += r->moves_bytes[s * r->nr_nodes + d];
		}
	}
	fmt_bytes(bytes, b, sizeof(b));
	fprintf(f, "  %-16s %6" PRIu64 " %12s   ping-pong %" PRIu64 "\n", "total", pages, b,
		st->pingpong);
	fprintf(f, "  skipped (page-intervals):");
	for (int k = 0; k < IBSP_SKIP__MAX; k++)
		fprintf(f, "%s %s %" PRIu64, k ? "," : "", ibsp_skip__name((enum ibsp_skip)k),
			st->skips[k]);
	fputc('\n', f);
	for (int k = 0; k < IBSP_UNRES__MAX; k++)
		unres += st->unresolved[k];
	fprintf(f, "  unresolved samples: %" PRIu64, unres);
	for (int k = 0; k < IBSP_UNRES__MAX && unres; k++) {
		if (st->unresolved[k])
			fprintf(f, " (%s %" PRIu64 ")",
				ibsp_unresolved__name((enum ibsp_unresolved)k), st->unresolved[k]);
	}
	fputc('\n', f);
	fprintf(f,
		"  heat table: %" PRIu64 " pages (at most %" PRIu64 "), %" PRIu64
		" evicted, last threshold %.1f samples\n",
		st->pages_tracked, st->pages_tracked_peak, st->evictions,
		(double)st->threshold / IBSP_HEAT_ONE);
	if (st->noise < 0)
		fprintf(f, "  sampling noise: not known (too few samples of private pages)\n");
	else
		fprintf(f, "  sampling noise: %.1f%% of private pages' samples%s\n",
			100 * st->noise,
			st->low_noise ? " (low: a page's first sample may promote it)" : "");
	if (st->trusted_follow)
		fprintf(
		    f, "  moves of users: a private page follows after %u samples from elsewhere\n",
		    st->trusted_follow);
	if (st->near_agreement >= 0)
		fprintf(f, "  neighbours: private pages agree with theirs %.1f%% of the time%s",
			100 * st->near_agreement,
			st->near_believed ? " (a first decision counts them as a sample)" : "");
	if (st->near_agreement >= 0 && st->near_slots > IBSP_NEAR_START_SLOTS)
		fprintf(f, "; their table grew to %" PRIu32 " Ki neighbourhoods",
			st->near_slots >> 10);
	if (st->near_agreement >= 0)
		fputc('\n', f);
	if (st->owner_agreement >= 0)
		fprintf(f,
			"  threads: a private page's owner thread is at home on its node %.1f%% of "
			"the time%s; %" PRIu64 " threads moved\n",
			100 * st->owner_agreement,
			st->owner_believed ? " (a page follows its owner's move)" : "",
			st->thread_moves);
	if (r->nr_eval)
		print_evaluate(f, r);
}

void cli_replay_explain(const char *name, const struct ibsp_replay_result *r)
{
	uint64_t no_cpu = r->reader.samples_no_cpu;

	if (!r->samples && r->reader.nr_invalid) {
		int why = 0;

		for (int k = 1; k < IBSP_DROP__MAX; k++)
			why = r->reader.nr_dropped[k] > r->reader.nr_dropped[why] ? k : why;
		cli_warn("replay",
			 "%s: none of the recording's %" PRIu64 " samples could be decoded (most "
			 "for %s: %" PRIu64 "; `ibs-promote info` lists them), so every figure is "
			 "0\n",
			 name, r->reader.nr_samples,
			 ibsp_drop_reason__name((enum ibsp_drop_reason)why),
			 r->reader.nr_dropped[why]);
	} else if (!r->samples) {
		cli_warn("replay", "%s: no samples in the recording, so every figure is 0\n", name);
	} else if (no_cpu == r->samples) {
		cli_warn("replay",
			 "%s: none of the %" PRIu64 " samples has a CPU field (PERF_SAMPLE_CPU), "
			 "so no access has a known accessing node and every figure is 0: record "
			 "with --sample-cpu (perf record -a sets it)\n",
			 name, r->samples);
	} else if (r->st.unresolved[IBSP_UNRES_NO_CPU] == r->samples) {
		cli_warn("replay",
			 "%s: no sample's CPU is in the recording's NUMA_TOPOLOGY, so every "
			 "figure is 0\n",
			 name);
	} else if (r->st.accesses && !r->st.placed_accesses && r->has_block_map) {
		/* Without a block map the replay said so when it read the topology. */
		cli_warn("replay",
			 "%s: none of the %" PRIu64 " samples has a physical address in the "
			 "recording's memory map, so no page's node is known and nothing can be "
			 "moved (node_unknown): record with the physical address (perf record "
			 "--phys-data; ibs-promote record does)\n",
			 name, r->st.accesses);
	}
	if (r->nr_nodes < 2)
		cli_warn("replay",
			 "%s: the recording's host has %u NUMA node%s: promotion needs two, so "
			 "nothing is planned\n",
			 name, r->nr_nodes, r->nr_nodes == 1 ? "" : "s");
}

static json_t *settings_json(const struct ibsp_replay_result *r, const struct cli_policy *p)
{
	return json_pack(
	    "{s:i, s:I, s:f, s:i, s:i, s:i, s:f, s:I, s:i, s:b, s:b, s:i, s:s?}", "interval_ms",
	    (int)r->opts.interval_ms, "rate_bytes_per_s", (json_int_t)r->opts.rate_bytes_per_s,
	    "min_share_pct", r->opts.min_share_bp / 100.0, "min_heat", (int)r->opts.min_heat,
	    "fallback_heat", (int)r->opts.fallback_heat, "pingpong_intervals",
	    (int)r->opts.pingpong_intervals, "watermark_pct", r->opts.watermark_bp / 100.0,
	    "max_pages", (json_int_t)r->opts.max_pages, "decay_shift", (int)r->opts.decay_shift,
	    "follow", !r->opts.no_follow, "demote", !r->opts.no_demote, "demote_idle_intervals",
	    (int)r->opts.demote_idle_intervals, "top_tier", p->top_tier);
}

/* Promotions by route, as [{src, dst, pages, bytes}]. */
static json_t *moves_json(const struct ibsp_replay_result *r)
{
	json_t *moves = json_array();

	for (uint32_t s = 0; s < r->nr_nodes; s++) {
		for (uint32_t d = 0; d < r->nr_nodes; d++) {
			uint64_t n = r->moves_pages[s * r->nr_nodes + d];

			if (n)
				json_array_append_new(
				    moves,
				    json_pack("{s:i, s:i, s:I, s:I}", "src", r->node_ids[s], "dst",
					      r->node_ids[d], "pages", (json_int_t)n, "bytes",
					      (json_int_t)r->moves_bytes[s * r->nr_nodes + d]));
		}
	}
	return moves;
}

/* The --evaluate part: a row per policy, the oracles last, and the intervals. */
static json_t *evaluate_json(const struct ibsp_replay_result *r, json_t *intervals)
{
	json_t *ev = json_object(), *pols = json_array();

	for (uint32_t k = 0; k < r->nr_eval; k++) {
		const struct ibsp_eval_counts *c = &r->eval[k];
		json_t *row = json_pack(
		    "{s:s, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:f, s:I, s:I}", "policy",
		    r->eval_name[k], "local_fraction", cli_frac(c->local, c->placed), "of_oracle",
		    of_oracle(r, k, IBSP_ORACLE_STATIC), "of_capacity_oracle",
		    of_oracle(r, k, IBSP_ORACLE_CAPACITY), "of_dynamic_oracle",
		    of_oracle(r, k, IBSP_ORACLE_DYNAMIC), "local_accesses", (json_int_t)c->local,
		    "placed_accesses", (json_int_t)c->placed, "migrated_bytes",
		    (json_int_t)c->migrated_bytes, "migrations", (json_int_t)c->migrations,
		    "moves_per_page", cli_frac(c->migrations, r->eval_pages_moved[k]),
		    "pages_moved", (json_int_t)r->eval_pages_moved[k], "moved_twice",
		    (json_int_t)r->eval_moved_twice[k]);

		if (k < r->nr_policies) {
			int64_t h = r->eval_min_headroom[k];

			json_object_set_new(row, "pingpong",
					    json_integer((json_int_t)r->eval_pingpong[k]));
			json_object_set_new(
			    row, "shared_moved_twice",
			    json_integer((json_int_t)r->eval_shared_moved_twice[k]));
			json_object_set_new(row, "below_watermark",
					    json_integer((json_int_t)r->eval_below_watermark[k]));
			json_object_set_new(row, "min_headroom_bytes",
					    h == INT64_MAX ? json_null() : json_integer(h));
		}
		json_array_append_new(pols, row);
	}
	json_object_set_new(ev, "policies", pols);
	if (intervals)
		json_object_set(ev, "intervals", intervals);
	return ev;
}

/* The skips by reason (page-intervals). */
static json_t *skips_json(const struct ibsp_engine_stats *st)
{
	json_t *skips = json_object();

	for (int k = 0; k < IBSP_SKIP__MAX; k++)
		json_object_set_new(skips, ibsp_skip__name((enum ibsp_skip)k),
				    json_integer((json_int_t)st->skips[k]));
	return skips;
}

/* Samples the engine could not resolve, by reason. */
static json_t *unresolved_json(const struct ibsp_engine_stats *st)
{
	json_t *unres = json_object();

	for (int k = 0; k < IBSP_UNRES__MAX; k++)
		json_object_set_new(unres, ibsp_unresolved__name((enum ibsp_unresolved)k),
				    json_integer((json_int_t)st->unresolved[k]));
	return unres;
}

/* Records the reader dropped, by reason. */
static json_t *dropped_json(const struct ibsp_replay_result *r)
{
	json_t *drops = json_object();

	for (int k = 1; k < IBSP_DROP__MAX; k++)
		json_object_set_new(drops, ibsp_drop_reason__name((enum ibsp_drop_reason)k),
				    json_integer((json_int_t)r->reader.nr_dropped[k]));
	return drops;
}

json_t *cli_replay_summary_json(const char *path, const char *policy,
				const struct ibsp_replay_result *r, const struct cli_policy *p,
				json_t *intervals, bool complete)
{
	const struct ibsp_engine_stats *st = &r->st;
	json_t *o = json_object();

	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "file", json_string(path));
	json_object_set_new(o, "complete", json_boolean(complete));
	json_object_set_new(o, "policy", json_string(policy));
	json_object_set_new(o, "settings", settings_json(r, p));
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	if (r->events) {
		json_object_set_new(o, "events", json_string(r->events));
		json_object_set_new(o, "samples_filtered",
				    json_integer((json_int_t)r->samples_filtered));
	}
	json_object_set_new(o, "first_ns", json_integer((json_int_t)r->first_ns));
	json_object_set_new(o, "last_ns", json_integer((json_int_t)r->last_ns));
	json_object_set_new(o, "intervals", json_integer((json_int_t)r->intervals));
	json_object_set_new(o, "idle_intervals", json_integer((json_int_t)r->idle_intervals));
	json_object_set_new(o, "dropped", dropped_json(r));
	json_object_set_new(o, "unresolved", unresolved_json(st));
	json_object_set_new(o, "lost_records", json_integer((json_int_t)r->reader.loss.lost));
	json_object_set_new(
	    o, "heat",
	    json_pack("{s:I, s:I, s:f, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:b}", "pages_tracked",
		      (json_int_t)st->pages_tracked, "evictions", (json_int_t)st->evictions,
		      "threshold_samples", (double)st->threshold / IBSP_HEAT_ONE, "noise",
		      st->noise < 0 ? json_null() : json_real(st->noise), "trusted_follow_samples",
		      st->trusted_follow ? json_integer(st->trusted_follow) : json_null(),
		      "neighbour_agreement",
		      st->near_agreement < 0 ? json_null() : json_real(st->near_agreement),
		      "owner_agreement",
		      st->owner_agreement < 0 ? json_null() : json_real(st->owner_agreement),
		      "thread_moves", json_integer((json_int_t)st->thread_moves), "low_noise",
		      st->low_noise, "neighbours_believed", st->near_believed, "owners_believed",
		      st->owner_believed));
	json_object_set_new(o, "promotions", moves_json(r));
	json_object_set_new(o, "planned_pages", json_integer((json_int_t)st->planned));
	json_object_set_new(o, "planned_bytes", json_integer((json_int_t)st->planned_bytes));
	json_object_set_new(o, "pingpong", json_integer((json_int_t)st->pingpong));
	json_object_set_new(o, "skips", skips_json(st));
	if (r->nr_eval)
		json_object_set_new(o, "evaluate", evaluate_json(r, intervals));
	return o;
}
