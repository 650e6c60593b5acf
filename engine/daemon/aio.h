/* SPDX-License-Identifier: MIT */
/* The daemon's io_uring I/O (engine/aio.c). */
#ifndef IBSP_AIO_H
#define IBSP_AIO_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AIO_MAX_DEFERRED 8

struct aio_req;

/** struct aio_event - a finished read */
struct aio_event {
	uint64_t tag;
	int res; /* bytes read, or a negative errno */
};

/** struct aio_stream - one file written through the ring */
struct aio_stream {
	int fd;
	bool ordered; /* one write in flight at a time, in order (no offsets) */
	int err;      /* the first write error, sticky */
	uint32_t inflight;
	struct aio_req *head, *tail; /* queued behind the one in flight (ordered) */
};

struct aio {
	struct io_uring ring;
	uint32_t pending; /* SQEs submitted, not completed */
	uint64_t inflight_bytes;
	uint64_t bytes_written;
	uint64_t write_errors;
	uint64_t stalls; /* writes that waited for the disk (back-pressure) */
	struct aio_event deferred[AIO_MAX_DEFERRED];
	uint32_t nr_deferred;
	struct aio_req *live; /* requests not finished: freed by aio__exit() */
};

int aio__init(struct aio *a, unsigned int entries);
void aio__exit(struct aio *a);
/* Queue a read of @fd into @buf; its completion comes back from aio__wait() with @tag. */
int aio__read(struct aio *a, int fd, void *buf, size_t len, uint64_t tag);
/* Copy @buf and write it to @s at @off (-1: the file position). */
int aio__write(struct aio *a, struct aio_stream *s, const void *buf, size_t len, int64_t off);
/* Wait for the next finished read, completing writes on the way. */
int aio__wait(struct aio *a, struct aio_event *ev);
/* Wait until every write of @s is done; its first error, or 0. */
int aio__drain(struct aio *a, struct aio_stream *s);

#endif
