// SPDX-License-Identifier: MIT
/*
 * The migration worker's token bucket: rate_bytes_per_s bytes flow in, up
 * to burst_bytes; a move_pages call takes its pages' bytes first. A call
 * larger than the burst (one page above it: the worker never builds a
 * larger call) waits for a full bucket and leaves it in debt, so the
 * average rate holds. The wait is a timed wait on the migrator's `wake`
 * condition (CLOCK_MONOTONIC), which ibsp_migrator__delete() broadcasts:
 * shutting down never waits out a refill.
 */
#include <time.h>

#include "migrate_internal.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ibsp_mig_bucket__init(struct ibsp_mig_bucket *b, uint64_t rate_bytes_per_s,
			   uint64_t burst_bytes)
{
	b->rate_bytes_per_s = rate_bytes_per_s;
	b->burst_bytes = burst_bytes;
	b->tokens = (double)burst_bytes;
	b->last_refill_s = mono_s();
}

static void refill(struct ibsp_mig_bucket *b, double now_s)
{
	b->tokens += (now_s - b->last_refill_s) * (double)b->rate_bytes_per_s;
	if (b->tokens > (double)b->burst_bytes)
		b->tokens = (double)b->burst_bytes;
	b->last_refill_s = now_s;
}

static struct timespec mono_deadline(double at_s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)at_s;
	ts.tv_nsec = (long)((at_s - (double)ts.tv_sec) * 1e9) + 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

bool ibsp_mig_bucket__take(struct ibsp_migrator *mg, uint64_t bytes)
{
	struct ibsp_mig_bucket *b = &mg->bucket;
	double need;
	bool waited = false, ok;

	if (!b->rate_bytes_per_s)
		return true;
	need = (double)(bytes < b->burst_bytes ? bytes : b->burst_bytes);
	pthread_mutex_lock(&mg->lock);
	for (;;) {
		double now = mono_s();
		struct timespec until;

		refill(b, now);
		ok = !mg->stop;
		if (!ok || b->tokens >= need)
			break;
		if (!waited) {
			mg->st.rate_limited++;
			waited = true;
		}
		until = mono_deadline(now + (need - b->tokens) / (double)b->rate_bytes_per_s);
		pthread_cond_timedwait(&mg->wake, &mg->lock, &until);
	}
	if (ok)
		b->tokens -= (double)bytes;
	pthread_mutex_unlock(&mg->lock);
	return ok;
}
