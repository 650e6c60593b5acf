// SPDX-License-Identifier: MIT
/*
 * Issue 13's cases, through the ibs-promote command: files that are never
 * clobbered (temporary file renamed once sampling starts, FILE.old, no
 * symbolic links, -o - and '-' inputs, write errors), honest outputs (data
 * alone on stdout, CMD's exit status, a replay stopped by SIGINT, empty
 * results explained), command-line errors (exit 2, the option and value
 * named, -vv, -q, options that do not apply), and hostile recordings (node
 * ids past int16, a repeated NUMA_TOPOLOGY or HOSTNAME in a pipe stream).
 * Recording cases use the soft sampler, which needs no PMU.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define EX FIXTURE("example-2s-cxl.data")

extern char **environ;

/* Run ibs-promote with @args (a shell line), bounded; exit status, stdout and stderr. */
static int cli(const char *args, char **out, char **err)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "timeout -s INT 30 " IBSP_CLI " %s", args);
	return run_cmd(cmd, out, err);
}

/* A shell line with ibs-promote as $B. */
static int sh(const char *line, char **out, char **err)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "B=" IBSP_CLI "; { %s; }", line);
	return run_cmd(cmd, out, err);
}

static void expect_rc_err(const char *args, int rc, const char *const *needles)
{
	char *out, *err;
	int got = cli(args, &out, &err);

	cr_expect_eq(got, rc, "'%s': exit %d, want %d; stderr: %s", args, got, rc, err);
	for (; *needles; needles++)
		cr_expect(strstr(err, *needles), "'%s': stderr lacks '%s': %s", args, *needles,
			  err);
	free(out);
	free(err);
}

#define EXPECT(args, rc, ...) expect_rc_err(args, rc, (const char *const[]){ __VA_ARGS__, NULL })

static char *read_text(const char *path)
{
	size_t len;
	uint8_t *b = slurp(path, &len);
	char *s = realloc(b, len + 1);

	cr_assert(s);
	s[len] = '\0';
	return s;
}

/* Files in @dir whose names start with @prefix (the temporary files left behind). */
static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert(d, "%s", dir);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

/* A fresh directory under the test's temp dir. */
static const char *fresh_dir(const char *name)
{
	const char *d = tmp_path(name);

	rm_tree(d);
	cr_assert_eq(mkdir(d, 0755), 0, "%s: %s", d, strerror(errno));
	return d;
}

/* --- Lost data ---------------------------------------------------------------------------- */

Test(robust, record_of_a_command_that_cannot_run_keeps_the_file)
{
	const char *dir = fresh_dir("keep");
	char path[512], args[1024], *out, *err;
	struct stat st;

	snprintf(path, sizeof(path), "%s/keep.data", dir);
	spit(path, "precious\n", 9);
	snprintf(args, sizeof(args), "record --sampler=soft -o %s -- /nonexistent/cmd", path);
	cr_expect_eq(cli(args, &out, &err), 1, "%s", err);
	cr_expect(strstr(err, "cannot run '/nonexistent/cmd'"), "%s", err);
	cr_expect(strstr(err, "keep.data is as it was"), "%s", err);
	free(out);
	free(err);
	char *text = read_text(path);

	cr_expect_str_eq(text, "precious\n");
	free(text);
	snprintf(args, sizeof(args), "%s.old", path);
	cr_expect_neq(stat(args, &st), 0, "%s.old made for a run that never started", path);
	cr_expect_eq(count_prefixed(dir, ".keep.data."), 0, "a temporary file was left in %s", dir);
}

