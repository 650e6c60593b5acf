// SPDX-License-Identifier: MIT
/*
 * The daemon's --pid targets (daemon_internal.h). Each gets a pidfd
 * (pidfd_open, Linux 5.3+): the loop polls it, so the run sees each exit
 * at once and ends after the last; and the migration worker checks it
 * before each move_pages call, so that the pages of a process that
 * exited, whose pid may already name another process, are never moved.
 * Without pidfds (older kernels) the process's start time from
 * /proc/PID/stat is compared instead. With --cgroup, the check reads the
 * pid's cgroup: a process that left the cgroup is out of scope.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log_print.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Field 22 of /proc/PID/stat (starttime, clock ticks after boot); 0 when unreadable. */
static uint64_t start_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	/* after ")": state is field 3, starttime field 22 */
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu",
			 &v) != 1)
		return 0;
	return v;
}

/* The cgroup v2 mount point, from /proc/self/mountinfo; 0 or -ENOENT. */
static int cgroup2_mount(char *out, size_t len)
{
	char line[1024], mnt[512], fstype[64];
	int ret = -ENOENT;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && ret && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 &&
		    sscanf(dash + 3, "%63s", fstype) == 1 && !strcmp(fstype, "cgroup2") &&
		    (size_t)snprintf(out, len, "%s", mnt) < len)
			ret = 0;
	}
	if (f)
		fclose(f);
	return ret;
}

/* @o's cgroup as /proc/PID/cgroup names it ("/a/b"), into t->cgroup. */
static int cgroup_scope(struct ibsp_daemon_targets *t, const char *dir)
{
	char real[PATH_MAX], mnt[512];
	size_t n;

	if (!realpath(dir, real) || cgroup2_mount(mnt, sizeof(mnt))) {
		pr_err("%s: cannot place it under a cgroup v2 mount\n", dir);
		return -ENOENT;
	}
	n = strlen(mnt);
	if (strncmp(real, mnt, n) || (real[n] && real[n] != '/')) {
		pr_err("%s: not under the cgroup v2 mount %s\n", dir, mnt);
		return -EINVAL;
	}
	t->cgroup = strdup(real[n] ? real + n : "/");
	return t->cgroup ? 0 : -ENOMEM;
}

/* Is @pid in cgroup @cg or below it? (its "0::" line of /proc/PID/cgroup) */
static bool in_cgroup(uint32_t pid, const char *cg)
{
	char path[64], line[1024];
	size_t n = strlen(cg);
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + 3;

		if (strncmp(line, "0::", 3))
			continue;
		p[strcspn(p, "\n")] = '\0';
		in = !strcmp(cg, "/") || (!strncmp(p, cg, n) && (!p[n] || p[n] == '/'));
		break;
	}
	if (f)
		fclose(f);
	return in;
}

void ibsp_daemon_targets__close(struct ibsp_daemon_targets *t)
{
	for (uint32_t i = 0; t->pidfds && i < t->nr; i++)
		if (t->pidfds[i] >= 0)
			close(t->pidfds[i]);
	free(t->pids);
	free(t->pidfds);
	free(t->start);
	free(t->exited);
	free(t->cgroup);
	memset(t, 0, sizeof(*t));
}

int ibsp_daemon_targets__open(struct ibsp_daemon_targets *t, const struct ibsp_capture_opts *o)
{
	memset(t, 0, sizeof(*t));
	if (o->target == IBSP_TARGET_CGROUP && o->cgroup_path)
		return cgroup_scope(t, o->cgroup_path);
	if (o->target != IBSP_TARGET_PID || !o->nr_pids)
		return 0;
	t->pids = calloc(o->nr_pids, sizeof(*t->pids));
	t->pidfds = calloc(o->nr_pids, sizeof(*t->pidfds));
	t->start = calloc(o->nr_pids, sizeof(*t->start));
	t->exited = calloc(o->nr_pids, sizeof(*t->exited));
	if (!t->pids || !t->pidfds || !t->start || !t->exited)
		return -ENOMEM;
	t->nr = o->nr_pids;
	t->all_pidfds = true;
	for (uint32_t i = 0; i < t->nr; i++) {
		t->pids[i] = o->pids[i];
		t->start[i] = start_ticks(o->pids[i]);
		t->pidfds[i] = (int)syscall(SYS_pidfd_open, o->pids[i], 0);
		if (t->pidfds[i] < 0 && errno == ESRCH) {
			pr_err("pid %d: no such process\n", (int)o->pids[i]);
			return -ESRCH;
		}
		if (t->pidfds[i] < 0) {
			pr_debug("pid %d: no pidfd (%s): its start time is compared instead\n",
				 (int)o->pids[i], strerror(errno));
			t->all_pidfds = false;
		}
	}
	return 0;
}

int ibsp_daemon_targets__index(const struct ibsp_daemon_targets *t, uint32_t pid)
{
	for (uint32_t i = 0; i < t->nr; i++)
		if ((uint32_t)t->pids[i] == pid)
			return (int)i;
	return -1;
}

bool ibsp_daemon_targets__exit_seen(struct ibsp_daemon_targets *t, uint32_t i)
{
	if (i < t->nr && !t->exited[i]) {
		t->exited[i] = true;
		t->nr_exited++;
	}
	return t->nr && t->nr_exited == t->nr;
}

/* Has the process of pidfd @fd exited? A pidfd polls readable then. */
static bool pidfd_exited(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && p.revents;
}

bool ibsp_daemon_targets__refresh(struct ibsp_daemon_targets *t)
{
	for (uint32_t i = 0; i < t->nr; i++)
		if (!t->exited[i] && t->pidfds[i] >= 0 && pidfd_exited(t->pidfds[i]))
			ibsp_daemon_targets__exit_seen(t, i);
	return t->nr && t->nr_exited == t->nr;
}

int ibsp_daemon_targets__check(void *ctx, uint32_t pid)
{
	const struct ibsp_daemon_targets *t = ctx;
	int i = ibsp_daemon_targets__index(t, pid);

	if (t->cgroup)
		return in_cgroup(pid, t->cgroup) ? 0 : -ESRCH; /* it may have left since */
	if (!t->nr)
		return 0; /* -a: any pid the samples name */
	if (i < 0)
		return -ESRCH; /* not a target */
	if (t->pidfds[i] < 0)
		return t->start[i] && start_ticks(t->pids[i]) == t->start[i] ? 0 : -ESRCH;
	/* Once its process has exited, the pid is free for reuse: never move by it again. */
	return pidfd_exited(t->pidfds[i]) ? -ESRCH : 0;
}
