// SPDX-License-Identifier: MIT
/*
 * The daemon loop (include/ibsp/daemon.h). One thread runs everything but
 * the page moves: an io_uring loop waits on a signalfd, the policy-interval
 * timerfd and a drain timerfd. libperf 6.1 exposes no ring-buffer fds
 * (docs/design.md), so the rings are drained on that timer (default every
 * 10 ms), which bounds the ring space a burst needs. Each interval: drain,
 * tick the engine, hand the plan to the migration worker, reap its outcomes
 * into the engine, and write a telemetry line. Recording and telemetry
 * writes go through the same ring, so sampling never waits on the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "aio.h"
#include "ibsp/daemon.h"
#include "ibsp/migrate.h"
#include "ibsp/perf_file.h"
#include "ibsp/telemetry.h"
#include "log_print.h"
#include "util.h"

enum { TAG_SIGNAL = 1, TAG_TICK = 2, TAG_DRAIN = 3 };
#define BATCH	     1024
#define REAP_MAX     4096
#define FLUSH_MAX_MS 5000

struct daemon {
	struct ibsp_daemon_opts o;
	struct ibsp_daemon_result *res;
	struct ibsp_host_caps caps;
	struct ibsp_event_desc *events;
	int *leader;
	uint32_t nr_events;
	struct ibsp_capture *cap;
	struct ibsp_topology *topo;
	struct ibsp_engine *eng;
	struct ibsp_migrator *mig;
	struct ibsp_live_decoder *dec;
	struct ibsp_telemetry *tele;
	struct ibsp_recording_info info;
	struct ibsp_perf_writer *w;
	struct aio aio;
	bool aio_up;
	struct aio_stream rec, tel;
	int sfd, tick_fd, drain_fd;
	struct signalfd_siginfo si;
	uint64_t tick_buf, drain_buf;
	struct ibsp_resolver_ops resolver;
	struct ibsp_sample batch[BATCH];
	size_t nb;
	uint32_t self;
	double t0;
	int err;
	struct ibsp_migration_result reaped[REAP_MAX];
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Live node of pages without a physical address: move_pages(nodes = NULL). */
static int query_nodes(void *ctx, uint32_t pid, uint32_t nr, const uint64_t *vaddrs, int *status)
{
	void *pages[512];

	(void)ctx;
	for (uint32_t base = 0; base < nr; base += 512) {
		uint32_t k = nr - base < 512 ? nr - base : 512;

		for (uint32_t i = 0; i < k; i++)
			pages[i] = (void *)(uintptr_t)vaddrs[base + i];
		if (numa_move_pages((int)pid, k, pages, NULL, status + base, 0) < 0)
			return -errno;
	}
	return 0;
}

static int rec_sink(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	struct daemon *d = ctx;

	d->rec.fd = fd;
	return aio__write(&d->aio, &d->rec, buf, len, (int64_t)off);
}

static int write_rec(const struct perf_event_header *rec, void *ctx)
{
	return ibsp_perf_writer__write(ctx, rec);
}

static void flush_batch(struct daemon *d)
{
	if (d->nb)
		ibsp_engine__add(d->eng, d->batch, d->nb);
	d->nb = 0;
}

static int on_record(const struct perf_event_header *rec, void *ctx)
{
	struct daemon *d = ctx;
	struct ibsp_sample *s = &d->batch[d->nb];
	int ret;

	if (d->w && (ret = ibsp_perf_writer__write(d->w, rec)))
		return ret;
	if (ibsp_live_decoder__decode(d->dec, rec, s) != 1)
		return 0;
	if ((s->flags & IBSP_S_TID_VALID) && s->pid == d->self)
		return 0; /* our own accesses (-a): never our business */
	if (++d->nb == BATCH)
		flush_batch(d);
	return 0;
}

static int drain(struct daemon *d)
{
	int ret = ibsp_capture__drain(d->cap, on_record, d);

	flush_batch(d);
	if (!ret && d->w)
		ret = ibsp_perf_writer__finish_round(d->w);
	return ret;
}

/* Only processes in scope are moved: the --pid target (threads share its pid). */
static bool in_scope(const struct daemon *d, const struct ibsp_migration *m)
{
	if (m->pid == d->self)
		return false;
	if (d->o.capture.target == IBSP_TARGET_PID)
		return m->pid == (uint32_t)d->o.capture.pid;
	return true;
}

