/* SPDX-License-Identifier: MIT */
/*
 * The live daemon behind `ibs-promote run`: samplers -> engine -> policy ->
 * migration worker -> telemetry, driven by one io_uring loop (signalfd, the
 * policy timerfd, a ring-drain timerfd, and the writes of the recording and
 * the telemetry). With record_only the same loop only records: `ibs-promote
 * record`. See docs/daemon.md.
 */
#ifndef IBSP_DAEMON_H
#define IBSP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ibsp/capture.h"
#include "ibsp/engine.h"
#include "ibsp/sampler.h"

/** struct ibsp_daemon_opts - start with sz = sizeof(opts) */
struct ibsp_daemon_opts {
	size_t sz;
	struct ibsp_engine_opts engine;	  /* the policy (resolver and simulate are set here) */
	const char *top_tier;		  /* node list, or NULL */
	struct ibsp_sampler_opts sampler; /* kind resolved (not auto) */
	struct ibsp_capture_opts capture; /* the target */
	double duration_s; /* from enabling the events; 0: until a signal or the target exits */
	bool dry_run;	   /* decide, never move */
	const char *record_path; /* also write the samples as perf.data */
	const char *record_name; /* what messages call it (record_path may be a temporary
				  * file, renamed into place later); NULL: record_path */
	const char *json_path;	 /* telemetry: a file, "-" for stdout, NULL for none */
	const char *json_name;	 /* what messages call it (as record_name); NULL: json_path */
	uint32_t drain_ms;	 /* ring-buffer drain period; 0 = 10 */
	uint32_t scan_ms; /* hint sampler: how often the targets are write-protected; 0 = 1000 */
	int argc;	  /* the command line, for the recording */
	char *const *argv;
	bool record_only; /* no engine, worker or telemetry: the samples go to record_path only */
	pid_t workload;	  /* > 0: a child of the caller; its exit ends the run (not reaped) */
	/* Called once the events are enabled (or armed for the exec); non-zero ends the run. */
	int (*on_enabled)(void *ctx);
	void *ctx;
	/*
	 * For tests (fault injection): replaces move_pages(2) in the migration
	 * worker, same contract; NULL: the kernel's. The topology is read from
	 * sampler.sysfs_root, so a test can give a one-node host two nodes.
	 */
	long (*move_pages)(int pid, unsigned long count, void **pages, const int *nodes,
			   int *status, int flags);
	/* Prometheus metrics (docs/metrics.md), after every telemetry line: */
	const char *metrics_listen;   /* serve GET /metrics here ([ADDR:]PORT), or NULL */
	const char *metrics_textfile; /* write them here (temp file + rename), or NULL */
	/*
	 * SIGHUP (not with record_only): after the telemetry file is reopened, the
	 * caller may change @engine, which holds the settings in effect (its
	 * configuration file read again). 0: they apply from the next interval
	 * (ibsp_engine__set_opts(), the migration rate, the interval timer); non-zero:
	 * the settings in effect stay. Either way a telemetry snapshot with "reload"
	 * follows. NULL: SIGHUP only reopens the telemetry file.
	 */
	int (*on_reload)(void *ctx, struct ibsp_engine_opts *engine);
};

/** struct ibsp_daemon_result - how it ended */
struct ibsp_daemon_result {
	const char *end_reason;			  /* "duration", "signal", "target_exit", "error" */
	bool complete;				  /* drained and flushed everything */
	uint64_t samples, planned, moved, failed; /* the engine's and the worker's */
	uint64_t abandoned; /* moves still queued after the end's wait (FLUSH_MAX_MS), dropped */
	int signal;	    /* the signal that stopped it, or 0 */
	struct ibsp_capture_stats capture; /* what the rings delivered */
	double running_ratio;  /* of the first event; below 1 when another PMU user shared it */
	double sampled_s;      /* from enabling the events to the end */
	bool recorded;	       /* record_path was created (and is finished, unless !complete) */
	uint64_t record_bytes; /* of records written to it */
};

/**
 * ibsp_daemon__run() - run until --duration, a signal (SIGINT, SIGTERM) or
 * the exit of the last --pid target (or of the workload). SIGHUP reopens the telemetry file
 * (and calls opts->on_reload);
 * SIGUSR1 writes a snapshot line at once. A SIGINT or SIGTERM that comes
 * during the setup ends it before the events are enabled.
 *
 * Return: 0, or a negative errno (logged, naming the pid, node or file).
 */
int ibsp_daemon__run(const struct ibsp_daemon_opts *opts, struct ibsp_daemon_result *res);

/**
 * ibsp_metrics_addr__parse() - the address of --metrics-listen
 * @spec: "PORT" (on 127.0.0.1), "IPV4:PORT" or "[IPV6]:PORT"; numeric only,
 *        PORT 0-65535 (0: any free port)
 * @why: receives a short reason when @spec is not one
 *
 * Return: 0, or -EINVAL.
 */
int ibsp_metrics_addr__parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			     const char **why);

#endif /* IBSP_DAEMON_H */
