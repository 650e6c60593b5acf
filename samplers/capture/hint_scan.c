// SPDX-License-Identifier: MIT
/*
 * The hint sampler's scanner (capture.h): each scan writes "4" to
 * /proc/PID/clear_refs of every target process, which clears the
 * soft-dirty bits and write-protects every writable PTE of the process
 * (fs/proc/task_mmu.c clear_refs_write, CLEAR_REFS_SOFT_DIRTY). The next
 * write to each page takes a minor fault, which the page-faults event
 * samples with the page's physical address.
 *
 * --pid targets: their clear_refs files are opened once; the open file
 * stays bound to its process, so a reused pid is never written (the write
 * fails with ESRCH once the process is gone). --cgroup: the processes of
 * cgroup.procs, read again at each scan.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ibsp/capture.h"
#include "log_print.h"
#include "util.h"

struct ibsp_hint_scan {
	enum ibsp_capture_target target;
	int *fds; /* --pid: /proc/PID/clear_refs of each pid; -1 once it is gone */
	pid_t *pids;
	uint32_t nr;
	char procs[PATH_MAX]; /* --cgroup: its cgroup.procs */
	bool warned;
	struct ibsp_hint_scan_stats st;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_clear_refs(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void ibsp_hint_scan__delete(struct ibsp_hint_scan *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nr; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	free(s->fds);
	free(s->pids);
	free(s);
}

static int open_pids(struct ibsp_hint_scan *s, const struct ibsp_capture_opts *o)
{
	s->fds = calloc(o->nr_pids, sizeof(*s->fds));
	s->pids = calloc(o->nr_pids, sizeof(*s->pids));
	if (!s->fds || !s->pids)
		return -ENOMEM;
	for (uint32_t i = 0; i < o->nr_pids; i++)
		s->fds[i] = -1;
	s->nr = o->nr_pids;
	for (uint32_t i = 0; i < o->nr_pids; i++) {
		s->pids[i] = o->pids[i];
		s->fds[i] = open_clear_refs(o->pids[i]);
		if (s->fds[i] < 0) {
			int ret = s->fds[i];

			pr_err("hint sampler: cannot open /proc/%d/clear_refs: %s%s\n",
			       (int)o->pids[i], strerror(-ret),
			       ret == -EACCES || ret == -EPERM
				   ? " (needs the target's owner or root)"
			       : ret == -ENOENT ? " (no such process)"
						: "");
			return ret;
		}
	}
	return 0;
}

int ibsp_hint_scan__new(const struct ibsp_capture_opts *o, struct ibsp_hint_scan **out)
{
	struct ibsp_hint_scan *s;
	int ret = 0;

	if (o->target == IBSP_TARGET_ALL_CPUS || (o->target == IBSP_TARGET_PID && !o->nr_pids)) {
		pr_err("the hint sampler needs process targets (--pid, --cgroup or a command): "
		       "clear_refs write-protects one process at a time, and -a would disturb "
		       "every process on the host\n");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->target = o->target;
	if (o->target == IBSP_TARGET_PID)
		ret = open_pids(s, o);
	else if ((size_t)snprintf(s->procs, sizeof(s->procs), "%s/cgroup.procs",
				  o->cgroup_path ? o->cgroup_path : "") >= sizeof(s->procs))
		ret = -ENAMETOOLONG;
	else if (access(s->procs, R_OK))
		pr_err("hint sampler: cannot read %s: %s\n", s->procs, strerror(ret = errno));
	if (ret) {
		ibsp_hint_scan__delete(s);
		return ret < 0 ? ret : -ret;
	}
	*out = s;
	return 0;
}

/* One write of "4"; the outcome counted. 1 written, 0 the process is gone, -errno. */
static int clear_one(struct ibsp_hint_scan *s, int fd, pid_t pid)
{
	if (write(fd, "4", 1) == 1) {
		s->st.writes++;
		return 1;
	}
	if (errno == ESRCH || errno == ENOENT) {
		s->st.gone++;
		return 0;
	}
	s->st.errors++;
	if (!s->warned) {
		s->warned = true;
		pr_warn("hint sampler: write to /proc/%d/clear_refs: %s\n", (int)pid,
			strerror(errno));
	}
	return -errno;
}

static void scan_pids(struct ibsp_hint_scan *s)
{
	for (uint32_t i = 0; i < s->nr; i++) {
		if (s->fds[i] < 0)
			continue;
		if (!clear_one(s, s->fds[i], s->pids[i])) {
			close(s->fds[i]);
			s->fds[i] = -1;
		}
	}
}

static void scan_cgroup(struct ibsp_hint_scan *s)
{
	FILE *f = fopen(s->procs, "re");
	int pid;

	if (!f) {
		s->st.errors++;
		return;
	}
	while (fscanf(f, "%d", &pid) == 1) {
		int fd = open_clear_refs(pid);

		if (fd < 0) {
			s->st.gone++;
			continue;
		}
		clear_one(s, fd, pid);
		close(fd);
	}
	fclose(f);
}

int ibsp_hint_scan__scan(struct ibsp_hint_scan *s)
{
	uint64_t before = s->st.writes;
	double t0 = mono_s();

	if (s->target == IBSP_TARGET_PID)
		scan_pids(s);
	else
		scan_cgroup(s);
	s->st.scans++;
	s->st.busy_s += mono_s() - t0;
	return (int)(s->st.writes - before);
}

const struct ibsp_hint_scan_stats *ibsp_hint_scan__stats(const struct ibsp_hint_scan *s)
{
	return &s->st;
}
