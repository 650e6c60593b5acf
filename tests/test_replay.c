// SPDX-License-Identifier: MIT
/*
 * replay and --evaluate on generated recordings (ibsp-gen, with ground
 * truth): 2-socket + CXL, 4-socket + 2 CXL, a phase change, shared pages.
 * Checks the policy issue's acceptance: destination accuracy, no ping-pong
 * when stationary, budget and watermark, locality against the oracle, the
 * fixed-node and the last-accessor baselines, and determinism. The three
 * oracles on hand-built recordings with exact counts, and samples without a
 * physical address counted with their page.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "topology_build.h"
#include "ibsp/policies.h"
#include "ibsp/replay.h"

struct gen_case {
	const char *name;
	const char *gen_args;
	const char *replay_args;
};

static const struct gen_case cases[] = {
	{ "2s-cxl",
	  "--topology 2s-cxl --pattern private:50,shared:20,cold:20,zipf:10 --pages 3000 "
	  "--samples 300000 --duration-ms 30000 --seed 11",
	  "" },
	{ "4s-2cxl",
	  "--topology 4s-2cxl --pattern private:50,shared:20,cold:20,zipf:10 --pages "
	  "3000 --samples 300000 --duration-ms 30000 --seed 12",
	  "" },
	{ "phase",
	  "--topology 2s-cxl --pattern phase:70,shared:10,cold:20 --pages 3000 --samples "
	  "300000 --duration-ms 30000 --seed 13",
	  "" },
	{ "shared",
	  "--topology 2s-cxl --pattern shared --pages 2000 --samples 200000 "
	  "--duration-ms 30000 --seed 14",
	  "" },
};

/* Generate @c into files named after it; return the recording's path. */
static const char *generate(const struct gen_case *c, const char **truth)
{
	static char data[320], tr[340];
	char cmd[2048], *out, *err;

	snprintf(data, sizeof(data), "%s", tmp_path(c->name));
	snprintf(tr, sizeof(tr), "%s.truth", data);
	snprintf(cmd, sizeof(cmd), "%s -o %s --truth %s %s", IBSP_GEN, data, tr, c->gen_args);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s: %s", cmd, err);
	free(out);
	free(err);
	*truth = tr;
	return data;
}

static json_t *replay_json(const char *data, const char *args, const char *decisions)
{
	char cmd[2048], *out, *err;
	json_error_t jerr;
	json_t *j;

	snprintf(cmd, sizeof(cmd), "%s replay --no-progress --json - %s%s %s %s", IBSP_CLI,
		 decisions ? "--decisions " : "", decisions ? decisions : "", args, data);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s: %s", cmd, err);
	j = json_loads(out, 0, &jerr);
	cr_assert(j, "%s: JSON error %s at line %d", cmd, jerr.text, jerr.line);
	free(out);
	free(err);
	return j;
}

static json_t *policy_row(json_t *summary, const char *name)
{
	json_t *rows = json_object_get(json_object_get(summary, "evaluate"), "policies"), *row;
	size_t i;

	json_array_foreach(rows, i, row)
	{
		if (!strcmp(json_string_value(json_object_get(row, "policy")), name))
			return row;
	}
	cr_assert_fail("no evaluate row for %s", name);
	return NULL;
}

static double lf(json_t *summary, const char *name)
{
	return json_real_value(json_object_get(policy_row(summary, name), "local_fraction"));
}

static json_int_t migrated(json_t *summary, const char *name)
{
	return json_integer_value(json_object_get(policy_row(summary, name), "migrated_bytes"));
}

/* Truth: (pid, vaddr) -> owner node for pages that have one dominant accessor node. */
struct owner {
	uint32_t pid;
	uint64_t vaddr;
	int owner;
	int hot;
};

static size_t load_truth(const char *path, struct owner **out)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0, cap = 1024;
	struct owner *o = malloc(cap * sizeof(*o));

	cr_assert(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);

		cr_assert(j, "%s: %s", path, line);
		if (!strcmp(json_string_value(json_object_get(j, "type")), "page")) {
			if (n == cap)
				o = realloc(o, (cap *= 2) * sizeof(*o));
			o[n].pid = (uint32_t)json_integer_value(json_object_get(j, "pid"));
			o[n].vaddr =
			    strtoull(json_string_value(json_object_get(j, "vaddr")), NULL, 16);
			o[n].owner = (int)json_integer_value(json_object_get(j, "owner"));
			o[n].hot = json_is_true(json_object_get(j, "hot"));
			n++;
		}
		json_decref(j);
	}
	fclose(f);
	*out = o;
	return n;
}

