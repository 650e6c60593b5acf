// SPDX-License-Identifier: MIT
/*
 * The live pipeline on this machine, through the ibs-promote command:
 *  - probe reports what sysfs shows (here: no ibs_op, no PEBS, the soft
 *    sampler available) with its documented exit status;
 *  - record --sampler=soft captures a child workload's page faults: every
 *    sampled address lies inside the child's mappings and every CPU is online;
 *    the recording round-trips through dump and perf script reads it;
 *  - record is flushed (a complete, readable file) on SIGINT;
 *  - record --cgroup keeps the cgroup's tasks only (PERF_FLAG_PID_CGROUP);
 *  - --sampler=auto without IBS or PEBS fails with what it found and how to go on;
 *  - the live decoder routes each sample to its event by the sample id;
 *  - record -a -- CMD ends when CMD exits; a CMD that cannot run still leaves a
 *    finished file (record runs on the daemon's loop: engine/daemon);
 *  - --sampler=auto without IBS or PEBS fails with what it found and how to go on;
 *  - a drain hands out or counts lost every record written while the rings are
 *    read (libperf's rings and the cgroup capture's), against a counting event.
 * Live capture needs perf_event_open with physical addresses: tests that
 * cannot get it skip themselves and say why.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "ibsp/capture.h"
#include "ibsp/host.h"
#include "ibsp/sampler.h"

static int pmu_present(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s", name);
	return stat(path, &st) == 0;
}

/*
 * Run @argv in the background with stdout and stderr on /dev/null: argv[0]
 * "ibs-promote" runs the command under test, "faulter" the workload.
 */
static pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		die_with_test();
		dup2(devnull, 1);
		dup2(devnull, 2);
		execv(strcmp(argv[0], "faulter") ? IBSP_CLI : IBSP_FAULTER, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void need_live_capture(void)
{
	struct ibsp_host_caps caps;

	ibsp_host_caps__read("/sys", &caps);
	if (!ibsp_host_caps__may_sample_cpus(&caps))
		cr_skip_test("CPU-wide sampling needs root or CAP_PERFMON (perf_event_paranoid=%d)",
			     caps.perf_event_paranoid);
}

Test(live, probe_reports_this_host)
{
	char *out, *err;
	int rc = run_cmd(IBSP_CLI " probe --json", &out, &err);
	int ibs = pmu_present("ibs_op"), core = pmu_present("cpu") || pmu_present("cpu_core");
	struct ibsp_host_caps caps;

	ibsp_host_caps__read("/sys", &caps);
	cr_assert(strstr(out, "\"samplers\""), "probe --json printed: %s", out);
	if (!ibs) {
		cr_assert(strstr(out, "no ibs_op PMU"), "probe --json: %s", out);
	}
	if (!core || strcmp(caps.vendor, "GenuineIntel")) {
		cr_assert(strstr(out, "no precise memory event"), "probe --json: %s", out);
	}
	if (!ibs && (!core || strcmp(caps.vendor, "GenuineIntel"))) {
		/* no hardware sampler: 4 when the soft sampler works, 1 when nothing does */
		if (ibsp_host_caps__may_sample_cpus(&caps)) {
			cr_assert_eq(rc, 4, "probe exit status %d, stderr: %s", rc, err);
			cr_assert(strstr(out, "\"sampler\": \"soft\",\n      \"available\": true"),
				  "soft sampler not available: %s", out);
		} else {
			cr_assert_eq(rc, 1);
		}
	} else {
		cr_assert(rc == 0 || rc == 4, "probe exit status %d", rc);
	}
	free(out);
	free(err);

	rc = run_cmd(IBSP_CLI " probe", &out, &err);
	cr_assert(strstr(out, "samplers:") && strstr(out, "topology:") && strstr(out, "host:"),
		  "probe text: %s", out);
	cr_assert(strstr(out, "perf_event_paranoid"), "probe text: %s", out);
	free(out);
	free(err);
}

/* Ranges of a /proc/PID/maps copy. */
struct range {
	unsigned long long lo, hi;
};

static size_t read_maps(const char *path, struct range *r, size_t cap)
{
	size_t len, n = 0;
	char *text = (char *)slurp(path, &len), *line = text;

	while (line && *line && n < cap) {
		if (sscanf(line, "%llx-%llx", &r[n].lo, &r[n].hi) == 2)
			n++;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	free(text);
	return n;
}

static int online_cpu(int cpu)
{
	char path[128], buf[8];
	FILE *f;

	if (cpu == 0)
		return 1; /* cpu0 has no "online" file on x86 */
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] == '1';
}

/*
 * -c N on the soft sampler: one sample per N page faults, each with period
 * N. The kernel samples every software event whose sample_type has
 * PERF_SAMPLE_PERIOD, whatever the period, so -c 16 once gave as many
 * samples as -c 1.
 */
Test(live, soft_sampler_period_takes_effect)
{
	size_t n[2];
	const unsigned int period[2] = { 1, 16 };

	need_live_capture();
	for (int k = 0; k < 2; k++) {
		const char *data = tmp_path(k ? "c16.data" : "c1.data"), *maps = tmp_path("c.maps");
		char cmd[2048], *out, *err;
		struct ibsp_sample *s;
		int e, rc;

		snprintf(cmd, sizeof(cmd),
			 IBSP_CLI " record -o %s --sampler=soft -c %u -- " IBSP_FAULTER " 4096 %s",
			 data, period[k], maps);
		rc = run_cmd(cmd, &out, &err);
		if (rc && perf_open_refused(err))
			cr_skip_test("this machine refuses the page-fault event: %s", err);
		cr_assert_eq(rc, 0, "record -c %u failed (%d): %s", period[k], rc, err);
		free(out);
		free(err);
		n[k] = read_all_samples(data, &s, &e);
		cr_assert_eq(e, 0);
		for (size_t i = 0; i < n[k]; i++)
			cr_assert_eq(s[i].period, period[k], "-c %u: sample %zu has period %llu",
				     period[k], i, (unsigned long long)s[i].period);
		free(s);
	}
	/* 4096 pages x 2 threads + 4096 copy-on-write ones, and the loader's: ~12.5 k faults */
	cr_expect_geq(n[0], 3 * 4096, "-c 1: %zu samples", n[0]);
	cr_expect(n[1] * 12 <= n[0] && n[0] <= n[1] * 20,
		  "-c 16 gives about 1/16 of the samples of -c 1: %zu and %zu", n[1], n[0]);
}

Test(live, soft_sampler_captures_the_workload)
{
	const char *data = tmp_path("soft.data"), *maps = tmp_path("faulter.maps");
	char cmd[2048], *out, *err;
	struct range r[512];
	struct ibsp_sample *s;
	size_t n, nr, inside = 0;
	int e, rc;

	need_live_capture();
	snprintf(cmd, sizeof(cmd),
		 IBSP_CLI " record -o %s --sampler=soft -- " IBSP_FAULTER " 64 %s", data, maps);
	rc = run_cmd(cmd, &out, &err);
	if (rc && perf_open_refused(err))
		cr_skip_test("this machine refuses the page-fault event: %s", err);
	cr_assert_eq(rc, 0, "record failed (%d): %s", rc, err);
	cr_assert(strstr(err, "coarse"), "the soft sampler must say it is coarse: %s", err);
	free(out);
	free(err);

	nr = read_maps(maps, r, 512);
	cr_assert_gt(nr, 5);
	n = read_all_samples(data, &s, &e);
	cr_assert_eq(e, 0);
	/* 64 pages x 2 threads + 64 copy-on-write pages, plus the loader's and libc's faults */
	cr_assert_geq(n, 3 * 64, "only %zu samples", n);
	for (size_t i = 0; i < n; i++) {
		int in = 0;

		cr_assert_eq(s[i].kind, IBSP_SAMPLER_SOFT);
		cr_assert(s[i].flags & IBSP_S_CPU_VALID);
		cr_assert(online_cpu(s[i].cpu), "sample %zu on CPU %d, which is not online", i,
			  s[i].cpu);
		cr_assert(s[i].flags & IBSP_S_VADDR_VALID);
		for (size_t k = 0; k < nr && !in; k++)
			in = s[i].vaddr >= r[k].lo && s[i].vaddr < r[k].hi;
		cr_assert(in,
			  "sample %zu: address %#llx (pid %u) is outside the workload's mappings",
			  i, (unsigned long long)s[i].vaddr, s[i].pid);
		inside++;
	}
	cr_assert_eq(inside, n);

	/* record -> dump round trip: dump prints the same samples */
	snprintf(cmd, sizeof(cmd), IBSP_CLI " dump %s | wc -l", data);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0);
	cr_assert_eq(strtoull(out, NULL, 10), n, "dump printed %s lines, reader gave %zu", out, n);
	free(out);
	free(err);

	/* perf script reads the recording without a warning and shows the same samples */
	if (!perf_path())
		skip_part("perf is not installed (apt-get install linux-perf): the samples "
			  "were not compared with perf script");
	else {
		struct tuple *want, *got;
		size_t nw;

		snprintf(cmd, sizeof(cmd), "%s script -i %s -F cpu,tid,addr,phys_addr", perf_path(),
			 data);
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf script: %s", err);
		cr_assert_str_empty(err, "perf script warned: %s", err);
		nw = parse_perf_tuples(out, &want);
		samples_to_tuples(s, n, &got);
		cr_assert_eq(nw, n);
		for (size_t i = 0; i < n; i++)
			cr_assert(want[i].addr == got[i].addr && want[i].cpu == got[i].cpu &&
				      want[i].tid == got[i].tid && want[i].phys == got[i].phys,
				  "sample %zu differs from perf script", i);
		free(want);
		free(got);
		free(out);
		free(err);
	}
	free(s);
}

