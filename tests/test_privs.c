// SPDX-License-Identifier: MIT
/*
 * Least privilege (engine/daemon/privs.c, targets.c): a missing capability
 * is named with the feature it costs (the command run as root with
 * capabilities dropped by capsh); after the setup the daemon keeps only
 * CAP_SYS_PTRACE, CAP_SYS_NICE (when it moves pages) and CAP_DAC_OVERRIDE
 * (when it reopens files), in every thread; output paths that are not
 * files are refused by kind; a process that leaves the --cgroup is out of
 * scope for the migration worker.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "helpers.h"

static void need_root_and_capsh(void)
{
	if (geteuid())
		cr_skip_test("runs as root, to drop capabilities with capsh");
	if (access("/usr/sbin/capsh", X_OK) && access("/sbin/capsh", X_OK))
		cr_skip_test("capsh is missing (Debian libcap2-bin)");
}

/* `run` with @drop removed from the bounding set; its stderr. */
static char *run_without(const char *drop, const char *args, int *rc)
{
	char cmd[1024], *out, *err;

	snprintf(cmd, sizeof(cmd), "capsh --drop=%s -- -c '%s run --sampler=soft %s'", drop,
		 IBSP_CLI, args);
	*rc = run_cmd(cmd, &out, &err);
	free(out);
	return err;
}

Test(privs, missing_cap_sys_nice_and_cap_sys_ptrace_are_named, .timeout = 60)
{
	char *err;
	int rc;

	need_root_and_capsh();
	err = run_without("cap_sys_nice,cap_sys_ptrace", "-a --duration 0.3 --json /dev/null", &rc);
	cr_expect_eq(rc, 0, "%s", err);
	cr_expect(strstr(err, "no CAP_SYS_NICE: pages shared by several processes cannot move"),
		  "%s", err);
	cr_expect(strstr(err, "no CAP_SYS_PTRACE: pages of other users' processes"), "%s", err);
	free(err);
	/* a dry run moves nothing: no word about MOVE_ALL */
	err = run_without("cap_sys_nice", "-a --dry-run --duration 0.3 --json /dev/null", &rc);
	cr_expect_eq(rc, 0, "%s", err);
	cr_expect_null(strstr(err, "CAP_SYS_NICE"), "%s", err);
	free(err);
}

