// SPDX-License-Identifier: MIT
/* Output files that are never clobbered, and "-" as an input (files.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "files.h"
#include "options.h"

/* What an existing @st is, for a message. */
static const char *kind_of(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return "a directory";
	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	return "not a regular file";
}

/* An existing @path that is not a regular file: a device or pipe is written in place. */
static int open_special(struct cli_out *o, const struct stat *st)
{
	if (!S_ISCHR(st->st_mode) && !S_ISFIFO(st->st_mode)) {
		fprintf(stderr, "ibs-promote %s: %s %s: %s; refusing to write %s\n", o->cmd, o->opt,
			o->path, kind_of(st),
			S_ISLNK(st->st_mode) ? "through it (give the file it points to)" : "there");
		return cli_usage_error(o->cmd);
	}
	o->fd = open(o->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (o->fd < 0) {
		fprintf(stderr, "ibs-promote %s: %s %s: %s\n", o->cmd, o->opt, o->path,
			strerror(errno));
		return EXIT_FAIL;
	}
	o->direct = o->committed = true;
	snprintf(o->now, sizeof(o->now), "%s", o->path);
	return -1;
}

/* A new temporary file next to @path: .NAME.XXXXXX, created exclusively (never a link). */
static int open_temp(struct cli_out *o)
{
	char dir[PATH_MAX], base[PATH_MAX];
	mode_t mask = umask(0);

	umask(mask);
	snprintf(dir, sizeof(dir), "%s", o->path);
	snprintf(base, sizeof(base), "%s", o->path);
	if ((size_t)snprintf(o->now, sizeof(o->now), "%s/.%s.XXXXXX", dirname(dir),
			     basename(base)) >= sizeof(o->now)) {
		fprintf(stderr, "ibs-promote %s: %s %s: path too long\n", o->cmd, o->opt, o->path);
		return cli_usage_error(o->cmd);
	}
	o->fd = mkostemp(o->now, O_CLOEXEC);
	if (o->fd < 0) {
		fprintf(stderr, "ibs-promote %s: %s %s: cannot create a file in %s: %s\n", o->cmd,
			o->opt, o->path, dirname(dir), strerror(errno));
		return EXIT_FAIL;
	}
	if (fchmod(o->fd, 0666 & ~mask))
		fprintf(stderr, "ibs-promote %s: %s: chmod: %s\n", o->cmd, o->now, strerror(errno));
	return -1;
}

int cli_out__open(struct cli_out *o, const char *cmd, const char *opt, const char *path,
		  bool stdout_ok)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->opt = opt;
	o->path = path;
	o->fd = -1;
	if (!path)
		return -1;
	if (!strcmp(path, "-")) {
		if (!stdout_ok) {
			fprintf(stderr, "ibs-promote %s: %s -: stdout cannot take this output\n",
				cmd, opt);
			return cli_usage_error(cmd);
		}
		o->is_stdout = o->committed = true;
		o->fd = STDOUT_FILENO;
		snprintf(o->now, sizeof(o->now), "-");
		return -1;
	}
	if (!*path) {
		fprintf(stderr, "ibs-promote %s: %s '': an empty file name\n", cmd, opt);
		return cli_usage_error(cmd);
	}
	if (!lstat(path, &st) && !S_ISREG(st.st_mode))
		return open_special(o, &st);
	return open_temp(o);
}

int cli_out__commit(struct cli_out *o)
{
	char old[PATH_MAX + 8];
	struct stat st;

	if (!o->path || o->committed)
		return 0;
	snprintf(old, sizeof(old), "%s.old", o->path);
	/* FILE may have become something else since open: never move a link or directory. */
	if (!lstat(o->path, &st)) {
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr,
				"ibs-promote %s: %s %s: became %s while starting; the output is "
				"in %s\n",
				o->cmd, o->opt, o->path, kind_of(&st), o->now);
			return -EEXIST;
		}
		if (rename(o->path, old)) {
			int e = errno;

			fprintf(stderr, "ibs-promote %s: %s %s: cannot keep it as %s: %s\n", o->cmd,
				o->opt, o->path, old, strerror(e));
			return -e;
		}
	}
	if (rename(o->now, o->path)) {
		int e = errno;

		fprintf(stderr, "ibs-promote %s: %s %s: cannot rename %s onto it: %s\n", o->cmd,
			o->opt, o->path, o->now, strerror(e));
		return -e;
	}
	snprintf(o->now, sizeof(o->now), "%s", o->path);
	o->committed = true;
	return 0;
}

void cli_out__close_fd(struct cli_out *o)
{
	if (o->fd > STDERR_FILENO)
		close(o->fd);
	o->fd = -1;
}

void cli_out__end(struct cli_out *o)
{
	cli_out__close_fd(o);
	if (o->path && !o->committed)
		unlink(o->now);
}

/* Copy all of stdin into @fd. 0 or a negative errno. */
static int copy_stdin(int fd)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, buf + done, (size_t)(n - done));

			if (w < 0 && errno != EINTR)
				return -errno;
			done += w > 0 ? w : 0;
		}
	}
}

int cli_in__open(struct cli_in *in, const char *cmd, const char *arg)
{
	int ret = 0; /* read only after copy_stdin() set it; GCC -O2 with sanitizers cannot tell */

	in->arg = in->path = arg;
	in->fd = -1;
	if (strcmp(arg, "-"))
		return -1;
	if (isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"ibs-promote %s: '-' reads a recording from stdin, which is a terminal "
			"(perf record -o - ... | ibs-promote %s -)\n",
			cmd, cmd);
		return cli_usage_error(cmd);
	}
	in->fd = memfd_create("stdin.data", MFD_CLOEXEC);
	if (in->fd < 0 || (ret = copy_stdin(in->fd))) {
		fprintf(stderr, "ibs-promote %s: -: cannot copy stdin: %s\n", cmd,
			strerror(in->fd < 0 ? errno : -ret));
		return EXIT_FAIL;
	}
	snprintf(in->buf, sizeof(in->buf), "/proc/self/fd/%d", in->fd);
	in->path = in->buf;
	return -1;
}

void cli_in__close(struct cli_in *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
}
