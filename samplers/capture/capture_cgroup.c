// SPDX-License-Identifier: MIT
/*
 * cgroup capture: per-CPU events opened with PERF_FLAG_PID_CGROUP, so the
 * kernel counts only while the cgroup's tasks run on that CPU.
 *
 * libperf 6.1 opens every event with flags = 0 and has no way to adopt an fd,
 * so this target opens its events itself. The ring buffers are drained with
 * the same read_init -> read_event -> consume protocol and memory ordering as
 * libperf (tools/lib/perf/mmap.c, tools/include/linux/ring_buffer.h): load
 * data_head with acquire, read records, store data_tail with release where
 * the reading stopped (capture.c's drain says why there is no read_done).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture_internal.h"
#include "log_print.h"
#include "util.h"

struct cg_ring {
	int fd; /* the CPU's output fd; the other events of the CPU redirect to it */
	struct perf_event_mmap_page *pg;
	size_t map_len;
	uint8_t *data;
	uint64_t mask;
	uint64_t start, end; /* read_init: [tail, head) */
};

struct ibsp_cgroup_capture {
	uint32_t nr_events, nr_cpus;
	int *cpus;	       /* online CPU numbers */
	int *fds;	       /* [cpu][event] */
	struct cg_ring *rings; /* [cpu] */
	struct pollfd *pfd;
	uint8_t *copy; /* a record that wraps the ring end, reassembled */
};

void ibsp_cgroup_capture__delete(struct ibsp_cgroup_capture *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->rings && i < c->nr_cpus; i++)
		if (c->rings[i].pg)
			munmap(c->rings[i].pg, c->rings[i].map_len);
	for (uint32_t i = 0; c->fds && i < c->nr_cpus * c->nr_events; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	free(c->cpus);
	free(c->fds);
	free(c->rings);
	free(c->pfd);
	free(c->copy);
	free(c);
}

/* The object for @nr events on every online CPU, no fd open yet. */
static int cg_alloc(uint32_t nr, struct ibsp_cgroup_capture **out)
{
	char buf[4096];
	struct ibsp_cgroup_capture *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	*out = c;
	c->nr_events = nr;
	ret = ibsp_read_file_str("/sys/devices/system/cpu/online", buf, sizeof(buf));
	if (ret < 0 || ibsp_cpulist__to_array(buf, &c->cpus, &c->nr_cpus) || !c->nr_cpus) {
		pr_err("/sys/devices/system/cpu/online: cannot read the online CPUs\n");
		return ret < 0 ? ret : -EINVAL;
	}
	c->fds = malloc(sizeof(int) * c->nr_cpus * nr);
	c->rings = calloc(c->nr_cpus, sizeof(*c->rings));
	c->pfd = calloc(c->nr_cpus, sizeof(*c->pfd));
	c->copy = malloc(UINT16_MAX + 1);
	for (uint32_t i = 0; c->fds && i < c->nr_cpus * nr; i++)
		c->fds[i] = -1; /* before any error: delete closes what is not -1 */
	if (!c->fds || !c->rings || !c->pfd || !c->copy)
		return -ENOMEM;
	return 0;
}

/* Open every event on CPU slot @k for the cgroup @cgfd, all writing into the first one's ring. */
static int open_cpu_events(struct ibsp_cgroup_capture *c, uint32_t k,
			   const struct ibsp_event_desc *ev, const struct perf_event_attr *attrs,
			   const int *leader, int cgfd, const char *cgroup_path)
{
	int *fd = &c->fds[k * c->nr_events];

	for (uint32_t e = 0; e < c->nr_events; e++) {
		int gfd = leader[e] >= 0 ? fd[leader[e]] : -1;

		fd[e] = (int)syscall(SYS_perf_event_open, &attrs[e], cgfd, c->cpus[k], gfd,
				     PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);
		if (fd[e] < 0) {
			int ret = -errno;

			pr_err("cannot open %s for cgroup %s on CPU %d: %s\n", ev[e].name,
			       cgroup_path, c->cpus[k], strerror(errno));
			return ret;
		}
		/* One ring per CPU: the CPU's other events write into the first one's. */
		if (e > 0 && ioctl(fd[e], PERF_EVENT_IOC_SET_OUTPUT, fd[0])) {
			int ret = -errno;

			pr_err("event %s, CPU %d: PERF_EVENT_IOC_SET_OUTPUT: %s\n", ev[e].name,
			       c->cpus[k], strerror(errno));
			return ret;
		}
	}
	return 0;
}