Test(live, record_is_flushed_on_sigint)
{
	const char *data = tmp_path("sigint.data");
	struct ibsp_perf_reader *r;
	struct timespec ts = { .tv_nsec = 600 * 1000 * 1000 };
	int status, e;
	struct ibsp_sample *s;
	size_t n;
	pid_t pid;

	need_live_capture();
	pid = spawn((const char *const[]){ "ibs-promote", "record", "-o", data, "-a",
					   "--sampler=soft", NULL });
	nanosleep(&ts, NULL);
	/* some page faults on the way: run a short workload */
	cr_assert_eq(system(IBSP_FAULTER " 16 > /dev/null"), 0);
	nanosleep(&ts, NULL);
	cr_assert_eq(kill(pid, SIGINT), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "record exited with %#x", status);

	/* a complete file: header data size set, features written, samples readable */
	log_capture_start();
	cr_assert_eq(ibsp_perf_reader__open(data, NULL, &r), 0, "%s", log_captured());
	cr_assert_str_empty(log_captured(), "reader warned: %s", log_captured());
	cr_assert(ibsp_perf_reader__info(r)->topo, "no NUMA topology in the recording");
	cr_assert(ibsp_perf_reader__info(r)->has_sample_time);
	ibsp_perf_reader__close(r);
	n = read_all_samples(data, &s, &e);
	cr_assert_eq(e, 0);
	cr_assert_geq(n, 48, "only %zu samples after a faulter run", n);
	free(s);

	/* tasks running before the recording are named: init's COMM was synthesized */
	{
		const struct perf_event_header *h;
		char want[32] = "", got[17] = "";
		FILE *f = fopen("/proc/1/comm", "r"); /* size 0 in stat: read it line-wise */
		int ret, found = 0;

		cr_assert(f && fgets(want, 16, f), "cannot read /proc/1/comm");
		fclose(f);
		want[strcspn(want, "\n")] = '\0';
		cr_assert_eq(ibsp_perf_reader__open(data, NULL, &r), 0);
		while (!found && (ret = ibsp_perf_reader__next_record(r, &h, NULL)) == 1) {
			uint32_t comm_pid;

			if (h->type != PERF_RECORD_COMM)
				continue;
			memcpy(&comm_pid, h + 1, 4);
			if (comm_pid != 1)
				continue;
			memcpy(got, (const char *)(h + 1) + 8, 16);
			found = 1;
		}
		ibsp_perf_reader__close(r);
		cr_assert(found, "no COMM record for pid 1");
		cr_assert_str_eq(got, want);
	}
}

