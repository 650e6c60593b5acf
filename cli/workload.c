// SPDX-License-Identifier: MIT
/* The command `record -- CMD` runs (workload.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

/* In the child: wait for the go byte, then exec; tell the parent errno if exec fails. */
static void __attribute__((noreturn)) child(int go, int err, char **argv)
{
	char c;
	int e;

	if (read(go, &c, 1) != 1)
		_exit(127);
	execvp(argv[0], argv);
	e = errno;
	if (write(err, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int cli_workload__fork(struct cli_workload *wl, char **argv, const sigset_t *mask)
{
	int go[2], err[2];

	wl->pid = -1;
	wl->go_fd = wl->err_fd = -1;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	wl->pid = fork();
	if (wl->pid < 0) {
		int e = -errno;

		close(go[0]);
		close(go[1]);
		close(err[0]);
		close(err[1]);
		return e;
	}
	if (wl->pid == 0) {
		sigprocmask(SIG_SETMASK, mask, NULL);
		close(go[1]);
		close(err[0]);
		child(go[0], err[1], argv);
	}
	close(go[0]);
	close(err[1]);
	wl->go_fd = go[1];
	wl->err_fd = err[0];
	return 0;
}

int cli_workload__start(struct cli_workload *wl, const char *cmd)
{
	int e = 0;

	if (write(wl->go_fd, "g", 1) != 1)
		return -errno;
	close(wl->go_fd);
	wl->go_fd = -1;
	if (read(wl->err_fd, &e, sizeof(e)) == sizeof(e)) {
		fprintf(stderr, "ibs-promote record: cannot run '%s': %s\n", cmd, strerror(e));
		return -e;
	}
	return 0;
}

int cli_workload__end(struct cli_workload *wl)
{
	int status, rc = -1;

	if (wl->go_fd >= 0)
		close(wl->go_fd);
	if (wl->err_fd >= 0)
		close(wl->err_fd);
	if (wl->pid > 0) {
		/* still running: the recording is over (error, signal or --duration) */
		if (waitpid(wl->pid, &status, WNOHANG) == wl->pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		} else {
			kill(wl->pid, SIGTERM);
			waitpid(wl->pid, NULL, 0);
		}
	}
	wl->pid = -1;
	wl->go_fd = wl->err_fd = -1;
	return rc;
}
