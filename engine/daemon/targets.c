// SPDX-License-Identifier: MIT
/*
 * The daemon's --pid targets (daemon_internal.h). Each gets a pidfd
 * (pidfd_open, Linux 5.3+): the loop polls it, so the run sees each exit
 * at once and ends after the last; and the migration worker checks it
 * before each move_pages call, so that the pages of a process that
 * exited, whose pid may already name another process, are never moved.
 * Without pidfds (older kernels) the process's start time from
 * /proc/PID/stat is compared instead.
 */
#include <errno.h>
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

void ibsp_daemon_targets__close(struct ibsp_daemon_targets *t)
{
	for (uint32_t i = 0; t->pidfds && i < t->nr; i++)
		if (t->pidfds[i] >= 0)
			close(t->pidfds[i]);
	free(t->pids);
	free(t->pidfds);
	free(t->start);
	free(t->exited);
	memset(t, 0, sizeof(*t));
}

int ibsp_daemon_targets__open(struct ibsp_daemon_targets *t, const struct ibsp_capture_opts *o)
{
	memset(t, 0, sizeof(*t));
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

	if (!t->nr)
		return 0; /* -a, --cgroup: any pid the samples name */
	if (i < 0)
		return -ESRCH; /* not a target */
	if (t->pidfds[i] < 0)
		return t->start[i] && start_ticks(t->pids[i]) == t->start[i] ? 0 : -ESRCH;
	/* Once its process has exited, the pid is free for reuse: never move by it again. */
	return pidfd_exited(t->pidfds[i]) ? -ESRCH : 0;
}
