// SPDX-License-Identifier: MIT
/*
 * The telemetry counters as Prometheus text (exposition format 0.0.4):
 * totals since the start, from the counters the JSON lines read. Every
 * metric is named ibs_promote_*, has HELP and TYPE lines, and counters end
 * in _total (promtool check metrics accepts the output; a test runs it).
 * Labelled counters list every label value from the start, at 0, so that
 * rate() sees each series begin. docs/metrics.md lists them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "ibsp/policy.h"
#include "ibsp/topology.h"
#include "telemetry_internal.h"

#define P "ibs_promote_"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

static void value(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, P "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
		(unsigned long long)v);
}

static void value_f(FILE *f, const char *name, const char *labels, double v)
{
	fprintf(f, P "%s%s%s%s %.6f\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", v);
}

/* One counter family labelled by the names of an enum, from @first to @n - 1. */
static void by_name(FILE *f, const char *name, const char *help, const char *label,
		    const uint64_t *v, int first, int n, const char *(*name_of)(int))
{
	char l[96];

	family(f, name, "counter", help);
	for (int i = first; i < n; i++) {
		snprintf(l, sizeof(l), "%s=\"%s\"", label, name_of(i));
		value(f, name, l, v[i]);
	}
}

static void sampling(FILE *f, const struct ibsp_telemetry_counts *c)
{
	by_name(f, "samples_total", "Samples decoded, by sampler.", "sampler", c->by_sampler, 1,
		IBSP_SAMPLER__MAX, sampler_name);
	family(f, "sample_records_total", "counter", "PERF_RECORD_SAMPLE records read.");
	value(f, "sample_records_total", "", c->samples);
	family(f, "lost_records_total", "counter", "PERF_RECORD_LOST records received.");
	value(f, "lost_records_total", "", c->lost_records);
	family(f, "lost_total", "counter", "Records the kernel dropped (sum of the LOST counts).");
	value(f, "lost_total", "", c->lost);
	family(f, "throttled_total", "counter", "PERF_RECORD_THROTTLE records received.");
	value(f, "throttled_total", "", c->throttled);
	by_name(f, "dropped_samples_total", "Samples a decoder refused, by reason.", "reason",
		c->dropped, 1, IBSP_DROP__MAX, drop_name);
	by_name(f, "unresolved_samples_total", "Samples that added no heat, by reason.", "reason",
		c->unresolved, 0, IBSP_UNRES__MAX, unres_name);
	family(f, "hint_scans_total", "counter", "Write-protection scans of the hint sampler.");
	value(f, "hint_scans_total", "", c->scans);
	family(f, "hint_scan_seconds_total", "counter", "Time spent in those scans.");
	value_f(f, "hint_scan_seconds_total", "", c->scan_s);
}

static void heat(FILE *f, const struct ibsp_telemetry_counts *c)
{
	family(f, "heat_pages", "gauge", "Pages in the heat table.");
	value(f, "heat_pages", "", c->pages_tracked);
	family(f, "heat_evictions_total", "counter", "Heat-table entries evicted to make room.");
	value(f, "heat_evictions_total", "", c->evictions);
	family(f, "node_queries_total", "counter",
	       "Pages without a physical address whose node was asked (move_pages), by result.");
	value(f, "node_queries_total", "result=\"found\"",
	      c->node_queries - c->node_queries_failed);
	value(f, "node_queries_total", "result=\"no_page\"", c->node_queries_failed);
	family(f, "threshold_samples", "gauge",
	       "The last effective hot-page threshold, in decayed samples.");
	value_f(f, "threshold_samples", "", (double)c->threshold / IBSP_HEAT_ONE);
	if (c->noise >= 0) { /* no sample until the engine can tell */
		family(f, "sampling_noise_ratio", "gauge",
		       "Samples of private-looking pages from another node that came back: the "
		       "host's sampling noise as the engine estimates it.");
		value_f(f, "sampling_noise_ratio", "", c->noise);
	}
	if (c->near_agreement >= 0) {
		family(
		    f, "neighbour_agreement_ratio", "gauge",
		    "Samples of private-looking pages whose neighbours (the rest of their 64 KiB) "
		    "lead to the page's own node, of those whose neighbours lead clearly.");
		value_f(f, "neighbour_agreement_ratio", "", c->near_agreement);
	}
	if (c->owner_agreement >= 0) {
		family(f, "owner_agreement_ratio", "gauge",
		       "Samples from home of private pages, made by their owner thread, where the "
		       "thread's home node is the page's, of those whose owner has a home.");
		value_f(f, "owner_agreement_ratio", "", c->owner_agreement);
	}
	family(f, "thread_moves_total", "counter",
	       "Threads whose home node (7 in 8 of their samples) changed.");
	value(f, "thread_moves_total", "", c->thread_moves);
	family(f, "considered_pages_total", "counter",
	       "Hot pages the policy looked at, summed over its passes.");
	value(f, "considered_pages_total", "", c->considered);
	by_name(f, "skips_total", "Candidate page-intervals skipped, by reason.", "reason",
		c->skips, 0, IBSP_SKIP__MAX, skip_name);
}

