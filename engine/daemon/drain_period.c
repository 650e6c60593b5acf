// SPDX-License-Identifier: MIT
/*
 * When the daemon drains the rings (daemon.c): the drain timer's period,
 * which follows the busiest ring's byte rate (ibsp_daemon__drain_period()),
 * its last expiry, at the end of a --duration, and on the longest period
 * the rings' own wakeups (ibsp_daemon__watch_rings()).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log_print.h"

#define DRAIN_MAX_MS	   250 /* the longest period, with rings of perf record's 512 KiB; */
#define DRAIN_MAX_LARGE_MS 500 /* with larger rings, in proportion, up to this */

/* The busiest ring's byte rate since the previous drain, for ibsp_daemon__adapt_drain(). */
void ibsp_daemon__note_ring_rate(struct daemon *d)
{
	double now = ibsp_daemon_mono_s(), dt = now - d->drain_last_s;
	uint64_t bytes = ibsp_capture__stats(d->cap)->last_ring_bytes;

	/* a drain just after another (a tick's) says little about the rate: not under 10 ms */
	if (dt < DRAIN_MIN_MS / 1000.0)
		dt = DRAIN_MIN_MS / 1000.0;
	if ((double)bytes / dt > d->drain_peak_bps)
		d->drain_peak_bps = (double)bytes / dt;
	d->drain_last_s = now;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000),
				  .tv_nsec = (long)(ns % 1000000000) };
}

int ibsp_daemon__arm_timer(int fd, uint32_t ms)
{
	struct itimerspec it = { 0 };

	it.it_interval = ns_to_ts((uint64_t)ms * 1000000);
	it.it_value = it.it_interval;
	return timerfd_settime(fd, 0, &it, NULL) ? -errno : 0;
}

/*
 * The automatic drain period: long enough that a wake-up does not cost more
 * than the records it brings (a drain every 10 ms was ~30% of the daemon's
 * CPU at 58 k samples/s, and most of it at a few thousand), short enough
 * that the busiest ring is at most a quarter full when it comes, were it
 * to go on at the highest rate seen since the last drain (the kernel wakes
 * a poller at half: the other quarter is for a rate that doubles). The rate
 * is that ring's own bytes: with N CPUs the records spread over N rings,
 * and a record is its real size (a page fault ~90 bytes, an IBS-op sample
 * ~140). Ten to 250 ms; with rings larger than 512 KiB the longest period
 * grows with them, up to 500 ms from 1 MiB on (CAP_IPC_LOCK's default
 * rings, capture.h): each drain costs the daemon a wake-up and its caches
 * (at 40 k faults/s, 8-13% more CPU a sample with a drain every 250 ms
 * than every 500, docs/performance.md), and a larger ring holds a burst as
 * long as a 512 KiB one does 250 ms. A burst shortens it at once; a quiet
 * drain lengthens it at most twofold: one empty drain (a target between two
 * processes of a burst) must not leave a full-speed stream on the longest
 * period, where a small ring overflows. 10 ms reaches 250 after ~300 ms of
 * quiet.
 */
