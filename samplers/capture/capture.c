// SPDX-License-Identifier: MIT
/*
 * Live capture through libperf (Linux 6.1 tools/lib/perf): an evlist over the
 * online CPUs, one ring buffer per CPU (libperf shares it between the events
 * of a CPU with PERF_EVENT_IOC_SET_OUTPUT), drained with
 * read_init -> read_event -> consume (ibsp_capture__drain() says why not
 * read_done).
 *
 * cgroup targets: libperf 6.1 opens every event with flags = 0, so it cannot
 * pass PERF_FLAG_PID_CGROUP; capture_cgroup.c opens those events itself and
 * drains them with the same protocol.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>

#include "ibsp/capture.h"
#include "ibsp/host.h"
#include "capture_internal.h"
#include "log_print.h"
#include "util.h"

#define DEFAULT_PAGES	 128u
#define AUTO_RING_BUDGET (16u << 20) /* bytes of rings in all, with CAP_IPC_LOCK */
#define AUTO_RING_MAX	 (4u << 20)  /* bytes of one CPU's ring */

struct ibsp_capture {
	struct perf_evlist *evlist;
	struct perf_evsel **evsels;
	struct perf_event_attr *attrs; /* as opened */
	int *leader;
	uint32_t nr;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct ibsp_cgroup_capture *cg; /* IBSP_TARGET_CGROUP: events opened without libperf */
	bool opened;		/* perf_evlist__open() succeeded: there is something to disable */
	uint32_t first_sampler; /* the first event with a period (not a counting group leader) */
	int *ring_fds;		/* CPU-wide targets: an fd of each CPU's ring, to poll */
	uint32_t nr_ring_fds;
	struct ibsp_capture_stats st;
};

static int libperf_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	ibsp_log(level <= LIBPERF_ERR ? IBSP_LOG_WARN : IBSP_LOG_DEBUG, "libperf: %s", buf);
	return 0;
}

void ibsp_capture__delete(struct ibsp_capture *c)
{
	if (!c)
		return;
	if (c->evlist) {
		/* libperf 6.1's disable dereferences fd arrays that a failed open freed */
		if (c->opened)
			perf_evlist__disable(c->evlist);
		perf_evlist__munmap(c->evlist);
		perf_evlist__close(c->evlist);
		perf_evlist__delete(c->evlist); /* deletes its evsels */
	}
	ibsp_cgroup_capture__delete(c->cg);
	perf_cpu_map__put(c->cpus);
	perf_thread_map__put(c->threads);
	free(c->ring_fds);
	free(c->evsels);
	free(c->attrs);
	free(c->leader);
	free(c);
}

/* Append the threads of @pid to @tids: 0, -ESRCH when it has none, -ENOMEM. */
static int add_threads(pid_t pid, pid_t **tids, int *nr)
{
	char dir[64];
	struct dirent *de;
	int ret = -ESRCH;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -ESRCH;
	while ((de = readdir(d))) {
		pid_t *n;

		if (de->d_name[0] == '.')
			continue;
		n = reallocarray(*tids, (size_t)*nr + 1, sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
			break;
		}
		*tids = n;
		(*tids)[(*nr)++] = (pid_t)atoi(de->d_name);
		ret = 0;
	}
	closedir(d);
	return ret;
}

/* The threads of every target process, in one map (libperf opens one event per thread). */
static int threads_of(const struct ibsp_capture_opts *o, struct perf_thread_map **map)
{
	pid_t *tids = NULL;
	int nr = 0, ret = o->nr_pids ? 0 : -EINVAL;

	for (uint32_t i = 0; !ret && i < o->nr_pids; i++) {
		ret = add_threads(o->pids[i], &tids, &nr);
		if (ret == -ESRCH)
			pr_err("pid %d: no such process (cannot list /proc/%d/task)\n",
			       (int)o->pids[i], (int)o->pids[i]);
	}
	if (!ret) {
		*map = perf_thread_map__new_array(nr, tids);
		ret = *map ? 0 : -ENOMEM;
	}
	free(tids);
	return ret;
}

