// SPDX-License-Identifier: MIT
/*
 * The daemon loop (include/ibsp/daemon.h). One thread runs everything but
 * the page moves: an io_uring loop waits on a signalfd, the policy-interval
 * timerfd, a drain timerfd and, for CPU-wide targets, the rings' wakeups.
 * The rings are drained on the timer, which bounds the ring space a burst
 * needs: every --drain-ms, or by default a period
 * that follows the record rate, from 10 ms (a quarter of one CPU's ring at
 * the rate seen) to 250-500 ms, where CPU-wide targets also wait on the
 * rings' own wakeups (drain_period.c). Each drain writes the
 * records to the recording, if any, and hands them to the promotion half
 * (promote.c), which each interval ticks the engine, hands the plan to the
 * migration worker and writes a telemetry line. With record_only there is
 * no promotion half and no interval timer: `ibs-promote record`. Recording
 * and telemetry writes go through the same ring, so sampling never waits on
 * the disk.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log_print.h"
#include "util.h"

/* Completion tags; target i's pidfd is TAG_PIDFD + i. */
enum { TAG_SIGNAL = 1, TAG_TICK = 2, TAG_DRAIN = 3, TAG_SCAN = 4, TAG_RINGS = 5, TAG_PIDFD = 16 };

static int rec_sink(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	struct daemon *d = ctx;

	d->rec.fd = fd;
	return ibsp_aio__write(&d->aio, &d->rec, buf, len, (int64_t)off);
}

static int write_rec(const struct perf_event_header *rec, void *ctx)
{
	return ibsp_perf_writer__write(ctx, rec);
}

/*
 * A write to the recording failed (ENOSPC, EIO, ...). `record` ends with
 * the error. `run` stops the recording, says so once, and goes on
 * promoting: the telemetry counts the failure (recording.write_errors) and
 * the run ends incomplete.
 */
static int recording_failed(struct daemon *d, int err)
{
	if (!d->eng)
		return err;
	if (!d->rec_err) {
		d->rec_err = err;
		pr_err("%s: recording stopped: %s; promotion goes on\n", d->o.record_name,
		       strerror(-err));
	}
	return 0;
}

static bool recording(const struct daemon *d)
{
	return d->w && !d->rec_err;
}

static int on_record(const struct perf_event_header *rec, void *ctx)
{
	struct daemon *d = ctx;
	int ret;

	if (recording(d) && (ret = ibsp_perf_writer__write(d->w, rec)) &&
	    (ret = recording_failed(d, ret)))
		return ret;
	if (d->eng)
		ibsp_promote__add(d, rec);
	return 0;
}

/* Drain every ring; the recording gets a round mark only when records came. */
static int drain(struct daemon *d)
{
	uint64_t before = ibsp_capture__stats(d->cap)->records;
	int ret = ibsp_capture__drain(d->cap, on_record, d);

	ibsp_daemon__note_ring_rate(d);

	if (d->eng)
		ibsp_promote__flush(d);
	if (!ret && recording(d) && ibsp_capture__stats(d->cap)->records != before &&
	    (ret = ibsp_perf_writer__finish_round(d->w)))
		ret = recording_failed(d, ret);
	return ret;
}

/* The signalfd, the three timers, the targets' pidfds and the ring. */
static int setup_fds(struct daemon *d, sigset_t *mask)
{
	int ret;

	d->sfd = signalfd(-1, mask, SFD_CLOEXEC);
	d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->drain_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->scan_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (d->sfd < 0 || d->tick_fd < 0 || d->drain_fd < 0 || d->scan_fd < 0) {
		pr_err("daemon: signalfd/timerfd: %s\n", strerror(errno));
		return -errno;
	}
	ret = ibsp_aio__init(&d->aio, 256);
	if (ret) {
		pr_err("daemon: io_uring setup: %s\n", strerror(-ret));
		return ret;
	}
	d->aio_up = true;
	return ibsp_daemon_targets__open(&d->targets, &d->o.capture);
}

/* The sampler's events, opened on the target (disabled). */
static int setup_capture(struct daemon *d)
{
	int ret;

	if (d->o.sampler.kind == IBSP_SAMPLER_HINT) {
		char why[256];

		if (ibsp_soft_dirty__probe(why, sizeof(why)) != 1) {
			pr_err("hint unavailable: %s\n", why);
			return -EOPNOTSUPP;
		}
		ret = ibsp_hint_scan__new(&d->o.capture, &d->scan);
		if (ret)
			return ret;
	}
	ret = ibsp_sampler__events(&d->o.sampler, &d->caps, &d->events, &d->leader, &d->nr_events);
	if (ret)
		return ret;
	return ibsp_capture__new(d->events, d->leader, d->nr_events, &d->o.capture, &d->cap);
}