static const struct owner *find_owner(const struct owner *o, size_t n, uint32_t pid, uint64_t vaddr)
{
	for (size_t i = 0; i < n; i++) {
		if (o[i].pid == pid && o[i].vaddr == vaddr)
			return &o[i];
	}
	return NULL;
}

/* The first decision per page goes to its dominant accessor node, >= 99% of the time. */
static void check_accuracy(const struct gen_case *c, const char *data, const char *truth)
{
	const char *dec = tmp_path("decisions.jsonl");
	json_t *s = replay_json(data, c->replay_args, dec);
	struct owner *o;
	size_t n = load_truth(truth, &o), right = 0, judged = 0;
	bool *seen = calloc(n, sizeof(bool));
	FILE *f = fopen(dec, "r");
	char line[4096];

	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *d = json_loads(line, 0, NULL);
		const struct owner *w;
		uint32_t pid;
		uint64_t vaddr;

		cr_assert(d, "%s", line);
		pid = (uint32_t)json_integer_value(json_object_get(d, "pid"));
		vaddr = strtoull(json_string_value(json_object_get(d, "vaddr")), NULL, 16);
		w = find_owner(o, n, pid, vaddr);
		cr_assert(w, "%s: decision for an unknown page %u 0x%" PRIx64, c->name, pid, vaddr);
		if (!seen[w - o] && w->owner >= 0 && w->hot) {
			judged++;
			right += json_integer_value(json_object_get(d, "dst")) == w->owner;
		}
		seen[w - o] = true;
		json_decref(d);
	}
	fclose(f);
	cr_assert_gt(judged, 100, "%s: only %zu pages judged", c->name, judged);
	cr_expect_geq(right * 1000, judged * 990, "%s: %zu of %zu first decisions right", c->name,
		      right, judged);
	free(seen);
	free(o);
	json_decref(s);
}

Test(replay, destination_accuracy)
{
	for (size_t i = 0; i < 3; i++) {
		const char *truth, *data = generate(&cases[i], &truth);

		check_accuracy(&cases[i], data, truth);
	}
}

/*
 * Locality against the baselines on every pattern: it beats fixed-node:0
 * clearly on multi-socket hosts, stays within 1 point of last-accessor's
 * local fraction while migrating no more bytes (strictly fewer on shared
 * pages), and never ping-pongs. On a recording where every page is shared
 * evenly, any socket serves half the accesses, so last-accessor's moves on
 * its first two samples cost it nothing, while locality waits for evidence
 * (a 2:1 split for a fourth sample, a 1:1 split for fallback_heat samples)
 * that on mixed recordings keeps private pages off the wrong socket: there
 * it may trail by up to 1.5 points (1.1 on this recording; docs/evaluation.md).
 */
Test(replay, against_baselines)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *truth, *data = generate(&cases[i], &truth);
		json_t *s = replay_json(data, "--evaluate", NULL);
		double loc = lf(s, "locality"), last = lf(s, "last-accessor");
		double fixed = lf(s, "fixed-node:0"), none = lf(s, "none");
		double slack = strcmp(cases[i].name, "shared") ? 0.01 : 0.015;

		cr_expect_geq(loc, last - slack, "%s: locality %.4f vs last-accessor %.4f",
			      cases[i].name, loc, last);
		cr_expect_leq(migrated(s, "locality"), migrated(s, "last-accessor"),
			      "%s: locality moved %lld bytes, last-accessor %lld", cases[i].name,
			      (long long)migrated(s, "locality"),
			      (long long)migrated(s, "last-accessor"));
		if (!strcmp(cases[i].name, "shared"))
			cr_expect_lt(migrated(s, "locality"), migrated(s, "last-accessor"),
				     "shared pages: strictly fewer bytes");
		/*
		 * Only pages with a dominant accessor node can be placed better than
		 * on one fixed socket: on evenly shared pages every choice serves half
		 * the accesses, so there locality only has to match fixed-node.
		 */
		if (strcmp(cases[i].name, "shared"))
			cr_expect_geq(loc, fixed + 0.10, "%s: locality %.4f vs fixed-node:0 %.4f",
				      cases[i].name, loc, fixed);
		else
			cr_expect_geq(loc, fixed - slack, "%s: locality %.4f vs fixed-node:0 %.4f",
				      cases[i].name, loc, fixed);
		cr_expect_eq(none, 0.0, "%s: every page starts on CXL", cases[i].name);
		cr_expect_eq(
		    json_integer_value(json_object_get(policy_row(s, "locality"), "pingpong")), 0,
		    "%s: locality ping-pong", cases[i].name);
		cr_expect_leq(loc, lf(s, "oracle") + 1e-9, "%s", cases[i].name);
		json_decref(s);
	}
}

