/* SPDX-License-Identifier: MIT */
/*
 * The migration worker's state, shared by its files: migrate.c (the object,
 * the rings and the worker thread), move.c (one drain: checks, groups,
 * move_pages calls, accounting), keysort.c (the drain's order), bucket.c (the
 * token bucket) and mig_err.c (error classes). Calls go one way:
 * migrate.c -> move.c -> keysort.c, bucket.c, mig_err.c.
 */
#ifndef IBSP_MIGRATE_INTERNAL_H
#define IBSP_MIGRATE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ibsp/migrate.h"

/* A byte-based token bucket; worker-only state, waits under the migrator's lock. */
struct ibsp_mig_bucket {
	uint64_t rate_bytes_per_s; /* 0: no limit */
	uint64_t burst_bytes;
	double tokens; /* bytes; negative after a page larger than the burst */
	double last_refill_s;
};

/* A request of the drain: its order (pid << 16 | destination node, vaddr), its work_buf index. */
struct ibsp_mig_key {
	uint64_t group;
	uint64_t vaddr;
	uint64_t rank; /* keysort.c's radix key */
	uint32_t idx;
};

struct ibsp_migrator {
	struct ibsp_migrator_opts o;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	pthread_cond_t wake; /* CLOCK_MONOTONIC: the bucket's waits, broadcast at stop */
	bool stop, busy;
	bool joined; /* ibsp_migrator__stop() has run */

	struct ibsp_migration *req; /* ring of queue_len */
	uint32_t req_head, req_len;
	struct ibsp_migration_result *res; /* ring of queue_len */
	uint32_t res_head, res_len;
	struct ibsp_migrator_stats st;

	/* Worker-only. */
	struct ibsp_migration *work_buf;
	struct ibsp_mig_key *keys, *keys_tmp; /* queue_len each */
	void **pages;
	int *nodes, *status;
	int *where;		       /* move.c's node query after a positive return */
	struct ibsp_mig_bucket bucket; /* under @lock (ibsp_migrator__set_rate() changes it) */
	bool auto_burst;	       /* opts.burst_bytes was 0: one second of rate, >= 2 MiB */
};

/* bucket.c */
void ibsp_mig_bucket__init(struct ibsp_mig_bucket *b, uint64_t rate_bytes_per_s,
			   uint64_t burst_bytes);
/*
 * Wait until the bucket holds @bytes (a full bucket, for more than it can
 * hold), then take them. Waits on mg->wake, so a stop cuts them short.
 * Return: false when the migrator is stopping (nothing taken).
 */
bool ibsp_mig_bucket__take(struct ibsp_migrator *mg, uint64_t bytes);

/* keysort.c: sort @n keys (stable), using @tmp; returns @a or @tmp, whichever holds them. */
struct ibsp_mig_key *ibsp_mig_keys__sort(struct ibsp_mig_key *a, struct ibsp_mig_key *tmp,
					 uint32_t n);

/* move.c: move the @n requests in mg->work_buf. */
void ibsp_mig_drain(struct ibsp_migrator *mg, uint32_t n);

#endif /* IBSP_MIGRATE_INTERNAL_H */
