/* SPDX-License-Identifier: MIT */
/* The cgroup capture backend (capture_cgroup.c), ring_fds.c and capture_hints.c, used by capture.c. */
#ifndef IBSP_CAPTURE_INTERNAL_H
#define IBSP_CAPTURE_INTERNAL_H

#include <stdint.h>
#include <linux/perf_event.h>

#include "ibsp/capture.h"
#include "ibsp/perf_file.h"

struct ibsp_cgroup_capture;

/* Open @attrs on every online CPU for the tasks of @o->cgroup_path; fills the events' ids. */
int ibsp_cgroup_capture__new(struct ibsp_event_desc *ev, const struct perf_event_attr *attrs,
			     const int *leader, uint32_t nr, const struct ibsp_capture_opts *o,
			     uint32_t pages, struct ibsp_cgroup_capture **out);
void ibsp_cgroup_capture__delete(struct ibsp_cgroup_capture *c);
uint32_t ibsp_cgroup_capture__nr_cpus(const struct ibsp_cgroup_capture *c);
void ibsp_cgroup_capture__enable(struct ibsp_cgroup_capture *c, const int *leader);
void ibsp_cgroup_capture__disable(struct ibsp_cgroup_capture *c, const int *leader);
int ibsp_cgroup_capture__poll(struct ibsp_cgroup_capture *c, int timeout_ms);
int ibsp_cgroup_capture__drain(struct ibsp_cgroup_capture *c,
			       int (*fn)(const struct perf_event_header *, void *), void *ctx,
			       uint64_t *ring_max_bytes);
double ibsp_cgroup_capture__running_ratio(struct ibsp_cgroup_capture *c, uint32_t ev);
/* The fd that owns CPU @k's ring (k < nr_cpus). */
int ibsp_cgroup_capture__ring_fd(const struct ibsp_cgroup_capture *c, uint32_t k);

/* capture_hints.c: why a ring's mmap failed with @err, for its message ("" when nothing to add). */
const char *ibsp_capture__mmap_hint(int err, const struct ibsp_capture_opts *o);

/* ring_fds.c: @fds[k] = this process's perf event fd whose id is @ids[k]; -ENOENT if one is missing. */
int ibsp_perf_fds__by_id(const uint64_t *ids, uint32_t nr, int *fds);

#endif