Test(robust, record_keeps_the_previous_file_as_old)
{
	const char *dir = fresh_dir("old");
	char path[512], old[600], args[1024], *out, *err, *text;

	snprintf(path, sizeof(path), "%s/rec.data", dir);
	snprintf(old, sizeof(old), "%s.old", path);
	spit(path, "previous\n", 9);
	snprintf(args, sizeof(args), "record --sampler=soft -o %s -- true", path);
	cr_assert_eq(cli(args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	text = read_text(old);
	cr_expect_str_eq(text, "previous\n");
	free(text);
	snprintf(args, sizeof(args), "info %s", path);
	cr_expect_eq(cli(args, &out, &err), 0, "the new recording is unreadable: %s", err);
	cr_expect(strstr(out, "samples:"), "%s", out);
	free(out);
	free(err);
	cr_expect_eq(count_prefixed(dir, ".rec.data."), 0);
}

/* record -o, run --record, run --json, replay --json and --decisions: never through a link. */
Test(robust, no_output_is_written_through_a_symbolic_link)
{
	static const char *const cmds[][2] = {
		{ "record --sampler=soft -o ", " -- true" },
		{ "run --sampler=soft --dry-run -d 0.2 --record ", "" },
		{ "run --sampler=soft --dry-run -d 0.2 --json ", "" },
		{ "replay --no-progress --json ", " " EX },
		{ "replay --no-progress --decisions ", " " EX },
	};
	const char *dir = fresh_dir("links");
	char link[512], target[512], args[1024], want[600];
	struct stat st;

	snprintf(link, sizeof(link), "%s/out", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(want, sizeof(want), "%s: a symbolic link; refusing to write through it", link);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(args, sizeof(args), "%s%s%s", cmds[i][0], link, cmds[i][1]);
		EXPECT(args, 2, want, "--help");
		cr_expect_neq(stat(target, &st), 0, "'%s' wrote through the link", args);
	}
}

/* record -o - streams pipe-mode perf.data; '-' reads it back; no file named '-'. */
Test(robust, record_to_stdout_pipes_into_info_and_replay)
{
	const char *dir = fresh_dir("pipe");
	char line[1024], dash[512], *out, *err;
	struct stat st;

	snprintf(line, sizeof(line),
		 "cd %s && $B record --sampler=soft -o - -- true | $B info --json -", dir);
	cr_assert_eq(sh(line, &out, &err), 0, "%s", err);
	json_t *j = json_loads(out, 0, NULL);

	cr_assert(j, "info --json - did not print JSON: %s", out);
	cr_expect_str_eq(json_string_value(json_object_get(j, "file")), "-");
	cr_expect_gt(json_integer_value(json_object_get(j, "samples")), 0, "%s", out);
	cr_expect_eq(json_integer_value(json_object_get(j, "data_offset")), 16, "not pipe mode");
	cr_expect_geq(json_array_size(json_object_get(j, "nodes")), 1, "no topology: %s", out);
	json_decref(j);
	free(out);
	free(err);
	snprintf(dash, sizeof(dash), "%s/-", dir);
	cr_expect_neq(stat(dash, &st), 0, "record -o - created a file named '-'");
	/* replay - reads the same stream (the text summary names it '-') */
	snprintf(line, sizeof(line), "cd %s && $B record --sampler=soft -o - -- true | $B replay -",
		 dir);
	cr_assert_eq(sh(line, &out, &err), 0, "%s", err);
	cr_expect(!strncmp(out, "replay -: ", 10), "%s", out);
	free(out);
	free(err);
}

/* A file on stdin reads the same as by name. */
Test(robust, dash_input_reads_stdin)
{
	char *a, *b, *err;

	cr_assert_eq(cli("dump --limit 50 " EX, &a, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(sh("$B dump --limit 50 - < " EX, &b, &err), 0, "%s", err);
	free(err);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
	cr_assert_eq(sh("cat " EX " | $B replay --no-progress -", &a, &err), 0, "%s", err);
	cr_expect(strstr(a, "replay -: 36000 samples"), "%s", a);
	free(a);
	free(err);
	EXPECT("info - < /dev/null", 1, "too short for a perf.data header");
}

/* A write error is a message and a non-zero exit, never silence. */
Test(robust, a_full_stdout_is_an_error)
{
	static const char *const lines[] = {
		"$B replay --no-progress --evaluate " EX " >/dev/full",
		"$B info " EX " >/dev/full",
		"$B probe >/dev/full",
		"$B dump " EX " >/dev/full",
		"$B replay --no-progress --decisions - " EX " >/dev/full",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char *out, *err;
		int rc = sh(lines[i], &out, &err);

		cr_expect_eq(rc, 1, "'%s': exit %d: %s", lines[i], rc, err);
		cr_expect(strstr(err, "No space left on device"), "'%s': %s", lines[i], err);
		free(out);
		free(err);
	}
	EXPECT("replay --no-progress --json /dev/full " EX, 1,
	       "--json /dev/full: No space left on device");
	EXPECT("record --sampler=soft -o /dev/full -- true", 1,
	       "/dev/full: write failed: No space left on device");
}

/*
 * A disk that fills while recording (RLIMIT_FSIZE: EFBIG, like ENOSPC): a message, exit 1, and
 * the file reads up to its last whole record (the cut one ends it, with a warning).
 */
Test(robust, a_write_error_leaves_every_whole_record_readable)
{
	const char *path = tmp_path("full.data");
	char line[1024], *out, *err;

	snprintf(line, sizeof(line),
		 "trap '' XFSZ; ulimit -f 40; $B record --sampler=soft -o %s -- " IBSP_FAULTER
		 " 400",
		 path);
	cr_assert_eq(sh(line, &out, &err), 1, "%s", err);
	/* The limit is met by a data write, or, when one drain took every record (the drain
	 * period follows the record rate), by the closing header and feature sections. */
	cr_expect((strstr(err, "write failed at offset") ||
		   strstr(err, "cannot write the feature sections or header")) &&
		      strstr(err, "File too large"),
		  "%s", err);
	cr_expect(strstr(err, "the file is incomplete"), "%s", err);
	free(out);
	free(err);
	/* the limit may fall between two records: then cut 3 more bytes, into the last one */
	for (bool cut_seen = false, cut = false; !cut_seen; cut = true) {
		struct stat st;

		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(truncate(path, st.st_size - (cut ? 3 : 0)), 0);
		snprintf(line, sizeof(line), "info --json %s", path);
		cr_assert_eq(cli(line, &out, &err), 0, "%s", err);
		cr_expect(strstr(err, "data size is 0 (was the recording terminated properly?)"),
			  "%s", err);
		cut_seen = strstr(err, "the last record is cut off by the end of the file");
		cr_assert(cut_seen || !cut, "a record cut in half was not reported: %s", err);
		json_t *j = json_loads(out, 0, NULL);

		cr_assert(j, "%s", out);
		cr_expect_gt(json_integer_value(json_object_get(j, "samples")), 100, "%s", out);
		json_decref(j);
		free(out);
		free(err);
	}
}

/* --- Wrong results -------------------------------------------------------------------------- */

/* replay --help's example: stdout carries the JSON Lines only (the summary goes to stderr). */
Test(robust, decisions_on_stdout_are_json_lines_only)
{
	char *out, *err;

	cr_assert_eq(sh("$B replay --policy=fixed-node:0 --decisions - " EX " | python3 -c '"
			"import json, sys\n"
			"n = 0\n"
			"for line in sys.stdin:\n"
			"    d = json.loads(line); n += 1; assert [d[\"src\"], d[\"dst\"]]\n"
			"print(n)'",
			&out, &err),
		     0, "%s", err);
	cr_expect_gt(atoi(out), 0, "no decisions: %s", out);
	cr_expect(strstr(err, "replay " EX ": 36000 samples"), "summary not on stderr: %s", err);
	free(out);
	free(err);
	cr_assert_eq(cli("replay --no-progress --json - " EX, &out, &err), 0, "%s", err);
	json_t *j = json_loads(out, 0, NULL);

	cr_expect(j, "stdout is not one JSON document: %.200s", out);
	json_decref(j);
	free(out);
	free(err);
}

Test(robust, record_exits_with_the_command_status)
{
	const char *path = tmp_path("status.data");
	char args[1024], *out, *err;

	snprintf(args, sizeof(args), "record --sampler=soft -o %s -- sh -c 'exit 3'", path);
	cr_expect_eq(cli(args, &out, &err), 3, "%s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "record --sampler=soft -o %s -- sh -c 'kill -TERM $$'", path);
	cr_expect_eq(cli(args, &out, &err), 128 + SIGTERM, "%s", err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "record --sampler=soft -o %s -- true", path);
	cr_expect_eq(cli(args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
}

/*
 * SIGINT while replay writes --decisions to a reader that does not read: the
 * replay stops at the next decision with the figures reached, consistent with
 * each other, and complete:false. The pipe is shrunk to one page before the
 * writer opens it, so the replay is blocked in a write when the signal comes.
 */
Test(robust, replay_stopped_by_sigint_reports_consistent_figures)
{
	const char *fifo = tmp_path("dec.fifo"), *json = tmp_path("stopped.json");
	char *argv[] = { IBSP_CLI,     "replay",      "--no-progress", "--min-heat", "1", "--json",
			 (char *)json, "--decisions", (char *)fifo,    EX,	     NULL };
	char buf[4096], *text;
	pid_t pid;
	int fd, st;

	unlink(fifo);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(fd, 0);
	cr_assert_geq(fcntl(fd, F_SETPIPE_SZ, 4096), 4096);
	cr_assert_eq(posix_spawn(&pid, IBSP_CLI, NULL, NULL, argv, environ), 0);
	/* 45 kB of decisions: wait until the one-page pipe is full (the handler is set by then) */
	for (int n = 0, tries = 0; n < 4096; tries++) {
		cr_assert_lt(tries, 3000, "the replay never filled the pipe");
		cr_assert_eq(ioctl(fd, FIONREAD, &n), 0);
		usleep(10000);
	}
	cr_assert_eq(kill(pid, SIGINT), 0);
	fcntl(fd, F_SETFL, 0);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGINT, "status %#x", st);
	text = read_text(json);
	json_t *j = json_loads(text, 0, NULL), *p;
	json_int_t pages = 0;
	size_t i;

	cr_assert(j, "%s", text);
	cr_expect(json_is_false(json_object_get(j, "complete")));
	json_array_foreach(json_object_get(j, "promotions"), i, p) pages +=
	    json_integer_value(json_object_get(p, "pages"));
	cr_expect_gt(pages, 0);
	cr_expect_lt(json_integer_value(json_object_get(j, "samples")), 36000, "not stopped");
	cr_expect_gt(json_integer_value(json_object_get(j, "samples")), 0);
	cr_expect_eq(json_integer_value(json_object_get(j, "planned_pages")), pages,
		     "planned_pages disagrees with the promotions: %s", text);
	cr_expect_gt(
	    json_integer_value(json_object_get(json_object_get(j, "heat"), "pages_tracked")), 0,
	    "the heat table reads empty next to %lld promotions", (long long)pages);
	json_decref(j);
	free(text);
}

/* --- Unclear errors ------------------------------------------------------------------------- */

Test(robust, rejections_name_the_option_and_value_and_exit_2)
{
	const char *o = tmp_path("never.data");
	char a[1024];

	snprintf(a, sizeof(a), "record -o %s --period 0 -a", o);
	EXPECT(a, 2, "record: --period: '0' is not a whole number in [1, 4294967295]\n",
	       "see 'ibs-promote record --help'");
	snprintf(a, sizeof(a), "record -o %s --wakeup-bytes 0 -a", o);
	EXPECT(a, 2, "--wakeup-bytes: '0' is not a whole number", "--help");
	EXPECT("dump --limit 99999999999999999999 " EX, 2,
	       "dump: --limit: '99999999999999999999' is not a whole number", "--help");
	EXPECT("run --cgroup /tmp", 2, "--cgroup: '/tmp' is not a cgroup v2 directory", "--help");
	EXPECT("run --cgroup /nonexistent", 2, "--cgroup: '/nonexistent': No such file");
	EXPECT("info /tmp", 1, "/tmp: is a directory");
	EXPECT("replay --top-tier 5 " EX, 2, "node 5", "--top-tier", "--help");
	EXPECT("replay --policy fixed-node:9 " EX, 2, "node 9", "--help");
	EXPECT("replay --evaluate --baseline-node 7 " EX, 2, "node 7", "--help");
	EXPECT("replay --baseline-node 1 " EX, 2, "--baseline-node 1: applies to --evaluate only",
	       "--help");
	snprintf(a, sizeof(a), "record -o %s --sampler=soft --ldlat 50 -- true", o);
	EXPECT(a, 2, "--ldlat applies to --sampler=pebs only, and the sampler is soft", "--help");
	EXPECT("run --sampler=soft --l3-miss", 2, "--l3-miss applies to --sampler=ibs only");
	EXPECT("run --sampler=soft --scan-ms 500", 2, "--scan-ms applies to --sampler=hint only");
}

Test(robust, missing_and_extra_arguments_are_named)
{
	EXPECT("info", 2, "info: missing the FILE argument\nUsage: ibs-promote info", "--help");
	EXPECT("info a b", 2, "info: unexpected argument 'b'");
	EXPECT("dump", 2, "dump: missing the FILE argument");
	EXPECT("dump a b", 2, "dump: unexpected argument 'b'");
	EXPECT("replay", 2, "replay: missing the FILE argument");
	EXPECT("replay a b", 2, "replay: unexpected argument 'b'");
	EXPECT("run extra", 2, "run: unexpected argument 'extra'");
	EXPECT("probe extra", 2, "probe: unexpected argument 'extra'");
	EXPECT("--bogus", 2, "unknown option '--bogus'", "see 'ibs-promote --help'");
}

Test(robust, verbose_repeats_and_quiet_silences_warnings)
{
	const char *o = tmp_path("quiet.data");
	char a[1024], *out, *err;
	int rc_plain, rc;

	rc_plain = cli("probe", &out, &err);
	free(out);
	free(err);
	rc = cli("-vv probe", &out, &err);
	cr_expect_eq(rc, rc_plain, "-vv probe exited %d, probe %d: %s", rc, rc_plain, err);
	free(out);
	free(err);
	rc = cli("-vvv --verbose probe", &out, &err);
	cr_expect_eq(rc, rc_plain, "%s", err);
	free(out);
	free(err);
	snprintf(a, sizeof(a), "record --sampler=soft -o %s -- true", o);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(strstr(err, "the soft sampler is coarse"), "%s", err);
	free(out);
	free(err);
	snprintf(a, sizeof(a), "-q record --sampler=soft -o %s -- true", o);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(!strstr(err, "coarse"), "-q left a warning: %s", err);
	free(out);
	free(err);
}

Test(robust, every_help_lists_the_exit_codes)
{
	static const char *const cmds[] = { "info", "dump", "probe", "record", "replay", "run" };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char a[64], *out, *err;

		snprintf(a, sizeof(a), "%s --help", cmds[i]);
		cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
		cr_expect(strstr(out, "Exit status:") && strstr(out, "2 bad command line"),
			  "%s --help lacks the exit codes: %s", cmds[i], out);
		free(out);
		free(err);
	}
}

/* --- Hostile recordings --------------------------------------------------------------------- */

/* Feature @bit's section in a file-mode perf.data: offset and size, or 0. */
static uint64_t feature_section(const uint8_t *b, unsigned int bit, uint64_t *size)
{
	uint64_t doff, dsize, bits[4], idx;
	unsigned int n = 0;

	memcpy(&doff, b + 40, 8);
	memcpy(&dsize, b + 48, 8);
	memcpy(bits, b + 72, 32);
	idx = doff + dsize;
	for (unsigned int k = 0; k < 256; k++) {
		if (!(bits[k / 64] >> (k % 64) & 1))
			continue;
		if (k == bit) {
			uint64_t off;

			memcpy(&off, b + idx + 16 * n, 8);
			memcpy(size, b + idx + 16 * n + 8, 8);
			return off;
		}
		n++;
	}
	return 0;
}

/* Rename node @from to @to in NUMA_TOPOLOGY, MEM_TOPOLOGY and IBSP_TOPOLOGY. */
static void rename_node(uint8_t *b, uint32_t from, uint32_t to)
{
	uint64_t size, o = feature_section(b, 14, &size), p, nr64, v64;
	uint32_t nr, id, len;

	cr_assert(o);
	memcpy(&nr, b + o, 4);
	p = o + 4;
	for (uint32_t i = 0; i < nr; i++) {
		memcpy(&id, b + p, 4);
		if (id == from)
			memcpy(b + p, &to, 4);
		memcpy(&len, b + p + 20, 4);
		p += 24 + len;
	}
	o = feature_section(b, 22, &size);
	cr_assert(o);
	memcpy(&nr64, b + o + 16, 8);
	p = o + 24;
	for (uint64_t i = 0; i < nr64; i++) {
		uint64_t bits;

		memcpy(&v64, b + p, 8);
		if (v64 == from) {
			v64 = to;
			memcpy(b + p, &v64, 8);
		}
		memcpy(&bits, b + p + 8, 8);
		p += 24 + 8 * ((bits + 63) / 64);
	}
	o = feature_section(b, 192, &size);
	cr_assert(o);
	memcpy(&nr, b + o + 4, 4);
	for (uint32_t i = 0; i < nr; i++) {
		memcpy(&id, b + o + 12 + 4 * i, 4);
		if (id == from)
			memcpy(b + o + 12 + 4 * i, &to, 4);
	}
}

/* A node id that an int16_t cannot hold is carried through: decisions and summary say 40001. */
Test(robust, node_ids_past_int16_are_carried_through)
{
	size_t len;
	uint8_t *b = slurp(EX, &len);
	const char *path = tmp_path("node40001.data"), *dec = tmp_path("node40001.dec");
	char a[1024], *out, *err, *text;

	rename_node(b, 1, 40001);
	spit(path, b, len);
	free(b);
	snprintf(a, sizeof(a), "replay --no-progress --json - --decisions %s %s", dec, path);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(strstr(out, "\"dst\": 40001"), "summary lacks node 40001: %.400s", out);
	cr_expect(!strstr(out, "\"dst\": -"), "a negative node: %.400s", out);
	free(out);
	free(err);
	text = read_text(dec);
	cr_expect(strstr(text, "\"dst\":40001"), "decisions lack node 40001");
	cr_expect(!strstr(text, "\"dst\":-") && !strstr(text, "\"src\":-"), "a negative node");
	free(text);
}

/* pf-pipe.data with one record copied in at @at (before the record at that offset). */
static const char *pipe_with_copy(const char *name, size_t rec_off, size_t at, char patch)
{
	size_t len;
	uint8_t *b = slurp(FIXTURE("pf-pipe.data"), &len), *nb;
	uint16_t rsz;
	const char *path = tmp_path(name);

	memcpy(&rsz, b + rec_off + 6, 2);
	nb = malloc(len + rsz);
	cr_assert(nb);
	memcpy(nb, b, at);
	memcpy(nb + at, b + rec_off, rsz);
	if (patch) /* the copy's first payload byte after feat_id and the string's length */
		nb[at + 20] = patch;
	memcpy(nb + at + rsz, b + at, len - at);
	spit(path, nb, len + rsz);
	free(b);
	free(nb);
	return path;
}

/* Record offsets in pf-pipe.data: HOSTNAME at 320 (84 bytes), NUMA_TOPOLOGY at 2760, MEM_TOPOLOGY
 * at 3280 (96 bytes), the first record after the features at 3376. */
Test(robust, a_repeated_numa_topology_is_rejected)
{
	const char *path = pipe_with_copy("numa2.data", 2760, 3376, 0);
	char a[1024];

	snprintf(a, sizeof(a), "dump %s", path);
	EXPECT(a, 1, path,
	       "offset 0xd38: HEADER_FEATURE: field 'feat_id' = 14 (NUMA_TOPOLOGY) repeats the "
	       "feature record at offset 0xac8");
	snprintf(a, sizeof(a), "replay %s", path);
	EXPECT(a, 1, "NUMA_TOPOLOGY");
}

/*
 * A repeated HOSTNAME is refused like any repeated feature record (perf
 * writes each once), naming both offsets; no leak either way (LeakSanitizer
 * in CI's ASan run).
 */
Test(robust, a_repeated_hostname_is_rejected)
{
	const char *path = pipe_with_copy("host2.data", 320, 404, 'W');
	char a[1024];

	snprintf(a, sizeof(a), "info %s", path);
	EXPECT(a, 1, path,
	       "offset 0x19c: HEADER_FEATURE: field 'feat_id' = 3 (HOSTNAME) repeats the feature "
	       "record at offset 0x140");
}

/*
 * A writer that leaves out PMU_MAPPINGS: ibs_op's dynamic perf type (11 in
 * the example) is then told by the event's name ("ibs_op//", EVENT_DESC),
 * and the replay's figures are those of the whole recording. Without the
 * name either, or with another PMU's, the RAW registers cannot be read, and
 * a warning says why the result is empty rather than a silent 0%.
 */
Test(robust, ibs_is_told_by_event_name_without_pmu_mappings)
{
	static const char mapping[] = "\x0b\0\0\0\x40\0\0\0ibs_op"; /* type 11, "ibs_op" */
	const char *path = tmp_path("nopmu.data"), *path2 = tmp_path("noname.data");
	size_t len;
	uint8_t *b = slurp(EX, &len), *p, *name;
	char a[1024], *out, *err, *want;

	p = memmem(b, len, mapping, sizeof(mapping) - 1);
	cr_assert(p, "the example's PMU_MAPPINGS entry for type 11");
	p[0] = 99; /* the mapping now names another type: type 11 has none */
	spit(path, b, len);
	snprintf(a, sizeof(a), "replay --no-progress %s", EX);
	cr_assert_eq(cli(a, &want, &err), 0, "%s", err);
	free(err);
	snprintf(a, sizeof(a), "replay --no-progress %s", path);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect_str_eq(strchr(out, '\n'), strchr(want, '\n'), "the same replay as the example");
	cr_expect(strstr(out, "total               302"), "%s", out);
	free(out);
	free(err);
	free(want);

	name = memmem(b, len, "ibs_op//", 8);
	cr_assert(name, "the example's EVENT_DESC name");
	memcpy(name, "ibs-op--", 8); /* no PMU/terms/ form */
	spit(path2, b, len);
	snprintf(a, sizeof(a), "replay --no-progress %s", path2);
	EXPECT(a, 0, path2,
	       "event 0 'ibs-op--' (perf type 11, PMU unknown: no PMU_MAPPINGS feature, none in "
	       "the event name): not a PMU whose RAW data ibs-promote decodes");
	memcpy(name, "xyz_op//", 8); /* a PMU by name, not one we decode */
	spit(path2, b, len);
	EXPECT(a, 0, path2, "event 0 'xyz_op//' (perf type 11, PMU xyz_op): not a PMU");
	free(b);
}

/*
 * Drop feature @bit from a file-mode perf.data in @b: clear its bit in the
 * header's bitmap (offset 72) and remove its entry from the section table
 * after the data section (one 16-byte entry per set bit, in bit order).
 */
static void drop_feature(uint8_t *b, size_t len, unsigned int bit)
{
	uint64_t data_off, data_size, words[4];
	uint8_t *table;
	unsigned int k = 0;

	memcpy(&data_off, b + 40, 8);
	memcpy(&data_size, b + 48, 8);
	memcpy(words, b + 72, 32);
	cr_assert(words[bit / 64] >> (bit % 64) & 1, "feature %u is there", bit);
	table = b + data_off + data_size;
	for (unsigned int f = 0; f < bit; f++)
		k += words[f / 64] >> (f % 64) & 1;
	cr_assert_leq((size_t)(table - b) + 16 * (k + 1), len);
	for (unsigned int f = bit + 1, j = k; f < 256; f++) {
		if (words[f / 64] >> (f % 64) & 1) {
			memmove(table + 16 * j, table + 16 * (j + 1), 16);
			j++;
		}
	}
	words[bit / 64] &= ~(1ULL << (bit % 64));
	memcpy(b + 72, words, 32);
}

/* Without NUMA_TOPOLOGY no sample's CPU has a node: refused, naming the file and the feature. */
Test(robust, a_recording_without_numa_topology_is_refused_with_the_reason)
{
	const char *path = tmp_path("nonuma.data");
	size_t len;
	uint8_t *b = slurp(EX, &len);
	char a[1024];

	drop_feature(b, len, 14); /* HEADER_NUMA_TOPOLOGY */
	spit(path, b, len);
	free(b);
	snprintf(a, sizeof(a), "info %s", path);
	EXPECT(a, 0, "");
	snprintf(a, sizeof(a), "replay --no-progress %s", path);
	EXPECT(a, 1, path, "no node of the recording has CPUs (no NUMA_TOPOLOGY feature");
}

/* --- Zeros without a reason ----------------------------------------------------------------- */

Test(robust, a_recording_without_cpu_field_says_why_it_is_empty)
{
	const char *path = tmp_path("stock.data");
	char a[1024], *out, *err;

	if (!perf_path())
		cr_skip_test("perf is not installed: no stock perf.data can be made");
	snprintf(a, sizeof(a), "%s record -q -e page-faults -d -o %s -- true", perf_path(), path);
	if (run_cmd(a, &out, &err)) {
		cr_skip_test("perf record -e page-faults is not permitted here: %s", err);
	}
	free(out);
	free(err);
	snprintf(a, sizeof(a), "replay --no-progress --evaluate %s", path);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(strstr(err, "has a CPU field (PERF_SAMPLE_CPU)") &&
		      strstr(err, "every figure is 0"),
		  "%s", err);
	free(out);
	free(err);
}

/*
 * Every sample refused by the decoder (here: the bundled example with OpVal
 * cleared in every IbsOpCtl) is not "no samples": the message says how many
 * there were and the commonest reason.
 */
Test(robust, a_recording_of_undecodable_samples_says_so)
{
	const char *path = tmp_path("opval.data");
	size_t len, nr = 0;
	uint8_t *b = slurp(EX, &len);
	uint64_t off, size;
	char a[1024], *out, *err;

	memcpy(&off, b + 40, 8); /* perf_file_header.data */
	memcpy(&size, b + 48, 8);
	for (uint64_t p = off; p + 8 <= off + size && p + 8 <= len;) {
		uint32_t type;
		uint16_t rsz;

		memcpy(&type, b + p, 4);
		memcpy(&rsz, b + p + 6, 2);
		cr_assert_gt(rsz, 0);
		if (type == 9 && rsz == 120) { /* IBS sample: IbsOpCtl after 56 bytes */
			b[p + 56 + 2] &= (uint8_t) ~(1u << 2); /* OpVal, bit 18 */
			nr++;
		}
		p += rsz;
	}
	cr_assert_eq(nr, 36000, "patched %zu samples", nr);
	spit(path, b, len);
	free(b);
	snprintf(a, sizeof(a), "replay --no-progress %s", path);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(strstr(err, "none of the recording's 36000 samples could be decoded (most for "
			      "op_invalid: 36000"),
		  "%s", err);
	cr_expect(!strstr(err, "no samples in the recording"), "%s", err);
	free(out);
	free(err);
}

/* Samples without a physical address (perf mem record without --phys-data): no page has a node. */
Test(robust, a_recording_without_physical_addresses_says_so)
{
	const char *path = tmp_path("nophys.data");
	char a[1024], *out, *err;

	snprintf(a, sizeof(a), "%s -o %s --pebs --no-phys 1 --pages 300 --samples 6000", IBSP_GEN,
		 path);
	cr_assert_eq(run_cmd(a, &out, &err), 0, "%s: %s", a, err);
	free(out);
	free(err);
	snprintf(a, sizeof(a), "replay --no-progress %s", path);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(strstr(err, "none of the 6000 samples has a physical address") &&
		      strstr(err, "--phys-data"),
		  "%s", err);
	free(out);
	free(err);
}

Test(robust, one_node_and_no_samples_are_explained)
{
	size_t len;
	uint8_t *b = slurp(FIXTURE("pf-pipe.data"), &len);
	const char *path = tmp_path("nosamples.data");
	char a[1024], *out, *err;

	spit(path, b, 3376); /* the header records only */
	free(b);
	snprintf(a, sizeof(a), "replay --no-progress %s", path);
	cr_assert_eq(cli(a, &out, &err), 0, "%s", err);
	cr_expect(strstr(err, "no samples in the recording"), "%s", err);
	cr_expect(strstr(err, "1 NUMA node: promotion needs two"), "%s", err);
	free(out);
	free(err);
	/* run on this host: one node is said at the start */
	struct ibsp_topology *t;

	cr_assert_eq(ibsp_topology__from_host("/sys", &t), 0);
	cr_assert_eq(cli("run --sampler=soft --dry-run -d 0.2", &out, &err), 0, "%s", err);
	if (ibsp_topology__nr_nodes(t) == 1)
		cr_expect(strstr(err, "this host has 1 NUMA node: promotion needs two"), "%s", err);
	else
		cr_expect(!strstr(err, "promotion needs two"), "%s", err);
	free(out);
	free(err);
	ibsp_topology__delete(t);
}
