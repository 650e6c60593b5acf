// SPDX-License-Identifier: MIT
/*
 * Synthesized PERF_RECORD_COMM records for tasks that already run when a
 * recording starts (the kernel only reports later execs), so perf script and
 * perf report can name them. Layout: Linux 6.1 include/uapi/linux/perf_event.h
 * (struct { header; u32 pid, tid; char comm[]; struct sample_id; }), the
 * trailer as in __perf_event__output_id_sample(). perf does the same in
 * tools/perf/util/synthetic-events.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/perf_file.h"
#include "util.h"

struct comm_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	char comm[16]; /* TASK_COMM_LEN, NUL-padded: 8-aligned */
	uint64_t trailer[6];
};

/* The sample_id trailer of @attr: TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER. */
static size_t put_trailer(uint64_t *t, const struct perf_event_attr *attr, uint32_t pid,
			  uint32_t tid, uint64_t id)
{
	uint64_t st = attr->sample_type;
	size_t n = 0;

	if (!attr->sample_id_all)
		return 0;
	if (st & PERF_SAMPLE_TID)
		t[n++] = pid | (uint64_t)tid << 32;
	if (st & PERF_SAMPLE_TIME)
		t[n++] = 0; /* time 0: perf delivers it before any queued record */
	if (st & PERF_SAMPLE_ID)
		t[n++] = id;
	if (st & PERF_SAMPLE_STREAM_ID)
		t[n++] = id;
	if (st & PERF_SAMPLE_CPU)
		t[n++] = 0;
	if (st & PERF_SAMPLE_IDENTIFIER)
		t[n++] = id;
	return n;
}

static int emit_comm(const struct perf_event_attr *attr, uint64_t id, uint32_t pid, uint32_t tid,
		     ibsp_record_fn fn, void *ctx)
{
	struct comm_rec r = { .h = { .type = PERF_RECORD_COMM }, .pid = pid, .tid = tid };
	char path[64], buf[64];
	size_t n;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	if (ibsp_read_file_str(path, buf, sizeof(buf)) <= 0)
		return 0; /* the task is gone: nothing to name */
	n = strcspn(buf, "\n");
	memcpy(r.comm, buf, n < sizeof(r.comm) - 1 ? n : sizeof(r.comm) - 1); /* TASK_COMM_LEN */
	n = put_trailer(r.trailer, attr, pid, tid, id);
	r.h.size = (uint16_t)(offsetof(struct comm_rec, trailer) + n * sizeof(uint64_t));
	return fn(&r.h, ctx);
}

static int comms_of_pid(const struct perf_event_attr *attr, uint64_t id, uint32_t pid,
			ibsp_record_fn fn, void *ctx)
{
	char dir[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(dir, sizeof(dir), "/proc/%u/task", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = emit_comm(attr, id, pid, (uint32_t)strtoul(de->d_name, NULL, 10), fn,
					ctx);
	closedir(d);
	return ret;
}

int ibsp_synthesize_comms(pid_t pid, const struct perf_event_attr *attr, uint64_t id,
			  ibsp_record_fn fn, void *ctx)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (pid > 0)
		return comms_of_pid(attr, id, (uint32_t)pid, fn, ctx);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char *end;
		unsigned long p = strtoul(de->d_name, &end, 10);

		if (*end || !p)
			continue;
		ret = comms_of_pid(attr, id, (uint32_t)p, fn, ctx);
	}
	closedir(d);
	return ret;
}