static int read_ids(struct ibsp_capture *c, struct ibsp_event_desc *events)
{
	int ncpu = perf_cpu_map__nr(c->cpus), nthr = perf_thread_map__nr(c->threads);

	for (uint32_t i = 0; i < c->nr; i++) {
		struct ibsp_event_desc *ev = &events[i];

		free(ev->ids);
		ev->nr_ids = 0;
		ev->ids = calloc((size_t)ncpu * (size_t)nthr, sizeof(uint64_t));
		if (!ev->ids)
			return -ENOMEM;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			for (int t = 0; t < nthr; t++) {
				struct perf_counts_values v;
				int ret = perf_evsel__read(c->evsels[i], cpu, t, &v);

				if (ret) {
					pr_err("event %s: cannot read its id on CPU %d: %s\n",
					       ev->name, perf_cpu_map__cpu(c->cpus, cpu).cpu,
					       strerror(-ret));
					return ret;
				}
				ev->ids[ev->nr_ids++] = v.id;
			}
		}
	}
	return 0;
}

static const char *open_hint(int err, enum ibsp_sampler_kind kind, enum ibsp_capture_target t)
{
	if (kind == IBSP_SAMPLER_IBS && t == IBSP_TARGET_PID && err == -EINVAL)
		return " (IBS-op events are CPU-wide only before Linux 6.2: use -a or --cgroup)";
	if (err == -EACCES || err == -EPERM)
		return " (needs CAP_PERFMON or CAP_SYS_ADMIN, or a lower "
		       "/proc/sys/kernel/perf_event_paranoid; see ibs-promote probe)";
	if (err == -ENOSPC || err == -EBUSY)
		return " (another user holds the PMU, e.g. perf record -e ibs_op//)";
	if (err == -ENODATA)
		return " (this PMU needs the mem-loads-aux group leader)";
	if (err == -ESRCH)
		return " (the process is gone)";
	return "";
}

static const char *target_name(const struct ibsp_capture_opts *o, char *buf, size_t len)
{
	if (o->target == IBSP_TARGET_PID && o->nr_pids == 1)
		snprintf(buf, len, "pid %d", (int)o->pids[0]);
	else if (o->target == IBSP_TARGET_PID)
		snprintf(buf, len, "%u pids (%d, ...)", o->nr_pids,
			 o->nr_pids ? (int)o->pids[0] : 0);
	else if (o->target == IBSP_TARGET_CGROUP)
		snprintf(buf, len, "all CPUs (cgroup %s)", o->cgroup_path);
	else
		snprintf(buf, len, "all CPUs");
	return buf;
}

static struct ibsp_capture *capture_alloc(const struct ibsp_event_desc *events,
					  const int *group_leader, uint32_t nr)
{
	struct ibsp_capture *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nr = nr;
	c->evsels = calloc(nr, sizeof(*c->evsels));
	c->attrs = calloc(nr, sizeof(*c->attrs));
	c->leader = calloc(nr, sizeof(*c->leader));
	if (!c->evsels || !c->attrs || !c->leader) {
		ibsp_capture__delete(c);
		return NULL;
	}
	memcpy(c->leader, group_leader, nr * sizeof(*c->leader));
	while (c->first_sampler + 1 < nr && !events[c->first_sampler].attr.sample_period)
		c->first_sampler++; /* skip a counting group leader such as mem-loads-aux */
	return c;
}

