// SPDX-License-Identifier: MIT
/*
 * ibs-promote replay: run the engine over a recording in recorded time and
 * report its decisions; --evaluate scores it against the baselines and the
 * hindsight oracle. Wiring and output only: the work is engine/replay.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ibsp/policies.h"
#include "ibsp/replay.h"
#include "policy_opts.h"

static const char usage[] =
    "Usage: ibs-promote replay [OPTIONS] FILE\n"
    "\n"
    "Run the promotion engine over a perf.data recording, in the recording's own time, and\n"
    "report what it would migrate. Nothing is moved: placement is simulated, starting from\n"
    "the recorded one (each page's node from its physical address and MEM_TOPOLOGY).\n"
    "\n"
    "Options:\n"
    "  --evaluate           also run last-accessor, fixed-node:N (--baseline-node) and none,\n"
    "                       and a hindsight oracle; report the share of sampled accesses\n"
    "                       served from the accessing CPU's own node, and the bytes moved\n"
    "  --baseline-node N    the fixed-node baseline's node (default 0)\n"
    "  --json FILE|-        the summary as JSON (with --evaluate: per interval too)\n"
    "  --decisions FILE|-   every planned migration as JSON Lines\n"
    "  --no-progress        no progress bar (it is shown only when stderr is a terminal)\n"
    "  -h, --help           this text\n"
    "\n"
    "%s"
    "\n"
    "Examples:\n"
    "  ibs-promote replay --evaluate tests/fixtures/example-2s-cxl.data\n"
    "  ibs-promote replay --policy=fixed-node:0 --decisions - rec.data | jq -c '[.src,.dst]'\n"
    "  ibs-promote replay --rate 64 --interval 500 --json summary.json rec.data\n"
    "\n"
    "Output formats: docs/replay.md. The evaluation model: docs/evaluation.md.\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct replay_cli {
	FILE *decisions;
	json_t *intervals; /* with --evaluate and --json */
	const struct ibsp_replay_result *res;
	bool progress;
	int last_pct;
};

static FILE *open_out(const char *path, const char *opt)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "ibs-promote replay: %s %s: %s\n", opt, path, strerror(errno));
	return f;
}

static int on_decision(void *ctx, const struct ibsp_migration *m)
{
	struct replay_cli *c = ctx;
	char vaddr[32];
	json_t *o, *heat;
	int ret;

	if (!c->decisions)
		return 0;
	snprintf(vaddr, sizeof(vaddr), "0x%" PRIx64, m->vaddr);
	heat = json_object();
	for (uint32_t s = 0; s < m->nr_acc; s++) {
		char node[16];

		snprintf(node, sizeof(node), "%d", c->res->acc_node_ids[s]);
		json_object_set_new(heat, node, json_real((double)m->heat[s] / IBSP_HEAT_ONE));
	}
	o = json_pack("{s:I, s:i, s:s, s:o, s:i, s:i, s:i, s:s, s:o}", "time_ns",
		      (json_int_t)m->time_ns, "pid", (int)m->pid, "vaddr", vaddr, "pfn",
		      m->has_pfn ? json_integer((json_int_t)m->pfn) : json_null(), "bytes",
		      (int)m->bytes, "src", m->src_node.id, "dst", m->dst_node.id, "reason",
		      ibsp_reason__name(m->reason), "heat", heat);
	if (!o)
		return -ENOMEM;
	ret = json_dumpf(o, c->decisions, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (ret || fputc('\n', c->decisions) == EOF)
		return -EIO;
	return stop_signal ? -EINTR : 0;
}

static double frac(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static int on_interval(void *ctx, const struct ibsp_replay_interval *iv)
{
	struct replay_cli *c = ctx;

	if (c->intervals && iv->nr_eval) {
		json_t *o = json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:I}", "index", (json_int_t)iv->index, "start_ns",
		    (json_int_t)iv->start_ns, "samples", (json_int_t)iv->samples, "planned",
		    (json_int_t)iv->planned, "planned_bytes", (json_int_t)iv->planned_bytes,
		    "threshold", (json_int_t)iv->threshold);
		json_t *lf = json_object(), *mb = json_object();

		for (uint32_t k = 0; k < iv->nr_eval; k++) {
			const char *name = c->res->eval_name[k];

			json_object_set_new(lf, name,
					    json_real(frac(iv->eval[k].local, iv->eval[k].placed)));
			json_object_set_new(mb, name,
					    json_integer((json_int_t)iv->eval[k].migrated_bytes));
		}
		json_object_set_new(o, "local_fraction", lf);
		json_object_set_new(o, "migrated_bytes", mb);
		json_array_append_new(c->intervals, o);
	}
	return stop_signal ? -EINTR : 0;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct replay_cli *c = ctx;
	int pct = total ? (int)(done * 100 / total) : 100, bar = pct / 4;

	if (!c->progress || pct == c->last_pct)
		return;
	c->last_pct = pct;
	fprintf(stderr, "\rreplay [%.*s%*s] %3d%%", bar, "#########################", 25 - bar, "",
		pct);
	if (pct >= 100)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static void fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1ULL << 30)
		snprintf(buf, len, "%.1f GiB", (double)b / (1ULL << 30));
	else if (b >= 1ULL << 20)
		snprintf(buf, len, "%.1f MiB", (double)b / (1ULL << 20));
	else
		snprintf(buf, len, "%.1f KiB", (double)b / 1024);
}

