// SPDX-License-Identifier: MIT
/*
 * The daemon's I/O on liburing: reads of its signalfd and timerfds, polls of
 * its targets' pidfds, and the
 * writes of the recording and the telemetry, so that sampling never waits
 * on disk. Writes are copied and queued per file descriptor: a telemetry
 * file (no offsets, O_APPEND or a pipe) gets one write in flight at a time,
 * in order; a recording (explicit offsets) may have several.
 *
 * Back-pressure: above AIO_MAX_INFLIGHT bytes queued, a write first waits
 * for completions (counted as a stall) rather than grow without bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aio.h"

#define AIO_MAX_INFLIGHT (64u << 20)

struct ibsp_aio_req {
	enum { REQ_READ, REQ_WRITE } kind;
	struct ibsp_aio_stream *stream; /* writes */
	uint64_t tag;			/* reads */
	int fd;
	uint8_t *buf;
	size_t len, done;
	int64_t off;				    /* -1: the file position */
	struct ibsp_aio_req *next;		    /* a stream's queue */
	struct ibsp_aio_req *live_prev, *live_next; /* every request not yet finished */
};

static void live_add(struct ibsp_aio *a, struct ibsp_aio_req *r)
{
	r->live_prev = NULL;
	r->live_next = a->live;
	if (a->live)
		a->live->live_prev = r;
	a->live = r;
}

static void live_del(struct ibsp_aio *a, struct ibsp_aio_req *r)
{
	if (r->live_prev)
		r->live_prev->live_next = r->live_next;
	else
		a->live = r->live_next;
	if (r->live_next)
		r->live_next->live_prev = r->live_prev;
}

int ibsp_aio__init(struct ibsp_aio *a, unsigned int entries)
{
	int ret;

	memset(a, 0, sizeof(*a));
	ret = io_uring_queue_init(entries, &a->ring, 0);
	return ret;
}

void ibsp_aio__exit(struct ibsp_aio *a)
{
	/* The ring goes first: then the kernel writes into no buffer of ours. */
	io_uring_queue_exit(&a->ring);
	while (a->live) {
		struct ibsp_aio_req *r = a->live;

		live_del(a, r);
		free(r->buf);
		free(r);
	}
}

static struct io_uring_sqe *get_sqe(struct ibsp_aio *a)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

	if (!sqe) {
		io_uring_submit(&a->ring);
		sqe = io_uring_get_sqe(&a->ring);
	}
	return sqe;
}

/*
 * Submit what the SQ ring holds. A failed io_uring_enter (EAGAIN, EBUSY)
 * leaves the SQEs in the ring, where the next enter takes them: they stay
 * pending, and every wait submits first.
 */
static void submit(struct ibsp_aio *a)
{
	int ret =
	    a->inject.fail_submit ? (a->inject.fail_submit--, -EAGAIN) : io_uring_submit(&a->ring);

	a->unsubmitted = ret < 0;
	a->submit_errors += ret < 0;
}

/* A read of @len bytes into @buf, or with @buf NULL a poll for @len's events. */
static int queue_in(struct ibsp_aio *a, int fd, void *buf, size_t len, uint64_t tag)
{
	struct ibsp_aio_req *r = calloc(1, sizeof(*r));
	struct io_uring_sqe *sqe;

	if (!r)
		return -ENOMEM;
	sqe = get_sqe(a);
	if (!sqe) {
		free(r);
		return -EBUSY;
	}
	r->kind = REQ_READ;
	r->tag = tag;
	r->fd = fd;
	live_add(a, r);
	if (buf)
		io_uring_prep_read(sqe, fd, buf, (unsigned int)len, 0);
	else
		io_uring_prep_poll_add(sqe, fd, (unsigned int)len);
	io_uring_sqe_set_data(sqe, r);
	a->pending++;
	submit(a);
	return 0;
}

int ibsp_aio__read(struct ibsp_aio *a, int fd, void *buf, size_t len, uint64_t tag)
{
	return queue_in(a, fd, buf, len, tag);
}

int ibsp_aio__poll(struct ibsp_aio *a, int fd, unsigned int events, uint64_t tag)
{
	return queue_in(a, fd, NULL, events, tag);
}

/* Queue the rest of write @r. -EBUSY when the ring has no SQE: then nothing was queued. */
static int submit_write(struct ibsp_aio *a, struct ibsp_aio_req *r)
{
	struct io_uring_sqe *sqe = a->inject.fail_sqe ? (a->inject.fail_sqe--, NULL) : get_sqe(a);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_write(sqe, r->fd, r->buf + r->done, (unsigned int)(r->len - r->done),
			    r->off < 0 ? (uint64_t)-1 : (uint64_t)r->off + r->done);
	io_uring_sqe_set_data(sqe, r);
	a->pending++;
	submit(a);
	return 0;
}

