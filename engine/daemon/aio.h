/* SPDX-License-Identifier: MIT */
/* The daemon's io_uring I/O (engine/daemon/aio.c). */
#ifndef IBSP_AIO_H
#define IBSP_AIO_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IBSP_AIO_MAX_DEFERRED 80 /* the timers, the signalfd and up to 64 pidfds */

struct ibsp_aio_req;

/** struct ibsp_aio_event - a finished read */
struct ibsp_aio_event {
	uint64_t tag;
	int res; /* bytes read, or a negative errno */
};

/** struct ibsp_aio_stream - one file written through the ring */
struct ibsp_aio_stream {
	int fd;
	bool ordered;	 /* one write in flight at a time, in order (no offsets) */
	int err;	 /* the first write error, sticky: later writes are refused with it */
	uint64_t failed; /* writes that failed (the first error's and those in flight then) */
	uint32_t inflight;
	struct ibsp_aio_req *head, *tail; /* queued behind the one in flight (ordered) */
};

struct ibsp_aio {
	struct io_uring ring;
	uint32_t pending; /* SQEs submitted, not completed */
	uint64_t inflight_bytes;
	uint64_t bytes_written;
	uint64_t write_errors;
	uint64_t stalls;	/* writes that waited for the disk (back-pressure) */
	uint64_t submit_errors; /* io_uring_enter failures (their SQEs go with the next one) */
	bool unsubmitted;	/* the last enter failed: SQEs wait in the ring */
	struct {		/* fault injection, for tests: how many of the next calls fail */
		uint32_t fail_submit; /* io_uring_enter, as with EAGAIN */
		uint32_t fail_sqe;    /* getting an SQE for a write, as with a full SQ ring */
	} inject;
	struct ibsp_aio_event deferred[IBSP_AIO_MAX_DEFERRED];
	uint32_t nr_deferred;
	struct ibsp_aio_req *live; /* requests not finished: freed by ibsp_aio__exit() */
};

int ibsp_aio__init(struct ibsp_aio *a, unsigned int entries);
void ibsp_aio__exit(struct ibsp_aio *a);
/* Queue a read of @fd into @buf; its completion comes back from ibsp_aio__wait() with @tag. */
int ibsp_aio__read(struct ibsp_aio *a, int fd, void *buf, size_t len, uint64_t tag);
/* Queue a one-shot poll of @fd for @events; its completion (res: the events seen) comes with @tag. */
int ibsp_aio__poll(struct ibsp_aio *a, int fd, unsigned int events, uint64_t tag);
/* Copy @buf and write it to @s at @off (-1: the file position). */
int ibsp_aio__write(struct ibsp_aio *a, struct ibsp_aio_stream *s, const void *buf, size_t len,
		    int64_t off);
/* Wait for the next finished read, completing writes on the way. */
int ibsp_aio__wait(struct ibsp_aio *a, struct ibsp_aio_event *ev);
/* Wait until every write of @s is done; its first error, or 0. */
int ibsp_aio__drain(struct ibsp_aio *a, struct ibsp_aio_stream *s);

#endif
