/* SPDX-License-Identifier: MIT */
/*
 * Live capture with libperf: open a sampler's events on every online CPU
 * (optionally following one process, or only one cgroup's tasks), map their ring
 * buffers and drain them in batches.
 */
#ifndef IBSP_CAPTURE_H
#define IBSP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ibsp/perf_file.h"

enum ibsp_capture_target {
	IBSP_TARGET_ALL_CPUS = 0, /* every online CPU, every task */
	IBSP_TARGET_PID = 1,	  /* processes and their threads (and their children) */
	IBSP_TARGET_CGROUP = 2,	  /* every online CPU, samples of one cgroup v2 subtree */
};

/** struct ibsp_capture_opts - start with sz = sizeof(opts) */
struct ibsp_capture_opts {
	size_t sz;
	enum ibsp_capture_target target;
	const pid_t *pids; /* IBSP_TARGET_PID: the processes (at least one) */
	uint32_t nr_pids;
	const char *cgroup_path; /* IBSP_TARGET_CGROUP: a cgroup v2 directory */
	uint32_t mmap_pages;	 /* data pages per CPU ring (power of two); 0: _auto_pages() */
	uint32_t wakeup_bytes;	 /* poll wakeup watermark; 0: half the ring */
	bool enable_on_exec;	 /* IBSP_TARGET_PID: start counting when the task execs */
};

/** struct ibsp_capture_stats - what the drain loop has seen */
struct ibsp_capture_stats {
	uint64_t records;	     /* records handed to the callback */
	uint64_t samples;	     /* PERF_RECORD_SAMPLE among them */
	uint64_t bytes;		     /* their bytes */
	uint64_t last_ring_bytes;    /* the most bytes one ring gave at the latest drain */
	struct ibsp_loss_stats loss; /* LOST, LOST_SAMPLES, THROTTLE records */
	uint32_t nr_cpus;	     /* CPUs the events are open on */
	uint32_t ring_pages;	     /* data pages of each CPU's ring, as mapped */
};

struct ibsp_capture;

/**
 * ibsp_capture__new() - open and map the events (disabled)
 * @events: the sampler's events (ibsp_sampler__events()); their ids are filled in
 * @group_leader: per event, the index of its group leader or -1
 *
 * Return: 0, or a negative errno with the event, CPU and reason logged.
 */
int ibsp_capture__new(struct ibsp_event_desc *events, const int *group_leader, uint32_t nr,
		      const struct ibsp_capture_opts *opts, struct ibsp_capture **out);

/**
 * ibsp_capture__auto_pages() - the data pages of a CPU's ring when none are asked for
 * @nr_cpus: the online CPUs (a ring each)
 * @may_lock: ibsp_host_caps__may_lock_rings(): rings may lock memory past the
 *            kernel's perf_event_mlock_kb budget
 * @page_size: the host's page size
 *
 * Without @may_lock, 128 (512 KiB with 4 KiB pages: the most the budget's
 * 516 KiB a CPU holds beside each ring's header page, and perf record's
 * default). With it, 16 MiB of rings in all, from 512 KiB to 4 MiB a CPU
 * (a power of two): a ring that holds more is drained less often
 * (engine/daemon/daemon.c), and each drain costs the daemon's caches
 * (docs/performance.md, "Larger rings").
 */
uint32_t ibsp_capture__auto_pages(uint32_t nr_cpus, bool may_lock, long page_size);

/** ibsp_capture__delete() - close everything; NULL is accepted */
void ibsp_capture__delete(struct ibsp_capture *c);

void ibsp_capture__enable(struct ibsp_capture *c);
void ibsp_capture__disable(struct ibsp_capture *c);

/**
 * ibsp_capture__poll() - wait up to @timeout_ms for data
 *
 * Return: > 0 when data may be ready, 0 on timeout, or a negative errno
 * (-EINTR when a signal arrived).
 */
int ibsp_capture__poll(struct ibsp_capture *c, int timeout_ms);

/**
 * ibsp_capture__alive() - stop polling events whose task exited (POLLHUP)
 *
 * Call after a drain. Return: the number of events still pollable; 0 when
 * the whole target is gone (a --pid target that exited).
 */
int ibsp_capture__alive(struct ibsp_capture *c);

/**
 * ibsp_capture__ring_fds() - one fd per CPU's ring, to poll for its wakeups
 *
 * Each polls readable (POLLIN) once its ring has had the wakeup watermark
 * (ibsp_capture_opts.wakeup_bytes: half the ring by default) written
 * since its last wakeup; a poll takes the wakeup. Only CPU-wide targets (all
 * CPUs, a cgroup) have them: their events live as long as the capture. A
 * per-task target has none (its events come and go with its tasks), and its
 * rings are drained on a timer only. The fds belong to the capture.
 *
 * Return: the number of fds in *@fds (one per CPU), or 0.
 */
