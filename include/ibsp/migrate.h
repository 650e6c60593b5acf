/* SPDX-License-Identifier: MIT */
/*
 * The migration worker: a thread that moves planned pages with move_pages(2)
 * (libnuma's numa_move_pages), fed by a bounded queue. Submitting never
 * blocks: a full queue is counted. Requests are checked first (an invalid
 * one is refused without a call), then grouped per (pid, destination node)
 * and moved in batches, so that an error of a whole call belongs to one
 * node; a token bucket bounds the bytes per second; every page is accounted
 * by outcome, and nothing is retried (a page that stays hot is planned again
 * by the policy, after its guard).
 *
 * The engine is single-threaded: the worker never touches it. The daemon
 * reaps outcomes and reports them with ibsp_engine__complete().
 */
#ifndef IBSP_MIGRATE_H
#define IBSP_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/engine.h"

/** enum ibsp_mig_err - how a page migration can end, for accounting */
enum ibsp_mig_err {
	IBSP_MIG_EBUSY = 0,	   /* the page could not be isolated (in use, under I/O) */
	IBSP_MIG_EACCES = 1,	   /* mapped by several processes (needs MPOL_MF_MOVE_ALL) */
	IBSP_MIG_ENOENT = 2,	   /* not present any more */
	IBSP_MIG_EFAULT = 3,	   /* no VMA, or a VMA that cannot migrate */
	IBSP_MIG_ENOMEM = 4,	   /* the destination had no free page */
	IBSP_MIG_ESRCH = 5,	   /* the process is gone */
	IBSP_MIG_EPERM = 6,	   /* no ptrace-read access to the process */
	IBSP_MIG_ENODEV = 7,	   /* the destination node has no memory (whole call) */
	IBSP_MIG_NOT_MIGRATED = 8, /* a positive move_pages return, and the node query failed */
	IBSP_MIG_INVALID = 9,	   /* a malformed request (no call), or the kernel's EINVAL */
	IBSP_MIG_OTHER = 10,
	IBSP_MIG_ERR__MAX
};

/* Node ids the worker accepts as destinations, and the size of its node matrix. */
#define IBSP_MIG_MAX_NODES 64

/** ibsp_mig_err__name() - "ebusy", "eacces", ... "not_migrated", "invalid", "other" */
const char *ibsp_mig_err__name(enum ibsp_mig_err e);

/** ibsp_mig_err__from_errno() - the class of a (positive) errno value */
enum ibsp_mig_err ibsp_mig_err__from_errno(int err);

/** struct ibsp_migrator_opts - start with sz = sizeof(opts) */
struct ibsp_migrator_opts {
	size_t sz;
	uint32_t queue_len;	   /* requests; 0 = 65536 */
	uint64_t rate_bytes_per_s; /* token bucket refill; 0 = unlimited */
	uint64_t burst_bytes;	   /* bucket size; 0 = one second of rate (at least 2 MiB) */
	uint32_t batch;		   /* pages per move_pages call (at most the burst); 0 = 512 */
	bool dry_run;		   /* account, never call move_pages */
	int flags;		   /* move_pages flags; 0 = MPOL_MF_MOVE */
	/*
	 * Called by the worker right before each move_pages call for @pid:
	 * 0 goes on; a negative errno (-ESRCH: the process is gone, or its pid
	 * now names another one) fails the call's pages with it, without the
	 * call, and the pid's remaining pages of that drain too. NULL: no check.
	 */
	int (*check_pid)(void *ctx, uint32_t pid);
	void *check_ctx;
	/* Destination node ids accepted (bit n: node n); 0 = the host's configured nodes. */
	uint64_t node_mask;
	/* For tests: replaces numa_move_pages (same contract). */
	long (*move_pages)(int pid, unsigned long count, void **pages, const int *nodes,
			   int *status, int flags);
};

/** struct ibsp_migration_result - one request's outcome */
struct ibsp_migration_result {
	struct ibsp_migration m;
	/*
	 * The node move_pages reported; or a negative errno: the page's own
	 * status, else the error of its whole call (or check_pid's). After a
	 * positive return (no status for the batch) the node a query with
	 * nodes NULL found the page on, or -EAGAIN where it failed. -EINVAL
	 * for a refused request, -ENOEXEC in a dry run.
	 */
	int final_node;
};