/* One CPU's ring, as mapped. */
static uint64_t ring_bytes(const struct daemon *d)
{
	return (uint64_t)ibsp_capture__stats(d->cap)->ring_pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static double longest_ms(uint64_t ring_bytes)
{
	double longest = DRAIN_MAX_MS * (double)ring_bytes / (512 * 1024);

	return longest < DRAIN_MAX_MS	      ? DRAIN_MAX_MS
	       : longest > DRAIN_MAX_LARGE_MS ? DRAIN_MAX_LARGE_MS
					      : longest;
}

uint32_t ibsp_daemon__drain_period(uint32_t cur_ms, double peak_bps, uint64_t ring_bytes)
{
	double ring = (double)ring_bytes, longest = longest_ms(ring_bytes);
	double want;

	want = longest;
	if (peak_bps > 0)
		want = ring / 4 / peak_bps * 1000;
	if (want > 2.0 * cur_ms)
		want = 2.0 * cur_ms;
	return want < DRAIN_MIN_MS ? DRAIN_MIN_MS
	       : want > longest	   ? (uint32_t)longest
				   : (uint32_t)want;
}

/*
 * With --duration, when the run ends before the next drain, the next comes
 * at the end: a run is not up to a drain period (500 ms) longer than asked.
 */
void ibsp_daemon__arm_end(struct daemon *d)
{
	double left = d->o.duration_s - (ibsp_daemon_mono_s() - d->t_enabled);
	struct itimerspec it = { 0 };
	uint64_t ns;

	if (d->o.duration_s <= 0 || left * 1000 >= d->drain_cur_ms)
		return;
	ns = left > 1e-6 ? (uint64_t)(left * 1e9) : 1000;
	it.it_value = ns_to_ts(ns);
	it.it_interval = ns_to_ts((uint64_t)d->drain_cur_ms * 1000000);
	timerfd_settime(d->drain_fd, 0, &it, NULL); /* failing, the period's drain ends it */
}

/* The timer is re-armed when the period wanted moves by half or more. */
void ibsp_daemon__adapt_drain(struct daemon *d)
{
	uint32_t want =
	    ibsp_daemon__drain_period(d->drain_cur_ms, d->drain_peak_bps, ring_bytes(d));

	d->drain_peak_bps = 0;
	if ((want > d->drain_cur_ms * 1.5 || want < d->drain_cur_ms / 1.5) &&
	    !ibsp_daemon__arm_timer(d->drain_fd, want))
		d->drain_cur_ms = want;
}

/*
 * CPU-wide targets with the automatic period: the rings' fds (one per CPU,
 * ibsp_capture__ring_fds()) in one epoll set, which the loop polls through
 * io_uring as one fd however many CPUs there are. Failing that, the timer
 * drains them alone (said once).
 */
void ibsp_daemon__rings_setup(struct daemon *d)
{
	const int *fds;
	uint32_t nr = ibsp_capture__ring_fds(d->cap, &fds);
	int err;

	if (!d->drain_auto || !nr)
		return;
	d->ring_ep = epoll_create1(EPOLL_CLOEXEC);
	err = errno;
	for (uint32_t k = 0; d->ring_ep >= 0 && k < nr; k++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = k };

		if (epoll_ctl(d->ring_ep, EPOLL_CTL_ADD, fds[k], &ev)) {
			err = errno;
			close(d->ring_ep);
			d->ring_ep = -1;
		}
	}
	if (d->ring_ep < 0) /* the timer alone still drains them, as for --pid targets */
		pr_warn("daemon: cannot poll the rings' wakeups (%s): drained on the timer only\n",
			strerror(err));
}

/*
 * On the longest period the timer follows no rate (there is little or none),
 * so a burst after a quiet spell would find the rings on that period: 500 ms,
 * where a 4 MiB ring fills in ~190 ms at 500 k page faults a second, a 512
 * KiB one in ~25 ms. There, the loop also waits on the rings' wakeups: the
 * kernel wakes a ring's poller each time half a ring more has been written
 * (wakeup_bytes, capture.h), and the loop drains every ring at once, which
 * shortens the period to the burst's rate. Below the longest period the
 * timer keeps the busiest ring at most a quarter full at the highest rate
 * seen, and the wakeups are not waited on: each ring wakes once per half
 * ring written, whatever was read, so with N CPUs they would come up to N/2
 * times as often as the timer's drains, each a wake-up of the loop. On the
 * longest period they cost at most one wake-up per half ring of records.
 */
int ibsp_daemon__watch_rings(struct daemon *d, uint64_t tag)
{
	int ret;

	if (d->ring_ep < 0 || d->ring_watch ||
	    d->drain_cur_ms < (uint32_t)longest_ms(ring_bytes(d)))
		return 0;
	ret = ibsp_aio__poll(&d->aio, d->ring_ep, POLLIN, tag);
	d->ring_watch = !ret;
	return ret;
}
