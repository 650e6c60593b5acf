/* SPDX-License-Identifier: MIT */
/*
 * Replay: run the engine over a recording in recorded time, and optionally
 * evaluate placement: the chosen policy, the baselines (last-accessor,
 * fixed-node:F, none) and three hindsight oracles (static, static within
 * capacity, dynamic), each on its own simulated placement that starts from
 * the recorded one. See docs/evaluation.md.
 */
#ifndef IBSP_REPLAY_H
#define IBSP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/engine.h"
#include "ibsp/perf_file.h"

/* chosen policy, last-accessor, fixed-node, none, then the oracles */
#define IBSP_EVAL_MAX 8

/** enum ibsp_oracle_kind - the oracle rows, in order after the policies' */
enum ibsp_oracle_kind {
	IBSP_ORACLE_STATIC = 0,	  /* "oracle": each page once, on its best top-tier node */
	IBSP_ORACLE_CAPACITY = 1, /* "oracle-capacity": the same within capacity */
	IBSP_ORACLE_DYNAMIC = 2,  /* "oracle-dynamic": each interval's best, within capacity */
	IBSP_ORACLE__MAX
};

/** struct ibsp_eval_counts - one policy's placement score over some span */
struct ibsp_eval_counts {
	uint64_t local;		 /* sampled accesses served from the accessor's own node */
	uint64_t placed;	 /* sampled accesses whose page node was known */
	uint64_t migrated_bytes; /* bytes this policy moved */
	uint64_t migrations;	 /* pages this policy moved */
};

/** struct ibsp_replay_interval - what one interval did (for the callback) */
struct ibsp_replay_interval {
	uint64_t index;	   /* 0-based */
	uint64_t start_ns; /* recording clock */
	uint64_t end_ns;
	uint64_t samples; /* samples in the interval */
	long planned;	  /* the chosen policy's migrations */
	uint64_t planned_bytes;
	uint64_t budget_bytes;			     /* 0 = unlimited */
	uint64_t threshold;			     /* the chosen policy's threshold, heat units */
	uint32_t nr_eval;			     /* entries in @eval (0 without evaluate) */
	struct ibsp_eval_counts eval[IBSP_EVAL_MAX]; /* this interval only */
};

/** struct ibsp_replay_decision - a planned migration of the chosen policy, with its context */
struct ibsp_replay_decision {
	const struct ibsp_migration *m;
	uint64_t time_ns;     /* end of the interval that planned it (recording clock) */
	const uint32_t *heat; /* the page's decayed heat when planned, per accessor slot, in
			       * 1/IBSP_HEAT_ONE samples (ibsp_replay_result.acc_node_ids) */
	uint32_t nr_acc;      /* entries in @heat */
};

/** struct ibsp_replay_opts - start with sz = sizeof(opts) */
struct ibsp_replay_opts {
	size_t sz;
	struct ibsp_engine_opts engine; /* the chosen policy; simulate is forced on */
	const char *top_tier;		/* node list, or NULL for the nodes with CPUs */
	bool evaluate;			/* run the baselines and the oracles too */
	int baseline_fixed_node;	/* the fixed-node baseline's node (default 0) */
	/* Called for every planned migration of the chosen policy, in order. */
	int (*on_decision)(void *ctx, const struct ibsp_replay_decision *d);
	/* Called at the end of every interval. */
	int (*on_interval)(void *ctx, const struct ibsp_replay_interval *iv);
	/* Called now and then with the file offset reached. */
	void (*on_progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
	/*
	 * Only the samples of these events (comma-separated names, as `info`
	 * lists them); NULL: every event's. A name the recording lacks fails the
	 * replay (-ENOENT) with a message that lists its events.
	 */
	const char *events;
	/*
	 * Threads, the caller's among them; 0: one per online CPU. From two, one
	 * decodes the file ahead (a data section of 8 MiB or more), and with
	 * evaluate the engines and the oracles run side by side, at most one
	 * thread each. The result does not depend on it.
	 */
	unsigned int threads;
};

/** struct ibsp_replay_result - the whole replay */
struct ibsp_replay_result {
	uint64_t samples;		      /* samples replayed */
	uint64_t samples_filtered;	      /* samples of events opts->events left out */
	const char *events;		      /* opts->events */
	uint64_t first_ns, last_ns;	      /* sample clock span */
	uint64_t intervals;		      /* intervals run */
	uint64_t idle_intervals;	      /* long gaps collapsed (see docs/evaluation.md) */
	struct ibsp_engine_stats st;	      /* the chosen policy's engine */
	struct ibsp_engine_opts opts;	      /* its options, defaults filled in */
	uint32_t nr_nodes;		      /* the recording's topology */
	bool has_block_map;		      /* it has MEM_TOPOLOGY's memory-block map */
	int *node_ids;			      /* [nr_nodes] */
	uint32_t nr_acc;		      /* accessor nodes (with CPUs): the heat index */
	int acc_node_ids[IBSP_MAX_ACC_NODES]; /* set before the first callback */
	uint64_t *moves_pages;		      /* [src * nr_nodes + dst], by node index */
	uint64_t *moves_bytes;		      /* same shape */
	uint32_t nr_eval;		      /* 0 without evaluate */
	char eval_name[IBSP_EVAL_MAX][32];
	struct ibsp_eval_counts eval[IBSP_EVAL_MAX]; /* whole recording */
	uint64_t eval_pingpong[IBSP_EVAL_MAX];
	struct ibsp_perf_stats reader; /* the reader's counters (copied) */
	/* With evaluate: rows [0, nr_policies) are engines, row nr_policies + k oracle k. */
	uint32_t nr_policies;
	uint64_t eval_pages_moved[IBSP_EVAL_MAX]; /* distinct pages each row moved */
	uint64_t eval_moved_twice[IBSP_EVAL_MAX]; /* of those, pages moved more than once */
	/*
	 * Each policy row's watermark check, made by the replay after every tick
	 * from the engine's free memory: below_watermark counts (interval, node)
	 * pairs where a node the policy moved pages into ended the tick below its
	 * watermark; min_headroom the least free - watermark bytes such a node
	 * had then (INT64_MAX: the policy moved nothing).
	 */
	uint64_t eval_below_watermark[IBSP_EVAL_MAX];
	/* Policy rows: pages moved more than once that no accessor node made min_share of
	 * the samples of, over the whole recording (the static oracle's counts). */
	uint64_t eval_shared_moved_twice[IBSP_EVAL_MAX];
	int64_t eval_min_headroom[IBSP_EVAL_MAX];
};

/**
 * ibsp_replay__run() - replay @path
 * @res: receives the result; free it with ibsp_replay_result__free()
 *
 * Return: 0, a negative errno (logged, naming the file), or the first
 * non-zero value a callback returned.
 */
int ibsp_replay__run(const char *path, const struct ibsp_replay_opts *opts,
		     struct ibsp_replay_result *res);

/** ibsp_replay_result__free() - free what @res points to */
void ibsp_replay_result__free(struct ibsp_replay_result *res);

#endif /* IBSP_REPLAY_H */
