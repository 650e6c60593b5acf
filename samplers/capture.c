// SPDX-License-Identifier: MIT
/*
 * Live capture through libperf (Linux 6.1 tools/lib/perf): an evlist over the
 * online CPUs, one ring buffer per CPU (libperf shares it between the events
 * of a CPU with PERF_EVENT_IOC_SET_OUTPUT), drained with
 * read_init -> read_event -> consume -> read_done.
 *
 * cgroup targets: libperf 6.1 opens every event with flags = 0, so it cannot
 * pass PERF_FLAG_PID_CGROUP. We therefore sample every CPU and keep the
 * samples whose PERF_SAMPLE_CGROUP id belongs to the cgroup's subtree; the
 * cost is that the PMU also samples other tasks (counted as "filtered").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <perf/core.h>
#include <perf/cpumap.h>
#include <perf/event.h>
#include <perf/evlist.h>
#include <perf/evsel.h>
#include <perf/mmap.h>
#include <perf/threadmap.h>

#include "ibsp/capture.h"
#include "log_internal.h"
#include "perf_sample.h"

#define DEFAULT_PAGES	  128u
#define CGROUP_REFRESH_NS 1000000000ULL

struct id_ev {
	uint64_t id;
	uint32_t idx;
};

struct ibsp_capture {
	struct perf_evlist *evlist;
	struct perf_evsel **evsels;
	struct perf_event_attr *attrs; /* as opened, for parsing samples */
	uint32_t nr;
	struct perf_cpu_map *cpus;
	struct perf_thread_map *threads;
	struct id_ev *ids;
	size_t nr_ids;
	struct ibsp_capture_stats st;

	/* cgroup filter */
	char *cg_path;
	uint64_t *cg_ids;
	size_t nr_cg_ids;
	uint64_t cg_refreshed_ns;
};

static int libperf_print(enum libperf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	ibsp_log(level <= LIBPERF_ERR ? IBSP_LOG_WARN : IBSP_LOG_DEBUG, "libperf: %s", buf);
	return 0;
}

int ibsp_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mnt;

	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0))
		return -errno;
	/* cgroup v2's file handle is the 64-bit cgroup id, what PERF_SAMPLE_CGROUP reports. */
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

static struct ibsp_capture *cg_walk; /* nftw has no context argument */

static int cg_visit(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	uint64_t id = 0, *n;

	(void)sb;
	(void)ftw;
	if (flag != FTW_D || ibsp_cgroup_id(path, &id))
		return 0;
	n = reallocarray(cg_walk->cg_ids, cg_walk->nr_cg_ids + 1, sizeof(*n));
	if (!n)
		return -1;
	cg_walk->cg_ids = n;
	n[cg_walk->nr_cg_ids++] = id;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* (Re)collect the ids of the cgroup and every descendant: new children appear over time. */
static int cg_refresh(struct ibsp_capture *c)
{
	c->nr_cg_ids = 0;
	cg_walk = c;
	if (nftw(c->cg_path, cg_visit, 16, FTW_PHYS)) {
		pr_err("%s: cannot walk the cgroup tree: %s\n", c->cg_path, strerror(errno));
		return -errno ? -errno : -ENOMEM;
	}
	cg_walk = NULL;
	if (!c->nr_cg_ids) {
		pr_err("%s: not a cgroup v2 directory (no file handle)\n", c->cg_path);
		return -ENOENT;
	}
	c->cg_refreshed_ns = now_ns();
	return 0;
}

static int cmp_id_ev(const void *a, const void *b)
{
	const struct id_ev *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct perf_event_attr *attr_of_sample(const struct ibsp_capture *c,
						    const struct perf_event_header *h)
{
	size_t lo = 0, hi = c->nr_ids;
	uint64_t id;

	if (c->nr == 1)
		return &c->attrs[0];
	if (h->size < sizeof(*h) + 8)
		return NULL;
	memcpy(&id, h + 1, 8); /* PERF_SAMPLE_IDENTIFIER: always the first u64 */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->ids[mid].id < id)
			lo = mid + 1;
		else if (c->ids[mid].id > id)
			hi = mid;
		else
			return &c->attrs[c->ids[mid].idx];
	}
	return NULL;
}

static int cg_keep(struct ibsp_capture *c, const struct perf_event_header *h)
{
	const struct perf_event_attr *attr = attr_of_sample(c, h);
	struct ibsp_raw_sample rs;
	struct ibsp_parse_err err;

	if (!attr || !(attr->sample_type & PERF_SAMPLE_CGROUP) ||
	    ibsp_parse_sample(attr, h, h->size, &rs, &err))
		return 0;
	for (size_t i = 0; i < c->nr_cg_ids; i++)
		if (c->cg_ids[i] == rs.cgroup)
			return 1;
	return 0;
}