static void reap(struct daemon *d)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	uint32_t nr = d->topo->nr_nodes;
	size_t n;

	while ((n = ibsp_migrator__reap(d->mig, d->reaped, REAP_MAX)) > 0) {
		for (size_t i = 0; i < n; i++) {
			const struct ibsp_migration_result *r = &d->reaped[i];
			int s = ibsp_topology__index_of(d->topo, r->m.src_node);
			int t = ibsp_topology__index_of(d->topo, r->m.dst_node);

			if (!d->o.dry_run)
				ibsp_engine__complete(d->eng, &r->m, r->final_node);
			if (s < 0 || t < 0)
				continue;
			if (r->final_node == r->m.dst_node)
				c->route_done[(size_t)s * nr + (size_t)t]++;
			else if (r->final_node < 0 && !d->o.dry_run)
				c->route_failed[(size_t)s * nr + (size_t)t]++;
		}
	}
}

static void fill_counts(struct daemon *d)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	const struct ibsp_capture_stats *cs = ibsp_capture__stats(d->cap);
	const struct ibsp_live_stats *ls = ibsp_live_decoder__stats(d->dec);
	const struct ibsp_engine_stats *es = ibsp_engine__stats(d->eng);
	struct ibsp_migrator_stats ms;
	struct rusage ru;

	ibsp_migrator__stats(d->mig, &ms);
	c->samples = ls->samples;
	c->decoded = ls->decoded;
	memcpy(c->by_sampler, ls->by_kind, sizeof(c->by_sampler));
	memcpy(c->dropped, ls->dropped, sizeof(c->dropped));
	c->lost_records = cs->loss.lost_records;
	c->lost = cs->loss.lost;
	c->throttled = cs->loss.throttle;
	memcpy(c->unresolved, es->unresolved, sizeof(c->unresolved));
	c->pages_tracked = es->pages_tracked;
	c->evictions = es->evictions;
	c->threshold = es->threshold;
	c->considered = es->considered;
	c->planned = es->planned;
	c->planned_bytes = es->planned_bytes;
	c->done = ms.moved;
	c->done_bytes = ms.moved_bytes;
	c->failed = ms.failed;
	memcpy(c->by_errno, ms.by_err, sizeof(c->by_errno));
	memcpy(c->matrix, ms.matrix, sizeof(c->matrix));
	c->rate_limited = ms.rate_limited;
	c->queue_full = ms.queue_full;
	memcpy(c->skips, es->skips, sizeof(c->skips));
	for (uint32_t i = 0; i < d->topo->nr_nodes; i++) {
		c->free_bytes[i] = ibsp_engine__free_bytes(d->eng, d->topo->nodes[i].node.id);
		c->total_bytes[i] = d->topo->nodes[i].mem_total_kb << 10;
	}
	getrusage(RUSAGE_SELF, &ru);
	c->cpu_user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	c->cpu_sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int emit(struct daemon *d, enum ibsp_telemetry_kind kind, const char *reason, bool complete)
{
	char *line;
	int ret = 0;

	fill_counts(d);
	line = ibsp_telemetry__line(d->tele, kind, mono_s() - d->t0, reason, complete);
	if (!line)
		return -ENOMEM;
	if (d->tel.fd >= 0)
		ret = aio__write(&d->aio, &d->tel, line, strlen(line), -1);
	free(line);
	if (ret)
		pr_err("%s: telemetry write failed: %s\n", d->o.json_path, strerror(-ret));
	return ret;
}

static int policy_tick(struct daemon *d)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	uint32_t nr = d->topo->nr_nodes;
	const struct ibsp_migration *plan;
	long n;
	int ret;

	ret = drain(d);
	if (ret)
		return ret;
	reap(d);
	if (!d->o.dry_run && !ibsp_topology__refresh_free(d->topo)) {
		for (uint32_t i = 0; i < nr; i++)
			ibsp_engine__set_free(d->eng, d->topo->nodes[i].node.id,
					      d->topo->nodes[i].mem_free_kb << 10);
	}
	n = ibsp_engine__tick(d->eng, (uint64_t)((mono_s() - d->t0) * 1e9), &plan);
	if (n < 0)
		return (int)n;
	for (long i = 0; i < n; i++) {
		int s = ibsp_topology__index_of(d->topo, plan[i].src_node);
		int t = ibsp_topology__index_of(d->topo, plan[i].dst_node);

		if (!in_scope(d, &plan[i]))
			continue;
		if (s >= 0 && t >= 0)
			c->route_planned[(size_t)s * nr + (size_t)t]++;
		ibsp_migrator__submit(d->mig, &plan[i], 1);
	}
	return emit(d, IBSP_TELE_INTERVAL, NULL, false);
}

static int reopen_telemetry(struct daemon *d)
{
	int fd;

	if (!d->o.json_path || !strcmp(d->o.json_path, "-"))
		return 0;
	aio__drain(&d->aio, &d->tel);
	fd = open(d->o.json_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		pr_err("%s: cannot reopen: %s\n", d->o.json_path, strerror(errno));
		return -errno;
	}
	close(d->tel.fd);
	d->tel.fd = fd;
	d->tel.err = 0;
	return 0;
}