Test(privs, missing_cap_perfmon_is_named_for_cpu_wide_sampling, .timeout = 60)
{
	char buf[16] = "";
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	char *err;
	int rc;

	need_root_and_capsh();
	cr_assert(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	if (atoi(buf) <= 0)
		cr_skip_test("perf_event_paranoid=%d lets anyone sample every CPU: nothing is "
			     "missing to name",
			     atoi(buf));
	err = run_without("cap_perfmon,cap_sys_admin", "-a --duration 0.3 --json /dev/null", &rc);
	cr_expect_neq(rc, 0, "sampling every CPU is refused: %s", err);
	cr_expect(strstr(err, "no CAP_PERFMON (nor CAP_SYS_ADMIN), perf_event_paranoid="), "%s",
		  err);
	cr_expect(strstr(err, "sampling every CPU (-a, --cgroup) is refused"), "%s", err);
	free(err);
}

/* CapEff of every thread of @pid, once the worker thread exists (2 threads); 0 on time-out. */
static int thread_caps(pid_t pid, uint64_t *caps, int cap)
{
	char path[64];
	int n = 0;

	for (int tries = 0; tries < 100 && n < 2; tries++) {
		DIR *d;
		struct dirent *e;

		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		d = opendir(path);
		if (!d)
			return 0;
		n = 0;
		while ((e = readdir(d)) && n < cap) {
			char st[320], line[256];
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(st, sizeof(st), "/proc/%d/task/%s/status", (int)pid, e->d_name);
			f = fopen(st, "r");
			while (f && fgets(line, sizeof(line), f))
				if (sscanf(line, "CapEff: %" SCNx64, &caps[n]) == 1)
					n++;
			if (f)
				fclose(f);
		}
		closedir(d);
	}
	return n;
}

static void expect_kept(const char *args, uint64_t want)
{
	char cmd[512];
	uint64_t caps[8];
	pid_t p;
	int n;

	snprintf(cmd, sizeof(cmd), "exec %s run --sampler=soft -a --duration 3 %s >/dev/null 2>&1",
		 IBSP_CLI, args);
	p = fork();
	cr_assert_geq(p, 0);
	if (!p) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	n = thread_caps(p, caps, 8);
	kill(p, SIGINT);
	waitpid(p, NULL, 0);
	cr_assert_geq(n, 2, "the loop and the worker thread: %d", n);
	for (int i = 0; i < n; i++)
		cr_expect_eq(caps[i], want, "%s: thread %d CapEff %#" PRIx64 ", want %#" PRIx64,
			     args, i, caps[i], want);
}

Test(privs, only_what_the_run_needs_is_kept_after_the_setup, .timeout = 60)
{
	const uint64_t ptrace = 1ull << CAP_SYS_PTRACE, nice = 1ull << CAP_SYS_NICE,
		       dac = 1ull << CAP_DAC_OVERRIDE;

	if (geteuid())
		cr_skip_test("runs as root: a process without capabilities has none to drop");
	expect_kept("--json /dev/null", ptrace | nice | dac);
	expect_kept("--json -", ptrace | nice);
	expect_kept("--dry-run --json -", ptrace);
}

/*
 * The command line refuses such paths first (cli/, its own message); the
 * daemon refuses them too, for any caller of ibsp_daemon__run(): a disk here.
 */
Test(privs, outputs_that_are_not_files_are_refused_by_kind, .timeout = 60)
{
	static const char *const rows[][2] = {
		{ "/dev/loop0", NULL },
		{ NULL, "/dev/loop0" },
	};
	struct stat st;

	if (stat("/dev/loop0", &st) || !S_ISBLK(st.st_mode))
		cr_skip_test("no block device /dev/loop0 to aim at");
	for (size_t i = 0; i < 2; i++) {
		struct ibsp_daemon_opts o = { .sz = sizeof(o),
					      .record_path = rows[i][0],
					      .json_path = rows[i][1] };
		struct ibsp_daemon_result res;

		o.sampler.sz = sizeof(o.sampler);
		o.sampler.kind = IBSP_SAMPLER_SOFT;
		o.capture.sz = sizeof(o.capture);
		o.duration_s = 0.1;
		log_capture_start();
		cr_expect_eq(ibsp_daemon__run(&o, &res), -EINVAL);
		cr_expect(strstr(log_captured(), "/dev/loop0: a block device: "), "%s",
			  log_captured());
		cr_expect(strstr(log_captured(), i ? "telemetry goes to" : "a recording goes to"),
			  "%s", log_captured());
	}
	cr_expect(S_ISBLK(st.st_mode), "still a disk");
}

/* Write @pid into cgroup directory @dir; 0 or -errno. */
static int join_cgroup(const char *dir, pid_t pid)
{
	char path[512];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", (int)pid) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

Test(privs, a_process_that_leaves_the_cgroup_is_out_of_scope, .timeout = 30)
{
	struct ibsp_capture_opts o = { .sz = sizeof(o), .target = IBSP_TARGET_CGROUP };
	struct ibsp_daemon_targets t;
	char dir[320], base[256] = "";
	FILE *m = fopen("/proc/self/mountinfo", "r");
	char line[1024];
	pid_t child;

	while (m && fgets(line, sizeof(line), m)) /* the cgroup v2 mount */
		if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %255s", base) == 1)
			break;
	if (m)
		fclose(m);
	if (!base[0])
		cr_skip_test("no cgroup v2 mount on this host");
	snprintf(dir, sizeof(dir), "%s/ibsp-test-%d", base, (int)getpid());
	if (mkdir(dir, 0755))
		cr_skip_test("cannot create a cgroup under %s: %s", base, strerror(errno));
	child = fork();
	cr_assert_geq(child, 0);
	if (!child) {
		pause();
		_exit(0);
	}
	cr_assert_eq(join_cgroup(dir, child), 0);
	o.cgroup_path = dir;
	cr_assert_eq(ibsp_daemon_targets__open(&t, &o), 0);
	cr_expect_eq(ibsp_daemon_targets__check(&t, (uint32_t)child), 0, "in the cgroup");
	cr_expect_eq(ibsp_daemon_targets__check(&t, (uint32_t)getpid()), -ESRCH, "never was");
	cr_assert_eq(join_cgroup(base, child), 0);
	cr_expect_eq(ibsp_daemon_targets__check(&t, (uint32_t)child), -ESRCH, "it left");
	ibsp_daemon_targets__close(&t);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	cr_expect_eq(rmdir(dir), 0, "%s: %s", dir, strerror(errno));
}
