/* SPDX-License-Identifier: MIT */
/*
 * Options more than one command takes: whole numbers, and the sampling
 * options (target, sampler, capture, --duration) of `record` and `run`, so
 * that both accept and reject the same values with the same messages. The
 * policy options of `run` and `replay` are in policy_opts.h.
 */
#ifndef IBSP_CLI_OPTIONS_H
#define IBSP_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "ibsp/capture.h"
#include "ibsp/sampler.h"

/* Long-option codes of the sampling options: above any short option, below the policy's. */
enum {
	SOPT_LDLAT = 900,
	SOPT_IBS_CYCLES,
	SOPT_L3_MISS,
	SOPT_MMAP_PAGES,
	SOPT_WAKEUP_BYTES,
	SOPT_DRAIN_MS,
	SOPT_SCAN_MS,
};

/* --pid takes a comma-separated list of at most this many processes. */
#define CLI_MAX_PIDS 64

/* The short sampling options, for a command's getopt string. */
#define CLI_SAMPLING_SHORT "ap:G:s:c:d:"

/* The getopt_long entries of the sampling options, to be placed in a command's table. */
#define CLI_SAMPLING_OPTIONS                                                             \
	{ "all-cpus", no_argument, NULL, 'a' }, { "pid", required_argument, NULL, 'p' }, \
	    { "cgroup", required_argument, NULL, 'G' },                                  \
	    { "sampler", required_argument, NULL, 's' },                                 \
	    { "period", required_argument, NULL, 'c' },                                  \
	    { "duration", required_argument, NULL, 'd' },                                \
	    { "ldlat", required_argument, NULL, SOPT_LDLAT },                            \
	    { "ibs-cycles", no_argument, NULL, SOPT_IBS_CYCLES },                        \
	    { "l3-miss", no_argument, NULL, SOPT_L3_MISS },                              \
	    { "mmap-pages", required_argument, NULL, SOPT_MMAP_PAGES },                  \
	    { "wakeup-bytes", required_argument, NULL, SOPT_WAKEUP_BYTES },              \
	    { "drain-ms", required_argument, NULL, SOPT_DRAIN_MS },                      \
	{                                                                                \
		"scan-ms", required_argument, NULL, SOPT_SCAN_MS                         \
	}

/* The help text of the sampler and capture options (not the targets). */
extern const char cli_sampling_help[];

/** struct cli_sampling - what the sampling options say; cli_sampling__init() sets the defaults */
struct cli_sampling {
	struct ibsp_sampler_opts sampler; /* kind IBSP_SAMPLER_NONE: auto */
	struct ibsp_capture_opts capture; /* the target; ALL_CPUS unless --pid or --cgroup */
	pid_t pids[CLI_MAX_PIDS];	  /* --pid's list; capture.pids points here */
	double duration_s;		  /* 0: no limit */
	uint32_t drain_ms;		  /* 0: the daemon's default (10) */
	uint32_t scan_ms;		  /* --scan-ms; 0: the daemon's default (1000) */
	bool all_cpus;			  /* -a was given */
	bool has_command;		  /* record -- CMD: the command is a process target */
	unsigned int nr_targets;	  /* how many of -a, --pid, --cgroup were given */
};

void cli_sampling__init(struct cli_sampling *s);

/*
 * Handle option @c with @arg for command @cmd. Return 1 if it was a sampling
 * option, 0 if not, or -1 after printing an error naming the option and value.
 */
int cli_sampling__opt(struct cli_sampling *s, int c, const char *arg, const char *cmd);

/*
 * After the options: at most one target, and process targets for the hint
 * sampler (set has_command first). Return 0, or -1 after printing why not.
 */
int cli_sampling__check(const struct cli_sampling *s, const char *cmd);

/*
 * Resolve --sampler=auto on this host (IBS, PEBS, then hint where the
 * targets are processes), check that the hint sampler can run (soft-dirty),
 * and say when the sampler is a coarse one. Return -1 to go on, or
 * EXIT_NOHW after printing what was found.
 */
int cli_sampling__resolve(struct cli_sampling *s, const char *cmd);

/*
 * Parse a whole number (decimal, or hex with 0x) for option --@opt of command
 * @cmd within [@lo, @hi]. Return 0, or -1 after printing an error naming the
 * option and the value.
 */
int cli_uint_arg(const char *cmd, const char *opt, const char *arg, uint64_t lo, uint64_t hi,
		 uint64_t *out);

/* After a command-line error has been printed: point to --help. Returns EXIT_USAGE. */
int cli_usage_error(const char *cmd);

/*
 * A missing or extra argument: "ibs-promote CMD: <fmt...>", the synopsis of
 * @usage (up to its first blank line), and the --help hint. Returns EXIT_USAGE.
 */
int cli_args_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * After cli_sampling__resolve(): a sampling option that the resolved sampler
 * does not use (--ldlat without PEBS, --ibs-cycles or --l3-miss without IBS,
 * --scan-ms without hint) is an error. -1 to go on, or EXIT_USAGE after
 * printing which option and sampler.
 */
int cli_sampling__check_mode(const struct cli_sampling *s, const char *cmd);

#endif