/* Write @r is over: @res is 0 or its error (counted; the stream's first one is kept). */
static void end_write(struct ibsp_aio *a, struct ibsp_aio_req *r, int res)
{
	if (res) {
		a->write_errors++;
		r->stream->failed++;
		if (!r->stream->err)
			r->stream->err = res;
	} else {
		a->bytes_written += r->len;
	}
	a->inflight_bytes -= r->len;
	live_del(a, r);
	free(r->buf);
	free(r);
}

/*
 * Start the next queued write of ordered stream @s. When it cannot be
 * queued, it and every write behind it fail: nothing of @s is in flight
 * then, so no completion would ever start them, and a gap in an ordered
 * stream is worse than its end.
 */
static void start_next(struct ibsp_aio *a, struct ibsp_aio_stream *s)
{
	while (s->head && !s->inflight) {
		struct ibsp_aio_req *n = s->head;
		int ret;

		s->head = n->next;
		if (!s->head)
			s->tail = NULL;
		s->inflight++;
		ret = s->err ? s->err : submit_write(a, n);
		if (!ret)
			return;
		s->inflight--;
		end_write(a, n, ret);
	}
}

/* Complete one CQE; a read's tag and result go to @ev. Returns 1 for a read. */
static int complete(struct ibsp_aio *a, struct io_uring_cqe *cqe, struct ibsp_aio_event *ev)
{
	struct ibsp_aio_req *r = io_uring_cqe_get_data(cqe);
	struct ibsp_aio_stream *s;
	int res = cqe->res;

	io_uring_cqe_seen(&a->ring, cqe);
	a->pending--;
	if (r->kind == REQ_READ) {
		ev->tag = r->tag;
		ev->res = res;
		live_del(a, r);
		free(r);
		return 1;
	}
	if (res > 0 && r->done + (size_t)res < r->len) { /* short write: the rest */
		r->done += (size_t)res;
		if (!submit_write(a, r))
			return 0;
		res = -EIO;
	}
	if (res == 0 && r->len)
		res = -EIO;
	s = r->stream;
	s->inflight--;
	end_write(a, r, res < 0 ? res : 0);
	if (s->ordered)
		start_next(a, s);
	return 0;
}

/* Wait for a completion, submitting first what a failed enter left in the ring. */
static int wait_cqe(struct ibsp_aio *a, struct io_uring_cqe **cqe)
{
	if (!a->pending)
		return -ENODATA; /* nothing can complete: never wait for ever */
	if (a->unsubmitted)
		submit(a);
	return io_uring_wait_cqe(&a->ring, cqe);
}

int ibsp_aio__wait(struct ibsp_aio *a, struct ibsp_aio_event *ev)
{
	if (a->nr_deferred) {
		*ev = a->deferred[0];
		memmove(a->deferred, a->deferred + 1, --a->nr_deferred * sizeof(*ev));
		return 0;
	}
	for (;;) {
		struct io_uring_cqe *cqe;
		int ret = wait_cqe(a, &cqe);

		if (ret == -EINTR)
			continue;
		if (ret)
			return ret;
		if (complete(a, cqe, ev))
			return 0;
	}
}

/* Wait for one completion; a read is kept for ibsp_aio__wait(). */
static int wait_one(struct ibsp_aio *a)
{
	struct io_uring_cqe *cqe;
	struct ibsp_aio_event ev;
	int ret = wait_cqe(a, &cqe);

	if (ret == -EINTR)
		return 0;
	if (ret)
		return ret;
	if (complete(a, cqe, &ev)) {
		if (a->nr_deferred == IBSP_AIO_MAX_DEFERRED)
			return -EOVERFLOW;
		a->deferred[a->nr_deferred++] = ev;
	}
	return 0;
}

int ibsp_aio__write(struct ibsp_aio *a, struct ibsp_aio_stream *s, const void *buf, size_t len,
		    int64_t off)
{
	struct ibsp_aio_req *r;
	int ret;

	if (s->err)
		return s->err;
	while (a->inflight_bytes + len > AIO_MAX_INFLIGHT && a->inflight_bytes) {
		ret = wait_one(a);
		a->stalls++;
		if (ret)
			return ret;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->buf = malloc(len ? len : 1);
	if (!r->buf) {
		free(r);
		return -ENOMEM;
	}
	memcpy(r->buf, buf, len);
	r->kind = REQ_WRITE;
	r->stream = s;
	r->fd = s->fd;
	r->len = len;
	r->off = off;
	live_add(a, r);
	a->inflight_bytes += len;
	if (s->ordered && s->inflight) {
		if (s->tail)
			s->tail->next = r;
		else
			s->head = r;
		s->tail = r;
		return 0;
	}
	s->inflight++;
	ret = submit_write(a, r);
	if (ret) {
		s->inflight--;
		end_write(a, r, ret);
	}
	return ret;
}

int ibsp_aio__drain(struct ibsp_aio *a, struct ibsp_aio_stream *s)
{
	while (s->inflight || s->head) {
		int ret;

		if (!s->inflight) /* only after a failed enter's retry: start the queue again */
			start_next(a, s);
		if (!s->inflight)
			break;
		ret = wait_one(a);
		if (ret)
			return ret;
	}
	return s->err;
}
