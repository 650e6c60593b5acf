// SPDX-License-Identifier: MIT
/*
 * The daemon's io_uring writes (engine/daemon/aio.c) under injected faults:
 * a failed io_uring_enter (its SQEs stay in the ring and go with the next
 * one), and a queued write that cannot get an SQE when its turn comes (it
 * and those behind it fail, counted, and the drain returns instead of
 * waiting with nothing in flight). Real files; the faults are injected
 * through the ring's test counters, as the kernel gives them rarely.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "aio.h"
#include "helpers.h"

static int open_out(const char *name)
{
	int fd = open(tmp_path(name), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", name, strerror(errno));
	return fd;
}

static void expect_file(const char *name, const char *want)
{
	size_t len;
	uint8_t *got = slurp(tmp_path(name), &len);

	cr_expect_eq(len, strlen(want), "%s: %zu bytes, want %zu", name, len, strlen(want));
	cr_expect(!memcmp(got, want, len < strlen(want) ? len : strlen(want)), "%s: %.*s", name,
		  (int)len, (const char *)got);
	free(got);
}

/* A failed enter loses nothing: the write goes with the next submit, in order. */
Test(aio, a_failed_enter_loses_no_write, .timeout = 10)
{
	struct ibsp_aio a;
	struct ibsp_aio_stream s = { .fd = open_out("enter.txt"), .ordered = true };

	cr_assert_eq(ibsp_aio__init(&a, 8), 0);
	a.inject.fail_submit = 1;
	cr_assert_eq(ibsp_aio__write(&a, &s, "one ", 4, -1), 0);
	cr_expect(a.unsubmitted, "the enter failed: the SQE waits in the ring");
	cr_assert_eq(ibsp_aio__write(&a, &s, "two ", 4, -1), 0);
	cr_assert_eq(ibsp_aio__write(&a, &s, "three", 5, -1), 0);
	cr_expect_eq(ibsp_aio__drain(&a, &s), 0);
	cr_expect_eq(a.submit_errors, 1);
	cr_expect_eq(a.write_errors, 0);
	cr_expect_eq(a.bytes_written, 13);
	cr_expect_eq(a.inflight_bytes, 0);
	expect_file("enter.txt", "one two three");
	ibsp_aio__exit(&a);
	close(s.fd);
}

/*
 * The next queued write gets no SQE when the one before it completes: it
 * and every write behind it fail with the stream's sticky error, counted,
 * and the drain returns that error (it used to wait for ever, with nothing
 * in flight, and the write was lost without an error).
 */
Test(aio, a_queued_write_without_sqe_fails_the_stream, .timeout = 10)
{
	struct ibsp_aio a;
	struct ibsp_aio_stream s = { .fd = open_out("sqe.txt"), .ordered = true };

	cr_assert_eq(ibsp_aio__init(&a, 8), 0);
	cr_assert_eq(ibsp_aio__write(&a, &s, "one ", 4, -1), 0);
	cr_assert_eq(ibsp_aio__write(&a, &s, "two ", 4, -1), 0); /* queued behind "one" */
	cr_assert_eq(ibsp_aio__write(&a, &s, "three", 5, -1), 0);
	a.inject.fail_sqe = 1;
	cr_expect_eq(ibsp_aio__drain(&a, &s), -EBUSY);
	cr_expect_eq(s.failed, 2, "both queued writes failed: %lu", (unsigned long)s.failed);
	cr_expect_eq(a.write_errors, 2);
	cr_expect_eq(a.inflight_bytes, 0, "no bytes stay counted in flight");
	cr_expect_eq(s.inflight, 0);
	cr_expect_null(s.head);
	cr_expect_eq(ibsp_aio__write(&a, &s, "four", 4, -1), -EBUSY, "the error is sticky");
	expect_file("sqe.txt", "one ");
	ibsp_aio__exit(&a);
	close(s.fd);
}

/* A write that cannot be queued at all is refused at once (it used to stay counted in flight). */
Test(aio, a_write_without_sqe_is_refused, .timeout = 10)
{
	struct ibsp_aio a;
	struct ibsp_aio_stream s = { .fd = open_out("refused.txt") };

	cr_assert_eq(ibsp_aio__init(&a, 8), 0);
	a.inject.fail_sqe = 1;
	cr_expect_eq(ibsp_aio__write(&a, &s, "lost", 4, 0), -EBUSY);
	cr_expect_eq(a.inflight_bytes, 0);
	cr_expect_eq(s.inflight, 0);
	cr_expect_eq(ibsp_aio__drain(&a, &s), -EBUSY, "its error is the stream's");
	ibsp_aio__exit(&a);
	close(s.fd);
}
