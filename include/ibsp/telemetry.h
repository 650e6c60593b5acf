/* SPDX-License-Identifier: MIT */
/*
 * JSON telemetry of the daemon: one JSON Lines object per interval, on
 * demand (SIGUSR1) and a final summary, each with "schema". The schema is
 * docs/telemetry.md; tests check real output against it.
 *
 * The caller fills struct ibsp_telemetry_counts with cumulative counters;
 * interval and snapshot lines carry the change since the previous line,
 * the summary carries the totals.
 */
#ifndef IBSP_TELEMETRY_H
#define IBSP_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/engine.h"
#include "ibsp/migrate.h"
#include "ibsp/sample.h"

#define IBSP_TELEMETRY_SCHEMA 1

/** enum ibsp_rec_err - why a write to the --record file failed */
enum ibsp_rec_err {
	IBSP_REC_ENOSPC = 0, /* the disk is full */
	IBSP_REC_EDQUOT = 1, /* the quota is used up */
	IBSP_REC_EFBIG = 2,  /* the file size limit */
	IBSP_REC_EIO = 3,    /* an I/O error, or a short write */
	IBSP_REC_OTHER = 4,
	IBSP_REC_ERR__MAX
};

/** ibsp_rec_err__from_errno() - the class of a (positive) errno value */
enum ibsp_rec_err ibsp_rec_err__from_errno(int err);
/** ibsp_rec_err__name() - "enospc", "edquot", "efbig", "eio", "other" */
const char *ibsp_rec_err__name(enum ibsp_rec_err e);

/** enum ibsp_tele_move_kind - a move is a demotion when its reason is IBSP_REASON_DEMOTE */
enum ibsp_tele_move_kind { IBSP_TELE_PROMOTION = 0, IBSP_TELE_DEMOTION = 1, IBSP_TELE_MOVE__MAX };

/** struct ibsp_telemetry_moves - the moves of one kind along one route */
struct ibsp_telemetry_moves {
	uint64_t planned, planned_bytes; /* handed to the migration worker */
	uint64_t done, done_bytes;	 /* reached their destination */
};

/** struct ibsp_telemetry_counts - cumulative counters since the start */
struct ibsp_telemetry_counts {
	/* sampling */
	uint64_t samples;			/* PERF_RECORD_SAMPLE records */
	uint64_t decoded;			/* samples a decoder accepted */
	uint64_t by_sampler[IBSP_SAMPLER__MAX]; /* decoded, by enum ibsp_sampler_kind */
	uint64_t dropped[IBSP_DROP__MAX];
	uint64_t lost_records; /* PERF_RECORD_LOST records */
	uint64_t lost;	       /* records the kernel dropped */
	uint64_t throttled;    /* PERF_RECORD_THROTTLE records */
	uint64_t drains;       /* times the loop woke to drain the rings */
	uint64_t wakeups;      /* of them, the drains a ring's wakeup started */
	uint32_t drain_ms;     /* the drain period now (a level) */
	uint32_t ring_pages;   /* data pages of each CPU's ring buffer (a level) */
	uint64_t scans;	       /* hint sampler: write-protection scans of the targets */
	double scan_s;	       /* their time (the clear_refs writes) */
	uint64_t unresolved[IBSP_UNRES__MAX];
	/* heat table: levels, not counters */
	uint64_t pages_tracked;
	uint64_t evictions;
	uint64_t threshold;	 /* heat units */
	double noise;		 /* the engine's sampling-noise estimate; -1 unknown */
	uint32_t trusted_follow; /* samples a private page's follow is trusted on; 0 none */
	double near_agreement;	 /* settled pages agreeing with their neighbours; -1 unknown */
	double owner_agreement;	 /* private pages whose owner thread is at home there; -1 */
	uint64_t thread_moves;	 /* threads whose home node changed (a counter) */
	bool low_noise, near_believed, owner_believed; /* the host's flags (ibsp_engine_stats) */
	uint64_t node_queries;	      /* pages whose node was asked (move_pages with nodes NULL) */
	uint64_t node_queries_failed; /* of them: no page there */
	/* promotions */
	uint64_t considered; /* hot pages the policy looked at, summed over its passes */
	uint64_t planned, planned_bytes;
	uint64_t demoted, demoted_bytes; /* of @planned: cold pages moved down to make room */
	uint64_t done, done_bytes;	 /* pages that reached their destination */
	uint64_t recovered; /* of @done: reported not migrated, found on their destination */
	uint64_t failed;
	uint64_t by_errno[IBSP_MIG_ERR__MAX];
	uint64_t rate_limited; /* times the token bucket made the worker wait */
	uint64_t queue_full;   /* requests dropped because the worker's queue was full */
	uint64_t abandoned;    /* requests still queued when the run ended (the worker's dropped) */
	uint64_t skips[IBSP_SKIP__MAX];
	/* pages that ended on a node, by [source node id][final node id] (the migrator's matrix) */
	uint64_t matrix[IBSP_MIG_MAX_NODES][IBSP_MIG_MAX_NODES];
	/* [src_idx * nr_nodes + dst_idx], node indices of the topology */
	uint64_t *route_planned, *route_done, *route_failed;
	/* [kind * nr_nodes^2 + src_idx * nr_nodes + dst_idx], kind enum ibsp_tele_move_kind */
	struct ibsp_telemetry_moves *moves;
	/* per node index: levels */
	uint64_t *free_bytes, *total_bytes, *watermark_bytes;
	/* levels */
	bool move_all;		 /* shared pages move too (MPOL_MF_MOVE_ALL, CAP_SYS_NICE) */
	uint32_t targets;	 /* --pid targets (0: -a or --cgroup) */
	uint32_t targets_exited; /* of them, those that exited */
	/* the --record file */
	bool recording;				   /* being written (false: none, or stopped) */
	uint64_t record_bytes;			   /* bytes handed to it */
	uint64_t record_errors[IBSP_REC_ERR__MAX]; /* failed writes, by cause */
	/* the daemon's own CPU time, s */
	double cpu_user_s, cpu_sys_s;
};