/* The attrs as opened: the sampler's, with wakeups, inheritance and group enabling set. */
static void attrs_to_open(struct ibsp_capture *c, const struct ibsp_event_desc *events,
			  const struct ibsp_capture_opts *o, uint32_t pages)
{
	long page = sysconf(_SC_PAGESIZE);
	bool grouped = false;

	for (uint32_t i = 0; i < c->nr; i++)
		grouped |= c->leader[i] >= 0;
	for (uint32_t i = 0; i < c->nr; i++) {
		struct perf_event_attr *a = &c->attrs[i];

		*a = events[i].attr;
		if (a->sample_period) {
			/* watermark wakeups (large PEBS needs them, not wakeup_events) */
			a->watermark = 1;
			a->wakeup_watermark = o->wakeup_bytes
						  ? o->wakeup_bytes
						  : (uint32_t)(pages * (uint64_t)page / 2);
		}
		if (o->target == IBSP_TARGET_PID) {
			a->inherit = 1; /* follow the process's children and new threads */
			/* a workload held before exec: count from its exec on, as perf does */
			a->enable_on_exec = o->enable_on_exec && (!grouped || i == 0);
		}
		/* Members follow their leader. libperf 6.1 can only make one group of the whole
		 * list (perf_evlist__set_leader), so there every event after the first is one. */
		if (o->target == IBSP_TARGET_CGROUP ? c->leader[i] >= 0 : grouped && i > 0)
			a->disabled = 0;
	}
}

/* The evlist of c->attrs over the online CPUs and the target's threads. */
static int build_evlist(struct ibsp_capture *c, const struct ibsp_capture_opts *o)
{
	bool grouped = false;

	c->evlist = perf_evlist__new();
	c->cpus = perf_cpu_map__new(NULL); /* online CPUs only */
	if (o->target == IBSP_TARGET_PID) {
		int ret = threads_of(o, &c->threads);

		if (ret)
			return ret;
	} else {
		c->threads = perf_thread_map__new_dummy();
	}
	if (!c->evlist || !c->cpus || !c->threads)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nr; i++) {
		c->evsels[i] = perf_evsel__new(&c->attrs[i]);
		if (!c->evsels[i])
			return -ENOMEM;
		perf_evlist__add(c->evlist, c->evsels[i]);
		grouped |= c->leader[i] >= 0;
	}
	if (grouped)
		perf_evlist__set_leader(c->evlist);
	perf_evlist__set_maps(c->evlist, c->cpus, c->threads);
	return 0;
}

/* Open the evlist, read the events' ids and map the rings. */
static int open_evlist(struct ibsp_capture *c, struct ibsp_event_desc *events,
		       const struct ibsp_capture_opts *o, uint32_t pages)
{
	char tname[PATH_MAX + 32];
	int ret = perf_evlist__open(c->evlist);

	if (ret) {
		pr_err("cannot open %s on %s: %s%s\n",
		       c->nr == 1 ? events[0].name : "the sampler's events",
		       target_name(o, tname, sizeof(tname)), strerror(-ret),
		       open_hint(ret, events[0].kind, o->target));
		return ret;
	}
	c->opened = true;
	ret = read_ids(c, events);
	if (ret)
		return ret;
	ret = perf_evlist__mmap(c->evlist, (int)pages);
	if (ret) {
		pr_err("cannot map %u-page ring buffers on %d CPUs: %s%s\n", pages,
		       perf_cpu_map__nr(c->cpus), strerror(-ret), ibsp_capture__mmap_hint(ret, o));
		return ret;
	}
	c->st.nr_cpus = (uint32_t)perf_cpu_map__nr(c->cpus);
	return 0;
}

/*
 * CPU-wide targets: an fd of each CPU's ring (any event of the CPU: they all
 * write to one ring, and a wakeup wakes each). Without them (a per-task
 * target, or fds that could not be found) the rings are drained on a timer.
 */
static void find_ring_fds(struct ibsp_capture *c, const struct ibsp_event_desc *events,
			  enum ibsp_capture_target target)
{
	const struct ibsp_event_desc *ev = &events[c->first_sampler];
	uint32_t nr = c->st.nr_cpus;