/*
 * The perf.data file, written through the ring. Tasks already running are
 * named; a task started with enable_on_exec gets its COMM from its exec.
 */
static int setup_recording(struct daemon *d)
{
	struct ibsp_topology *rt;
	int ret;

	ret = ibsp_topology__from_host("/sys", &rt);
	if (ret)
		return ret;
	ret = ibsp_recording_info__from_host(&d->info, rt, d->o.argc, d->o.argv);
	if (ret)
		return ret;
	ret = ibsp_perf_writer__open_as(d->o.record_path, d->o.record_name, &d->info, d->events,
					d->nr_events, &d->w);
	if (ret)
		return ret;
	d->res->recorded = true;
	ibsp_perf_writer__set_sink(d->w, rec_sink, d);
	if (d->o.capture.enable_on_exec)
		return 0;
	if (d->o.capture.target != IBSP_TARGET_PID)
		return ibsp_synthesize_comms(-1, &d->events[0].attr,
					     d->events[0].nr_ids ? d->events[0].ids[0] : 0,
					     write_rec, d->w);
	for (uint32_t i = 0; !ret && i < d->o.capture.nr_pids; i++)
		ret = ibsp_synthesize_comms(d->o.capture.pids[i], &d->events[0].attr,
					    d->events[0].nr_ids ? d->events[0].ids[0] : 0,
					    write_rec, d->w);
	return ret;
}

/* Arm the timers and queue the first reads of the loop's three fds. */
static int setup_reads(struct daemon *d)
{
	int ret;

	if (!d->o.record_only) {
		ret = ibsp_daemon__arm_timer(d->tick_fd, d->o.engine.interval_ms);
		if (!ret)
			ret = ibsp_aio__read(&d->aio, d->tick_fd, &d->tick_buf, 8, TAG_TICK);
		if (ret)
			return ret;
	}
	if (d->scan) {
		ret = ibsp_daemon__arm_timer(d->scan_fd, d->o.scan_ms);
		if (!ret)
			ret = ibsp_aio__read(&d->aio, d->scan_fd, &d->scan_buf, 8, TAG_SCAN);
		if (ret)
			return ret;
	}
	for (uint32_t i = 0; i < d->targets.nr; i++) {
		if (d->targets.pidfds[i] >= 0 &&
		    (ret = ibsp_aio__poll(&d->aio, d->targets.pidfds[i], POLLIN, TAG_PIDFD + i)))
			return ret;
	}
	ret = ibsp_daemon__arm_timer(d->drain_fd, d->o.drain_ms);
	d->drain_last_s = ibsp_daemon_mono_s();
	if (!ret)
		ret = ibsp_aio__read(&d->aio, d->sfd, &d->si, sizeof(d->si), TAG_SIGNAL);
	if (!ret)
		ret = ibsp_aio__read(&d->aio, d->drain_fd, &d->drain_buf, 8, TAG_DRAIN);
	return ret;
}

/*
 * Paths and privileges first, then everything that needs privilege (events,
 * files), then the drop, and only then the worker thread, which inherits
 * the reduced set.
 */
static int setup(struct daemon *d, sigset_t *mask)
{
	int ret;

	if (d->o.record_only && !d->o.record_path)
		return -EINVAL;
	ret = ibsp_daemon_privs__check_paths(d);
	if (ret)
		return ret;
	ibsp_host_caps__read(d->o.sampler.sysfs_root ? d->o.sampler.sysfs_root : "/sys", &d->caps);
	ibsp_daemon_privs__report(d);
	ret = setup_fds(d, mask);
	if (!ret)
		ret = setup_capture(d);
	if (!ret)
		ibsp_daemon__rings_setup(d);
	if (!ret && !d->o.record_only)
		ret = ibsp_promote__setup(d);
	if (!ret && d->o.record_path)
		ret = setup_recording(d);
	if (!ret)
		ret = ibsp_daemon_privs__drop(d);
	if (!ret && !d->o.record_only)
		ret = ibsp_promote__start_threads(d);
	if (!ret)
		ret = setup_reads(d);
	return ret;
}

/* Has the caller's workload exited? (Not reaped: the caller does that.) */
static bool workload_exited(const struct daemon *d)
{
	siginfo_t si = { 0 };

	if (d->o.workload <= 0)
		return false;
	if (waitid(P_PID, (id_t)d->o.workload, &si, WEXITED | WNOHANG | WNOWAIT))
		return errno == ECHILD;
	return si.si_pid == d->o.workload;
}

