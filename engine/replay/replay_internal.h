/* SPDX-License-Identifier: MIT */
/*
 * A replay under way, shared by its driver (replay.c: the setup, the passes
 * over the file, the totals) and its steps (replay_step.c: a batch of
 * samples through the engines and the oracles, an interval's close).
 */
#ifndef IBSP_REPLAY_INTERNAL_H
#define IBSP_REPLAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "fanout.h"
#include "ibsp/replay.h"
#include "oracle.h"

#define BATCH		  16384
#define MAX_GAP_INTERVALS 1000 /* longer gaps are collapsed */
#define GAP_TICKS	  64   /* enough to decay any heat to 0 */

struct run {
	const struct ibsp_replay_opts *o;
	struct ibsp_replay_result *res;
	const struct ibsp_topology *topo;
	uint32_t nr_eng;
	struct ibsp_engine *eng[IBSP_EVAL_MAX];
	struct ibsp_oracle *oracle;
	struct ibsp_oracle_dyn *dyn;
	uint32_t oracle_row;	    /* the first oracle row; IBSP_EVAL_MAX if none */
	struct ibsp_page_ref *refs; /* a batch's samples, resolved for the oracles */
	struct ibsp_replay_interval iv;
	struct ibsp_engine_stats prev[IBSP_EVAL_MAX];
	uint8_t *dst_seen; /* [nr_nodes]: a node received pages this tick (check_watermarks()) */
	uint64_t interval_ns, boundary;
	bool started, dirty;
	bool *keep; /* [nr_keep]: the events whose samples are replayed; NULL: all */
	uint32_t nr_keep;
	/* With evaluate: the threads, and what their tasks share (feed_task(), tick_task()). */
	struct ibsp_fanout *pool;
	bool read_ahead; /* a thread of its own reads the file ahead (readahead.h) */
	const struct ibsp_sample *job_s;
	size_t job_n;
	long tick_n[IBSP_EVAL_MAX];
	const struct ibsp_migration *tick_plan[IBSP_EVAL_MAX];
};

/* Below these a batch or a tick is not worth waking the other threads for. */
#define FANOUT_MIN_SAMPLES 256
#define FANOUT_MIN_PAGES   4096

/* Feed one batch, closing the intervals that its samples' times pass. */
int ibsp_replay__batch(struct run *run, const struct ibsp_sample *buf, size_t n);
/* Close the interval that ends at run->boundary: every engine's tick, the oracles', the counts. */
int ibsp_replay__tick(struct run *run);

#endif
