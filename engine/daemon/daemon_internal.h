/* SPDX-License-Identifier: MIT */
/*
 * The daemon's state, shared by its loop (daemon.c: events, capture,
 * recording) and its promotion half (promote.c: decoder, engine, migration
 * worker, telemetry). daemon.c calls promote.c, never the other way round.
 */
#ifndef IBSP_DAEMON_INTERNAL_H
#define IBSP_DAEMON_INTERNAL_H

#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

#include "aio.h"
#include "metrics_out.h"
#include "ibsp/daemon.h"
#include "ibsp/migrate.h"
#include "ibsp/perf_file.h"
#include "ibsp/telemetry.h"

#define IBSP_DAEMON_BATCH    1024
#define IBSP_DAEMON_REAP_MAX 4096

/*
 * The --pid targets (targets.c): a pidfd each (-1 where pidfd_open is
 * missing: then the start time is compared), polled by the loop so that
 * each exit is seen at once, and checked by the migration worker before
 * each move_pages call, so that the pages of a reused pid are never moved.
 */
struct ibsp_daemon_targets {
	uint32_t nr; /* 0: -a or --cgroup */
	pid_t *pids;
	int *pidfds;
	uint64_t *start; /* /proc/PID/stat starttime at setup; 0 unknown */
	bool *exited;	 /* the loop saw its pidfd readable */
	uint32_t nr_exited;
	bool all_pidfds; /* every target has one: their pidfds alone tell when the run ends */
	char *cgroup;	 /* --cgroup: its path below the cgroup v2 mount ("/a/b"), or NULL */
};

/* Open a pidfd per --pid target of @o (none for other targets). 0, -ESRCH, -ENOMEM. */
int ibsp_daemon_targets__open(struct ibsp_daemon_targets *t, const struct ibsp_capture_opts *o);
void ibsp_daemon_targets__close(struct ibsp_daemon_targets *t);
/* The index of @pid among the targets, or -1. */
int ibsp_daemon_targets__index(const struct ibsp_daemon_targets *t, uint32_t pid);
/* Target @i exited: true when it was the last one. */
bool ibsp_daemon_targets__exit_seen(struct ibsp_daemon_targets *t, uint32_t i);
/* Poll every pidfd now (not waiting): true when every target has exited. */
bool ibsp_daemon_targets__refresh(struct ibsp_daemon_targets *t);
/*
 * The migration worker's check before each move_pages call (any thread: it
 * reads nothing the loop writes). 0: @pid is a target still running, a
 * process in the --cgroup now, or any process (-a); -ESRCH: out of scope.
 */
int ibsp_daemon_targets__check(void *ctx, uint32_t pid);

struct daemon {
	struct ibsp_daemon_opts o;
	struct ibsp_daemon_result *res;
	struct ibsp_host_caps caps;
	struct ibsp_event_desc *events;
	int *leader;
	uint32_t nr_events;
	struct ibsp_capture *cap;
	struct ibsp_recording_info info;
	struct ibsp_perf_writer *w;
	struct ibsp_aio aio;
	bool aio_up;
	bool tel_failed; /* a telemetry write failed, and it was said (once) */
	/* The drain period (adapt_drain()): automatic unless --drain-ms was given. */
	bool drain_auto;
	uint64_t nr_drains;  /* by the timer or a ring's wakeup */
	uint64_t nr_wakeups; /* of them, started by a ring's wakeup (watch_rings()) */
	int ring_ep;	     /* an epoll set of the rings' fds (CPU-wide targets), or -1 */
	bool ring_watch;     /* a poll of ring_ep is queued */
	uint32_t drain_cur_ms;
	double drain_last_s;   /* the latest drain of the rings, by the timer or a tick */
	double drain_peak_bps; /* the busiest ring's bytes/s, highest since the timer's drain */
	struct ibsp_aio_stream rec, tel;
	int rec_err; /* run: the recording stopped on this write error (it goes on without) */
	int sfd, tick_fd, drain_fd, scan_fd;
	struct signalfd_siginfo si;
	uint64_t tick_buf, drain_buf, scan_buf;
	struct ibsp_hint_scan *scan; /* the hint sampler's scanner, or NULL */
	struct ibsp_daemon_targets targets;
	uint32_t self;
	double t0;	  /* the daemon's start: the telemetry clock */
	double t_enabled; /* the events were enabled: --duration counts from here */
	/* The promotion half (promote.c); all NULL with record_only. */
	struct ibsp_topology *topo;
	struct ibsp_engine *eng;
	struct ibsp_migrator *mig;
	struct ibsp_live_decoder *dec;
	struct ibsp_telemetry *tele;
	struct ibsp_metrics_out *metrics; /* --metrics-listen, --metrics-textfile; or NULL */
	struct ibsp_resolver_ops resolver;
	struct ibsp_sample batch[IBSP_DAEMON_BATCH];
	size_t nb;
	struct ibsp_migration_result reaped[IBSP_DAEMON_REAP_MAX];
	struct {
		uint64_t done, done_bytes, failed, by_err[IBSP_MIG_ERR__MAX];
	} out; /* the outcomes reaped from the worker */
};

