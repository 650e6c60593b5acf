/* SPDX-License-Identifier: MIT */
/*
 * Policy options shared by `replay` and `run`. Every call into the policy
 * library the command line makes (parse, name) is in policy_opts.c.
 */
#ifndef IBSP_CLI_POLICY_OPTS_H
#define IBSP_CLI_POLICY_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/engine.h"
#include "options.h"

/* Long-option codes; start above any short option character. */
enum {
	POPT_POLICY = 1000,
	POPT_INTERVAL,
	POPT_RATE,
	POPT_MIN_SHARE,
	POPT_MIN_HEAT,
	POPT_PINGPONG,
	POPT_WATERMARK,
	POPT_MAX_PAGES,
	POPT_TOP_TIER,
	POPT_NO_FOLLOW,
	POPT_DECAY_SHIFT,
	POPT_FALLBACK_HEAT,
	POPT_NO_DEMOTE,
	POPT_DEMOTE_IDLE,
	POPT__END,
};

/* The getopt_long entries, to be placed in a command's option table. */
#define CLI_POLICY_OPTIONS                                                    \
	{ "policy", required_argument, NULL, POPT_POLICY },                   \
	    { "interval", required_argument, NULL, POPT_INTERVAL },           \
	    { "rate", required_argument, NULL, POPT_RATE },                   \
	    { "min-share", required_argument, NULL, POPT_MIN_SHARE },         \
	    { "min-heat", required_argument, NULL, POPT_MIN_HEAT },           \
	    { "pingpong", required_argument, NULL, POPT_PINGPONG },           \
	    { "watermark", required_argument, NULL, POPT_WATERMARK },         \
	    { "max-pages", required_argument, NULL, POPT_MAX_PAGES },         \
	    { "top-tier", required_argument, NULL, POPT_TOP_TIER },           \
	    { "no-follow", no_argument, NULL, POPT_NO_FOLLOW },               \
	    { "fallback-heat", required_argument, NULL, POPT_FALLBACK_HEAT }, \
	    { "no-demote", no_argument, NULL, POPT_NO_DEMOTE },               \
	    { "demote-idle", required_argument, NULL, POPT_DEMOTE_IDLE },     \
	{                                                                     \
		"decay-shift", required_argument, NULL, POPT_DECAY_SHIFT      \
	}

/* The help text of those options. */
extern const char cli_policy_help[];

struct cli_policy {
	struct ibsp_engine_opts eng;
	const char *top_tier; /* NULL: the nodes with CPUs */
	bool min_heat_set;    /* --min-heat was given */
	bool decay_set;	      /* --decay-shift was given */
};

/* Defaults for a command-line run (rate 256 MiB/s; the rest the engine's). */
void cli_policy__init(struct cli_policy *p);

/*
 * Handle option @c with @arg for command @cmd. Return 1 if it was a policy
 * option, 0 if not, or -1 after printing an error naming the option.
 */
int cli_policy__opt(struct cli_policy *p, int c, const char *arg, const char *cmd);

/* The soft sampler (one fault per page): --min-heat defaults to 1 unless given. */
void cli_policy__for_soft_sampler(struct cli_policy *p);

/*
 * The hint sampler (one fault per written page and scan): --min-heat
 * defaults to 1 and --decay-shift to 4 unless given, so that a page's heat
 * holds ~16 scans' samples: following a page to another top-tier node needs 9.
 */
void cli_policy__for_hint_sampler(struct cli_policy *p);

/* The policy's name as the summaries print it ("locality", "fixed-node:1"). */
void cli_policy__name(const struct cli_policy *p, char *buf, size_t len);

#endif
