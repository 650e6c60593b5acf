// SPDX-License-Identifier: MIT
/*
 * --config FILE (cli/config.c): a file runs as the same flags would, the
 * command line overrides it, every error names the file, the line and the
 * key (exit 2), and SIGHUP re-reads the policy settings of a running daemon.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const char *conf(const char *name, const char *text)
{
	const char *path = tmp_path(name);

	spit(path, text, strlen(text));
	return path;
}

static int cli(const char *args, char **out, char **err)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "timeout -s INT 20 " IBSP_CLI " %s", args);
	return run_cmd(cmd, out, err);
}

/* The JSON lines of @path, as "type:path.to.field" keys (arrays by their first element). */
static void shape(json_t *j, const char *prefix, char *acc, size_t cap)
{
	const char *k;
	json_t *v;
	char p[256];

	if (json_is_array(j) && json_array_size(j)) {
		snprintf(p, sizeof(p), "%s[]", prefix);
		shape(json_array_get(j, 0), p, acc, cap);
		return;
	}
	if (!json_is_object(j)) {
		/* a number whose value may not be known yet (heat.noise) is null: the same field;
		 * true and false are one type (jansson gives each its own) */
		snprintf(p, sizeof(p), "%s:%d ", prefix,
			 json_is_real(j) || json_is_null(j) ? JSON_INTEGER
			 : json_is_boolean(j)		    ? JSON_TRUE
							    : json_typeof(j));
		if (!strstr(acc, p))
			strncat(acc, p, cap - strlen(acc) - 1);
		return;
	}
	json_object_foreach(j, k, v)
	{
		snprintf(p, sizeof(p), "%s.%s", prefix, k);
		shape(v, p, acc, cap);
	}
}

static char *telemetry_shape(const char *path, size_t *nr_lines, json_t **summary)
{
	size_t len, cap = 1 << 16;
	char *text = (char *)slurp(path, &len), *acc = calloc(1, cap), *save = NULL;

	text = realloc(text, len + 1);
	text[len] = 0;
	*nr_lines = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *j = json_loads(l, 0, &e);

		cr_assert(j, "%s: not JSON (%s): %s", path, e.text, l);
		shape(j, json_string_value(json_object_get(j, "type")), acc, cap);
		if (*summary)
			json_decref(*summary);
		*summary = j;
		(*nr_lines)++;
	}
	free(text);
	return acc;
}

static void skip_unless_permitted(int rc, const char *err)
{
	if (rc && strstr(err, "Permission denied"))
		cr_skip_test("software perf events are not permitted here: %s", err);
}

/* Acceptance: sampler = soft, dry-run = true, duration = 2, json = PATH run as the flags. */
Test(config, run_from_a_file_as_the_flags_would)
{
	const char *jf = tmp_path("file.jsonl"), *jc = tmp_path("flags.jsonl");
	char text[512], args[1024], *out, *err, *s1, *s2;
	size_t n1, n2;
	json_t *sum1 = NULL, *sum2 = NULL;
	int rc;

	snprintf(text, sizeof(text),
		 "# as the flags below\nsampler = soft\ndry-run = true\nduration = 2\njson = %s\n",
		 jf);
	snprintf(args, sizeof(args), "run --config %s", conf("run.conf", text));
	rc = cli(args, &out, &err);
	skip_unless_permitted(rc, err);
	cr_assert_eq(rc, 0, "%s: %s", args, err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "run --sampler=soft --dry-run --duration 2 --json %s", jc);
	cr_assert_eq(cli(args, &out, &err), 0, "%s: %s", args, err);
	free(out);
	free(err);

	s1 = telemetry_shape(jf, &n1, &sum1);
	s2 = telemetry_shape(jc, &n2, &sum2);
	cr_expect_str_eq(s1, s2, "the same fields and types");
	cr_expect(n1 >= 2 && n2 >= 2 && (n1 > n2 ? n1 - n2 : n2 - n1) <= 1,
		  "2 s at 1 s intervals, and a summary: %zu and %zu lines", n1, n2);
	cr_expect_str_eq(json_string_value(json_object_get(sum1, "end_reason")), "duration");
	cr_expect_str_eq(
	    json_string_value(json_object_get(json_object_get(sum1, "sampling"), "sampler")),
	    "soft");
	cr_expect(json_is_true(json_object_get(json_object_get(sum1, "promotions"), "dry_run")));
	cr_expect_geq(json_real_value(json_object_get(sum1, "time_s")), 2.0);
	json_decref(sum1);
	json_decref(sum2);
	free(s1);
	free(s2);
}