void ibsp_capture__delete(struct ibsp_capture *c)
{
	if (!c)
		return;
	if (c->evlist) {
		perf_evlist__disable(c->evlist);
		perf_evlist__munmap(c->evlist);
		perf_evlist__close(c->evlist);
		perf_evlist__delete(c->evlist); /* deletes its evsels */
	}
	perf_cpu_map__put(c->cpus);
	perf_thread_map__put(c->threads);
	free(c->evsels);
	free(c->attrs);
	free(c->ids);
	free(c->cg_path);
	free(c->cg_ids);
	free(c);
}

static struct perf_thread_map *threads_of(pid_t pid)
{
	char dir[64];
	struct dirent *de;
	pid_t *tids = NULL;
	int nr = 0;
	struct perf_thread_map *map = NULL;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		pid_t *n;

		if (de->d_name[0] == '.')
			continue;
		n = reallocarray(tids, (size_t)nr + 1, sizeof(*n));
		if (!n)
			goto out;
		tids = n;
		tids[nr++] = (pid_t)atoi(de->d_name);
	}
	if (nr)
		map = perf_thread_map__new_array(nr, tids);
out:
	closedir(d);
	free(tids);
	return map;
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
	c->nr_ids = 0;
	for (uint32_t i = 0; i < c->nr; i++)
		c->nr_ids += events[i].nr_ids;
	c->ids = calloc(c->nr_ids ? c->nr_ids : 1, sizeof(*c->ids));
	if (!c->ids)
		return -ENOMEM;
	size_t k = 0;

	for (uint32_t i = 0; i < c->nr; i++)
		for (uint32_t j = 0; j < events[i].nr_ids; j++)
			c->ids[k++] = (struct id_ev){ .id = events[i].ids[j], .idx = i };
	qsort(c->ids, c->nr_ids, sizeof(*c->ids), cmp_id_ev);
	return 0;
}

/* What usually causes an open failure, for the message. */
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
	if (o->target == IBSP_TARGET_PID)
		snprintf(buf, len, "pid %d", (int)o->pid);
	else if (o->target == IBSP_TARGET_CGROUP)
		snprintf(buf, len, "all CPUs (cgroup %s)", o->cgroup_path);
	else
		snprintf(buf, len, "all CPUs");
	return buf;
}