/* The bundled example: locality reaches >= 95% of the oracle's local fraction. */
Test(replay, bundled_example_vs_oracle)
{
	json_t *s = replay_json(FIXTURE("example-2s-cxl.data"), "--evaluate", NULL);
	double loc = lf(s, "locality"), orc = lf(s, "oracle");

	cr_expect_geq(loc, 0.95 * orc, "locality %.4f, oracle %.4f (%.1f%%)", loc, orc,
		      loc / orc * 100);
	cr_expect_gt(loc, lf(s, "fixed-node:0") + 0.10);
	json_decref(s);
}

static double num(json_t *row, const char *field)
{
	json_t *v = json_object_get(row, field);

	cr_assert(json_is_number(v), "%s: no %s", json_string_value(json_object_get(row, "policy")),
		  field);
	return json_number_value(v);
}

/*
 * The bundled example's rows: each policy's share of each oracle and its
 * moves per page agree with the row's own counts; the static oracles move
 * a page once; capacity binds nowhere here (24 GiB free per socket), so the
 * two static oracles agree, and the dynamic one, free to follow each
 * interval, is above them.
 */
Test(replay, bundled_example_rows)
{
	static const char *const oracles[] = { "oracle", "oracle-capacity", "oracle-dynamic" };
	static const char *const of[] = { "of_oracle", "of_capacity_oracle", "of_dynamic_oracle" };
	json_t *s = replay_json(FIXTURE("example-2s-cxl.data"), "--evaluate", NULL);
	json_t *rows = json_object_get(json_object_get(s, "evaluate"), "policies"), *row;
	size_t i;

	cr_assert_eq(json_array_size(rows), 7);
	json_array_foreach(rows, i, row)
	{
		const char *name = json_string_value(json_object_get(row, "policy"));
		double moves = num(row, "migrations"), pages = num(row, "pages_moved");

		for (int k = 0; k < 3; k++)
			cr_expect_float_eq(num(row, of[k]), lf(s, name) / lf(s, oracles[k]), 1e-12,
					   "%s %s", name, of[k]);
		cr_expect_float_eq(num(row, "moves_per_page"), pages ? moves / pages : 0.0, 1e-12,
				   "%s", name);
		cr_expect_leq(num(row, "moved_twice"), pages, "%s", name);
		cr_expect_eq(json_object_get(row, "pingpong") != NULL, i < 4, "%s", name);
		cr_expect_eq(json_object_get(row, "below_watermark") != NULL, i < 4, "%s", name);
		if (i < 4)
			cr_expect_eq(num(row, "below_watermark"), 0, "%s", name);
	}
	for (int k = 0; k < 2; k++) {
		row = policy_row(s, oracles[k]);
		cr_expect_eq(num(row, "pages_moved"), num(row, "migrations"), "%s", oracles[k]);
		cr_expect_eq(num(row, "moved_twice"), 0, "%s", oracles[k]);
	}
	cr_expect_eq(lf(s, "oracle"), lf(s, "oracle-capacity"));
	cr_expect_gt(lf(s, "oracle-dynamic"), lf(s, "oracle"));
	json_decref(s);
}

/*
 * shared_moved_twice, checked against the generator's truth: the pages
 * (by frame) that no node made 60% of the samples of, over the whole
 * recording (truth's per_node counts), and that the policy's decisions
 * stream moves more than once. last-accessor moves shared pages at will;
 * fixed-node moves each page once.
 */
