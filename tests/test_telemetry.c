// SPDX-License-Identifier: MIT
/*
 * Telemetry lines against docs/telemetry.md: every emitted field is listed
 * there with the same JSON type, and every listed field is emitted (summary
 * fields in the summary only). Also the interval/summary arithmetic.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine_fixtures.h"
#include "ibsp/telemetry.h"

#define DOC	   IBSP_FIXTURE_DIR "/../../docs/telemetry.md"
#define MAX_FIELDS 128

struct field {
	char path[96];
	char type[32];
	bool summary_only;
	bool seen;
};

static size_t load_doc(struct field *f)
{
	size_t len, n = 0;
	char *doc = (char *)slurp(DOC, &len), *line, *save = NULL;

	for (line = strtok_r(doc, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char path[96], type[32];

		if (strncmp(line, "| `", 3) ||
		    sscanf(line, "| `%95[^`]` | %31[a-z ] |", path, type) != 2)
			continue;
		cr_assert_lt(n, MAX_FIELDS);
		snprintf(f[n].path, sizeof(f[n].path), "%s", path);
		/* "number or null": the documented types, trailing blanks dropped */
		while (*type && type[strlen(type) - 1] == ' ')
			type[strlen(type) - 1] = '\0';
		snprintf(f[n].type, sizeof(f[n].type), "%s", type);
		f[n].summary_only = strstr(line, "summary only") != NULL;
		f[n].seen = false;
		n++;
	}
	free(doc);
	cr_assert_gt(n, 40, "docs/telemetry.md lists %zu fields", n);
	return n;
}

static const char *type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/* Is @got one of the documented types, "T" or "T or U"? */
static bool type_ok(const char *doc, const char *got)
{
	size_t n = strlen(got);

	for (const char *p = doc; p; p = strstr(p, " or ")) {
		if (*p == ' ')
			p += 4;
		if (!strncmp(p, got, n) && (!p[n] || p[n] == ' '))
			return true;
	}
	return false;
}

static struct field *lookup(struct field *f, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f[i].path, path))
			return &f[i];
	}
	return NULL;
}

