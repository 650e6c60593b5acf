// SPDX-License-Identifier: MIT
/*
 * The ibs-promote command's contract: --help with examples, the documented
 * exit codes, and errors that name the file, offset and field.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static int cli(const char *args, char **out, char **err)
{
	char cmd[1024];

	/* bounded: a command line that were wrongly accepted would sample until stopped */
	snprintf(cmd, sizeof(cmd), "timeout -s INT 20 " IBSP_CLI " %s", args);
	return run_cmd(cmd, out, err);
}

Test(cli, help_lists_commands_examples_and_exit_codes)
{
	static const char *const want[] = {
		"probe",     "record -o FILE", "info FILE",    "dump FILE",
		"Examples:", "Exit status:",   "1  malformed", "4  no hardware sampler"
	};
	char *out, *err;

	cr_assert_eq(cli("--help", &out, &err), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(out, want[i]), "--help lacks '%s'", want[i]);
	free(out);
	free(err);
	static const char *const sub[] = { "info --help", "dump --help", "probe --help",
					   "record --help" };

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		cr_assert_eq(cli(sub[i], &out, &err), 0, "%s", sub[i]);
		cr_assert(strstr(out, "Usage: ibs-promote"), "%s: %s", sub[i], out);
		free(out);
		free(err);
	}
}

Test(cli, exit_codes)
{
	static const struct {
		const char *args;
		int rc;
		const char *in_err;
	} rows[] = {
		{ "", 2, "Usage:" },
		{ "frobnicate", 2, "unknown command 'frobnicate'" },
		{ "info", 2, "Usage: ibs-promote info" },
		{ "dump --limit x " IBSP_FIXTURE_DIR "/pf-task.data", 2, "--limit: 'x'" },
		{ "info /nonexistent/pf.data", 1, "/nonexistent/pf.data: cannot open" },
		{ "info " IBSP_FIXTURE_DIR "/pf-task.perf-script.txt", 1, "field 'magic'" },
	};
	char *out, *err;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = cli(rows[i].args, &out, &err);

		cr_assert_eq(rc, rows[i].rc, "'%s' exited %d, stderr: %s", rows[i].args, rc, err);
		cr_assert(strstr(err, rows[i].in_err), "'%s': stderr lacks '%s': %s", rows[i].args,
			  rows[i].in_err, err);
		free(out);
		free(err);
	}
}

Test(cli, bad_record_offset_is_named)
{
	size_t len;
	uint8_t *b = slurp(FIXTURE("pf-task.data"), &len);
	uint64_t doff;
	uint16_t big = 60000;
	const char *path = tmp_path("bad-size.data");
	char args[512], want[128], *out, *err;

	/* the first record's size runs past the data section */
	memcpy(&doff, b + 40, 8);
	memcpy(b + doff + 6, &big, 2);
	spit(path, b, len);
	snprintf(args, sizeof(args), "dump %s", path);
	cr_assert_eq(cli(args, &out, &err), 1);
	snprintf(want, sizeof(want), "%s: offset %#llx: record type", path,
		 (unsigned long long)doff);
	cr_assert(strstr(err, want), "stderr lacks '%s': %s", want, err);
	cr_assert(strstr(err, "field 'size' = 60000"), "stderr: %s", err);
	free(out);
	free(err);
	free(b);
}

Test(cli, dump_limit_and_fields)
{
	char *out, *err;
	int lines = 0;

	cr_assert_eq(cli("dump --limit 3 " IBSP_FIXTURE_DIR "/pf-system.data", &out, &err), 0);
	for (char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 3);
	cr_assert(strstr(out, "\"sampler\":\"soft\"") && strstr(out, "\"coarse\":true") &&
		      strstr(out, "\"event\":\"page-faults\""),
		  "dump: %s", out);
	free(out);
	free(err);
}

