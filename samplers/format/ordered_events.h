/* SPDX-License-Identifier: MIT */
/*
 * perf's ordered-events queue (Linux 6.1 tools/perf/util/ordered-events.c),
 * reproduced so that samples come out in the order `perf script` prints them.
 */
#ifndef IBSP_ORDERED_EVENTS_H
#define IBSP_ORDERED_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/sample.h"

/* An entry's place in the order; its sample is beside it, at the same index of smp[]. */
struct ibsp_ordered_event {
	uint64_t ts;
	uint64_t seq; /* arrival order: ties keep it */
	uint32_t pos; /* while flush() sorts: the index of its sample */
	uint32_t
	    is_sample; /* else a non-sample record or an invalid sample: only its time counts */
};

/*
 * The samples are an array of their own (64-byte aligned: a sample to a
 * cache line), so that those ready to deliver are contiguous and a reader
 * can hand them out where they are (ibsp_ordered_events__next_run()): a
 * flush leaves only samples in [head, ready).
 */
struct ibsp_ordered_events {
	struct ibsp_ordered_event *q;
	struct ibsp_sample *smp;	/* [i]: the sample of entry i */
	struct ibsp_ordered_event *tmp; /* flush()'s merge buffer, tmp_cap entries */
	size_t tmp_cap;
	size_t len, cap;
	size_t head, ready;	/* entries [head, ready) are sorted samples, ready to deliver */
	uint64_t tail_ts;	/* newest timestamp in the queue */
	uint64_t max_timestamp; /* perf's oe->max_timestamp */
	uint64_t next_flush;	/* perf's oe->next_flush */
	uint64_t last_flush;	/* timestamp of the last delivered entry */
	uint64_t seq;
	int unsorted;		  /* an entry came in older than the newest queued before it */
	size_t unsorted_at;	  /* the first such entry: [head, unsorted_at) is in order */
	uint32_t max_queue;	  /* memory bound, in entries */
	uint64_t nr_out_of_order; /* entries older than an already delivered one */
};

void ibsp_ordered_events__init(struct ibsp_ordered_events *oe, uint32_t max_queue);
void ibsp_ordered_events__exit(struct ibsp_ordered_events *oe);

/* Queue a record of time @ts; @s is the decoded sample, or NULL. Return 0 or -ENOMEM. */
int ibsp_ordered_events__queue(struct ibsp_ordered_events *oe, uint64_t ts,
			       const struct ibsp_sample *s);

/* ibsp_ordered_events__reserve() for every case: the queue's room, its order, out-of-order counts. */
struct ibsp_sample *ibsp_ordered_events__reserve_any(struct ibsp_ordered_events *oe, uint64_t ts);

/*
 * Queue a sample of time @ts, to be written in place: return where (valid
 * until the next call), or NULL when out of memory. The entry is a sample
 * unless ibsp_ordered_events__not_sample() says otherwise before the next.
 * Inline, the common case: room at the end of a queue that holds entries
 * still to deliver, and @ts no older than its newest nor the last delivered.
 */
static inline struct ibsp_sample *ibsp_ordered_events__reserve(struct ibsp_ordered_events *oe,
							       uint64_t ts)
{
	struct ibsp_ordered_event *e;

	if (oe->len == oe->cap || oe->len == oe->head || ts < oe->tail_ts || ts < oe->last_flush)
		return ibsp_ordered_events__reserve_any(oe, ts);
	oe->max_timestamp = ts;
	oe->tail_ts = ts;
	e = &oe->q[oe->len];
	e->ts = ts;
	e->seq = oe->seq++;
	e->is_sample = 1;
	return &oe->smp[oe->len++];
}
/* The entry reserved last holds no sample after all (only its time counts). */
void ibsp_ordered_events__not_sample(struct ibsp_ordered_events *oe);

/* PERF_RECORD_FINISHED_ROUND: ready what is not newer than the previous round's newest. */
void ibsp_ordered_events__round(struct ibsp_ordered_events *oe);

/* End of data: ready everything. */
void ibsp_ordered_events__final(struct ibsp_ordered_events *oe);

/* Past max_queue entries with nothing ready: ready the older half (our memory bound). */
void ibsp_ordered_events__bound(struct ibsp_ordered_events *oe);

/*
 * The next ready samples, up to @cap, where the queue holds them: *@run
 * receives their address, valid until the queue next changes (a queue,
 * reserve or flush); return how many (0 when none is ready).
 */
size_t ibsp_ordered_events__next_run(struct ibsp_ordered_events *oe, const struct ibsp_sample **run,
				     size_t cap);

/* The next ready sample (valid as above), or NULL when none is ready. */
const struct ibsp_sample *ibsp_ordered_events__next(struct ibsp_ordered_events *oe);

static inline int ibsp_ordered_events__has_ready(const struct ibsp_ordered_events *oe)
{
	return oe->head < oe->ready;
}

#endif