Test(live, auto_without_hardware_sampler_says_how_to_go_on)
{
	struct ibsp_sampler_opts o = { .sz = sizeof(o) };
	struct ibsp_host_caps caps;
	char why[1024], cmd[512], *out, *err;
	int rc;

	ibsp_host_caps__read("/sys", &caps);
	if (ibsp_sampler__auto(&o, &caps, why, sizeof(why)) != IBSP_SAMPLER_NONE)
		cr_skip_test("this host has a hardware sampler; auto selection succeeds here");
	snprintf(cmd, sizeof(cmd), IBSP_CLI " record -o %s -a -d 1", tmp_path("auto.data"));
	rc = run_cmd(cmd, &out, &err);
	cr_assert_eq(rc, 4, "exit status %d, stderr: %s", rc, err);
	cr_assert(strstr(err, "IBS-op:") && strstr(err, "PEBS:"), "stderr: %s", err);
	cr_assert(strstr(err, "--sampler=soft") && strstr(err, "replay a recording"), "stderr: %s",
		  err);
	free(out);
	free(err);
}

Test(live, record_rejects_bad_command_lines)
{
	static const char *const bad[] = {
		"record -a",			      /* no -o */
		"record -o x.data",		      /* nothing to record */
		"record -o x.data -a --pid 1",	      /* two targets */
		"record -o x.data -a --sampler=nope", /* unknown sampler */
		"record -o x.data -a --mmap-pages 3", /* not a power of two */
		"record -o x.data -a --duration -1",
	};
	char cmd[512], *out, *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), IBSP_CLI " %s", bad[i]);
		cr_assert_eq(run_cmd(cmd, &out, &err), 2, "'%s' must exit 2; stderr: %s", bad[i],
			     err);
		cr_assert(strstr(err, "ibs-promote record:"), "'%s': %s", bad[i], err);
		free(out);
		free(err);
	}
}

Test(live, record_names_a_missing_pid)
{
	char cmd[512], *out, *err;
	int rc;

	need_live_capture();
	snprintf(cmd, sizeof(cmd), IBSP_CLI " record -o %s --sampler=soft --pid 999999999 -d 1",
		 tmp_path("nopid.data"));
	rc = run_cmd(cmd, &out, &err);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "pid 999999999"), "stderr: %s", err);
	free(out);
	free(err);
}

/* The cgroup v2 mount point, or NULL. */
static const char *cgroup2_root(void)
{
	static char root[256];
	char dev[64], dir[256], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return NULL;
	while (fscanf(f, "%63s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(root, sizeof(root), "%s", dir);
			fclose(f);
			return root;
		}
	}
	fclose(f);
	return NULL;
}

/*
 * A new cgroup v2 directory for this test, named ibsp-@name-PID, into @cg;
 * the test skips, saying why, where there is no hierarchy or no right to one.
 */
static void make_cgroup(char *cg, size_t len, const char *name)
{
	const char *root = cgroup2_root();

	if (!root)
		cr_skip_test("no cgroup v2 hierarchy is mounted");
	snprintf(cg, len, "%s/ibsp-%s-%d", root, name, (int)getpid());
	if (mkdir(cg, 0755))
		cr_skip_test("cannot create a cgroup under %s: %s", root, strerror(errno));
}

Test(live, cgroup_target_keeps_only_that_cgroup)
{
	const char *data = tmp_path("cgroup.data");
	char cg[512], cmd[2048], *out, *err;
	struct timespec ts = { .tv_nsec = 500 * 1000 * 1000 };
	struct ibsp_sample *s;
	pid_t rec, wl, outside;
	int status, e;
	size_t n;

	need_live_capture();
	make_cgroup(cg, sizeof(cg), "test");

	rec = spawn((const char *const[]){ "ibs-promote", "record", "-o", data, "--sampler=soft",
					   "--cgroup", cg, "-d", "3", NULL });
	nanosleep(&ts, NULL);
	/* the workload moves itself into the cgroup, then execs: only it may be recorded */
	snprintf(cmd, sizeof(cmd), "echo $$ > %s/cgroup.procs && exec %s 32 > %s", cg, IBSP_FAULTER,
		 tmp_path("cg-faulter.out"));
	wl = fork();
	cr_assert_geq(wl, 0);
	if (wl == 0) {
		die_with_test();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(wl, &status, 0), wl);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "workload failed: %#x", status);
	/* meanwhile, faults outside the cgroup that must not be recorded */
	outside = spawn((const char *const[]){ "faulter", "32", NULL });
	cr_assert_eq(waitpid(outside, &status, 0), outside);
	cr_assert_eq(waitpid(rec, &status, 0), rec);
	rmdir(cg);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "record exited %#x", status);

	n = read_all_samples(data, &s, &e);
	cr_assert_eq(e, 0);
	/* the workload (the sh that exec'd faulter) and its copy-on-write child, nothing else */
	uint32_t pids[2] = { (uint32_t)wl, 0 };
	size_t from_wl = 0;

	for (size_t i = 0; i < n; i++) {
		cr_assert_neq(s[i].pid, (uint32_t)outside, "sample %zu from the workload outside",
			      i);
		if (s[i].pid == pids[0]) {
			from_wl++;
			continue;
		}
		if (!pids[1])
			pids[1] = s[i].pid;
		cr_assert_eq(s[i].pid, pids[1], "sample %zu from a third pid %u", i, s[i].pid);
	}
	cr_assert_geq(from_wl, 64, "only %zu samples from the workload itself", from_wl);
	cr_assert_geq(n - from_wl, 32, "only %zu samples from its copy-on-write child",
		      n - from_wl);
	snprintf(cmd, sizeof(cmd), IBSP_CLI " info %s", data);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0);
	free(out);
	free(err);
	free(s);
}

