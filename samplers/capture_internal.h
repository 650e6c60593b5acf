/* SPDX-License-Identifier: MIT */
/* The cgroup capture backend (capture_cgroup.c), used by capture.c. */
#ifndef IBSP_CAPTURE_INTERNAL_H
#define IBSP_CAPTURE_INTERNAL_H

#include <stdint.h>
#include <linux/perf_event.h>

#include "ibsp/perf_file.h"

struct cg_capture;

/* Open @attrs on every online CPU for the tasks of @cgroup_path; fills the events' ids. */
int cg_capture__open(struct ibsp_event_desc *ev, const struct perf_event_attr *attrs,
		     const int *leader, uint32_t nr, const char *cgroup_path, uint32_t pages,
		     struct cg_capture **out);
void cg_capture__close(struct cg_capture *c);
uint32_t cg_capture__nr_cpus(const struct cg_capture *c);
void cg_capture__enable(struct cg_capture *c, const int *leader);
void cg_capture__disable(struct cg_capture *c, const int *leader);
int cg_capture__poll(struct cg_capture *c, int timeout_ms);
int cg_capture__drain(struct cg_capture *c, int (*fn)(const struct perf_event_header *, void *),
		      void *ctx);
double cg_capture__running_ratio(struct cg_capture *c);

#endif