/* Each bad file: exit 2, and stderr names FILE:LINE and the key. */
Test(config, errors_name_the_file_line_and_key)
{
	static const struct {
		const char *name, *text, *cmd, *want;
	} rows[] = {
		{ "unknown.conf", "sampler = soft\n\nfrobnicate = 1\n", "run",
		  ":3: unknown key 'frobnicate'" },
		{ "value.conf", "# rate\nrate = abc\n", "run",
		  ":2: --rate: 'abc' is not a whole number" },
		{ "bool.conf", "dry-run = maybe\n", "run",
		  ":1: --dry-run: 'maybe' is not a boolean" },
		{ "sampler.conf", "[run]\nsampler = fast\n", "run", ":2: --sampler: 'fast'" },
		{ "empty.conf", "json =\n", "run", ":1: --json: no value" },
		{ "twice.conf", "rate = 1\nrate = 2\n", "run",
		  ":2: key 'rate' is given twice (first on line 1)" },
		{ "nested.conf", "config = other.conf\n", "run",
		  ":1: key 'config' cannot be set in a configuration file" },
		{ "section.conf", "[daemon]\nrate = 1\n", "run", ":2: unknown section [daemon]" },
		{ "syntax.conf", "rate = 1\njust words\n", "run", ":2: not a 'key = value' line" },
		{ "own.conf", "[replay]\nevaluate = yes\nsampler = soft\n", "replay",
		  ":3: unknown key 'sampler': replay has no such option" },
		{ "node.conf", "baseline-node = -1\n", "replay", ":1: --baseline-node: '-1'" },
		{ "output.conf", "[record]\nmmap-pages = 3\n", "record",
		  ":2: --mmap-pages: 3 is not a power of two" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *path = conf(rows[i].name, rows[i].text);
		char args[1024], want[1024], *out, *err;

		snprintf(args, sizeof(args), "%s --config %s %s", rows[i].cmd, path,
			 strcmp(rows[i].cmd, "replay") ? "" : FIXTURE("example-2s-cxl.data"));
		cr_expect_eq(cli(args, &out, &err), 2, "%s", rows[i].name);
		snprintf(want, sizeof(want), "ibs-promote %s: %s%s", rows[i].cmd, path,
			 rows[i].want);
		cr_expect(strstr(err, want), "%s: want '%s' in: %s", rows[i].name, want, err);
		free(out);
		free(err);
	}
}

Test(config, only_regular_files)
{
	char args[1024], *out, *err;

	snprintf(args, sizeof(args), "run --config %s", IBSP_FIXTURE_DIR);
	cr_expect_eq(cli(args, &out, &err), 2);
	cr_expect(
	    strstr(err, "--config: '" IBSP_FIXTURE_DIR "' is a directory, not a regular file"),
	    "%s", err);
	free(out);
	free(err);
	cr_expect_eq(cli("run --config /dev/null", &out, &err), 2);
	cr_expect(strstr(err, "'/dev/null' is a character device"), "%s", err);
	free(out);
	free(err);
	cr_expect_eq(cli("run --config /nonexistent.conf", &out, &err), 2);
	cr_expect(strstr(err, "cannot open '/nonexistent.conf': No such file"), "%s", err);
	free(out);
	free(err);
}

/* The command line over the file; keys before any section and the command's section apply. */
Test(config, the_command_line_overrides_the_file)
{
	const char *jf = tmp_path("over.json");
	char text[512], args[2048], *out, *err;
	json_t *j, *set;

	snprintf(text, sizeof(text),
		 "interval = 500\nmin-heat = 3\n\n[run]\nsampler = soft\n\n[replay]\nrate = 64\n"
		 "no-demote = yes\nno-follow = no\njson = %s\n",
		 jf);
	snprintf(args, sizeof(args), "replay --config %s --interval 250 %s",
		 conf("over.conf", text), FIXTURE("example-2s-cxl.data"));
	cr_assert_eq(cli(args, &out, &err), 0, "%s", err);
	j = json_load_file(jf, 0, NULL);
	cr_assert(j);
	set = json_object_get(j, "settings");
	cr_expect_eq(json_integer_value(json_object_get(set, "interval_ms")), 250);
	cr_expect_eq(json_integer_value(json_object_get(set, "min_heat")), 3);
	cr_expect_eq(json_integer_value(json_object_get(set, "rate_bytes_per_s")), 64 << 20);
	cr_expect(json_is_false(json_object_get(set, "demote")));
	cr_expect(json_is_true(json_object_get(set, "follow")));
	json_decref(j);
	free(out);
	free(err);
}

/* SIGHUP: the policy settings again from the file; a snapshot says so; errors keep them. */
Test(config, run_reloads_the_policy_on_sighup)
{
	const char *path = tmp_path("reload.conf"), *jf = tmp_path("reload.jsonl");
	char text[512], cmd[4096], *out, *err, *l, *save = NULL;
	size_t len;
	int rc, applied = 0, failed = 0, short_spans = 0, after = 0;

	snprintf(text, sizeof(text), "sampler = soft\ndry-run = yes\ninterval = 1000\njson = %s\n",
		 jf);
	spit(path, text, strlen(text));
	/* Each SIGHUP once the daemon is in its loop (a line is out): before, it would end it. */
	snprintf(cmd, sizeof(cmd),
		 "{ %s run --config %s --duration 5 & p=$!; "
		 "for i in $(seq 150); do [ -s %s ] && break; sleep 0.1; done; "
		 "printf 'sampler = soft\\ndry-run = yes\\ninterval = 200\\n"
		 "policy = last-accessor\\njson = %s\\nscan-ms = 500\\n' > %s; kill -HUP $p; "
		 "for i in $(seq 150); do grep -q applied %s && break; sleep 0.1; done; sleep 0.5; "
		 "printf 'interval = 0\\n' > %s; kill -HUP $p; wait $p; }",
		 IBSP_CLI, path, jf, jf, path, jf, path);
	rc = run_cmd(cmd, &out, &err);
	skip_unless_permitted(rc, err);
	cr_assert_eq(rc, 0, "%s", err);
	cr_expect(strstr(err, "'scan-ms' changed: it needs a restart"), "%s", err);
	cr_expect(strstr(err, ":1: --interval: '0' is not a whole number"), "%s", err);
	l = (char *)slurp(jf, &len);
	l = realloc(l, len + 1);
	l[len] = 0;
	for (char *t = strtok_r(l, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(t, 0, NULL);
		const char *r = json_string_value(json_object_get(j, "reload"));

		cr_assert(j);
		applied += r && !strcmp(r, "applied");
		failed += r && !strcmp(r, "failed");
		if (applied && !strcmp(json_string_value(json_object_get(j, "type")), "interval")) {
			after++;
			short_spans += json_real_value(json_object_get(j, "span_s")) < 0.6;
		}
		json_decref(j);
	}
	cr_expect_eq(applied, 1);
	cr_expect_eq(failed, 1);
	/* ~4 s at 200 ms after the reload, against one line a second before it */
	cr_expect_geq(after, 6, "%d interval lines after the reload", after);
	cr_expect_geq(short_spans, after - 2, "%d of %d lines at the new interval", short_spans,
		      after);
	free(l);
	free(out);
	free(err);
}