/* A --pid target that exits ends the recording (its fds hang up): no busy loop, no flood. */
Test(live, pid_target_that_exits_ends_the_recording)
{
	const char *data = tmp_path("gone.data");
	const struct perf_event_header *h;
	struct ibsp_perf_reader *r;
	char cmd[512], *out, *err;
	uint64_t records = 0;
	pid_t sleeper;
	int ret;

	need_live_capture();
	sleeper = fork();
	cr_assert_geq(sleeper, 0);
	if (sleeper == 0) {
		die_with_test();
		execl("/bin/sleep", "sleep", "0.3", (char *)NULL);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), IBSP_CLI " record -o %s --sampler=soft --pid %d -d 20", data,
		 (int)sleeper);
	ret = run_cmd(cmd, &out, &err);
	waitpid(sleeper, NULL, 0);
	cr_assert_eq(ret, 0, "record: %s", err);
	cr_assert(!strstr(err, "in 20."), "record ran for its whole --duration: %s", err);
	cr_assert_eq(ibsp_perf_reader__open(data, NULL, &r), 0);
	while ((ret = ibsp_perf_reader__next_record(r, &h, NULL)) == 1)
		records++;
	cr_assert_eq(ret, 0);
	/* a spinning loop would have written a FINISHED_ROUND per wakeup: millions */
	cr_assert_lt(records, 1000, "%llu records for a sleeping process",
		     (unsigned long long)records);
	ibsp_perf_reader__close(r);
	free(out);
	free(err);
}

/* A failed open (here: a zombie has no mm to sample) is an error naming the pid, not a crash. */
Test(live, failed_open_names_the_pid)
{
	char cmd[512], *out, *err;
	pid_t parent, zombie;
	int fds[2], ret;

	need_live_capture();
	cr_assert_eq(pipe(fds), 0);
	parent = fork();
	cr_assert_geq(parent, 0);
	if (parent == 0) {
		/* a parent that never reaps its exited child */
		pid_t child;

		die_with_test();
		child = fork();

		if (child == 0)
			_exit(0);
		if (write(fds[1], &child, sizeof(child)) != sizeof(child))
			_exit(1);
		pause();
		_exit(0);
	}
	cr_assert_eq(read(fds[0], &zombie, sizeof(zombie)), (ssize_t)sizeof(zombie));
	usleep(100 * 1000);
	snprintf(cmd, sizeof(cmd), IBSP_CLI " record -o %s --sampler=soft --pid %d -d 1",
		 tmp_path("zombie.data"), (int)zombie);
	ret = run_cmd(cmd, &out, &err);
	kill(parent, SIGKILL);
	waitpid(parent, NULL, 0);
	cr_assert_eq(ret, 1, "exit %d (139 is a crash): %s", ret, err);
	cr_assert(strstr(err, "pid"), "stderr: %s", err);
	free(out);
	free(err);
}

/* A soft-fault sample in the ring layout of IDENTIFIER | ADDR. */
struct soft_rec {
	struct perf_event_header h;
	uint64_t id, addr;
};

static struct soft_rec soft_rec(uint64_t id, uint64_t addr)
{
	return (struct soft_rec){
		.h = { .type = PERF_RECORD_SAMPLE, .size = sizeof(struct soft_rec) },
		.id = id,
		.addr = addr,
	};
}

Test(live, decoder_routes_samples_by_id)
{
	uint64_t ids0[] = { 9, 5 }, ids1[] = { 3, 7, 11 };
	struct ibsp_event_desc ev[2] = { 0 };
	const struct ibsp_live_stats *st;
	struct ibsp_live_decoder *d;
	struct ibsp_sample s;

	for (int i = 0; i < 2; i++) {
		ev[i].attr.type = PERF_TYPE_SOFTWARE;
		ev[i].attr.config = PERF_COUNT_SW_PAGE_FAULTS;
		ev[i].attr.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_ADDR;
		ev[i].attr.sample_period = 100 + i;
		ev[i].kind = IBSP_SAMPLER_SOFT;
	}
	ev[0].ids = ids0;
	ev[0].nr_ids = 2;
	ev[1].ids = ids1;
	ev[1].nr_ids = 3;
	d = ibsp_live_decoder__new(ev, 2, 25, 17);
	cr_assert_not_null(d);

	uint64_t want[][2] = { { 9, 0 }, { 3, 1 }, { 5, 0 }, { 11, 1 }, { 7, 1 } };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct soft_rec r = soft_rec(want[i][0], 0x1000 * (i + 1));

		cr_assert_eq(ibsp_live_decoder__decode(d, &r.h, &s), 1, "id %lu",
			     (unsigned long)want[i][0]);
		cr_assert_eq(s.event_idx, want[i][1], "id %lu went to event %u",
			     (unsigned long)want[i][0], s.event_idx);
		cr_assert_eq(s.period, 100 + want[i][1]);
		cr_assert_eq(s.vaddr, 0x1000 * (i + 1));
	}
	struct soft_rec stray = soft_rec(4, 0x1000);
	cr_assert_eq(ibsp_live_decoder__decode(d, &stray.h, &s), 0);
	st = ibsp_live_decoder__stats(d);
	cr_assert_eq(st->samples, 6);
	cr_assert_eq(st->decoded, 5);
	cr_assert_eq(st->by_kind[IBSP_SAMPLER_SOFT], 5);
	cr_assert_eq(st->unknown_event, 1);
	ibsp_live_decoder__delete(d);
}