static void print_text(FILE *f, const char *path, const char *policy,
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
		"  heat table: %" PRIu64 " pages, %" PRIu64
		" evicted, last threshold %.1f samples\n",
		st->pages_tracked, st->evictions, (double)st->threshold / IBSP_HEAT_ONE);
	if (!r->nr_eval)
		return;
	fprintf(f, "\nevaluate: sampled accesses served from the accessing CPU's own node\n");
	fprintf(f, "  %-16s %7s %10s %12s %8s %10s\n", "policy", "local", "of oracle", "migrated",
		"pages", "ping-pong");
	for (uint32_t k = 0; k < r->nr_eval; k++) {
		const struct ibsp_eval_counts *c = &r->eval[k];
		const struct ibsp_eval_counts *o = &r->eval[r->nr_eval - 1];
		double lf = frac(c->local, c->placed), of = frac(o->local, o->placed);

		fmt_bytes(c->migrated_bytes, b, sizeof(b));
		fprintf(f, "  %-16s %6.1f%% %9.1f%% %12s %8" PRIu64, r->eval_name[k], lf * 100,
			of > 0 ? lf / of * 100 : 0.0, b, c->migrations);
		if (k + 1 < r->nr_eval)
			fprintf(f, " %10" PRIu64 "\n", r->eval_pingpong[k]);
		else
			fprintf(f, " %10s\n", "-");
	}
}