/* Maps documented with {name} hold one type for every key. */
static void walk(struct field *f, size_t n, const char *path, json_t *v)
{
	struct field *d = lookup(f, n, path);
	char sub[160];

	if (*path) { /* the line itself is the root object */
		cr_assert(d, "emitted field '%s' is not in docs/telemetry.md", path);
		cr_expect(type_ok(d->type, type_of(v)), "field '%s': emitted %s, documented %s",
			  path, type_of(v), d->type);
		d->seen = true;
	}
	if (json_is_object(v)) {
		const char *key;
		json_t *val;

		json_object_foreach(v, key, val)
		{
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
			if (!lookup(f, n, sub)) {
				/* a map: "path.{...}" */
				for (size_t i = 0; i < n; i++) {
					size_t pl = strlen(path);

					if (!strncmp(f[i].path, path, pl) && f[i].path[pl] == '.' &&
					    f[i].path[pl + 1] == '{') {
						memcpy(sub, f[i].path, sizeof(f[i].path));
						break;
					}
				}
			}
			walk(f, n, sub, val);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *el;

		json_array_foreach(v, i, el)
		{
			const char *key;
			json_t *val;

			cr_assert(json_is_object(el), "'%s' holds objects", path);
			json_object_foreach(el, key, val)
			{
				snprintf(sub, sizeof(sub), "%s[].%s", path, key);
				walk(f, n, sub, val);
			}
		}
	}
}

static json_t *parse_line(char *line)
{
	json_error_t err;
	json_t *j;

	cr_assert(line);
	cr_assert_eq(line[strlen(line) - 1], '\n', "one line, newline-terminated");
	cr_assert_null(strchr(line, '\n') == line + strlen(line) - 1 ? NULL : line,
		       "no newline inside");
	j = json_loads(line, 0, &err);
	cr_assert(j, "%s: %s", err.text, line);
	free(line);
	return j;
}

static void fill(struct ibsp_telemetry_counts *c, uint64_t k)
{
	c->samples = 100 * k;
	c->decoded = 90 * k;
	c->by_sampler[IBSP_SAMPLER_IBS] = 90 * k;
	c->dropped[IBSP_DROP_OP_INVALID] = 10 * k;
	c->lost_records = k;
	c->lost = 3 * k;
	c->unresolved[IBSP_UNRES_NO_CPU] = k;
	c->pages_tracked = 1000 + k;
	c->threshold = 32;
	c->planned = 20 * k;
	c->planned_bytes = 20 * 4096 * k;
	c->done = 15 * k;
	c->done_bytes = 15 * 4096 * k;
	c->failed = 5 * k;
	c->by_errno[IBSP_MIG_EBUSY] = 4 * k;
	c->by_errno[IBSP_MIG_ESRCH] = k;
	c->route_planned[2 * 3 + 0] = 20 * k;
	c->route_done[2 * 3 + 0] = 15 * k;
	c->route_failed[2 * 3 + 0] = 5 * k;
	c->matrix[2][0] = 15 * k;
	c->matrix[2][2] = 1; /* a level of 1: no change after the first line */
	c->skips[IBSP_SKIP_BUDGET] = 2 * k;
	for (int i = 0; i < 3; i++) {
		c->free_bytes[i] = (uint64_t)(i + 1) << 30;
		c->total_bytes[i] = (uint64_t)(i + 2) << 30;
	}
	c->cpu_user_s = 0.5 * (double)k;
	c->low_noise = k > 1; /* levels: the flags as the last tick told them */
	c->owner_believed = k > 3;
}

Test(telemetry, lines_match_the_doc)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "ibs", false);
	static struct field f[MAX_FIELDS];
	size_t n = load_doc(f);
	json_t *iv, *sum, *sn;

	cr_assert(t);
	fill(ibsp_telemetry__counts(t), 1);
	iv = parse_line(ibsp_telemetry__line(t, IBSP_TELE_INTERVAL, 1.0, NULL, false));
	walk(f, n, "", iv);
	for (size_t i = 0; i < n; i++)
		cr_expect(f[i].seen || f[i].summary_only || !strcmp(f[i].path, "reload"),
			  "documented '%s' not in an interval line", f[i].path);
	cr_expect_null(json_object_get(iv, "complete"));
	cr_expect_null(json_object_get(iv, "reload"));
	/* A SIGHUP's snapshot (with --config) says whether the new settings apply. */
	ibsp_telemetry__note_reload(t, false);
	sn = parse_line(ibsp_telemetry__line(t, IBSP_TELE_SNAPSHOT, 2.0, NULL, false));
	cr_expect_str_eq(json_string_value(json_object_get(sn, "reload")), "failed");
	walk(f, n, "", sn);
	json_decref(sn);
	fill(ibsp_telemetry__counts(t), 3);
	sum = parse_line(ibsp_telemetry__line(t, IBSP_TELE_SUMMARY, 3.0, "signal", true));
	walk(f, n, "", sum);
	for (size_t i = 0; i < n; i++)
		cr_expect(f[i].seen, "documented '%s' never emitted", f[i].path);
	json_decref(iv);
	json_decref(sum);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}

/* Interval lines count the change since the previous line; the summary counts totals. */
Test(telemetry, deltas_and_totals)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "soft", true);
	json_t *a, *b, *s, *route;

	cr_assert(t);
	fill(ibsp_telemetry__counts(t), 1);
	a = parse_line(ibsp_telemetry__line(t, IBSP_TELE_INTERVAL, 1.0, NULL, false));
	fill(ibsp_telemetry__counts(t), 4);
	b = parse_line(ibsp_telemetry__line(t, IBSP_TELE_SNAPSHOT, 2.5, NULL, false));
	s = parse_line(ibsp_telemetry__line(t, IBSP_TELE_SUMMARY, 3.0, "duration", false));

	cr_expect_eq(json_integer_value(json_object_get(a, "seq")), 0);
	cr_expect_eq(json_integer_value(json_object_get(b, "seq")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(b, "type")), "snapshot");
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(a, "sampling"), "samples")),
		     100);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(b, "sampling"), "samples")),
		     300);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(s, "sampling"), "samples")),
		     400);
	cr_expect(json_is_true(json_object_get(json_object_get(a, "sampling"), "coarse")));
	cr_expect(json_is_true(json_object_get(json_object_get(a, "promotions"), "dry_run")));
	cr_expect_eq(json_real_value(json_object_get(b, "span_s")), 1.5);
	route = json_array_get(json_object_get(json_object_get(b, "promotions"), "by_route"), 0);
	cr_expect_eq(json_integer_value(json_object_get(route, "src")), 2);
	cr_expect_eq(json_integer_value(json_object_get(route, "dst")), 0);
	cr_expect_eq(json_integer_value(json_object_get(route, "planned")), 60);
	cr_expect_eq(json_integer_value(json_object_get(route, "failed")), 15);
	{
		json_t *ma = json_object_get(json_object_get(a, "promotions"), "matrix");
		json_t *mb = json_object_get(json_object_get(b, "promotions"), "matrix");
		json_t *ms = json_object_get(json_object_get(s, "promotions"), "matrix");

		cr_expect_eq(json_array_size(ma), 2, "cells 2->0 and 2->2");
		cr_expect_eq(json_array_size(mb), 1, "2->2 did not change");
		cr_expect_eq(json_integer_value(json_object_get(json_array_get(mb, 0), "src")), 2);
		cr_expect_eq(json_integer_value(json_object_get(json_array_get(mb, 0), "dst")), 0);
		cr_expect_eq(json_integer_value(json_object_get(json_array_get(mb, 0), "pages")),
			     45);
		cr_expect_eq(json_array_size(ms), 2, "the summary: totals");
		cr_expect_eq(json_integer_value(json_object_get(json_array_get(ms, 0), "pages")),
			     60);
	}
	cr_expect_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(s, "promotions"), "by_errno"), "ebusy")),
		     16);
	cr_expect_eq(
	    json_integer_value(json_object_get(json_object_get(b, "heat"), "pages_tracked")), 1004,
	    "a level, not a change");
	cr_expect(json_is_false(json_object_get(json_object_get(a, "heat"), "low_noise")));
	cr_expect(json_is_true(json_object_get(json_object_get(b, "heat"), "low_noise")));
	cr_expect(
	    json_is_false(json_object_get(json_object_get(b, "heat"), "neighbours_believed")));
	cr_expect(json_is_true(json_object_get(json_object_get(b, "heat"), "owners_believed")));
	cr_expect(json_is_false(json_object_get(json_object_get(a, "heat"), "owners_believed")));
	cr_expect(json_is_false(json_object_get(s, "complete")));
	cr_expect_str_eq(json_string_value(json_object_get(s, "end_reason")), "duration");
	json_decref(a);
	json_decref(b);
	json_decref(s);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}