/* Map the ring of CPU slot @k: one metadata page and @pages data pages. */
static int map_ring(struct ibsp_cgroup_capture *c, uint32_t k, uint32_t pages,
		    const struct ibsp_capture_opts *o)
{
	long page = sysconf(_SC_PAGESIZE);
	struct cg_ring *r = &c->rings[k];
	int fd0 = c->fds[k * c->nr_events];

	r->fd = fd0;
	r->map_len = (size_t)(pages + 1) * (size_t)page;
	/* PROT_WRITE: a non-overwrite ring that we acknowledge through data_tail */
	r->pg = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0);
	if (r->pg == MAP_FAILED) {
		int ret = -errno;

		r->pg = NULL;
		pr_err("CPU %d: cannot map a %u-page ring: %s%s\n", c->cpus[k], pages,
		       strerror(-ret), ibsp_capture__mmap_hint(ret, o));
		return ret;
	}
	r->data = (uint8_t *)r->pg + page;
	r->mask = (uint64_t)pages * (uint64_t)page - 1;
	c->pfd[k] = (struct pollfd){ .fd = fd0, .events = POLLIN };
	return 0;
}

/* The ids that route samples to their attr, as perf_evsel__read() gives them. */
static int read_ids(struct ibsp_cgroup_capture *c, struct ibsp_event_desc *ev)
{
	uint32_t nr = c->nr_events;

	for (uint32_t e = 0; e < nr; e++) {
		free(ev[e].ids);
		ev[e].ids = calloc(c->nr_cpus, sizeof(uint64_t));
		if (!ev[e].ids)
			return -ENOMEM;
		ev[e].nr_ids = c->nr_cpus;
		for (uint32_t k = 0; k < c->nr_cpus; k++)
			if (ioctl(c->fds[k * nr + e], PERF_EVENT_IOC_ID, &ev[e].ids[k])) {
				int ret = -errno;

				pr_err("event %s: PERF_EVENT_IOC_ID: %s\n", ev[e].name,
				       strerror(errno));
				return ret;
			}
	}
	return 0;
}

int ibsp_cgroup_capture__new(struct ibsp_event_desc *ev, const struct perf_event_attr *attrs,
			     const int *leader, uint32_t nr, const struct ibsp_capture_opts *o,
			     uint32_t pages, struct ibsp_cgroup_capture **out)
{
	const char *cgroup_path = o->cgroup_path ? o->cgroup_path : "";
	struct ibsp_cgroup_capture *c = NULL;
	int cgfd, ret;

	cgfd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		ret = -errno;
		pr_err("%s: cannot open the cgroup directory: %s\n", cgroup_path, strerror(errno));
		return ret;
	}
	ret = cg_alloc(nr, &c);
	for (uint32_t k = 0; !ret && k < c->nr_cpus; k++) {
		ret = open_cpu_events(c, k, ev, attrs, leader, cgfd, cgroup_path);
		if (!ret)
			ret = map_ring(c, k, pages, o);
	}
	if (!ret)
		ret = read_ids(c, ev);
	close(cgfd);
	if (ret) {
		ibsp_cgroup_capture__delete(c);
		return ret;
	}
	*out = c;
	return 0;
}

uint32_t ibsp_cgroup_capture__nr_cpus(const struct ibsp_cgroup_capture *c)
{
	return c->nr_cpus;
}