static json_t *summary_json(const char *path, const char *policy,
			    const struct ibsp_replay_result *r, const struct cli_policy *p,
			    json_t *intervals, bool complete)
{
	const struct ibsp_engine_stats *st = &r->st;
	json_t *o = json_object(), *moves = json_array(), *skips = json_object();
	json_t *unres = json_object(), *drops = json_object(), *settings;

	settings = json_pack(
	    "{s:i, s:I, s:f, s:i, s:i, s:i, s:f, s:I, s:i, s:b, s:s?}", "interval_ms",
	    (int)r->opts.interval_ms, "rate_bytes_per_s", (json_int_t)r->opts.rate_bytes_per_s,
	    "min_share_pct", r->opts.min_share_bp / 100.0, "min_heat", (int)r->opts.min_heat,
	    "fallback_heat", (int)r->opts.fallback_heat, "pingpong_intervals",
	    (int)r->opts.pingpong_intervals, "watermark_pct", r->opts.watermark_bp / 100.0,
	    "max_pages", (json_int_t)r->opts.max_pages, "decay_shift", (int)r->opts.decay_shift,
	    "rebalance", r->opts.rebalance, "top_tier", p->top_tier);
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
	for (int k = 0; k < IBSP_SKIP__MAX; k++)
		json_object_set_new(skips, ibsp_skip__name((enum ibsp_skip)k),
				    json_integer((json_int_t)st->skips[k]));
	for (int k = 0; k < IBSP_UNRES__MAX; k++)
		json_object_set_new(unres, ibsp_unresolved__name((enum ibsp_unresolved)k),
				    json_integer((json_int_t)st->unresolved[k]));
	for (int k = 1; k < IBSP_DROP__MAX; k++)
		json_object_set_new(drops, ibsp_drop_reason__name((enum ibsp_drop_reason)k),
				    json_integer((json_int_t)r->reader.nr_dropped[k]));
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "file", json_string(path));
	json_object_set_new(o, "complete", json_boolean(complete));
	json_object_set_new(o, "policy", json_string(policy));
	json_object_set_new(o, "settings", settings);
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	json_object_set_new(o, "first_ns", json_integer((json_int_t)r->first_ns));
	json_object_set_new(o, "last_ns", json_integer((json_int_t)r->last_ns));
	json_object_set_new(o, "intervals", json_integer((json_int_t)r->intervals));
	json_object_set_new(o, "idle_intervals", json_integer((json_int_t)r->idle_intervals));
	json_object_set_new(o, "dropped", drops);
	json_object_set_new(o, "unresolved", unres);
	json_object_set_new(o, "lost_records", json_integer((json_int_t)r->reader.loss.lost));
	json_object_set_new(o, "heat",
			    json_pack("{s:I, s:I, s:f}", "pages_tracked",
				      (json_int_t)st->pages_tracked, "evictions",
				      (json_int_t)st->evictions, "threshold_samples",
				      (double)st->threshold / IBSP_HEAT_ONE));
	json_object_set_new(o, "promotions", moves);
	json_object_set_new(o, "planned_pages", json_integer((json_int_t)st->planned));
	json_object_set_new(o, "planned_bytes", json_integer((json_int_t)st->planned_bytes));
	json_object_set_new(o, "pingpong", json_integer((json_int_t)st->pingpong));
	json_object_set_new(o, "skips", skips);
	if (r->nr_eval) {
		json_t *ev = json_object(), *pols = json_array();
		const struct ibsp_eval_counts *orc = &r->eval[r->nr_eval - 1];
		double of = frac(orc->local, orc->placed);

		for (uint32_t k = 0; k < r->nr_eval; k++) {
			const struct ibsp_eval_counts *c = &r->eval[k];
			double lf = frac(c->local, c->placed);
			json_t *row = json_pack(
			    "{s:s, s:f, s:f, s:I, s:I, s:I, s:I}", "policy", r->eval_name[k],
			    "local_fraction", lf, "of_oracle", of > 0 ? lf / of : 0.0,
			    "local_accesses", (json_int_t)c->local, "placed_accesses",
			    (json_int_t)c->placed, "migrated_bytes", (json_int_t)c->migrated_bytes,
			    "migrations", (json_int_t)c->migrations);

			if (k + 1 < r->nr_eval)
				json_object_set_new(row, "pingpong",
						    json_integer((json_int_t)r->eval_pingpong[k]));
			json_array_append_new(pols, row);
		}
		json_object_set_new(ev, "policies", pols);
		if (intervals)
			json_object_set(ev, "intervals", intervals);
		json_object_set_new(o, "evaluate", ev);
	}
	return o;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_POLICY_OPTIONS,
		{ "evaluate", no_argument, NULL, 'e' },
		{ "baseline-node", required_argument, NULL, 'B' },
		{ "json", required_argument, NULL, 'j' },
		{ "decisions", required_argument, NULL, 'd' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ibsp_replay_opts ro = { .sz = sizeof(ro) };
	struct ibsp_replay_result res = { 0 };
	struct replay_cli c = { .last_pct = -1 };
	const char *json_path = NULL, *dec_path = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct cli_policy p;
	FILE *jf = NULL;
	char policy[32];
	bool no_progress = false;
	int ch, ret, rc = EXIT_OK;

	cli_policy__init(&p);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int h = cli_policy__opt(&p, ch, optarg, "replay");

		if (h < 0)
			return EXIT_USAGE;
		if (h)
			continue;
		switch (ch) {
		case 'e':
			ro.evaluate = true;
			break;
		case 'B': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (!*optarg || *end || n < 0 || n > 1023) {
				fprintf(
				    stderr,
				    "ibs-promote replay: --baseline-node: '%s' is not a node id\n",
				    optarg);
				return EXIT_USAGE;
			}
			ro.baseline_fixed_node = (int)n;
			break;
		}
		case 'j':
			json_path = optarg;
			break;
		case 'd':
			dec_path = optarg;
			break;
		case 'P':
			no_progress = true;
			break;
		case 'h':
			printf(usage, cli_policy_help);
			return EXIT_OK;
		default:
			fprintf(stderr, usage, cli_policy_help);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, usage, cli_policy_help);
		return EXIT_USAGE;
	}
	if (json_path && dec_path && !strcmp(json_path, "-") && !strcmp(dec_path, "-")) {
		fprintf(stderr,
			"ibs-promote replay: --json - and --decisions - both want stdout\n");
		return EXIT_USAGE;
	}
	if (dec_path && !(c.decisions = open_out(dec_path, "--decisions")))
		return EXIT_FAIL;
	if (json_path && !(jf = open_out(json_path, "--json"))) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (json_path && ro.evaluate)
		c.intervals = json_array();
	c.progress = !no_progress && isatty(STDERR_FILENO);
	c.res = &res;
	ro.engine = p.eng;
	ro.top_tier = p.top_tier;
	ro.on_decision = on_decision;
	ro.on_interval = on_interval;
	ro.on_progress = on_progress;
	ro.ctx = &c;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ret = ibsp_replay__run(argv[optind], &ro, &res);
	if (c.progress && c.last_pct >= 0 && c.last_pct < 100)
		fputs("\r\033[K", stderr);
	ibsp_policy__name(&p.eng.policy, policy, sizeof(policy));
	if (ret && ret != -EINTR) {
		rc = ret == -EIO ? EXIT_FAIL : cli_exit_code(ret);
		if (ret == -EIO)
			fprintf(stderr, "ibs-promote replay: writing the decisions failed\n");
		goto out;
	}
	if (ret == -EINTR) {
		fprintf(stderr,
			"ibs-promote replay: stopped by signal %d; the summary covers what "
			"was replayed\n",
			(int)stop_signal);
		rc = 128 + (int)stop_signal;
	}
	if (!json_path || strcmp(json_path, "-"))
		print_text(stdout, argv[optind], policy, &res);
	if (jf) {
		json_t *o = summary_json(argv[optind], policy, &res, &p, c.intervals, !ret);

		if (json_dumpf(o, jf, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
		    fputc('\n', jf) == EOF) {
			fprintf(stderr, "ibs-promote replay: --json %s: write failed\n", json_path);
			rc = EXIT_FAIL;
		}
		json_decref(o);
	}
out:
	json_decref(c.intervals);
	if (c.decisions && c.decisions != stdout && fclose(c.decisions)) {
		fprintf(stderr, "ibs-promote replay: --decisions %s: %s\n", dec_path,
			strerror(errno));
		rc = EXIT_FAIL;
	}
	if (jf && jf != stdout && fclose(jf)) {
		fprintf(stderr, "ibs-promote replay: --json %s: %s\n", json_path, strerror(errno));
		rc = EXIT_FAIL;
	}
	fflush(stdout);
	ibsp_replay_result__free(&res);
	return rc;
}