static inline double ibsp_daemon_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define DRAIN_MIN_MS 10 /* the shortest automatic drain period */

/* drain_period.c: the automatic drain period after a drain; @peak_bps of the busiest ring. */
uint32_t ibsp_daemon__drain_period(uint32_t cur_ms, double peak_bps, uint64_t ring_bytes);
/* drain_period.c: a periodic timerfd of @ms (0, or a negative errno). */
int ibsp_daemon__arm_timer(int fd, uint32_t ms);
/* drain_period.c: after a drain, the busiest ring's byte rate since the one before. */
void ibsp_daemon__note_ring_rate(struct daemon *d);
/* drain_period.c: the drain timer follows that rate (ibsp_daemon__drain_period()). */
void ibsp_daemon__adapt_drain(struct daemon *d);
/* drain_period.c: with --duration, the drain that ends the run comes on time. */
void ibsp_daemon__arm_end(struct daemon *d);
/* drain_period.c: the rings' fds in an epoll set, for watch_rings() (a warning if not). */
void ibsp_daemon__rings_setup(struct daemon *d);
/* drain_period.c: on the longest period, a poll of the rings' wakeups (tag @tag); 0 or -errno. */
int ibsp_daemon__watch_rings(struct daemon *d, uint64_t tag);

/* privs.c: output paths that are not files are refused (-EINVAL, said). */
int ibsp_daemon_privs__check_paths(const struct daemon *d);
/* privs.c: one warning per capability the run lacks, naming what it costs. */
void ibsp_daemon_privs__report(const struct daemon *d);
/* privs.c: drop every capability the rest of the run does not need (this thread). */
int ibsp_daemon_privs__drop(const struct daemon *d);

/* Topology, engine, migration worker, decoder and telemetry (file opened). */
int ibsp_promote__setup(struct daemon *d);
/* The migration worker's thread and the metrics server's, after the capabilities are
 * dropped: they inherit the reduced set. */
int ibsp_promote__start_threads(struct daemon *d);
/* Decode one drained record into the engine's batch (our own samples dropped). */
void ibsp_promote__add(struct daemon *d, const struct perf_event_header *rec);
/* Hand the batch to the engine. */
void ibsp_promote__flush(struct daemon *d);
/* Take the worker's outcomes into the engine and the route counters. */
void ibsp_promote__reap(struct daemon *d);
/* One policy interval, after a drain: reap, refresh free memory, tick, submit, telemetry. */
int ibsp_promote__tick(struct daemon *d);
/* A telemetry line of @kind now (snapshot, or the summary with @reason). */
int ibsp_promote__emit(struct daemon *d, enum ibsp_telemetry_kind kind, const char *reason,
		       bool complete);
/* SIGHUP: reopen the telemetry file (log rotation). */
int ibsp_promote__reopen_telemetry(struct daemon *d);
/*
 * SIGHUP with an on_reload hook: new engine settings from the caller, the migration
 * rate, and a telemetry snapshot that says whether they apply. 0 or a negative errno
 * (of the telemetry write: a refused reload is not an error).
 */
int ibsp_promote__reload(struct daemon *d);
/*
 * At the end, after the last drain: let the worker finish (bounded), write
 * the summary line and wait for the telemetry writes. Clears *@complete when
 * something was left undone.
 */
void ibsp_promote__finish(struct daemon *d, int err, bool *complete);
/* Counters into the result, then free the promotion half. */
void ibsp_promote__delete(struct daemon *d);

#endif