/* One family of per-route move counts: @field is an offset into struct ibsp_telemetry_moves. */
static void moves(FILE *f, const struct ibsp_telemetry *t, const char *name, const char *help,
		  size_t field)
{
	static const char *const kinds[IBSP_TELE_MOVE__MAX] = { "promotion", "demotion" };
	const struct ibsp_telemetry_counts *c = &t->cur;
	uint32_t nr = ibsp_topology__nr_nodes(t->topo);
	char l[96];

	family(f, name, "counter", help);
	for (int k = 0; k < IBSP_TELE_MOVE__MAX; k++) {
		for (uint32_t s = 0; s < nr; s++) {
			for (uint32_t d = 0; d < nr; d++) {
				const struct ibsp_telemetry_moves *m =
				    &c->moves[((size_t)k * nr + s) * nr + d];

				if (s == d)
					continue;
				snprintf(l, sizeof(l), "kind=\"%s\",src=\"%d\",dst=\"%d\"",
					 kinds[k],
					 ibsp_topology__node_id(t->topo, ibsp_node_idx((int)s)).id,
					 ibsp_topology__node_id(t->topo, ibsp_node_idx((int)d)).id);
				value(f, name, l, *(const uint64_t *)((const char *)m + field));
			}
		}
	}
}

static void migrations(FILE *f, const struct ibsp_telemetry *t)
{
	const struct ibsp_telemetry_counts *c = &t->cur;

	moves(f, t, "planned_pages_total", "Pages handed to the migration worker, by route.",
	      offsetof(struct ibsp_telemetry_moves, planned));
	moves(f, t, "planned_bytes_total", "Bytes handed to the migration worker, by route.",
	      offsetof(struct ibsp_telemetry_moves, planned_bytes));
	moves(f, t, "migrated_pages_total", "Pages that reached their destination, by route.",
	      offsetof(struct ibsp_telemetry_moves, done));
	moves(f, t, "migrated_bytes_total", "Bytes that reached their destination, by route.",
	      offsetof(struct ibsp_telemetry_moves, done_bytes));
	by_name(f, "migration_failures_total", "Page moves that failed, by errno.", "errno",
		c->by_errno, 0, IBSP_MIG_ERR__MAX, err_name);
	family(f, "recovered_pages_total", "counter",
	       "Pages reported not migrated but found on their destination.");
	value(f, "recovered_pages_total", "", c->recovered);
	family(f, "rate_limited_total", "counter", "Times the rate limit made the worker wait.");
	value(f, "rate_limited_total", "", c->rate_limited);
	family(f, "queue_full_total", "counter",
	       "Moves dropped because the worker's queue was full.");
	value(f, "queue_full_total", "", c->queue_full);
}

static void nodes(FILE *f, const struct ibsp_telemetry *t)
{
	static const char *const names[] = { "node_free_bytes", "node_total_bytes",
					     "node_watermark_bytes" };
	static const char *const helps[] = {
		"Free memory of the node, as the engine sees it.",
		"Memory of the node.",
		"Free memory a destination node must keep.",
	};
	const struct ibsp_telemetry_counts *c = &t->cur;
	const uint64_t *v[] = { c->free_bytes, c->total_bytes, c->watermark_bytes };
	uint32_t nr = ibsp_topology__nr_nodes(t->topo);
	char l[32];

	for (int k = 0; k < 3; k++) {
		family(f, names[k], "gauge", helps[k]);
		for (uint32_t i = 0; i < nr; i++) {
			snprintf(l, sizeof(l), "node=\"%d\"",
				 ibsp_topology__node_id(t->topo, ibsp_node_idx((int)i)).id);
			value(f, names[k], l, v[k][i]);
		}
	}
	family(f, "node_top_tier", "gauge", "1 when the node is in the top tier.");
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		snprintf(l, sizeof(l), "node=\"%d\"", ibsp_topology__node_id(t->topo, n).id);
		value(f, "node_top_tier", l, ibsp_topology__is_top_tier(t->topo, n));
	}
}

static void process(FILE *f, const struct ibsp_telemetry *t, double time_s)
{
	const struct ibsp_telemetry_counts *c = &t->cur;
	char l[64];

	family(f, "info", "gauge", "The daemon's sampler and mode; always 1.");
	snprintf(l, sizeof(l), "sampler=\"%s\",dry_run=\"%s\"", t->sampler,
		 t->dry_run ? "true" : "false");
	value(f, "info", l, 1);
	family(f, "uptime_seconds", "gauge", "Seconds since the daemon started.");
	value_f(f, "uptime_seconds", "", time_s);
	family(f, "cpu_seconds_total", "counter", "The daemon's CPU time, by mode.");
	value_f(f, "cpu_seconds_total", "mode=\"user\"", c->cpu_user_s);
	value_f(f, "cpu_seconds_total", "mode=\"system\"", c->cpu_sys_s);
	family(f, "targets", "gauge", "The --pid targets (0: -a or --cgroup).");
	value(f, "targets", "", c->targets);
	family(f, "targets_exited", "gauge", "Of the --pid targets, those that exited.");
	value(f, "targets_exited", "", c->targets_exited);
	family(f, "move_all", "gauge", "1 when shared pages move too (MPOL_MF_MOVE_ALL).");
	value(f, "move_all", "", c->move_all);
}

char *ibsp_telemetry__metrics(const struct ibsp_telemetry *t, double time_s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	process(f, t, time_s);
	sampling(f, &t->cur);
	heat(f, &t->cur);
	migrations(f, t);
	nodes(f, t);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return NULL;
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