static int arm_timer(int fd, uint32_t ms)
{
	struct itimerspec it = { 0 };

	it.it_interval.tv_sec = ms / 1000;
	it.it_interval.tv_nsec = (long)(ms % 1000) * 1000000;
	it.it_value = it.it_interval;
	return timerfd_settime(fd, 0, &it, NULL) ? -errno : 0;
}

static int setup(struct daemon *d, sigset_t *mask)
{
	int ret;

	d->sfd = signalfd(-1, mask, SFD_CLOEXEC);
	d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->drain_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (d->sfd < 0 || d->tick_fd < 0 || d->drain_fd < 0) {
		pr_err("daemon: signalfd/timerfd: %s\n", strerror(errno));
		return -errno;
	}
	ret = aio__init(&d->aio, 256);
	if (ret) {
		pr_err("daemon: io_uring setup: %s\n", strerror(-ret));
		return ret;
	}
	d->aio_up = true;
	ibsp_host_caps__read(d->o.sampler.sysfs_root ? d->o.sampler.sysfs_root : "/sys", &d->caps);
	ret = ibsp_sampler__events(&d->o.sampler, &d->caps, &d->events, &d->leader, &d->nr_events);
	if (ret)
		return ret;
	ret = ibsp_capture__new(d->events, d->leader, d->nr_events, &d->o.capture, &d->cap);
	if (ret)
		return ret;
	ret = ibsp_topology__from_host("/sys", &d->topo);
	if (ret)
		return ret;
	ret = ibsp_topology__set_top_tier(d->topo, d->o.top_tier);
	if (ret)
		return ret;
	d->resolver = (struct ibsp_resolver_ops){ .query = query_nodes, .ctx = d };
	d->o.engine.sz = sizeof(d->o.engine);
	d->o.engine.resolver = &d->resolver;
	d->o.engine.simulate = false;
	d->eng = ibsp_engine__new(d->topo, &d->o.engine);
	if (!d->eng)
		return -errno;
	{
		struct ibsp_migrator_opts mo = { .sz = sizeof(mo),
						 .rate_bytes_per_s = d->o.engine.rate_bytes_per_s,
						 .dry_run = d->o.dry_run };

		d->mig = ibsp_migrator__new(&mo);
		if (!d->mig)
			return -errno;
	}
	d->dec = ibsp_live_decoder__new(d->events, d->nr_events, d->caps.family, d->caps.model);
	d->tele =
	    ibsp_telemetry__new(d->topo, ibsp_sampler_kind__name(d->o.sampler.kind), d->o.dry_run);
	if (!d->dec || !d->tele)
		return -ENOMEM;
	d->tel.ordered = true;
	d->tel.fd = -1;
	if (d->o.json_path && !strcmp(d->o.json_path, "-")) {
		d->tel.fd = STDOUT_FILENO;
	} else if (d->o.json_path) {
		d->tel.fd = open(d->o.json_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (d->tel.fd < 0) {
			pr_err("%s: cannot open: %s\n", d->o.json_path, strerror(errno));
			return -errno;
		}
	}
	if (d->o.record_path) {
		struct ibsp_topology *rt;

		ret = ibsp_topology__from_host("/sys", &rt);
		if (ret)
			return ret;
		ret = ibsp_recording_info__from_host(&d->info, rt, d->o.argc, d->o.argv);
		if (ret)
			return ret;
		ret = ibsp_perf_writer__new(d->o.record_path, &d->info, d->events, d->nr_events,
					    &d->w);
		if (ret)
			return ret;
		ibsp_perf_writer__set_sink(d->w, rec_sink, d);
		ret = ibsp_synthesize_comms(
		    d->o.capture.target == IBSP_TARGET_PID ? d->o.capture.pid : -1,
		    &d->events[0].attr, d->events[0].nr_ids ? d->events[0].ids[0] : 0, write_rec,
		    d->w);
		if (ret)
			return ret;
	}
	if ((ret = arm_timer(d->tick_fd, d->o.engine.interval_ms)) ||
	    (ret = arm_timer(d->drain_fd, d->o.drain_ms)))
		return ret;
	if ((ret = aio__read(&d->aio, d->sfd, &d->si, sizeof(d->si), TAG_SIGNAL)) ||
	    (ret = aio__read(&d->aio, d->tick_fd, &d->tick_buf, 8, TAG_TICK)) ||
	    (ret = aio__read(&d->aio, d->drain_fd, &d->drain_buf, 8, TAG_DRAIN)))
		return ret;
	return 0;
}

static int loop(struct daemon *d)
{
	int ret;

	ibsp_capture__enable(d->cap);
	for (;;) {
		struct aio_event ev;

		ret = aio__wait(&d->aio, &ev);
		if (ret)
			return ret;
		switch (ev.tag) {
		case TAG_SIGNAL:
			if (ev.res != sizeof(d->si))
				return ev.res < 0 ? ev.res : -EIO;
			if (d->si.ssi_signo == SIGHUP) {
				ret = reopen_telemetry(d);
			} else if (d->si.ssi_signo == SIGUSR1) {
				ret = emit(d, IBSP_TELE_SNAPSHOT, NULL, false);
			} else {
				d->res->end_reason = "signal";
				d->res->signal = (int)d->si.ssi_signo;
				return 0;
			}
			if (ret)
				return ret;
			ret = aio__read(&d->aio, d->sfd, &d->si, sizeof(d->si), TAG_SIGNAL);
			break;
		case TAG_TICK:
			ret = policy_tick(d);
			if (!ret)
				ret = aio__read(&d->aio, d->tick_fd, &d->tick_buf, 8, TAG_TICK);
			break;
		case TAG_DRAIN:
			ret = drain(d);
			reap(d);
			if (!ret && !ibsp_capture__alive(d->cap)) {
				d->res->end_reason = "target_exit";
				return 0;
			}
			if (!ret && d->o.duration_s > 0 && mono_s() - d->t0 >= d->o.duration_s) {
				d->res->end_reason = "duration";
				return 0;
			}
			if (!ret)
				ret = aio__read(&d->aio, d->drain_fd, &d->drain_buf, 8, TAG_DRAIN);
			break;
		default:
			ret = -EINVAL;
		}
		if (ret)
			return ret;
	}
}

/* Stop sampling, take in what is left, let the worker finish, write the summary. */
static int finish(struct daemon *d, int err)
{
	double deadline = mono_s() + FLUSH_MAX_MS / 1000.0;
	bool complete = !err;
	int ret;

	if (d->cap) {
		ibsp_capture__disable(d->cap);
		if (d->eng && drain(d))
			complete = false;
	}
	if (d->mig) {
		while (ibsp_migrator__flush(d->mig, 100) && mono_s() < deadline)
			reap(d);
		if (ibsp_migrator__flush(d->mig, 0))
			complete = false;
		reap(d);
	}
	if (d->tele && d->eng && d->cap && d->aio_up) {
		ret = emit(d, IBSP_TELE_SUMMARY, err ? "error" : d->res->end_reason, complete);
		if (!ret && d->tel.fd >= 0)
			ret = aio__drain(&d->aio, &d->tel);
		if (ret)
			complete = false;
	}
	if (d->w) {
		if (aio__drain(&d->aio, &d->rec))
			complete = false;
		ibsp_perf_writer__set_sink(d->w, NULL, NULL);
		if (ibsp_perf_writer__close(d->w))
			complete = false;
		d->w = NULL;
	}
	d->res->complete = complete;
	return err;
}

int ibsp_daemon__run(const struct ibsp_daemon_opts *opts, struct ibsp_daemon_result *res)
{
	struct daemon *d = calloc(1, sizeof(*d));
	sigset_t mask, old;
	int ret;

	memset(res, 0, sizeof(*res));
	res->end_reason = "error";
	if (!d)
		return -ENOMEM;
	IBSP_OPTS_COPY(d->o, opts);
	if (!d->o.drain_ms)
		d->o.drain_ms = 10;
	if (!d->o.engine.interval_ms)
		d->o.engine.interval_ms = 1000;
	d->res = res;
	d->self = (uint32_t)getpid();
	d->sfd = d->tick_fd = d->drain_fd = -1;
	d->rec.fd = d->tel.fd = -1;
	/* Before the worker thread exists, so it inherits the mask: signals go to the signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	d->t0 = mono_s();
	ret = setup(d, &mask);
	if (!ret)
		ret = loop(d);
	ret = finish(d, ret);
	if (d->eng) {
		const struct ibsp_engine_stats *st = ibsp_engine__stats(d->eng);

		res->samples = st->samples;
		res->planned = st->planned;
	}
	if (d->mig) {
		struct ibsp_migrator_stats ms;

		ibsp_migrator__stats(d->mig, &ms);
		res->moved = ms.moved;
		res->failed = ms.failed;
	}
	ibsp_migrator__delete(d->mig);
	ibsp_perf_writer__close(d->w);
	ibsp_recording_info__free(&d->info);
	ibsp_telemetry__delete(d->tele);
	ibsp_live_decoder__delete(d->dec);
	ibsp_engine__delete(d->eng);
	ibsp_capture__delete(d->cap);
	ibsp_topology__delete(d->topo);
	if (d->events)
		ibsp_sampler__free_events(d->events, d->leader, d->nr_events);
	if (d->aio_up)
		aio__exit(&d->aio);
	if (d->tel.fd > STDOUT_FILENO)
		close(d->tel.fd);
	if (d->sfd >= 0)
		close(d->sfd);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	if (d->drain_fd >= 0)
		close(d->drain_fd);
	free(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