Test(replay, shared_moved_twice_matches_the_truth)
{
	const char *truth, *data = generate(&cases[3], &truth), *dec = tmp_path("shared.jsonl");
	json_t *s = replay_json(data, "--evaluate --policy last-accessor", dec);
	size_t cap = 1 << 14, nr_shared = 0, want = 0;
	uint64_t *shared = calloc(cap, sizeof(*shared)); /* the shared frames */
	uint32_t *moves = calloc(cap, sizeof(*moves));
	char line[4096];
	FILE *f = fopen(truth, "r");

	cr_assert_str_eq(cases[3].name, "shared");
	cr_assert(f && shared && moves);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL), *per = json_object_get(j, "per_node"), *v;
		json_int_t total = 0, top = 0;
		const char *k;

		if (strcmp(json_string_value(json_object_get(j, "type")), "page")) {
			json_decref(j);
			continue;
		}
		json_object_foreach(per, k, v)
		{
			total += json_integer_value(v);
			top = json_integer_value(v) > top ? json_integer_value(v) : top;
		}
		if (total && top * 10 < total * 6) {
			cr_assert_lt(nr_shared, cap);
			shared[nr_shared++] =
			    (uint64_t)json_integer_value(json_object_get(j, "pfn"));
		}
		json_decref(j);
	}
	fclose(f);
	cr_assert_gt(nr_shared, 1000, "most pages of the shared pattern are shared");
	f = fopen(dec, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *d = json_loads(line, 0, NULL);
		uint64_t pfn = (uint64_t)json_integer_value(json_object_get(d, "pfn"));

		for (size_t i = 0; i < nr_shared; i++)
			moves[i] += shared[i] == pfn;
		json_decref(d);
	}
	fclose(f);
	for (size_t i = 0; i < nr_shared; i++)
		want += moves[i] > 1;
	cr_expect_gt(want, 100, "last-accessor moves shared pages again and again");
	cr_expect_eq(num(policy_row(s, "last-accessor"), "shared_moved_twice"), (double)want);
	cr_expect_eq(num(policy_row(s, "fixed-node:0"), "shared_moved_twice"), 0);
	free(shared);
	free(moves);
	json_decref(s);
}

/* Every interval plans within the byte budget; node 0 never drops below its watermark. */
Test(replay, budget_and_watermark)
{
	static const struct gen_case c = {
		"budget",
		"--topology 2s-cxl --pattern private --pages 4000 --samples 300000 --duration-ms "
		"20000 --seed 15 --free-mib 0=1024",
		"",
	};
	const char *truth, *data = generate(&c, &truth), *dec = tmp_path("budget.jsonl");
	/* 1 MiB/s over 500 ms intervals: 128 pages; node 0: 1 GiB free, 2% of 32 GiB kept. */
	json_t *s = replay_json(data, "--evaluate --rate 1 --interval 500 --watermark 3.1", dec);
	json_t *ivs = json_object_get(json_object_get(s, "evaluate"), "intervals"), *iv;
	int64_t to0 = 0, routed0 = 0, free0 = 1024LL << 20, wmark0 = (32LL << 30) / 10000 * 310;
	size_t i, limited = 0;
	FILE *f = fopen(dec, "r");
	char line[4096];

	cr_assert_gt(json_array_size(ivs), 30);
	json_array_foreach(ivs, i, iv)
	{
		json_int_t b = json_integer_value(json_object_get(iv, "planned_bytes"));

		cr_expect_leq(b, 512 * 1024, "interval %zu planned %lld bytes", i, (long long)b);
		limited += b > 500 * 1024;
	}
	cr_expect_gt(limited, 3, "the budget was binding in some intervals");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *d = json_loads(line, 0, NULL);

		if (json_integer_value(json_object_get(d, "dst")) == 0)
			to0 += json_integer_value(json_object_get(d, "bytes"));
		json_decref(d);
	}
	fclose(f);
	/* The decisions stream and the summary's route matrix count the same bytes. */
	json_array_foreach(json_object_get(s, "promotions"), i, iv)
	{
		if (json_integer_value(json_object_get(iv, "dst")) == 0)
			routed0 += json_integer_value(json_object_get(iv, "bytes"));
	}
	cr_expect_gt(to0, 0, "no decision moved a page to node 0");
	cr_expect_eq(to0, routed0, "decisions move %lld bytes to node 0, the summary %lld",
		     (long long)to0, (long long)routed0);
	cr_expect_geq(free0 - to0, wmark0, "node 0 free %lld, watermark %lld",
		      (long long)(free0 - to0), (long long)wmark0);
	cr_expect_gt(to0, (free0 - wmark0) * 9 / 10, "node 0 was filled up to its watermark");
	/* The replay's own check after every tick: never below, and node 0 ended near it. */
	iv = policy_row(s, "locality");
	cr_expect_eq(num(iv, "below_watermark"), 0);
	cr_expect_geq(num(iv, "min_headroom_bytes"), 0);
	cr_expect_lt(num(iv, "min_headroom_bytes"), (double)(free0 - wmark0) / 10,
		     "the least headroom is node 0's, filled to its watermark");
	cr_expect_gt(json_integer_value(json_object_get(json_object_get(s, "skips"), "budget")), 0);
	json_decref(s);
}