/* -a -- CMD: the whole system, until the command exits (watched by the daemon's loop). */
Test(live, all_cpus_with_a_command_ends_with_it)
{
	const char *data = tmp_path("a-cmd.data");
	char cmd[512], *out, *err;
	struct ibsp_sample *s;
	size_t n;
	int rc, e;

	need_live_capture();
	snprintf(cmd, sizeof(cmd),
		 IBSP_CLI " record -o %s --sampler=soft -a -d 30 -- " IBSP_FAULTER " 16", data);
	rc = run_cmd(cmd, &out, &err);
	cr_assert_eq(rc, 0, "record: %s", err);
	cr_assert(!strstr(err, "in 30."), "record ran for its whole --duration: %s", err);
	cr_assert(strstr(err, "samples ("), "no summary line: %s", err);
	n = read_all_samples(data, &s, &e);
	cr_assert_eq(e, 0);
	cr_assert_geq(n, 3 * 16, "only %zu samples", n);
	free(s);
	free(out);
	free(err);
}

/*
 * A command that cannot run: exit 1, said so, and no file: the recording is
 * renamed into place only once the command runs (issue 13: it used to replace
 * an existing file with an empty recording; tests/test_robust.c checks that an
 * existing file is kept).
 */
Test(live, command_that_cannot_run_leaves_no_file)
{
	const char *data = tmp_path("nocmd.data");
	struct ibsp_perf_reader *r = NULL;
	char cmd[512], *out, *err;
	int rc;

	need_live_capture();
	snprintf(cmd, sizeof(cmd), IBSP_CLI " record -o %s --sampler=soft -- /nonexistent/cmd",
		 data);
	rc = run_cmd(cmd, &out, &err);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "cannot run '/nonexistent/cmd'"), "stderr: %s", err);
	cr_assert(strstr(err, "sampling never started"), "stderr: %s", err);
	cr_assert_eq(ibsp_perf_reader__open(data, NULL, &r), -ENOENT);
	free(out);
	free(err);
}

/* What this kernel's config says about soft-dirty: 1 built in, 0 not, -1 unknown. */
static int config_soft_dirty(void)
{
	char path[256], line[256];
	struct utsname u;
	int v = -1;
	FILE *f;

	uname(&u);
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "CONFIG_MEM_SOFT_DIRTY=y\n"))
			v = 1;
		else if (!strcmp(line, "# CONFIG_MEM_SOFT_DIRTY is not set\n"))
			v = 0;
	}
	if (f)
		fclose(f);
	return v;
}

/* The hint sampler's kernel check, as probe and run report it. */
Test(live, hint_needs_soft_dirty_and_says_so)
{
	char why[256], *out, *err, cmd[512];
	int sd = ibsp_soft_dirty__probe(why, sizeof(why)), cfg = config_soft_dirty(), rc;
	const char *want_out;

	cr_assert(sd == 0 || sd == 1, "the test itself failed: %d %s", sd, why);
	if (cfg >= 0)
		cr_expect_eq(sd, cfg, "probe %d, /boot/config %d: %s", sd, cfg, why);
	if (!sd)
		cr_expect(why[0], "a reason");
	if (cfg == 0)
		cr_expect_str_eq(why,
				 "kernel without CONFIG_MEM_SOFT_DIRTY (pagemap bit 55 never set)");

	rc = run_cmd(IBSP_CLI " probe", &out, &err);
	want_out = sd ? "  hint  available" : "  hint  unavailable   ";
	cr_expect(strstr(out, want_out), "probe: %s", out);
	if (!sd)
		cr_expect(strstr(out, why), "probe names the reason '%s': %s", why, out);
	free(out);
	free(err);

	/* run --sampler=hint refuses on such a kernel, with the same reason */
	snprintf(cmd, sizeof(cmd),
		 "sleep 3 & %s run --sampler=hint --pid $! --dry-run --duration 1", IBSP_CLI);
	rc = run_cmd(cmd, &out, &err);
	if (!sd) {
		cr_expect_eq(rc, 4, "exit %d: %s", rc, err);
		cr_expect(strstr(err, "hint unavailable: ") && strstr(err, why), "stderr: %s", err);
	} else if (!strstr(err, "Permission denied")) {
		cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
	}
	free(out);
	free(err);

	/* -a makes no sense: clear_refs works per process */
	rc = run_cmd(IBSP_CLI " run --sampler=hint -a --duration 1", &out, &err);
	cr_expect_eq(rc, 2, "exit %d: %s", rc, err);
	cr_expect(strstr(err, "--sampler=hint needs process targets"), "stderr: %s", err);
	free(out);
	free(err);
}

/* The scanner: per process, refuses -a, and counts a target that is gone. */
Test(live, hint_scanner_writes_clear_refs_per_target)
{
	struct ibsp_capture_opts all = { .sz = sizeof(all), .target = IBSP_TARGET_ALL_CPUS };
	pid_t kid = fork();
	struct ibsp_capture_opts one = {
		.sz = sizeof(one), .target = IBSP_TARGET_PID, .pids = &kid, .nr_pids = 1
	};
	struct ibsp_hint_scan *s = NULL;
	const struct ibsp_hint_scan_stats *st;

	if (!kid) {
		die_with_test();
		pause();
		_exit(0);
	}
	cr_assert_gt(kid, 0);
	cr_expect_eq(ibsp_hint_scan__new(&all, &s), -EINVAL);
	cr_assert_eq(ibsp_hint_scan__new(&one, &s), 0);
	st = ibsp_hint_scan__stats(s);
	/* The write is accepted with or without CONFIG_MEM_SOFT_DIRTY (sampling.md 5b). */
	cr_expect_eq(ibsp_hint_scan__scan(s), 1);
	cr_expect_eq(st->writes, 1);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	cr_expect_eq(ibsp_hint_scan__scan(s), 0, "the process is gone");
	cr_expect_eq(st->gone, 1);
	cr_expect_eq(ibsp_hint_scan__scan(s), 0);
	cr_expect_eq(st->gone, 1, "a gone process is not written again");
	cr_expect_eq(st->scans, 3);
	cr_expect_eq(st->errors, 0);
	ibsp_hint_scan__delete(s);
}