int ibsp_capture__new(struct ibsp_event_desc *events, const int *group_leader, uint32_t nr,
		      const struct ibsp_capture_opts *o, struct ibsp_capture **out)
{
	static int libperf_ready;
	uint32_t pages = o->mmap_pages ? o->mmap_pages : DEFAULT_PAGES;
	long page = sysconf(_SC_PAGESIZE);
	struct ibsp_capture *c;
	bool grouped = false;
	char tname[PATH_MAX + 32];
	int ret;

	if (!libperf_ready) {
		libperf_init(libperf_print);
		libperf_ready = 1;
	}
	if (!nr || (pages & (pages - 1))) {
		pr_err("capture: %s\n", nr ? "mmap pages must be a power of two" : "no events");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->nr = nr;
	c->evsels = calloc(nr, sizeof(*c->evsels));
	c->attrs = calloc(nr, sizeof(*c->attrs));
	c->evlist = perf_evlist__new();
	if (!c->evsels || !c->attrs || !c->evlist) {
		ret = -ENOMEM;
		goto err;
	}

	c->cpus = perf_cpu_map__new(NULL); /* online CPUs only */
	if (o->target == IBSP_TARGET_PID) {
		c->threads = threads_of(o->pid);
		if (!c->threads) {
			ret = -ESRCH;
			pr_err("pid %d: no such process (cannot list /proc/%d/task)\n", (int)o->pid,
			       (int)o->pid);
			goto err;
		}
	} else {
		c->threads = perf_thread_map__new_dummy();
	}
	if (!c->cpus || !c->threads) {
		ret = -ENOMEM;
		goto err;
	}
	if (o->target == IBSP_TARGET_CGROUP) {
		c->cg_path = strdup(o->cgroup_path ? o->cgroup_path : "");
		if (!c->cg_path) {
			ret = -ENOMEM;
			goto err;
		}
		if ((ret = cg_refresh(c)))
			goto err;
	}

	for (uint32_t i = 0; i < nr; i++)
		grouped |= group_leader[i] >= 0;
	for (uint32_t i = 0; i < nr; i++) {
		struct perf_event_attr a = events[i].attr;

		if (a.sample_period) {
			/* watermark wakeups (large PEBS needs them, not wakeup_events) */
			a.watermark = 1;
			a.wakeup_watermark = o->wakeup_bytes
						 ? o->wakeup_bytes
						 : (uint32_t)(pages * (uint64_t)page / 4);
		}
		if (o->target == IBSP_TARGET_PID) {
			a.inherit = 1; /* follow the process's children and new threads */
			/* a workload held before exec: count from its exec on, as perf does */
			a.enable_on_exec = o->enable_on_exec && (!grouped || i == 0);
		}
		if (grouped && i > 0)
			a.disabled = 0; /* members follow the leader */
		if (o->target == IBSP_TARGET_CGROUP && !(a.sample_type & PERF_SAMPLE_CGROUP)) {
			pr_err("event %s: cgroup filtering needs PERF_SAMPLE_CGROUP\n",
			       events[i].name);
			ret = -EINVAL;
			goto err;
		}
		c->attrs[i] = a;
		c->evsels[i] = perf_evsel__new(&a);
		if (!c->evsels[i]) {
			ret = -ENOMEM;
			goto err;
		}
		perf_evlist__add(c->evlist, c->evsels[i]);
	}
	/* libperf 6.1 can only make one group of the whole list: the first event leads it. */
	if (grouped)
		perf_evlist__set_leader(c->evlist);
	perf_evlist__set_maps(c->evlist, c->cpus, c->threads);
	ret = perf_evlist__open(c->evlist);
	if (ret) {
		pr_err("cannot open %s on %s: %s%s\n",
		       nr == 1 ? events[0].name : "the sampler's events",
		       target_name(o, tname, sizeof(tname)), strerror(-ret),
		       open_hint(ret, events[0].kind, o->target));
		goto err;
	}
	ret = read_ids(c, events);
	if (ret)
		goto err;
	ret = perf_evlist__mmap(c->evlist, (int)pages);
	if (ret) {
		pr_err("cannot map %u-page ring buffers on %d CPUs: %s%s\n", pages,
		       perf_cpu_map__nr(c->cpus), strerror(-ret),
		       ret == -EPERM ? " (over the perf_event_mlock_kb budget: use fewer pages, or "
				       "CAP_IPC_LOCK)"
				     : "");
		goto err;
	}
	c->st.nr_cpus = (uint32_t)perf_cpu_map__nr(c->cpus);
	*out = c;
	return 0;
err:
	ibsp_capture__delete(c);
	return ret;
}

void ibsp_capture__enable(struct ibsp_capture *c)
{
	perf_evlist__enable(c->evlist);
}

void ibsp_capture__disable(struct ibsp_capture *c)
{
	perf_evlist__disable(c->evlist);
}

int ibsp_capture__poll(struct ibsp_capture *c, int timeout_ms)
{
	int ret = perf_evlist__poll(c->evlist, timeout_ms);

	return ret < 0 ? -errno : ret;
}

static void count(struct ibsp_capture_stats *st, const struct perf_event_header *h)
{
	uint64_t v[2];

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		st->samples++;
		break;
	case PERF_RECORD_LOST:
		st->lost_records++;
		if (h->size >= sizeof(*h) + 16) {
			memcpy(v, h + 1, 16);
			st->lost += v[1];
		}
		break;
	case PERF_RECORD_LOST_SAMPLES:
		if (h->size >= sizeof(*h) + 8) {
			memcpy(v, h + 1, 8);
			st->lost_samples += v[0];
		}
		break;
	case PERF_RECORD_THROTTLE:
		st->throttle++;
		break;
	case PERF_RECORD_UNTHROTTLE:
		st->unthrottle++;
		break;
	default:
		break;
	}
}

int ibsp_capture__drain(struct ibsp_capture *c, ibsp_record_fn fn, void *ctx)
{
	struct perf_mmap *map;
	int ret = 0;

	if (c->cg_path && now_ns() - c->cg_refreshed_ns > CGROUP_REFRESH_NS) {
		ret = cg_refresh(c);
		if (ret)
			return ret;
	}
	perf_evlist__for_each_mmap(c->evlist, map, false)
	{
		union perf_event *ev;
		int r = perf_mmap__read_init(map);

		if (r == -EAGAIN)
			c->st.overruns++;
		if (r < 0)
			continue;
		while (!ret && (ev = perf_mmap__read_event(map))) {
			const struct perf_event_header *h = &ev->header;

			count(&c->st, h);
			if (h->type == PERF_RECORD_SAMPLE && c->cg_path && !cg_keep(c, h)) {
				c->st.filtered++;
			} else {
				c->st.records++;
				ret = fn(h, ctx);
			}
			perf_mmap__consume(map);
		}
		perf_mmap__read_done(map);
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
	uint32_t first = 0;
	uint64_t ena = 0, run = 0;
	int ncpu = perf_cpu_map__nr(c->cpus), nthr = perf_thread_map__nr(c->threads);

	while (first + 1 < c->nr && !c->attrs[first].sample_period)
		first++; /* skip a counting group leader such as mem-loads-aux */
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (int t = 0; t < nthr; t++) {
			struct perf_counts_values v;

			if (!perf_evsel__read(c->evsels[first], cpu, t, &v)) {
				ena += v.ena;
				run += v.run;
			}
		}
	return ena ? (double)run / (double)ena : 1.0;
}