/* The same input and options give the same JSON, byte for byte. */
Test(replay, deterministic)
{
	char cmd[1024], *a, *b, *err;
	const char *ex = FIXTURE("example-2s-cxl.data");

	snprintf(cmd, sizeof(cmd), "%s replay --no-progress --evaluate --json - %s", IBSP_CLI, ex);
	cr_assert_eq(run_cmd(cmd, &a, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(run_cmd(cmd, &b, &err), 0, "%s", err);
	free(err);
	cr_assert_gt(strlen(a), 1000);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
}

/*
 * Bad input: a clear message naming the file, and exit 1; bad options exit 2,
 * also a node the recording lacks (issue 13: a command-line error, not bad data).
 */
Test(replay, errors)
{
	static const struct {
		const char *args;
		int rc;
		const char *msg;
	} rows[] = {
		{ "--policy fixed-node:9 " FIXTURE("example-2s-cxl.data"), 2, "node 9" },
		{ "--top-tier 7 " FIXTURE("example-2s-cxl.data"), 2, "node 7" },
		{ "--policy=nearest " FIXTURE("example-2s-cxl.data"), 2, "--policy" },
		{ "--rate -1 " FIXTURE("example-2s-cxl.data"), 2, "--rate" },
		{ "--min-share 40 " FIXTURE("example-2s-cxl.data"), 2, "--min-share" },
		{ FIXTURE("pf-task.perf-script.txt"), 1, "pf-task.perf-script.txt" },
		{ "/nonexistent.data", 1, "/nonexistent.data" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char cmd[1024], *out, *err;
		int rc;

		snprintf(cmd, sizeof(cmd), "%s replay --no-progress %s", IBSP_CLI, rows[i].args);
		rc = run_cmd(cmd, &out, &err);
		cr_expect_eq(rc, rows[i].rc, "%s: exit %d (%s)", rows[i].args, rc, err);
		cr_expect(strstr(err, rows[i].msg), "%s: stderr '%s' lacks '%s'", rows[i].args, err,
			  rows[i].msg);
		free(out);
		free(err);
	}
}

/*
 * The oracles on hand-built recordings: page-fault samples (TID, TIME, ADDR,
 * CPU, PHYS_ADDR) written with the library writer, on 2 sockets of 1 GiB
 * (CPUs 0-1: node 0, CPUs 2-3: node 1) and a 4 GiB CXL node 2. Page p
 * (1-4) of pid 100 is at UVA_BASE + p pages, its frame on the CXL node
 * unless the case puts it on node 0. 1 s intervals; a sample of interval i
 * is at i s + a few us.
 */
#define T0_NS	   1000000000ULL
#define ORACLE_UVA 0x7f0000000000ULL

struct tiny_sample {
	int iv, cpu, page; /* page 0 ends the list */
};

struct tiny_case {
	const char *name;
	int room[2];   /* pages nodes 0 and 1 take above their watermark; -1: plenty */
	int on_node0;  /* the page recorded on node 0 (0: none) */
	uint64_t rate; /* the policies' rate limit, bytes/s (0: none) */
	struct tiny_sample s[16];
	/* oracle, oracle-capacity, oracle-dynamic */
	uint64_t local[IBSP_ORACLE__MAX], moves[IBSP_ORACLE__MAX];
	uint64_t placed, dyn_pages, dyn_twice;
};

static struct ibsp_topology *tiny_topo(const int room[2])
{
	static const char *const cpus[] = { "0-1", "2-3", "" };
	static const uint32_t mem[] = { 1, 1, 4 }, fre[] = { 1, 1, 4 };
	struct ibsp_topology *t = make_topo(3, cpus, mem, fre, NULL);

	for (int n = 0; n < 2; n++) {
		/* The engine's watermark: 2% of the node, rounded up to KiB. */
		uint64_t wmark_kb = ((1ULL << 30) / 10000 * 200 + 1023) / 1024;

		if (room[n] >= 0)
			cr_assert_eq(ibsp_topology__set_mem_kb(
					 t, ibsp_node_idx(n),
					 ibsp_topology__mem_total_kb(t, ibsp_node_idx(n)),
					 wmark_kb + 4 * (uint64_t)room[n]),
				     0);
	}
	return t;
}

static void write_tiny(const char *path, const struct tiny_case *c, struct ibsp_topology *t)
{
	struct ibsp_recording_info info = { .hostname = "tiny", .topo = t };
	struct ibsp_event_desc ev = { 0 };
	struct ibsp_perf_writer *w;
	uint64_t id = 1;

	ev.attr.type = PERF_TYPE_SOFTWARE;
	ev.attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev.attr.sample_period = 1;
	ev.attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |
			      PERF_SAMPLE_CPU | PERF_SAMPLE_PHYS_ADDR;
	ev.name = "page-faults";
	ev.nr_ids = 1;
	ev.ids = &id;
	cr_assert_eq(ibsp_perf_writer__open(path, &info, &ev, 1, &w), 0);
	for (int i = 0; i < 16 && c->s[i].page; i++) {
		const struct tiny_sample *s = &c->s[i];
		int node = s->page == c->on_node0 ? 0 : 2;
		uint64_t rec[6] = {
			0,
			100ULL << 32 | 100,
			T0_NS + (uint64_t)s->iv * 1000000000ULL + (uint64_t)i * 1000,
			ORACLE_UVA + (uint64_t)s->page * 4096 + 8,
			(uint64_t)s->cpu,
			topo_node_base(t, node) + (uint64_t)s->page * 4096 + 8,
		};
		struct perf_event_header h = { .type = PERF_RECORD_SAMPLE, .size = sizeof(rec) };

		memcpy(rec, &h, sizeof(h));
		cr_assert_eq(ibsp_perf_writer__write(w, (const struct perf_event_header *)rec), 0);
	}
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
}

static void run_tiny(const struct tiny_case *c, struct ibsp_replay_result *res)
{
	struct ibsp_topology *t = tiny_topo(c->room);
	struct ibsp_replay_opts o = { .sz = sizeof(o), .evaluate = true };
	const char *path = tmp_path("tiny.data");

	write_tiny(path, c, t);
	ibsp_topology__delete(t);
	o.engine.sz = sizeof(o.engine);
	o.engine.rate_bytes_per_s = c->rate;
	cr_assert_eq(ibsp_policy__find("locality", &o.engine.policy), 0);
	cr_assert_eq(ibsp_replay__run(path, &o, res), 0, "%s: %s", c->name, log_captured());
	cr_assert_eq(res->nr_eval, res->nr_policies + IBSP_ORACLE__MAX);
}

static const struct tiny_case tiny_cases[] = {
	/* clang-format off */
	{ "each interval's majority node; the static ones take the tie's first node",
	  { -1, -1 }, 0, 0,
	  { { 0, 0, 1 }, { 0, 0, 1 }, { 0, 2, 1 }, { 1, 2, 1 }, { 1, 2, 1 }, { 1, 0, 1 } },
	  { 3, 3, 4 }, { 1, 1, 2 }, 6, 1, 1 },
	{ "an untouched page stays where it went",
	  { -1, -1 }, 0, 0,
	  { { 0, 2, 1 }, { 0, 2, 1 }, { 1, 0, 2 }, { 2, 2, 1 } },
	  { 4, 4, 4 }, { 2, 2, 2 }, 4, 2, 0 },
	{ "the recorded placement first: a page on its majority node does not move",
	  { -1, -1 }, 1, 0,
	  { { 0, 0, 1 }, { 1, 2, 1 }, { 1, 2, 1 } },
	  { 2, 2, 3 }, { 1, 1, 1 }, 3, 1, 0 },
	{ "capacity: hottest first, a full node passes the page on; a move frees room",
	  { 1, -1 }, 0, 0,
	  { { 0, 0, 1 }, { 0, 0, 1 }, { 0, 0, 1 }, { 0, 0, 1 }, { 0, 0, 2 }, { 0, 0, 2 },
	    { 0, 2, 2 }, { 1, 2, 1 }, { 1, 2, 1 }, { 1, 2, 1 }, { 1, 2, 1 }, { 1, 0, 2 },
	    { 1, 0, 2 } },
	  { 8, 5, 11 }, { 2, 2, 4 }, 13, 2, 2 },
	{ "no room on any top-tier node: the page stays on CXL",
	  { 0, 0 }, 0, 0,
	  { { 0, 0, 1 }, { 0, 1, 1 } },
	  { 2, 0, 0 }, { 1, 0, 0 }, 2, 0, 0 },
	{ "no rate limit: four pages in one interval",
	  { -1, -1 }, 0, 1,
	  { { 0, 0, 1 }, { 0, 0, 1 }, { 0, 1, 2 }, { 0, 1, 2 }, { 0, 0, 3 }, { 0, 0, 3 },
	    { 0, 1, 4 }, { 0, 1, 4 } },
	  { 8, 8, 8 }, { 4, 4, 4 }, 8, 4, 0 },
	/* clang-format on */
};

Test(replay, oracles_table)
{
	static const char *const names[] = { "oracle", "oracle-capacity", "oracle-dynamic" };

	for (size_t i = 0; i < sizeof(tiny_cases) / sizeof(tiny_cases[0]); i++) {
		const struct tiny_case *c = &tiny_cases[i];
		struct ibsp_replay_result res;

		run_tiny(c, &res);
		for (int k = 0; k < IBSP_ORACLE__MAX; k++) {
			uint32_t row = res.nr_policies + (uint32_t)k;

			cr_expect_str_eq(res.eval_name[row], names[k]);
			cr_expect_eq(res.eval[row].local, c->local[k], "%s: %s local %" PRIu64,
				     c->name, names[k], res.eval[row].local);
			cr_expect_eq(res.eval[row].placed, c->placed, "%s: %s placed %" PRIu64,
				     c->name, names[k], res.eval[row].placed);
			cr_expect_eq(res.eval[row].migrations, c->moves[k], "%s: %s moves %" PRIu64,
				     c->name, names[k], res.eval[row].migrations);
			cr_expect_eq(res.eval[row].migrated_bytes, c->moves[k] * 4096, "%s",
				     c->name);
		}
		cr_expect_eq(res.eval_pages_moved[res.nr_policies + IBSP_ORACLE_DYNAMIC],
			     c->dyn_pages, "%s", c->name);
		cr_expect_eq(res.eval_moved_twice[res.nr_policies + IBSP_ORACLE_DYNAMIC],
			     c->dyn_twice, "%s", c->name);
		cr_expect_eq(res.eval_pages_moved[res.nr_policies + IBSP_ORACLE_STATIC],
			     c->moves[IBSP_ORACLE_STATIC],
			     "%s: the static oracle moves a page once", c->name);
		if (c->rate)
			cr_expect_eq(res.eval[0].migrations, 0, "%s: the policy is held back",
				     c->name);
		ibsp_replay_result__free(&res);
	}
}

static json_int_t node_unknown(json_t *summary)
{
	return json_integer_value(
	    json_object_get(json_object_get(summary, "skips"), "node_unknown"));
}

/*
 * One page, one entry: with 10% of the samples lacking the physical address
 * (ibsp-gen --no-phys 0.1), those samples heat (pid, page) entries that the
 * interval pass folds into their pages' PFN entries. Unfolded, they made
 * 22636 node_unknown skips on this recording (locality 80.0% against 80.2%
 * with every address); folded, a handful remain (pages none of whose
 * samples so far had a physical address). The two recordings are different
 * draws of the same pattern (--no-phys takes a random number per sample),
 * and locality varies by 0.19 points across 5 seeds of this pattern at
 * --no-phys 0 (80.14-80.33%): hence a tolerance of 0.5 points, over twice
 * that spread.
 */
Test(replay, samples_without_paddr_count_with_their_page)
{
	struct gen_case c = { "phys", cases[0].gen_args, "" };
	const char *truth, *data;
	char args[1024];
	json_t *a, *b;

	data = generate(&c, &truth);
	a = replay_json(data, "--evaluate", NULL);
	snprintf(args, sizeof(args), "%s --no-phys 0.1", cases[0].gen_args);
	c.name = "nophys";
	c.gen_args = args;
	data = generate(&c, &truth);
	b = replay_json(data, "--evaluate", NULL);
	cr_expect_eq(node_unknown(a), 0);
	cr_expect_leq(node_unknown(b), 20, "%lld node_unknown skips with 10%% lacking paddr",
		      (long long)node_unknown(b));
	cr_expect_geq(lf(b, "locality"), lf(a, "locality") - 0.005,
		      "locality %.4f with 10%% lacking paddr, %.4f with none", lf(b, "locality"),
		      lf(a, "locality"));
	json_decref(a);
	json_decref(b);
}

/*
 * Two page-fault events in one recording (perf record -e page-faults -e
 * minor-faults) count every fault twice. The replay warns of it; --event
 * takes one: the samples of the other are left out and counted apart, and
 * the plan is what either event alone gives. A name the recording lacks
 * fails and lists its events.
 */
static void write_two_events(const char *path, const struct tiny_case *c, struct ibsp_topology *t)
{
	struct ibsp_recording_info info = { .hostname = "tiny", .topo = t };
	static const char *const names[2] = { "page-faults", "minor-faults" };
	static const uint64_t configs[2] = { PERF_COUNT_SW_PAGE_FAULTS,
					     PERF_COUNT_SW_PAGE_FAULTS_MIN };
	struct ibsp_event_desc ev[2] = { 0 };
	uint64_t ids[2] = { 1, 2 };
	struct ibsp_perf_writer *w;

	for (int k = 0; k < 2; k++) {
		ev[k].attr.type = PERF_TYPE_SOFTWARE;
		ev[k].attr.config = configs[k];
		ev[k].attr.sample_period = 1;
		ev[k].attr.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID |
					 PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_CPU |
					 PERF_SAMPLE_PHYS_ADDR;
		ev[k].name = (char *)names[k];
		ev[k].nr_ids = 1;
		ev[k].ids = &ids[k];
	}
	cr_assert_eq(ibsp_perf_writer__open(path, &info, ev, 2, &w), 0);
	for (int i = 0; i < 16 && c->s[i].page; i++) {
		for (int k = 0; k < 2; k++) {
			const struct tiny_sample *s = &c->s[i];
			uint64_t rec[7] = {
				0,
				ids[k],
				100ULL << 32 | 100,
				T0_NS + (uint64_t)s->iv * 1000000000ULL + (uint64_t)i * 1000 + k,
				ORACLE_UVA + (uint64_t)s->page * 4096 + 8,
				(uint64_t)s->cpu,
				topo_node_base(t, 2) + (uint64_t)s->page * 4096 + 8,
			};
			struct perf_event_header h = { .type = PERF_RECORD_SAMPLE,
						       .size = sizeof(rec) };

			memcpy(rec, &h, sizeof(h));
			cr_assert_eq(
			    ibsp_perf_writer__write(w, (const struct perf_event_header *)rec), 0);
		}
	}
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
}

Test(replay, one_of_two_fault_events)
{
	static const struct {
		const char *events;
		int want_ret;
		uint64_t samples, filtered;
	} rows[] = {
		{ NULL, 0, 16, 0 },
		{ "minor-faults", 0, 8, 8 },
		{ "page-faults", 0, 8, 8 },
		{ "page-faults,minor-faults", 0, 16, 0 },
		{ "major-faults", -ENOENT, 0, 0 },
	};
	/* Pages 1 and 2: two intervals of samples from socket 0 (CPU 0), then socket 1. */
	const struct tiny_case c = { .name = "two events",
				     .room = { -1, -1 },
				     .s = { { 0, 0, 1 },
					    { 0, 0, 1 },
					    { 0, 0, 2 },
					    { 0, 0, 2 },
					    { 1, 0, 1 },
					    { 1, 0, 1 },
					    { 1, 2, 2 },
					    { 1, 2, 2 } } };
	struct ibsp_topology *t = tiny_topo(c.room);
	const char *path = tmp_path("two-events.data");
	uint64_t planned[2] = { 0, 0 };

	write_two_events(path, &c, t);
	ibsp_topology__delete(t);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_replay_opts o = { .sz = sizeof(o), .events = rows[r].events };
		struct ibsp_replay_result res;
		int ret;

		o.engine.sz = sizeof(o.engine);
		cr_assert_eq(ibsp_policy__find("locality", &o.engine.policy), 0);
		log_capture_start();
		ret = ibsp_replay__run(path, &o, &res);
		cr_assert_eq(ret, rows[r].want_ret, "row %zu: %d: %s", r, ret, log_captured());
		if (ret) {
			cr_expect(strstr(log_captured(), "'major-faults'") &&
				      strstr(log_captured(), "'page-faults', 'minor-faults'"),
				  "row %zu: %s", r, log_captured());
			ibsp_replay_result__free(&res);
			continue;
		}
		cr_expect_eq(res.samples, rows[r].samples, "row %zu: %llu samples", r,
			     (unsigned long long)res.samples);
		cr_expect_eq(res.samples_filtered, rows[r].filtered, "row %zu", r);
		cr_expect_eq(strstr(log_captured(), "both sample page faults") != NULL,
			     rows[r].events == NULL, "row %zu: %s", r, log_captured());
		if (rows[r].filtered)
			planned[rows[r].events[0] == 'm'] = res.st.planned;
		ibsp_replay_result__free(&res);
	}
	cr_expect_gt(planned[0], 0);
	cr_expect_eq(planned[0], planned[1], "page-faults alone plans %llu, minor-faults %llu",
		     (unsigned long long)planned[0], (unsigned long long)planned[1]);
}