/* --cgroup: the scanner writes clear_refs for the processes of cgroup.procs, read at each scan. */
Test(live, hint_scanner_follows_the_cgroup)
{
	char cg[512], procs[600];
	struct ibsp_capture_opts o = { .sz = sizeof(o), .target = IBSP_TARGET_CGROUP };
	struct ibsp_hint_scan *s = NULL;
	FILE *f;
	pid_t kid;

	make_cgroup(cg, sizeof(cg), "hint");
	o.cgroup_path = cg;
	cr_assert_eq(ibsp_hint_scan__new(&o, &s), 0);
	cr_expect_eq(ibsp_hint_scan__scan(s), 0, "an empty cgroup");
	kid = fork();
	if (!kid) {
		die_with_test();
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	f = fopen(procs, "w");
	cr_assert(f);
	fprintf(f, "%d\n", (int)kid);
	cr_assert_eq(fclose(f), 0, "moving pid %d into %s", (int)kid, cg);
	cr_expect_eq(ibsp_hint_scan__scan(s), 1, "the process that joined");
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	cr_expect_eq(ibsp_hint_scan__scan(s), 0, "it left with its exit");
	cr_expect_eq(ibsp_hint_scan__stats(s)->writes, 1);
	cr_expect_eq(ibsp_hint_scan__stats(s)->errors, 0);
	ibsp_hint_scan__delete(s);
	rmdir(cg);
}

struct ring_tally {
	uint64_t records, bytes;
};

static int tally_record(const struct perf_event_header *h, void *arg)
{
	struct ring_tally *t = arg;

	t->records++;
	t->bytes += h->size;
	return 0;
}

/*
 * The drain counts the bytes it hands out and the most one ring gave, which
 * the daemon's drain period follows (engine/daemon/daemon.c, adapt_drain()):
 * a child pinned to one CPU fills one ring only, so the busiest ring gave
 * every byte of a drain; an empty drain gives none.
 */
Test(live, drain_counts_the_busiest_rings_bytes)
{
	struct ibsp_sampler_opts so = { .sz = sizeof(so), .kind = IBSP_SAMPLER_SOFT, .period = 1 };
	int go[2], ready[2], *leader = NULL;
	struct ibsp_capture_opts co = { .sz = sizeof(co), .target = IBSP_TARGET_PID, .nr_pids = 1 };
	struct ibsp_event_desc *ev = NULL;
	struct ibsp_capture *cap = NULL;
	struct ring_tally t = { 0 };
	struct ibsp_host_caps caps;
	const struct ibsp_capture_stats *st;
	uint32_t nr = 0;
	cpu_set_t one;
	pid_t kid;
	char c;

	need_live_capture();
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	kid = fork();
	cr_assert_geq(kid, 0);
	if (!kid) {
		char *p;

		/* Pinned, and says so, before the events are enabled: the faults that follow
		 * (its copy-on-write pages too) all come from CPU 0. */
		die_with_test();
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one) || write(ready[1], "r", 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		p = mmap(NULL, 512 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		for (int i = 0; p != MAP_FAILED && i < 512; i++)
			p[i << 12] = 1;
		_exit(p == MAP_FAILED);
	}
	co.pids = &kid;
	cr_assert_eq(read(ready[0], &c, 1), 1, "the child is pinned to CPU 0");
	cr_assert_eq(ibsp_sampler__events(&so, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(ibsp_capture__new(ev, leader, nr, &co, &cap), 0);
	ibsp_capture__enable(cap);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(kid, NULL, 0), kid);
	cr_assert_eq(ibsp_capture__drain(cap, tally_record, &t), 0);
	st = ibsp_capture__stats(cap);
	cr_expect_geq(st->samples, 512, "the child wrote 512 new pages: %llu samples",
		      (unsigned long long)st->samples);
	cr_expect_eq(st->records, t.records);
	cr_expect_eq(st->bytes, t.bytes, "the bytes handed out");
	cr_expect_eq(st->last_ring_bytes, st->bytes, "one CPU, one ring: %llu of %llu bytes",
		     (unsigned long long)st->last_ring_bytes, (unsigned long long)st->bytes);
	cr_expect_geq(st->bytes, 512 * 40, "a page-fault record is at least 40 bytes");
	cr_assert_eq(ibsp_capture__drain(cap, tally_record, &t), 0);
	cr_expect_eq(st->last_ring_bytes, 0, "nothing came since");
	cr_expect_eq(st->ring_pages,
		     ibsp_capture__auto_pages((uint32_t)sysconf(_SC_NPROCESSORS_ONLN),
					      ibsp_host_caps__may_lock_rings(&caps),
					      sysconf(_SC_PAGESIZE)),
		     "no size asked for: the automatic one (%u pages)", st->ring_pages);
	ibsp_capture__delete(cap);
	ibsp_sampler__free_events(ev, leader, nr);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/*
 * The rings' size when none is asked for: perf record's 128 pages without
 * CAP_IPC_LOCK (the kernel's perf_event_mlock_kb budget a CPU); with it,
 * 16 MiB over the CPUs, 512 KiB to 4 MiB a ring, a power of two.
 */
Test(live, ring_size_follows_the_cpus_and_the_lock_budget)
{
	static const struct {
		uint32_t cpus;
		bool may_lock;
		long page;
		uint32_t pages;
	} rows[] = {
		{ 2, false, 4096, 128 },  { 1, true, 4096, 1024 }, { 2, true, 4096, 1024 },
		{ 4, true, 4096, 1024 },  { 6, true, 4096, 512 },  { 8, true, 4096, 512 },
		{ 16, true, 4096, 256 },  { 24, true, 4096, 128 }, { 32, true, 4096, 128 },
		{ 512, true, 4096, 128 }, { 0, true, 4096, 1024 }, { 2, true, 65536, 128 },
		{ 2, true, 16384, 256 },  { 2, true, 0, 128 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(
		    ibsp_capture__auto_pages(rows[i].cpus, rows[i].may_lock, rows[i].page),
		    rows[i].pages, "%u CPUs, may_lock %d, %ld-byte pages: %u pages, not %u",
		    rows[i].cpus, rows[i].may_lock, rows[i].page, rows[i].pages,
		    ibsp_capture__auto_pages(rows[i].cpus, rows[i].may_lock, rows[i].page));
}

/*
 * A drain hands out every record the kernel wrote, or counts it lost: none
 * is skipped without a word while the rings fill as they are read. A child
 * on CPU 0 takes 204 800 page faults while this process, on the other CPU,
 * drains again and again, then one more when the rings are empty; a counting event on the child (enabled with the
 * capture, while the child waits) says how many faults there were. At period
 * 1 a software event is never throttled (the first overflow of a call may not
 * throttle), so samples + lost = faults, exactly. @cg: a cgroup v2 directory
 * the child joins, for the cgroup capture's own rings; NULL: a --pid target,
 * libperf's rings (the -a path too).
 */
struct slow_tally {
	struct ring_tally t;
	uint64_t spin_ns; /* each record's handling takes this long */
};

static int slow_record(const struct perf_event_header *h, void *arg)
{
	struct slow_tally *st = arg;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
		   (uint64_t)a.tv_nsec <
	       st->spin_ns);
	return tally_record(h, &st->t);
}

/* @spin_ns: each record takes this long to handle; @pages: the rings' (0: automatic). */
static void drain_keeps_pace(const char *cg, uint64_t spin_ns, uint32_t pages)
{
	struct ibsp_sampler_opts so = { .sz = sizeof(so), .kind = IBSP_SAMPLER_SOFT, .period = 1 };
	struct ibsp_capture_opts co = { .sz = sizeof(co), .target = IBSP_TARGET_PID, .nr_pids = 1 };
	struct perf_event_attr ca = { .size = sizeof(ca),
				      .type = PERF_TYPE_SOFTWARE,
				      .config = PERF_COUNT_SW_PAGE_FAULTS,
				      .disabled = 1 };
	int go[2], ready[2], *leader = NULL, cfd, status = -1;
	struct ibsp_event_desc *ev = NULL;
	struct ibsp_capture *cap = NULL;
	const struct ibsp_capture_stats *st;
	struct slow_tally t = { .spin_ns = spin_ns };
	struct ibsp_host_caps caps;
	uint64_t faults = 0, drains = 0, lost, most = 0, ring;
	uint32_t nr = 0;
	cpu_set_t one;
	pid_t kid;
	char c, procs[600];

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("the child and the drains need a CPU each (this host has one)");
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg ? cg : "");
	kid = fork();
	cr_assert_geq(kid, 0);
	if (!kid) {
		char *p;
		FILE *f;

		die_with_test();
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (cg && (!(f = fopen(procs, "w")) || fprintf(f, "0\n") < 0 || fclose(f)))
			_exit(2);
		if (sched_setaffinity(0, sizeof(one), &one) || write(ready[1], "r", 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		p = mmap(NULL, 256 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		for (int r = 0; p != MAP_FAILED && r < 800; r++) {
			for (int i = 0; i < 256; i++)
				p[i << 12] = 1;
			madvise(p, 256 << 12, MADV_DONTNEED);
		}
		/* Once the rings are empty, one more fault: the kernel writes the LOST
		 * record of a full ring before the next record, so this one brings it. */
		if (p == MAP_FAILED || write(ready[1], "d", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		p[0] = 1;
		_exit(0);
	}
	co.mmap_pages = pages;
	if (cg) {
		co.target = IBSP_TARGET_CGROUP;
		co.cgroup_path = cg;
	} else {
		co.pids = &kid;
	}
	cr_assert_eq(read(ready[0], &c, 1), 1, "the child is pinned to CPU 0 (and in the cgroup)");
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	cfd = (int)syscall(SYS_perf_event_open, &ca, kid, -1, -1, 0);
	cr_assert_geq(cfd, 0, "a counting event on the child: %s", strerror(errno));
	cr_assert_eq(ibsp_sampler__events(&so, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(ibsp_capture__new(ev, leader, nr, &co, &cap), 0);
	cr_assert_eq(ioctl(cfd, PERF_EVENT_IOC_ENABLE, 0), 0);
	ibsp_capture__enable(cap);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(fcntl(ready[0], F_SETFL, O_NONBLOCK), 0);
	for (bool done = false, empty = false; !done || !empty;) {
		uint64_t from = t.t.bytes;

		done = done || read(ready[0], &c, 1) == 1;
		cr_assert_eq(ibsp_capture__drain(cap, slow_record, &t), 0);
		most = t.t.bytes - from > most ? t.t.bytes - from : most;
		empty = t.t.bytes == from;
		drains++;
	}
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(kid, &status, 0), kid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child faulted its pages");
	cr_assert_eq(ibsp_capture__drain(cap, slow_record, &t), 0);
	cr_assert_eq(read(cfd, &faults, sizeof(faults)), (ssize_t)sizeof(faults));
	st = ibsp_capture__stats(cap);
	ring = (uint64_t)st->ring_pages * (uint64_t)sysconf(_SC_PAGESIZE);
	/* one ring's worth, and the record that crossed the line (at most 64 KiB) */
	cr_expect_lt(most, ring + 65536, "a drain took %llu bytes from %llu-byte rings",
		     (unsigned long long)most, (unsigned long long)ring);
	lost = st->loss.lost + st->loss.lost_samples;
	cr_expect_geq(faults, 800 * 256 + 1, "the child faulted 800 x 256 pages and one: %llu",
		      (unsigned long long)faults);
	cr_expect_eq(st->samples + lost, faults,
		     "%llu faults: %llu samples, %llu lost (%llu drains); %lld unaccounted for",
		     (unsigned long long)faults, (unsigned long long)st->samples,
		     (unsigned long long)lost, (unsigned long long)drains,
		     (long long)(faults - st->samples - lost));
	cr_expect_eq(st->records, t.t.records, "the records handed out");
	ibsp_capture__delete(cap);
	ibsp_sampler__free_events(ev, leader, nr);
	close(cfd);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

Test(live, drain_skips_no_record_that_arrives_during_it)
{
	need_live_capture();
	drain_keeps_pace(NULL, 0, 0);
}

/*
 * A consumer slower than the faults (2 us a record; the child faults about
 * once a microsecond on its own CPU): each drain still ends after one ring's
 * worth (32 KiB rings here), as the ring's space comes back only at the
 * drain's one consume of it (a consume a record would let the kernel refill
 * the ring under the reader, and hold the drain as long as the faults go
 * on), and what the rings could not hold is counted lost, exactly.
 */
Test(live, drain_ends_when_the_ring_fills_faster_than_it_is_read)
{
	need_live_capture();
	drain_keeps_pace(NULL, 2000, 8);
}

Test(live, cgroup_drain_skips_no_record_that_arrives_during_it)
{
	char cg[512];

	need_live_capture();
	make_cgroup(cg, sizeof(cg), "drain");
	drain_keeps_pace(cg, 0, 0);
	cr_expect_eq(rmdir(cg), 0, "the cgroup %s is empty again: %s", cg, strerror(errno));
}

/* The capture's ring fds, checked: one per CPU, each the event @ev[0]'s fd on that CPU. */
static const int *ring_fds_of(const struct ibsp_capture *cap, const struct ibsp_event_desc *ev)
{
	const int *fds;
	uint32_t nr_fds = ibsp_capture__ring_fds(cap, &fds);

	cr_assert_eq(nr_fds, ibsp_capture__stats(cap)->nr_cpus, "an fd for each of %u rings: %u",
		     ibsp_capture__stats(cap)->nr_cpus, nr_fds);
	for (uint32_t k = 0; k < nr_fds; k++) {
		uint64_t id = 0;

		cr_assert_eq(ioctl(fds[k], PERF_EVENT_IOC_ID, &id), 0, "fd %d: %s", fds[k],
			     strerror(errno));
		cr_expect_eq(id, ev[0].ids[k], "ring %u's fd %d is the event's on that CPU", k,
			     fds[k]);
	}
	return fds;
}

/*
 * A CPU-wide capture gives an fd of each CPU's ring (samplers/capture/
 * ring_fds.c finds libperf's by their ids), and that fd polls readable once
 * the ring has had half its bytes written (the default watermark): the
 * daemon's drains wait on it. A per-task capture has none.
 */
Test(live, ring_fds_wake_when_half_a_ring_is_written)
{
	struct ibsp_sampler_opts so = { .sz = sizeof(so), .kind = IBSP_SAMPLER_SOFT, .period = 1 };
	struct ibsp_capture_opts co = { .sz = sizeof(co),
					.target = IBSP_TARGET_ALL_CPUS,
					.mmap_pages = 8 };
	struct ibsp_event_desc *ev = NULL;
	struct ibsp_capture *cap = NULL;
	struct ring_tally t = { 0 };
	struct ibsp_host_caps caps;
	int *leader = NULL, status;
	const int *fds;
	uint32_t nr = 0;
	struct pollfd p;
	pid_t kid, self = getpid();

	need_live_capture();
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_eq(ibsp_sampler__events(&so, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(ibsp_capture__new(ev, leader, nr, &co, &cap), 0);
	fds = ring_fds_of(cap, ev);
	ibsp_capture__enable(cap);
	cr_assert_eq(ibsp_capture__drain(cap, tally_record, &t), 0);
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	(void)poll(&p, 1, 0); /* a wakeup from before the drain */
	kid = fork();
	cr_assert_geq(kid, 0);
	if (!kid) {
		cpu_set_t one;
		char *m;

		die_with_test();
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			_exit(1);
		/* 4 096 faults: ~360 KiB of records, over twenty times the 16 KiB watermark */
		m = mmap(NULL, 4096 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		for (int i = 0; m != MAP_FAILED && i < 4096; i++)
			m[i << 12] = 1;
		_exit(m == MAP_FAILED);
	}
	cr_assert_eq(waitpid(kid, &status, 0), kid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_eq(poll(&p, 1, 2000), 1, "CPU 0's ring fd polls readable");
	cr_expect(p.revents & POLLIN, "POLLIN: %#x", p.revents);
	ibsp_capture__delete(cap);
	ibsp_sampler__free_events(ev, leader, nr);

	co.target = IBSP_TARGET_PID;
	co.pids = &self;
	co.nr_pids = 1;
	cr_assert_eq(ibsp_sampler__events(&so, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(ibsp_capture__new(ev, leader, nr, &co, &cap), 0);
	cr_expect_eq(ibsp_capture__ring_fds(cap, &fds), 0, "a per-task capture has none");
	ibsp_capture__delete(cap);
	ibsp_sampler__free_events(ev, leader, nr);
}

/* The cgroup capture's rings (its own fds, not libperf's): one fd each, the CPU's event. */
Test(live, cgroup_ring_fds_are_its_events)
{
	struct ibsp_sampler_opts so = { .sz = sizeof(so), .kind = IBSP_SAMPLER_SOFT, .period = 1 };
	struct ibsp_capture_opts co = { .sz = sizeof(co),
					.target = IBSP_TARGET_CGROUP,
					.mmap_pages = 8 };
	struct ibsp_event_desc *ev = NULL;
	struct ibsp_capture *cap = NULL;
	struct ibsp_host_caps caps;
	int *leader = NULL;
	uint32_t nr = 0;
	char cg[512];

	need_live_capture();
	make_cgroup(cg, sizeof(cg), "ringfd");
	co.cgroup_path = cg;
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_eq(ibsp_sampler__events(&so, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(ibsp_capture__new(ev, leader, nr, &co, &cap), 0);
	ring_fds_of(cap, ev);
	ibsp_capture__delete(cap);
	ibsp_sampler__free_events(ev, leader, nr);
	cr_expect_eq(rmdir(cg), 0, "%s: %s", cg, strerror(errno));
}