/** struct ibsp_migrator_stats - counters since creation */
struct ibsp_migrator_stats {
	uint64_t submitted; /* requests queued */
	uint64_t results;   /* results queued for reaping: one per request, unless dropped */
	/* Requests ibsp_migrator__stop() dropped, queued or taken but not done: no result. */
	uint64_t dropped;
	uint64_t queue_full; /* requests refused: the queue was full */
	uint64_t syscalls;   /* move_pages calls */
	uint64_t moved;	     /* pages now on their destination */
	uint64_t moved_bytes;
	/*
	 * Pages that ended on a node other than their destination: the node
	 * the kernel reported, or the one the query after a positive return
	 * found (then possibly still their source).
	 */
	uint64_t moved_elsewhere;
	uint64_t failed; /* pages that did not move */
	uint64_t by_err[IBSP_MIG_ERR__MAX];
	uint64_t rate_limited; /* times the bucket made the worker wait */
	uint64_t dry_run;      /* requests accounted without moving */
	uint64_t pid_refused;  /* calls check_pid refused (their pages are failed) */
	/*
	 * Pages a positive move_pages return left without a status that the
	 * node query (move_pages with nodes NULL) found on their destination:
	 * counted in @moved too.
	 */
	uint64_t recovered;
	/*
	 * Pages that ended on a node, by [source node id][final node id]: the
	 * node the request said the page was on and the node move_pages
	 * reported or the query found (the destination, or another node). Pages with a source
	 * outside 0..IBSP_MIG_MAX_NODES-1 are not in it.
	 */
	uint64_t matrix[IBSP_MIG_MAX_NODES][IBSP_MIG_MAX_NODES];
};

struct ibsp_migrator;

/** ibsp_migrator__new() - start the worker; NULL with errno on failure */
struct ibsp_migrator *ibsp_migrator__new(const struct ibsp_migrator_opts *opts);

/**
 * ibsp_migrator__stop() - stop the worker, dropping what it has not done. A wait for
 * tokens is cut short: it returns after at most the move_pages call in flight. The
 * results queued so far stay to be reaped; nothing may be submitted after it.
 * Return: the requests dropped (they have no result); 0 on a second call.
 */
size_t ibsp_migrator__stop(struct ibsp_migrator *mg);

/**
 * ibsp_migrator__delete() - stop the worker (ibsp_migrator__stop()), free it; NULL is accepted.
 * A wait for tokens is cut short: it returns after at most the move_pages call in flight.
 */
void ibsp_migrator__delete(struct ibsp_migrator *mg);

/**
 * ibsp_migrator__submit() - queue @n requests; never blocks. Return: how many were queued
 *
 * The worker refuses a request without a call (IBSP_MIG_INVALID, final_node
 * -EINVAL) when its pid is 0, its vaddr is 0, not aligned to its bytes or
 * above any user address (2^57),
 * its bytes are neither 4096 nor 2 MiB, or its dst_node is negative, at
 * least IBSP_MIG_MAX_NODES or not in the node mask.
 */
size_t ibsp_migrator__submit(struct ibsp_migrator *mg, const struct ibsp_migration *m, size_t n);

/** ibsp_migrator__reap() - up to @cap finished requests, oldest first; never blocks */
size_t ibsp_migrator__reap(struct ibsp_migrator *mg, struct ibsp_migration_result *out, size_t cap);

/** ibsp_migrator__flush() - wait until the queue is empty; 0, or -ETIMEDOUT */
int ibsp_migrator__flush(struct ibsp_migrator *mg, int timeout_ms);

/**
 * ibsp_migrator__set_rate() - a new rate limit (0: unlimited) from the worker's next
 * batch on; the burst follows it when opts.burst_bytes was 0
 */
void ibsp_migrator__set_rate(struct ibsp_migrator *mg, uint64_t rate_bytes_per_s);

/** ibsp_migrator__stats() - a consistent copy of the counters */
void ibsp_migrator__stats(struct ibsp_migrator *mg, struct ibsp_migrator_stats *st);

#endif /* IBSP_MIGRATE_H */