/* probe --json: this host's nodes with free memory and tier, and the distance matrix. */
Test(cli, probe_json_topology)
{
	struct ibsp_topology *t = NULL;
	json_t *j, *nodes, *d;
	char *out, *err;
	int rc = cli("probe --json", &out, &err);

	cr_assert(rc == 0 || rc == 4, "probe exited %d: %s", rc, err);
	j = json_loads(out, 0, NULL);
	cr_assert(j, "probe --json: %s", out);
	cr_assert_eq(ibsp_topology__from_host("/sys", &t), 0);
	nodes = json_object_get(j, "nodes");
	d = json_object_get(j, "distance");
	uint32_t nr = ibsp_topology__nr_nodes(t);

	cr_assert_eq(json_array_size(nodes), nr);
	cr_assert_eq(json_array_size(d), nr, "distance: %s", out);
	for (uint32_t a = 0; a < nr; a++) {
		json_t *n = json_array_get(nodes, a), *tier = json_object_get(n, "tier");
		struct ibsp_node_idx ia = ibsp_node_idx((int)a);

		cr_assert_eq(json_integer_value(json_object_get(n, "node")),
			     ibsp_topology__node_id(t, ia).id);
		cr_assert(json_integer_value(json_object_get(n, "mem_free_kb")) > 0);
		if (ibsp_topology__tier(t, ia) < 0)
			cr_assert(json_is_null(tier));
		else
			cr_assert_eq(json_integer_value(tier), ibsp_topology__tier(t, ia));
		for (uint32_t b = 0; b < nr; b++)
			cr_assert_eq(json_integer_value(json_array_get(json_array_get(d, a), b)),
				     ibsp_topology__distance(t, ia, ibsp_node_idx((int)b)));
	}
	json_decref(j);
	ibsp_topology__delete(t);
	free(out);
	free(err);
}