	if (target == IBSP_TARGET_PID || !nr)
		return;
	c->ring_fds = calloc(nr, sizeof(*c->ring_fds));
	if (c->ring_fds && c->cg) {
		for (uint32_t k = 0; k < nr; k++)
			c->ring_fds[k] = ibsp_cgroup_capture__ring_fd(c->cg, k);
		c->nr_ring_fds = nr;
	} else if (c->ring_fds && ev->nr_ids == nr) {
		/* one thread (-1) on every CPU: the ids are by CPU */
		if (!ibsp_perf_fds__by_id(ev->ids, nr, c->ring_fds))
			c->nr_ring_fds = nr;
		else
			pr_debug(
			    "capture: the rings' fds were not all found: drained on a timer\n");
	}
	if (!c->nr_ring_fds) {
		free(c->ring_fds);
		c->ring_fds = NULL;
	}
}

uint32_t ibsp_capture__ring_fds(const struct ibsp_capture *c, const int **fds)
{
	*fds = c->ring_fds;
	return c->nr_ring_fds;
}

uint32_t ibsp_capture__auto_pages(uint32_t nr_cpus, bool may_lock, long page_size)
{
	uint64_t bytes = AUTO_RING_BUDGET / (nr_cpus ? nr_cpus : 1), pages;

	if (!may_lock || page_size <= 0)
		return DEFAULT_PAGES;
	if (bytes > AUTO_RING_MAX)
		bytes = AUTO_RING_MAX;
	pages = bytes / (uint64_t)page_size;
	if (pages <= DEFAULT_PAGES)
		return DEFAULT_PAGES;
	return 1u << (63 - __builtin_clzll(pages)); /* a power of two, not above */
}

/* With no size asked for: _auto_pages() for this process and host. */
static uint32_t auto_pages(void)
{
	struct ibsp_host_caps caps;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ibsp_host_caps__read_privs(&caps);
	return ibsp_capture__auto_pages(cpus > 0 ? (uint32_t)cpus : 1,
					ibsp_host_caps__may_lock_rings(&caps),
					sysconf(_SC_PAGESIZE));
}

int ibsp_capture__new(struct ibsp_event_desc *events, const int *group_leader, uint32_t nr,
		      const struct ibsp_capture_opts *user_opts, struct ibsp_capture **out)
{
	static int libperf_ready;
	struct ibsp_capture_opts o;
	struct ibsp_capture *c;
	uint32_t pages;
	int ret;

	IBSP_OPTS_COPY(o, user_opts);
	pages = o.mmap_pages ? o.mmap_pages : auto_pages();
	if (!libperf_ready) {
		libperf_init(libperf_print);
		libperf_ready = 1;
	}
	if (!nr || (pages & (pages - 1))) {
		pr_err("capture: %s\n", nr ? "mmap pages must be a power of two" : "no events");
		return -EINVAL;
	}
	c = capture_alloc(events, group_leader, nr);
	if (!c)
		return -ENOMEM;
	attrs_to_open(c, events, &o, pages);
	if (o.target == IBSP_TARGET_CGROUP) {
		ret = ibsp_cgroup_capture__new(events, c->attrs, c->leader, nr, &o, pages, &c->cg);
		if (!ret)
			c->st.nr_cpus = ibsp_cgroup_capture__nr_cpus(c->cg);
	} else {
		ret = build_evlist(c, &o);
		if (!ret)
			ret = open_evlist(c, events, &o, pages);
	}
	if (ret) {
		ibsp_capture__delete(c);
		return ret;
	}
	c->st.ring_pages = pages;
	find_ring_fds(c, events, o.target);
	pr_debug("capture: %u-page rings on %u CPUs%s\n", pages, c->st.nr_cpus,
		 o.mmap_pages ? "" : " (the automatic size)");
	*out = c;
	return 0;
}

void ibsp_capture__enable(struct ibsp_capture *c)
{
	if (c->cg)
		ibsp_cgroup_capture__enable(c->cg, c->leader);
	else
		perf_evlist__enable(c->evlist);
}