/* Sampling starts: enable the events (unless they wait for an exec), then the caller's hook. */
static int start_sampling(struct daemon *d)
{
	sigset_t pending;

	d->t_enabled = ibsp_daemon_mono_s();
	sigpending(&pending);
	if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
		return 0; /* interrupted while setting up: never start, just finish */
	if (!d->o.capture.enable_on_exec)
		ibsp_capture__enable(d->cap);
	if (d->scan) /* the first write-protection now: hint faults from the first period on */
		ibsp_hint_scan__scan(d->scan);
	return d->o.on_enabled ? d->o.on_enabled(d->o.ctx) : 0;
}

/* SIGHUP: reopen the telemetry file; with a reload hook, new settings (and interval). */
static int on_hangup(struct daemon *d)
{
	uint32_t interval_ms = ibsp_engine__opts(d->eng)->interval_ms;
	int ret = ibsp_promote__reopen_telemetry(d);

	if (ret || !d->o.on_reload)
		return ret;
	ret = ibsp_promote__reload(d);
	if (!ret && ibsp_engine__opts(d->eng)->interval_ms != interval_ms)
		ret = ibsp_daemon__arm_timer(d->tick_fd, ibsp_engine__opts(d->eng)->interval_ms);
	return ret;
}

/* A signal: 1 when it ends the run, 0 when handled, or a negative errno. */
static int on_signal(struct daemon *d, int res)
{
	int ret = 0;

	if (res != sizeof(d->si))
		return res < 0 ? res : -EIO;
	if (d->si.ssi_signo == SIGHUP) {
		if (d->eng)
			ret = on_hangup(d);
	} else if (d->si.ssi_signo == SIGUSR1) {
		if (d->eng)
			ret = ibsp_promote__emit(d, IBSP_TELE_SNAPSHOT, NULL, false);
	} else {
		d->res->end_reason = "signal";
		d->res->signal = (int)d->si.ssi_signo;
		return 1;
	}
	if (!ret)
		ret = ibsp_aio__read(&d->aio, d->sfd, &d->si, sizeof(d->si), TAG_SIGNAL);
	return ret;
}

/*
 * After a drain by the timer or a ring's wakeup (@ret: the drain's): 1 when
 * the run is over (target gone, --duration), 0, or a negative errno.
 */
static int drained(struct daemon *d, int ret)
{
	d->nr_drains++;
	if (d->eng)
		ibsp_promote__reap(d);
	if (ret)
		return ret;
	if (d->drain_auto)
		ibsp_daemon__adapt_drain(d);
	ibsp_daemon__arm_end(d);
	/* A zero-timeout poll sets the POLLHUP of a target that exited, for _alive(). The
	 * events hang up early in a task's exit, before its pidfd says so: where every
	 * target has a pidfd, those end the run (on_target_exit), so that every exit is
	 * counted first. CPU-wide events (-a, a cgroup) never hang up: no poll of their
	 * fds, one per CPU, at every drain. */
	if (d->o.capture.target == IBSP_TARGET_PID && !d->targets.all_pidfds) {
		ret = ibsp_capture__poll(d->cap, 0);
		if (ret < 0 && ret != -EINTR)
			return ret;
		if (!ibsp_capture__alive(d->cap)) {
			d->res->end_reason = "target_exit";
			return 1;
		}
	}
	if (workload_exited(d)) {
		d->res->end_reason = "target_exit";
		return 1;
	}
	if (d->o.duration_s > 0 && ibsp_daemon_mono_s() - d->t_enabled >= d->o.duration_s) {
		d->res->end_reason = "duration";
		return 1;
	}
	return ibsp_daemon__watch_rings(d, TAG_RINGS);
}

/* The drain timer. */
static int on_drain(struct daemon *d)
{
	int ret = drained(d, drain(d));

	return ret ? ret : ibsp_aio__read(&d->aio, d->drain_fd, &d->drain_buf, 8, TAG_DRAIN);
}

/* A ring woke its poller (drain_period.c, ibsp_daemon__watch_rings()). */
static int on_rings(struct daemon *d)
{
	d->ring_watch = false;
	d->nr_wakeups++;
	return drained(d, drain(d));
}

static int on_tick(struct daemon *d)
{
	int ret = drain(d);

	if (!ret)
		ret = ibsp_promote__tick(d);
	if (!ret)
		ret = ibsp_aio__read(&d->aio, d->tick_fd, &d->tick_buf, 8, TAG_TICK);
	return ret;
}

/* The scan timer: write-protect the targets again. */
static int on_scan(struct daemon *d)
{
	ibsp_hint_scan__scan(d->scan);
	return ibsp_aio__read(&d->aio, d->scan_fd, &d->scan_buf, 8, TAG_SCAN);
}

/* Target @i's pidfd is readable: it exited. 1 when it was the last. */
static int on_target_exit(struct daemon *d, uint64_t i)
{
	if (!ibsp_daemon_targets__exit_seen(&d->targets, (uint32_t)i))
		return 0;
	d->res->end_reason = "target_exit";
	return 1;
}