uint32_t ibsp_capture__ring_fds(const struct ibsp_capture *c, const int **fds);

/**
 * ibsp_capture__drain() - hand every pending record of every ring to @fn
 *
 * Uses libperf's read_init/read_event/consume protocol (without read_done,
 * which skips the records written since the last read_event). A drain takes
 * at most one ring's size from each ring: a ring's space comes back to the
 * kernel only at its consume, after the reading, so one written faster than
 * it is read fills and counts the rest lost instead of holding the drain. A
 * non-zero return of @fn stops the drain and is returned; the records after
 * it stay in the ring for the next drain.
 *
 * Return: 0, @fn's error, or a negative errno.
 */
int ibsp_capture__drain(struct ibsp_capture *c, ibsp_record_fn fn, void *ctx);

const struct ibsp_capture_stats *ibsp_capture__stats(const struct ibsp_capture *c);

/** ibsp_capture__running_ratio() - time_running/time_enabled of the first sampling event (1.0 = it always ran) */
double ibsp_capture__running_ratio(struct ibsp_capture *c);

/** struct ibsp_hint_scan_stats - what the hint sampler's scanner has done */
struct ibsp_hint_scan_stats {
	uint64_t scans;	 /* scans run */
	uint64_t writes; /* clear_refs writes that succeeded (one per process and scan) */
	uint64_t gone;	 /* processes found gone (ESRCH), each counted once per scan */
	uint64_t errors; /* other failed writes (the first is logged) */
	double busy_s;	 /* time spent in the writes: the page-table walks */
};

struct ibsp_hint_scan;

/**
 * ibsp_hint_scan__new() - the scanner of the hint sampler for target @o
 *
 * --pid: opens /proc/PID/clear_refs of each pid (the file stays bound to its
 * process: a reused pid is never written); --cgroup: its cgroup.procs is
 * read at each scan. -a is refused (-EINVAL, logged): soft-dirty is per
 * process.
 *
 * Return: 0, or a negative errno (logged with the pid or path).
 */
int ibsp_hint_scan__new(const struct ibsp_capture_opts *o, struct ibsp_hint_scan **out);

/** ibsp_hint_scan__delete() - close everything; NULL is accepted */
void ibsp_hint_scan__delete(struct ibsp_hint_scan *s);

/**
 * ibsp_hint_scan__scan() - write "4" to the clear_refs of every target
 * process: its soft-dirty bits are cleared and its writable PTEs
 * write-protected, so each page's next write faults. This resets
 * soft-dirty for the whole process (CRIU and any other user of it see the
 * reset).
 *
 * Return: the number of processes written this scan.
 */
int ibsp_hint_scan__scan(struct ibsp_hint_scan *s);

const struct ibsp_hint_scan_stats *ibsp_hint_scan__stats(const struct ibsp_hint_scan *s);

/** struct ibsp_live_stats - what a live decoder has seen */
struct ibsp_live_stats {
	uint64_t samples;		     /* PERF_RECORD_SAMPLE records offered */
	uint64_t decoded;		     /* handed out */
	uint64_t by_kind[IBSP_SAMPLER__MAX]; /* decoded, by enum ibsp_sampler_kind */
	uint64_t dropped[IBSP_DROP__MAX];    /* refused by a decoder, by reason */
	uint64_t unknown_event;		     /* an id none of the events has */
	uint64_t malformed;		     /* records the parser refused */
};

struct ibsp_live_decoder;

/**
 * ibsp_live_decoder__new() - decode ring records of @events (kinds and ids
 * filled, as ibsp_sampler__events() and ibsp_capture__new() leave them)
 * @cpu_family: @cpu_model: the host's, for IBS errata
 *
 * @events must outlive the decoder. Return: NULL with errno on failure.
 */
struct ibsp_live_decoder *ibsp_live_decoder__new(const struct ibsp_event_desc *events, uint32_t nr,
						 unsigned int cpu_family, unsigned int cpu_model);

/** ibsp_live_decoder__delete() - free; NULL is accepted */
void ibsp_live_decoder__delete(struct ibsp_live_decoder *d);

/**
 * ibsp_live_decoder__decode() - decode @rec
 *
 * Return: 1 with @out filled; 0 when @rec is not a sample, or a sample that
 * was refused (counted by reason in the stats).
 */
int ibsp_live_decoder__decode(struct ibsp_live_decoder *d, const struct perf_event_header *rec,
			      struct ibsp_sample *out);

/** ibsp_live_decoder__stats() - counters so far */
const struct ibsp_live_stats *ibsp_live_decoder__stats(const struct ibsp_live_decoder *d);

#endif /* IBSP_CAPTURE_H */
