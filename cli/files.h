/* SPDX-License-Identifier: MIT */
/*
 * The files the commands write and read by name (cli/files.c). An output
 * (record -o, run --record, --json FILE, --decisions FILE) is written to a
 * temporary file next to FILE and renamed onto it only once the run has
 * started, the previous FILE kept as FILE.old (as perf record does), so
 * that a run that fails to start never clobbers a recording. A symbolic
 * link is never written through. "-" as an input reads a pipe on stdin.
 */
#ifndef IBSP_CLI_FILES_H
#define IBSP_CLI_FILES_H

#include <limits.h>
#include <stdbool.h>

/** struct cli_out - an output file; cli_out__open() fills it */
struct cli_out {
	const char *cmd, *opt; /* for messages: "record", "-o" */
	const char *path;      /* as given; NULL: none */
	char now[PATH_MAX];    /* where the writes go: the temporary file, @path once committed */
	int fd;		       /* open on @now for the caller (-1 when closed), or 1 for "-" */
	bool is_stdout;	       /* "-" */
	bool direct;	       /* @path is a device or pipe (/dev/null): written in place */
	bool committed;	       /* @now is @path */
};

/*
 * Prepare output @path (NULL: none, "-": stdout when @stdout_ok) of option
 * @opt of command @cmd. Return -1 to go on, or the exit code after printing
 * why not (a symbolic link, a directory, a directory that cannot be written).
 */
int cli_out__open(struct cli_out *o, const char *cmd, const char *opt, const char *path,
		  bool stdout_ok);

/*
 * The run has started: keep FILE as FILE.old and move the temporary file
 * onto FILE. 0, or a negative errno after printing why (the temporary file
 * is left where it is, named in the message).
 */
int cli_out__commit(struct cli_out *o);

/* Close the caller's fd (not stdout); the file stays. */
void cli_out__close_fd(struct cli_out *o);

/* Close the caller's fd if still open; remove the temporary file unless committed. */
void cli_out__end(struct cli_out *o);

/** struct cli_in - an input named on the command line; "-" is stdin */
struct cli_in {
	const char *arg;  /* as given, for messages and output */
	const char *path; /* what to open: @arg, or /proc/self/fd/N for "-" */
	char buf[32];
	int fd; /* the copy of stdin, or -1 */
};

/*
 * Input @arg of @cmd: a file, or "-" for a recording on stdin (perf record
 * -o - | ibs-promote replay -), copied into an anonymous memory file since
 * the reader maps its input. Return -1 to go on, or the exit code.
 */
int cli_in__open(struct cli_in *in, const char *cmd, const char *arg);
void cli_in__close(struct cli_in *in);

#endif
