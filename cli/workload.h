/* SPDX-License-Identifier: MIT */
/* The command `record -- CMD` runs: forked at once, held until sampling starts, then exec'd. */
#ifndef IBSP_CLI_WORKLOAD_H
#define IBSP_CLI_WORKLOAD_H

#include <signal.h>
#include <sys/types.h>

struct cli_workload {
	pid_t pid;  /* -1: none, or reaped */
	int go_fd;  /* write a byte to release it */
	int err_fd; /* reads errno if exec failed (CLOEXEC pipe) */
};

/*
 * Fork the child that will exec @argv once released; it runs with signal
 * mask @mask (ours blocks the signals that stop a recording). Return 0 or a
 * negative errno.
 */
int cli_workload__fork(struct cli_workload *wl, char **argv, const sigset_t *mask);

/*
 * Release the child to exec @argv[0] and wait until the exec is done.
 * Return 0, or a negative errno after printing that it cannot run.
 */
int cli_workload__start(struct cli_workload *wl, const char *cmd);

/*
 * Reap the workload, stopping it first (SIGTERM) if still running; close the
 * pipes. Return its exit status as a shell gives it (128 + N for signal N),
 * or -1 when there was none or it had to be stopped.
 */
int cli_workload__end(struct cli_workload *wl);

#endif