struct ibsp_telemetry;

/**
 * ibsp_telemetry__new() - telemetry for a host with @topo (kept, must outlive it)
 * @sampler: "ibs", "pebs", "soft" or "hint"
 * @dry_run: the daemon decides without moving
 */
struct ibsp_telemetry *ibsp_telemetry__new(const struct ibsp_topology *topo, const char *sampler,
					   bool dry_run);
void ibsp_telemetry__delete(struct ibsp_telemetry *t);

/** ibsp_telemetry__counts() - the counters to fill before each line (zeroed, arrays sized) */
struct ibsp_telemetry_counts *ibsp_telemetry__counts(struct ibsp_telemetry *t);

enum ibsp_telemetry_kind {
	IBSP_TELE_INTERVAL = 0, /* end of a policy interval: changes since the last line */
	IBSP_TELE_SNAPSHOT = 1, /* SIGUSR1: the same, now */
	IBSP_TELE_SUMMARY = 2,	/* the end: totals */
};

/**
 * ibsp_telemetry__note_reload() - the next line says that the settings were
 * reloaded: "reload": "applied", or "failed" when they stayed as they were
 */
void ibsp_telemetry__note_reload(struct ibsp_telemetry *t, bool applied);

/**
 * ibsp_telemetry__line() - one JSON object, one line, '\n'-terminated
 * @time_s: seconds since the daemon started (monotonic)
 * @end_reason: for the summary: "duration", "signal", "target_exit", "error"
 * @complete: for the summary: the daemon drained and flushed everything
 *
 * Return: a malloc'd string (free() it), or NULL on ENOMEM.
 */
char *ibsp_telemetry__line(struct ibsp_telemetry *t, enum ibsp_telemetry_kind kind, double time_s,
			   const char *end_reason, bool complete);

/**
 * ibsp_telemetry__metrics() - the counters as Prometheus text (exposition
 * format 0.0.4), totals since the start; docs/metrics.md lists the metrics
 * @time_s: seconds since the daemon started (ibs_promote_uptime_seconds)
 *
 * Fill the counters first, as for ibsp_telemetry__line(); this does not
 * change what the next line counts from.
 *
 * Return: a malloc'd string (free() it), or NULL on ENOMEM.
 */
char *ibsp_telemetry__metrics(const struct ibsp_telemetry *t, double time_s);

#endif /* IBSP_TELEMETRY_H */