void ibsp_capture__disable(struct ibsp_capture *c)
{
	if (c->cg)
		ibsp_cgroup_capture__disable(c->cg, c->leader);
	else
		perf_evlist__disable(c->evlist);
}

int ibsp_capture__poll(struct ibsp_capture *c, int timeout_ms)
{
	int ret;

	if (c->cg)
		return ibsp_cgroup_capture__poll(c->cg, timeout_ms);
	ret = perf_evlist__poll(c->evlist, timeout_ms);
	return ret < 0 ? -errno : ret;
}

int ibsp_capture__alive(struct ibsp_capture *c)
{
	/* A target task that exited leaves its fds in POLLHUP; stop polling them (perf record
	 * does the same). Their rings stay mapped, so a later drain still reads them. */
	if (c->cg)
		return 1; /* a cgroup outlives its tasks */
	return perf_evlist__filter_pollfd(c->evlist, POLLERR | POLLHUP);
}

struct counted_fn {
	struct ibsp_capture *c;
	ibsp_record_fn fn;
	void *ctx;
};

static int counted(const struct perf_event_header *h, void *arg)
{
	struct counted_fn *cf = arg;

	if (h->type == PERF_RECORD_SAMPLE)
		cf->c->st.samples++;
	else
		ibsp_loss_stats__count(&cf->c->st.loss, h);
	cf->c->st.records++;
	cf->c->st.bytes += h->size;
	return cf->fn(h, cf->ctx);
}

int ibsp_capture__drain(struct ibsp_capture *c, ibsp_record_fn fn, void *ctx)
{
	struct counted_fn cf = { .c = c, .fn = fn, .ctx = ctx };
	struct perf_mmap *map;
	int ret = 0;

	if (c->cg)
		return ibsp_cgroup_capture__drain(c->cg, counted, &cf, &c->st.last_ring_bytes);
	c->st.last_ring_bytes = 0;
	perf_evlist__for_each_mmap(c->evlist, map, false)
	{
		uint64_t from = c->st.bytes;
		union perf_event *ev;

		if (perf_mmap__read_init(map) < 0)
			continue; /* empty, or unmapped after POLLHUP */
		while (!ret && (ev = perf_mmap__read_event(map)))
			ret = counted(&ev->header, &cf);
		if (c->st.bytes - from > c->st.last_ring_bytes)
			c->st.last_ring_bytes = c->st.bytes - from;
		/*
		 * One data_tail store per ring, not per record: perf record does the
		 * same. No perf_mmap__read_done(): for a ring that is not in overwrite
		 * mode it moves the read position to the head as it is *now*, past the
		 * records the kernel wrote after read_event() last looked, which no
		 * drain would then read or count (tests/test_live.c,
		 * drain_skips_no_record_that_arrives_during_it: 70 of 204 800 records
		 * under back-to-back drains). read_event() leaves the position after
		 * the last record it returned, where the next read_init() starts.
		 */
		perf_mmap__consume(map);
		if (ret)
			break;
	}
	return ret;
}

const struct ibsp_capture_stats *ibsp_capture__stats(const struct ibsp_capture *c)
{
	return &c->st;
}

double ibsp_capture__running_ratio(struct ibsp_capture *c)
{
	uint64_t ena = 0, run = 0;
	int ncpu, nthr;

	if (c->cg)
		return ibsp_cgroup_capture__running_ratio(c->cg, c->first_sampler);
	ncpu = perf_cpu_map__nr(c->cpus);
	nthr = perf_thread_map__nr(c->threads);

	for (int cpu = 0; cpu < ncpu; cpu++)
		for (int t = 0; t < nthr; t++) {
			struct perf_counts_values v;

			if (!perf_evsel__read(c->evsels[c->first_sampler], cpu, t, &v)) {
				ena += v.ena;
				run += v.run;
			}
		}
	return ena ? (double)run / (double)ena : 1.0;
}