static int dispatch(struct daemon *d, const struct ibsp_aio_event *ev)
{
	switch (ev->tag) {
	case TAG_SIGNAL:
		return on_signal(d, ev->res);
	case TAG_TICK:
		return on_tick(d);
	case TAG_DRAIN:
		return on_drain(d);
	case TAG_SCAN:
		return on_scan(d);
	case TAG_RINGS:
		return on_rings(d);
	default:
		if (ev->tag >= TAG_PIDFD && ev->tag < TAG_PIDFD + d->targets.nr)
			return on_target_exit(d, ev->tag - TAG_PIDFD);
		return -EINVAL;
	}
}

static int loop(struct daemon *d)
{
	int ret = start_sampling(d);

	while (!ret) {
		struct ibsp_aio_event ev;

		ret = ibsp_aio__wait(&d->aio, &ev);
		if (ret)
			return ret;
		ret = dispatch(d, &ev);
	}
	return ret < 0 ? ret : 0;
}

/* What the capture saw, for the result. */
static void capture_result(struct daemon *d)
{
	d->res->capture = *ibsp_capture__stats(d->cap);
	d->res->running_ratio = ibsp_capture__running_ratio(d->cap);
}

/* Stop sampling, take in what is left, let the worker finish, write the summary. */
static int finish(struct daemon *d, int err)
{
	bool complete = !err;

	ibsp_daemon_targets__refresh(&d->targets); /* the summary counts every exit seen */
	if (d->cap) {
		ibsp_capture__disable(d->cap);
		if ((d->eng || d->o.record_only) && drain(d))
			complete = false;
		capture_result(d);
	}
	if (d->rec_err)
		complete = false; /* before the summary says so */
	ibsp_promote__finish(d, err, &complete);
	if (d->w) {
		if (ibsp_aio__drain(&d->aio, &d->rec) || d->rec_err)
			complete = false;
		ibsp_perf_writer__set_sink(d->w, NULL, NULL);
		d->res->record_bytes = ibsp_perf_writer__bytes(d->w);
		if (ibsp_perf_writer__close(d->w))
			complete = false;
		d->w = NULL;
	}
	if (d->t_enabled > 0) /* 0: the loop never started */
		d->res->sampled_s = ibsp_daemon_mono_s() - d->t_enabled;
	d->res->complete = complete;
	return err;
}

static void teardown(struct daemon *d)
{
	ibsp_perf_writer__close(d->w);
	ibsp_recording_info__exit(&d->info);
	ibsp_capture__delete(d->cap);
	if (d->events)
		ibsp_sampler__free_events(d->events, d->leader, d->nr_events);
	if (d->aio_up)
		ibsp_aio__exit(&d->aio);
	ibsp_promote__delete(d);
	if (d->sfd >= 0)
		close(d->sfd);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->drain_fd >= 0)
		close(d->drain_fd);
	if (d->scan_fd >= 0)
		close(d->scan_fd);
	if (d->ring_ep >= 0)
		close(d->ring_ep);
	ibsp_hint_scan__delete(d->scan);
	ibsp_daemon_targets__close(&d->targets);
	free(d);
}

static struct daemon *daemon_new(const struct ibsp_daemon_opts *opts,
				 struct ibsp_daemon_result *res)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	IBSP_OPTS_COPY(d->o, opts);
	if (!d->o.record_name) /* the names messages give the output files */
		d->o.record_name = d->o.record_path;
	if (!d->o.json_name)
		d->o.json_name = d->o.json_path;
	d->drain_auto = !d->o.drain_ms;
	if (!d->o.drain_ms)
		d->o.drain_ms = DRAIN_MIN_MS;
	d->drain_cur_ms = d->o.drain_ms;
	if (!d->o.engine.interval_ms)
		d->o.engine.interval_ms = 1000;
	if (!d->o.scan_ms)
		d->o.scan_ms = IBSP_HINT_SCAN_MS_DEFAULT;
	d->res = res;
	d->self = (uint32_t)getpid();
	d->sfd = d->tick_fd = d->drain_fd = d->scan_fd = d->ring_ep = -1;
	d->rec.fd = d->tel.fd = -1;
	return d;
}

int ibsp_daemon__run(const struct ibsp_daemon_opts *opts, struct ibsp_daemon_result *res)
{
	struct daemon *d;
	sigset_t mask, old;
	int ret;

	memset(res, 0, sizeof(*res));
	res->end_reason = "error";
	d = daemon_new(opts, res);
	if (!d)
		return -ENOMEM;
	/* Before the worker thread exists, so it inherits the mask: signals go to the signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	d->t0 = ibsp_daemon_mono_s();
	ret = setup(d, &mask);
	if (!ret)
		ret = loop(d);
	ret = finish(d, ret);
	teardown(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