Test(telemetry, errno_classes)
{
	static const struct {
		int err;
		enum ibsp_mig_err want;
		const char *name;
	} rows[] = {
		{ EBUSY, IBSP_MIG_EBUSY, "ebusy" },    { EACCES, IBSP_MIG_EACCES, "eacces" },
		{ ENOENT, IBSP_MIG_ENOENT, "enoent" }, { EFAULT, IBSP_MIG_EFAULT, "efault" },
		{ ENOMEM, IBSP_MIG_ENOMEM, "enomem" }, { ESRCH, IBSP_MIG_ESRCH, "esrch" },
		{ EPERM, IBSP_MIG_EPERM, "eperm" },    { EIO, IBSP_MIG_OTHER, "other" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_expect_eq(ibsp_mig_err__from_errno(rows[i].err), rows[i].want, "%s",
			     rows[i].name);
		cr_expect_str_eq(ibsp_mig_err__name(rows[i].want), rows[i].name);
	}
}

/* Run the daemon for real (soft sampler, this host) while the faulter runs. */
static char *run_daemon(const char *extra, int sigint_after_ms, int *rc, char **err)
{
	char cmd[1024], *out;

	/* The faulter is killed when the daemon is done: a 3.2 GB faulter left running
	 * would load every test after this one. 512 KiB rings (not a root run's larger
	 * default): under ASan the faulter outruns the daemon, and a drain of 4 MiB rings
	 * took long enough that the 500 ms ticks coalesced (2 lines in 3 s, CI 2026-12-02);
	 * with small rings the kernel sheds the excess. */
	snprintf(cmd, sizeof(cmd),
		 "%s 400000 >/dev/null 2>&1 & f=$!; %s run --sampler=soft -a --dry-run --json - "
		 "--interval 500 --mmap-pages 128 %s %s; r=$?; kill $f 2>/dev/null; "
		 "wait $f 2>/dev/null; exit $r",
		 IBSP_FAULTER, IBSP_CLI, extra,
		 sigint_after_ms ? "& p=$!; sleep 1.5; kill -INT $p; wait $p" : "");
	*rc = run_cmd(cmd, &out, err);
	if (*rc && perf_open_refused(*err))
		cr_skip_test("this machine refuses software perf events: %s", *err);
	return out;
}

/* Acceptance: valid JSON Lines, samples > 0, decisions counted, every field as documented. */
Test(telemetry, live_run_matches_the_doc)
{
	static struct field f[MAX_FIELDS];
	size_t nf = load_doc(f), n;
	json_t *lines[64], *sum;
	char *out, *err;
	int rc;

	out = run_daemon("--duration 3", 0, &rc, &err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	n = json_lines(out, lines, 64);
	cr_assert_geq(n, 4, "3 s at 500 ms: %zu lines", n);
	for (size_t i = 0; i < n; i++) {
		walk(f, nf, "", lines[i]);
		cr_expect_eq(json_integer_value(json_object_get(lines[i], "seq")), (json_int_t)i);
		cr_expect_str_eq(json_string_value(json_object_get(lines[i], "type")),
				 i + 1 < n ? "interval" : "summary");
	}
	/* One node here, and a dry run: by_route and matrix stay empty; no SIGHUP, so no
	 * reload (test_cli: run.config_reload). */
	for (size_t i = 0; i < nf; i++)
		cr_expect(f[i].seen || strstr(f[i].path, "by_route[]") ||
			      strstr(f[i].path, "matrix[]") || !strcmp(f[i].path, "reload"),
			  "documented '%s' never emitted by run", f[i].path);
	sum = lines[n - 1];
	cr_expect_gt(
	    json_integer_value(json_object_get(json_object_get(sum, "sampling"), "samples")), 0);
	cr_expect_gt(
	    json_integer_value(json_object_get(json_object_get(sum, "promotions"), "considered")),
	    0, "the policy looked at hot pages");
	cr_expect(json_is_true(json_object_get(sum, "complete")));
	cr_expect_str_eq(json_string_value(json_object_get(sum, "end_reason")), "duration");
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(out);
	free(err);
}

/* Ctrl-C halfway: the last line is still a complete summary, and the exit is clean. */
Test(telemetry, sigint_leaves_a_summary)
{
	json_t *lines[64], *sum;
	char *out, *err;
	size_t n;
	int rc;

	out = run_daemon("--duration 20", 1500, &rc, &err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	n = json_lines(out, lines, 64);
	cr_assert_geq(n, 2);
	sum = lines[n - 1];
	cr_expect_str_eq(json_string_value(json_object_get(sum, "type")), "summary");
	cr_expect_str_eq(json_string_value(json_object_get(sum, "end_reason")), "signal");
	cr_expect(json_is_true(json_object_get(sum, "complete")));
	cr_expect_lt(json_real_value(json_object_get(sum, "time_s")), 10.0, "stopped early");
	cr_expect_gt(
	    json_integer_value(json_object_get(json_object_get(sum, "sampling"), "samples")), 0);
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(out);
	free(err);
}

/* SIGUSR1 writes a snapshot at once; SIGHUP reopens the file (rotation). */
Test(telemetry, usr1_snapshot_and_hup_reopen)
{
	const char *path = tmp_path("tele.jsonl");
	char cmd[1536], *out, *err, rotated[400];
	size_t len1, len2;
	char *a, *b;
	int rc;

	snprintf(rotated, sizeof(rotated), "%s.1", path);
	snprintf(cmd, sizeof(cmd),
		 "%s run --sampler=soft -a --dry-run --interval 5000 --duration 3 --json %s & "
		 "p=$!; sleep 1; kill -USR1 $p; sleep 0.3; mv %s %s; kill -HUP $p; wait $p",
		 IBSP_CLI, path, path, rotated);
	rc = run_cmd(cmd, &out, &err);
	if (rc && perf_open_refused(err))
		cr_skip_test("this machine refuses software perf events: %s", err);
	cr_assert_eq(rc, 0, "%s", err);
	a = (char *)slurp(rotated, &len1);
	b = (char *)slurp(path, &len2);
	cr_expect(strstr(a, "\"type\":\"snapshot\""), "rotated file: %s", a);
	cr_expect_null(strstr(a, "\"type\":\"summary\""));
	cr_expect(strstr(b, "\"type\":\"summary\""), "new file: %s", b);
	cr_expect_null(strstr(b, "\"type\":\"snapshot\""));
	free(a);
	free(b);
	free(out);
	free(err);
}

/* --record: the samples the daemon saw, as a perf.data file perf and replay both read. */
Test(telemetry, run_record_replays)
{
	const char *rec = tmp_path("run.data");
	char cmd[1024], *out, *err;
	int rc, n_perf = 0;
	size_t n;
	struct ibsp_sample *s;

	snprintf(
	    cmd, sizeof(cmd),
	    "%s 50000 >/dev/null 2>&1 & f=$!; %s run --sampler=soft -a --dry-run --duration 1.5 "
	    "--record %s; r=$?; kill $f 2>/dev/null; wait $f 2>/dev/null; exit $r",
	    IBSP_FAULTER, IBSP_CLI, rec);
	rc = run_cmd(cmd, &out, &err);
	if (rc && perf_open_refused(err))
		cr_skip_test("this machine refuses software perf events: %s", err);
	cr_assert_eq(rc, 0, "%s", err);
	free(out);
	free(err);
	n = read_all_samples(rec, &s, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_gt(n, 1000, "%zu samples recorded", n);
	free(s);
	if (!perf_path())
		skip_part("perf is not installed (apt-get install linux-perf): the sample count "
			  "was not compared with perf script");
	else {
		snprintf(cmd, sizeof(cmd), "%s script -F cpu,tid,addr -i %s", perf_path(), rec);
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s", err);
		for (char *p = out; (p = strchr(p, '\n')); p++)
			n_perf++;
		cr_expect_eq((size_t)n_perf, n, "perf script %d lines, we read %zu", n_perf, n);
		free(out);
		free(err);
	}
	snprintf(cmd, sizeof(cmd), "%s replay --no-progress --json - %s", IBSP_CLI, rec);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s", err);
	cr_expect(strstr(out, "\"complete\": true"), "%s", out);
	free(out);
	free(err);
}

/* A --pid target that exits ends the run (its events hang up), long before --duration. */
Test(telemetry, pid_target_exit_ends_the_run)
{
	char cmd[1024], *out, *err;
	json_t *lines[64];
	size_t n;
	int rc;

	snprintf(cmd, sizeof(cmd),
		 "sleep 0.5 & %s run --sampler=soft --pid $! --dry-run --interval 200 "
		 "--duration 30 --json -",
		 IBSP_CLI);
	rc = run_cmd(cmd, &out, &err);
	if (rc && perf_open_refused(err))
		cr_skip_test("this machine refuses software perf events: %s", err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	n = json_lines(out, lines, 64);
	cr_assert_geq(n, 1);
	cr_expect_str_eq(json_string_value(json_object_get(lines[n - 1], "end_reason")),
			 "target_exit", "%s", err);
	cr_expect_lt(json_real_value(json_object_get(lines[n - 1], "time_s")), 20.0);
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(out);
	free(err);
}

/* --pid A,B: the run goes on after A exits and ends within an interval of B's exit. */
Test(telemetry, several_pids_end_after_the_last)
{
	char cmd[1024], *out, *err;
	json_t *lines[128], *sum, *targets;
	double t;
	size_t n;
	int rc;

	snprintf(cmd, sizeof(cmd),
		 "sleep 0.5 & a=$!; sleep 2.5 & b=$!; %s run --sampler=soft --pid $a,$b --dry-run "
		 "--interval 200 --duration 30 --json -",
		 IBSP_CLI);
	rc = run_cmd(cmd, &out, &err);
	if (rc && perf_open_refused(err))
		cr_skip_test("this machine refuses software perf events: %s", err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	n = json_lines(out, lines, 128);
	cr_assert_geq(n, 2);
	sum = lines[n - 1];
	cr_expect_str_eq(json_string_value(json_object_get(sum, "end_reason")), "target_exit", "%s",
			 err);
	targets = json_object_get(sum, "targets");
	cr_expect_eq(json_integer_value(json_object_get(targets, "pids")), 2);
	cr_expect_eq(json_integer_value(json_object_get(targets, "exited")), 2);
	t = json_real_value(json_object_get(sum, "time_s"));
	/* started before the daemon: B exits 2.5 s after the shell began, the daemon a little later */
	cr_expect_gt(t, 1.5, "not at A's exit: %.2f s", t);
	cr_expect_lt(t, 2.5 + 0.2 + 1.0,
		     "within an interval (and a margin for load) of B's: %.2f s", t);
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(out);
	free(err);
}

/* Seconds come rounded to the microsecond, printed as such (not 1.0529416749999996). */
Test(telemetry, seconds_to_the_microsecond)
{
	struct ibsp_topology *topo = topo_2s_cxl();
	struct ibsp_telemetry *t = ibsp_telemetry__new(topo, "ibs", false);
	struct ibsp_telemetry_counts *c;
	char *line;

	cr_assert(t);
	c = ibsp_telemetry__counts(t);
	c->cpu_user_s = 0.1 + 0.2;
	c->cpu_sys_s = 1.0 / 3;
	line = ibsp_telemetry__line(t, IBSP_TELE_INTERVAL, 1.0529416749999996, NULL, false);
	cr_assert(line);
	cr_expect(strstr(line, "\"time_s\":1.052942,\"span_s\":1.052942,"), "%s", line);
	cr_expect(strstr(line, "\"cpu\":{\"user_s\":0.3,\"sys_s\":0.333333}"), "%s", line);
	free(line);
	ibsp_telemetry__delete(t);
	ibsp_topology__delete(topo);
}
