// SPDX-License-Identifier: MIT
/*
 * replay and --evaluate on generated recordings (ibsp-gen, with ground
 * truth): 2-socket + CXL, 4-socket + 2 CXL, a phase change, shared pages.
 * Checks the policy issue's acceptance: destination accuracy, no ping-pong
 * when stationary, budget and watermark, locality against the oracle, the
 * fixed-node and the last-accessor baselines, and determinism.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

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
 * pages), and never ping-pongs.
 */
Test(replay, against_baselines)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *truth, *data = generate(&cases[i], &truth);
		json_t *s = replay_json(data, "--evaluate", NULL);
		double loc = lf(s, "locality"), last = lf(s, "last-accessor");
		double fixed = lf(s, "fixed-node:0"), none = lf(s, "none");

		cr_expect_geq(loc, last - 0.01, "%s: locality %.4f vs last-accessor %.4f",
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
			cr_expect_geq(loc, fixed - 0.01, "%s: locality %.4f vs fixed-node:0 %.4f",
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
	int64_t to0 = 0, free0 = 1024LL << 20, wmark0 = (32LL << 30) / 10000 * 310;
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
	cr_expect_leq(free0 - to0, free0, "bytes to node 0 counted");
	cr_expect_geq(free0 - to0, wmark0, "node 0 free %lld, watermark %lld",
		      (long long)(free0 - to0), (long long)wmark0);
	cr_expect_gt(to0, (free0 - wmark0) * 9 / 10, "node 0 was filled up to its watermark");
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

/* Bad input: a clear message naming the file, and exit 3; bad options exit 2. */
Test(replay, errors)
{
	static const struct {
		const char *args;
		int rc;
		const char *msg;
	} rows[] = {
		{ "--policy fixed-node:9 " FIXTURE("example-2s-cxl.data"), 3, "node 9" },
		{ "--top-tier 7 " FIXTURE("example-2s-cxl.data"), 3, "node 7" },
		{ "--policy=nearest " FIXTURE("example-2s-cxl.data"), 2, "--policy" },
		{ "--rate -1 " FIXTURE("example-2s-cxl.data"), 2, "--rate" },
		{ "--min-share 40 " FIXTURE("example-2s-cxl.data"), 2, "--min-share" },
		{ FIXTURE("pf-task.perf-script.txt"), 3, "pf-task.perf-script.txt" },
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