/* Enable or disable the group leaders (members follow them). */
static void ioctl_all(struct ibsp_cgroup_capture *c, const int *leader, unsigned long req)
{
	for (uint32_t k = 0; k < c->nr_cpus; k++)
		for (uint32_t e = 0; e < c->nr_events; e++)
			if (leader[e] < 0)
				ioctl(c->fds[k * c->nr_events + e], req, 0);
}

void ibsp_cgroup_capture__enable(struct ibsp_cgroup_capture *c, const int *leader)
{
	ioctl_all(c, leader, PERF_EVENT_IOC_ENABLE);
}

void ibsp_cgroup_capture__disable(struct ibsp_cgroup_capture *c, const int *leader)
{
	ioctl_all(c, leader, PERF_EVENT_IOC_DISABLE);
}

int ibsp_cgroup_capture__poll(struct ibsp_cgroup_capture *c, int timeout_ms)
{
	int ret = poll(c->pfd, c->nr_cpus, timeout_ms);

	return ret < 0 ? -errno : ret;
}

/* read_init: what the kernel has published since our last consume. */
static void ring_read_init(struct cg_ring *r)
{
	r->start = r->pg->data_tail; /* only we write it */
	r->end = __atomic_load_n(&r->pg->data_head, __ATOMIC_ACQUIRE);
}

/* read_event: the next record, reassembled in @copy when it wraps the ring end; NULL when done. */
static const struct perf_event_header *ring_read_event(struct cg_ring *r, uint8_t *copy)
{
	const struct perf_event_header *h;
	uint64_t off, size, first;

	if (r->end - r->start < sizeof(*h))
		return NULL;
	off = r->start & r->mask;
	/* records are 8-aligned, so a header never straddles the end */
	h = (const void *)(r->data + off);
	size = h->size;
	if (size < sizeof(*h) || size > r->end - r->start)
		return NULL; /* corrupt or partial: stop here, the kernel will not hand out less */
	if (off + size > r->mask + 1) {
		first = r->mask + 1 - off;
		memcpy(copy, r->data + off, first);
		memcpy(copy + first, r->data, size - first);
		h = (const void *)copy;
	}
	r->start += size;
	return h;
}

/* consume: tell the kernel the space up to start is free again. */
static void ring_consume(struct cg_ring *r)
{
	__atomic_store_n(&r->pg->data_tail, r->start, __ATOMIC_RELEASE);
}

int ibsp_cgroup_capture__drain(struct ibsp_cgroup_capture *c,
			       int (*fn)(const struct perf_event_header *, void *), void *ctx,
			       uint64_t *ring_max_bytes)
{
	int ret = 0;

	*ring_max_bytes = 0;
	for (uint32_t k = 0; k < c->nr_cpus && !ret; k++) {
		struct cg_ring *r = &c->rings[k];
		const struct perf_event_header *h;
		uint64_t from;

		ring_read_init(r);
		from = r->start;
		while (!ret && (h = ring_read_event(r, c->copy)))
			ret = fn(h, ctx);
		ring_consume(r);
		if (r->start - from > *ring_max_bytes)
			*ring_max_bytes = r->start - from;
	}
	return ret;
}

int ibsp_cgroup_capture__ring_fd(const struct ibsp_cgroup_capture *c, uint32_t k)
{
	return c->rings[k].fd;
}

double ibsp_cgroup_capture__running_ratio(struct ibsp_cgroup_capture *c, uint32_t ev)
{
	uint64_t ena = 0, run = 0;

	for (uint32_t k = 0; k < c->nr_cpus; k++) {
		uint64_t v[4]; /* value, time_enabled, time_running, id */

		if (read(c->fds[k * c->nr_events + ev], v, sizeof(v)) == (ssize_t)sizeof(v)) {
			ena += v[1];
			run += v[2];
		}
	}
	return ena ? (double)run / (double)ena : 1.0;
}
