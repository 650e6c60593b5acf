/* SPDX-License-Identifier: MIT */
/* What `replay` prints (docs/replay.md): the text summary and the JSON one. */
#ifndef IBSP_CLI_REPLAY_OUT_H
#define IBSP_CLI_REPLAY_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ibsp/replay.h"
#include "policy_opts.h"

/* @a / @b, 0 when @b is 0. */
static inline double cli_frac(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* The text summary of @r (a replay of @path under @policy), with --evaluate's table. */
void cli_replay_print_text(FILE *f, const char *path, const char *policy,
			   const struct ibsp_replay_result *r);

/*
 * Why the result of replaying @name is empty, as warnings on stderr (none
 * when it is not): no samples, samples without a CPU field (a stock
 * `perf record -d` file), or a single NUMA node.
 */
void cli_replay_explain(const char *name, const struct ibsp_replay_result *r);

/*
 * The --json summary of @r; @intervals (with --evaluate, or NULL) is shared,
 * not taken. @complete: the replay reached the end of the file.
 */
json_t *cli_replay_summary_json(const char *path, const char *policy,
				const struct ibsp_replay_result *r, const struct cli_policy *p,
				json_t *intervals, bool complete);

#endif