/* @s with every "record" replaced by "run" (the command names in the messages), malloc'd. */
static char *as_run(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	cr_assert(out);
	while (*s) {
		if (!strncmp(s, "record", 6)) {
			memcpy(o, "run", 3);
			o += 3;
			s += 6;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/*
 * The sampling options are one table: record and run reject the same values
 * with the same message (their own name in it) and exit 2. A row that were
 * accepted would sample: `timeout` bounds it.
 */
Test(cli, record_and_run_reject_the_same_sampling_values)
{
	static const struct {
		const char *args;
		const char *in_err;
	} bad[] = {
		{ "--duration nan", "--duration: 'nan' is not a positive number of seconds" },
		{ "--duration inf", "--duration: 'inf' is not a positive" },
		{ "--duration 1e999", "--duration: '1e999' is not a positive" },
		{ "--duration -1", "--duration: '-1' is not a positive" },
		{ "--duration 0", "--duration: '0' is not a positive" },
		{ "-d 2x", "--duration: '2x' is not a positive" },
		{ "--duration", "requires an argument" },
		{ "-a --pid 1", "give only one of -a, --pid, --cgroup" },
		{ "-a --cgroup /sys/fs/cgroup", "give only one of -a, --pid, --cgroup" },
		{ "--pid 1 -G /sys/fs/cgroup", "give only one of -a, --pid, --cgroup" },
		{ "--pid 0", "--pid: '0' is not a whole number in [1, 1073741823]" },
		{ "-p -5", "--pid: '-5' is not a whole number" },
		{ "--pid 12x", "--pid: '12x' is not a whole number" },
		{ "--period 0", "--period: '0' is not a whole number in [1, 4294967295]" },
		{ "-c 4294967296", "--period: '4294967296' is not a whole number" },
		{ "-c 0x", "--period: '0x' is not a whole number" },
		{ "--sampler nope", "--sampler: 'nope' is not auto, ibs, pebs, soft or hint" },
		{ "-s IBS", "--sampler: 'IBS' is not auto" },
		{ "--mmap-pages 3", "--mmap-pages: 3 is not a power of two" },
		{ "--mmap-pages 0", "--mmap-pages: '0' is not a whole number in [1, 1048576]" },
		{ "--ldlat 0", "--ldlat: '0' is not a whole number in [1, 65535]" },
		{ "--ldlat 65536", "--ldlat: '65536' is not a whole number" },
		{ "--wakeup-bytes 0", "--wakeup-bytes: '0' is not a whole number" },
		{ "--drain-ms 10001", "--drain-ms: '10001' is not a whole number in [1, 10000]" },
		{ "--scan-ms 100", "--scan-ms: '100' is not a whole number in [250, 3600000]" },
		{ "--pid 1,,2", "--pid: '1,,2' is not a list of pids (P[,P...])" },
		{ "--pid 1,x", "--pid: 'x' is not a whole number" },
		{ "--pid 7,7", "--pid: 7 is listed twice" },
		{ "--bogus", "unrecognized option '--bogus'" },
		{ "-x", "invalid option -- 'x'" },
	};
	char args[512], *out, *rec_err, *run_err, *want;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc_rec, rc_run;

		snprintf(args, sizeof(args), "record -o %s %s", tmp_path("never.data"),
			 bad[i].args);
		rc_rec = cli(args, &out, &rec_err);
		free(out);
		snprintf(args, sizeof(args), "run %s", bad[i].args);
		rc_run = cli(args, &out, &run_err);
		free(out);
		cr_expect_eq(rc_rec, 2, "record %s: exit %d: %s", bad[i].args, rc_rec, rec_err);
		cr_expect_eq(rc_run, 2, "run %s: exit %d: %s", bad[i].args, rc_run, run_err);
		cr_expect(strstr(rec_err, bad[i].in_err), "record %s: stderr lacks '%s': %s",
			  bad[i].args, bad[i].in_err, rec_err);
		want = as_run(rec_err);
		cr_expect_str_eq(run_err, want, "'%s': record and run say different things",
				 bad[i].args);
		free(want);
		free(rec_err);
		free(run_err);
	}
}

/* The policy options are one table too: run and replay reject the same values alike. */
Test(cli, run_and_replay_reject_the_same_policy_values)
{
	static const char *const bad[] = {
		"--policy nearest", "--interval 0",   "--rate -1",	 "--min-share 40",
		"--min-heat 0",	    "--pingpong 0x",  "--watermark 100", "--max-pages 15",
		"--decay-shift 17", "--interval 1.5",
	};
	char args[512], *out, *run_err, *replay_err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc_run, rc_replay;
		const char *a, *b;

		snprintf(args, sizeof(args), "run %s", bad[i]);
		rc_run = cli(args, &out, &run_err);
		free(out);
		snprintf(args, sizeof(args), "replay %s " IBSP_FIXTURE_DIR "/example-2s-cxl.data",
			 bad[i]);
		rc_replay = cli(args, &out, &replay_err);
		free(out);
		cr_expect_eq(rc_run, 2, "run %s: exit %d: %s", bad[i], rc_run, run_err);
		cr_expect_eq(rc_replay, 2, "replay %s: exit %d: %s", bad[i], rc_replay, replay_err);
		/* the same words after the command's name, on the first line; then each
		 * command's own --help hint */
		a = strstr(run_err, "run: ");
		b = strstr(replay_err, "replay: ");
		cr_assert(a && b, "%s: %s / %s", bad[i], run_err, replay_err);
		cr_expect_eq(strcspn(a + 5, "\n"), strcspn(b + 8, "\n"), "'%s': %s / %s", bad[i],
			     run_err, replay_err);
		cr_expect(!strncmp(a + 5, b + 8, strcspn(a + 5, "\n")),
			  "'%s': run and replay say different things", bad[i]);
		cr_expect(strstr(run_err, "see 'ibs-promote run --help'") &&
			      strstr(replay_err, "see 'ibs-promote replay --help'"),
			  "'%s': no --help hint: %s / %s", bad[i], run_err, replay_err);
		free(run_err);
		free(replay_err);
	}
}

/* The same good sampling options (short ones included) are accepted by both. */
Test(cli, record_and_run_accept_the_same_sampling_values)
{
	static const char opts[] = "--sampler=soft -a -d 0.3 -c 0x1 --mmap-pages 8 "
				   "--drain-ms 20 --wakeup-bytes 4096";
	char args[512], *out, *err;
	int rc;

	snprintf(args, sizeof(args), "record -o %s %s", tmp_path("good.data"), opts);
	rc = cli(args, &out, &err);
	if (rc == 1 && perf_open_refused(err))
		cr_skip_test("this machine refuses software perf events: %s", err);
	cr_expect_eq(rc, 0, "record %s: exit %d: %s", opts, rc, err);
	cr_expect(strstr(err, "samples ("), "no summary line: %s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "run --dry-run %s", opts);
	rc = cli(args, &out, &err);
	cr_expect_eq(rc, 0, "run %s: exit %d: %s", opts, rc, err);
	cr_expect(strstr(err, "ibs-promote run: duration:"), "run did not end at -d: %s", err);
	free(out);
	free(err);
}
