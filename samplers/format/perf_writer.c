// SPDX-License-Identifier: MIT
/*
 * perf.data writer. File mode, as perf record writes it:
 *
 *   header (104) | ids of every attr | attrs | data ... | feature index | feature payloads
 *
 * Records are buffered and appended verbatim; close writes the features
 * after the data and then the final header (data size, feature bitmap).
 *
 * Pipe mode (path "-": stdout, as perf record -o -): a 16-byte header, the
 * attrs as HEADER_ATTR and the features as HEADER_FEATURE records, then the
 * records, all written in order and never gone back to.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ibsp/perf_file.h"
#include "log_print.h"
#include "perf_abi.h"
#include "perf_features.h"
#include "perf_sample.h"
#include "util.h"

#define WBUF_BYTES (256u << 10)

struct ibsp_perf_writer {
	char *path;
	int fd;
	struct perf_file_header hdr;
	struct ibsp_recording_info
	    info; /* shallow copy: strings and topology belong to the caller */
	struct ibsp_event_desc *events;
	uint32_t nr_events;
	uint64_t data_bytes;
	uint8_t *buf;
	size_t buf_len;
	int err;
	uint64_t first_ns, last_ns;
	int have_time;
	ibsp_write_sink_fn sink; /* NULL: pwrite() here */
	void *sink_ctx;
	bool pipe; /* stdout, in pipe mode */
};

/* Pipe mode: write all of @p in order (no offsets). 0 or -errno. */
static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int emit_record(const void *rec, size_t len, void *ctx)
{
	return write_all(*(int *)ctx, rec, len);
}

/* Pipe mode: the header, an HEADER_ATTR record per event, then the features. */
static int write_pipe_start(struct ibsp_perf_writer *w)
{
	struct perf_pipe_file_header ph = { .magic = PERF_MAGIC2, .size = sizeof(ph) };
	int ret = write_all(w->fd, &ph, sizeof(ph));

	for (uint32_t i = 0; !ret && i < w->nr_events; i++) {
		struct perf_event_header h = { .type = PERF_RECORD_HEADER_ATTR };
		size_t len = sizeof(h) + IBSP_WRITE_ATTR_SIZE + w->events[i].nr_ids * 8ULL;

		if (len > UINT16_MAX)
			return -E2BIG;
		h.size = (uint16_t)len;
		ret = write_all(w->fd, &h, sizeof(h));
		if (!ret)
			ret = write_all(w->fd, &w->events[i].attr, IBSP_WRITE_ATTR_SIZE);
		if (!ret)
			ret = write_all(w->fd, w->events[i].ids, w->events[i].nr_ids * 8ULL);
	}
	if (!ret)
		ret = ibsp_features_write_records(&w->info, w->events, w->nr_events, emit_record,
						  &w->fd);
	return ret;
}

/* Rewrite the file header in place. */
static int write_header(struct ibsp_perf_writer *w)
{
	return ibsp_pwrite_all(w->fd, &w->hdr, sizeof(w->hdr), 0);
}

static int flush_buf(struct ibsp_perf_writer *w)
{
	int ret;

	if (w->err)
		return w->err;
	if (!w->buf_len)
		return 0;
	if (w->pipe) /* in order, on this thread: a pipe has no offsets */
		ret = write_all(w->fd, w->buf, w->buf_len);
	else if (w->sink)
		ret = w->sink(w->sink_ctx, w->fd, w->buf, w->buf_len,
			      w->hdr.data.offset + w->data_bytes - w->buf_len);
	else
		ret = ibsp_pwrite_all(w->fd, w->buf, w->buf_len,
				      w->hdr.data.offset + w->data_bytes - w->buf_len);
	if (ret) {
		pr_err("%s: write failed at offset %" PRIu64 ": %s\n", w->path,
		       w->hdr.data.offset + w->data_bytes - w->buf_len, strerror(-ret));
		w->err = ret;
	}
	w->buf_len = 0;
	return ret;
}

static int append(struct ibsp_perf_writer *w, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	if (w->buf_len + n > WBUF_BYTES && flush_buf(w))
		return w->err;
	memcpy(w->buf + w->buf_len, p, n);
	w->buf_len += n;
	w->data_bytes += n;
	return 0;
}

/* Free @w and its copies; the file is closed by the caller. */
static void writer_free(struct ibsp_perf_writer *w)
{
	for (uint32_t i = 0; w->events && i < w->nr_events; i++) {
		free(w->events[i].name);
		free(w->events[i].ids);
	}
	free(w->events);
	free(w->buf);
	free(w->path);
	free(w);
}

/* Copy the events (names and ids too) as they will be written. */
static int copy_events(struct ibsp_perf_writer *w, const struct ibsp_event_desc *events)
{
	for (uint32_t i = 0; i < w->nr_events; i++) {
		w->events[i] = events[i];
		w->events[i].name = events[i].name ? strdup(events[i].name) : NULL;
		w->events[i].ids = calloc(events[i].nr_ids ? events[i].nr_ids : 1, 8);
		if (!w->events[i].ids || (events[i].name && !w->events[i].name))
			return -ENOMEM;
		if (events[i].nr_ids)
			memcpy(w->events[i].ids, events[i].ids, events[i].nr_ids * 8);
		w->events[i].attr.size = IBSP_WRITE_ATTR_SIZE;
	}
	return 0;
}

/* Lay out and write the ids of every attr, then the attrs that point at them. */
static int write_attrs(struct ibsp_perf_writer *w)
{
	uint64_t off = sizeof(w->hdr);

	w->hdr.magic = PERF_MAGIC2;
	w->hdr.size = sizeof(w->hdr);
	w->hdr.attr_size = IBSP_WRITE_ATTR_SIZE + sizeof(struct perf_file_section);
	w->hdr.attrs.offset = off;
	for (uint32_t i = 0; i < w->nr_events; i++)
		w->hdr.attrs.offset += w->events[i].nr_ids * 8ULL;
	w->hdr.attrs.size = w->nr_events * w->hdr.attr_size;
	for (uint32_t i = 0; i < w->nr_events; i++) {
		struct perf_file_section ids = { .offset = off,
						 .size = w->events[i].nr_ids * 8ULL };
		uint64_t at = w->hdr.attrs.offset + i * w->hdr.attr_size;
		int ret = ibsp_pwrite_all(w->fd, w->events[i].ids, ids.size, off);

		if (!ret)
			ret = ibsp_pwrite_all(w->fd, &w->events[i].attr, IBSP_WRITE_ATTR_SIZE, at);
		if (!ret)
			ret = ibsp_pwrite_all(w->fd, &ids, sizeof(ids), at + IBSP_WRITE_ATTR_SIZE);
		if (ret)
			return ret;
		off += ids.size;
	}
	w->hdr.data.offset = w->hdr.attrs.offset + w->hdr.attrs.size;
	return 0;
}

int ibsp_perf_writer__open(const char *path, const struct ibsp_recording_info *info,
			   const struct ibsp_event_desc *events, uint32_t nr_events,
			   struct ibsp_perf_writer **out)
{
	return ibsp_perf_writer__open_as(path, NULL, info, events, nr_events, out);
}

int ibsp_perf_writer__open_as(const char *path, const char *name,
			      const struct ibsp_recording_info *info,
			      const struct ibsp_event_desc *events, uint32_t nr_events,
			      struct ibsp_perf_writer **out)
{
	struct ibsp_perf_writer *w;
	int ret = -ENOMEM;

	if (!name)
		name = path;
	if (!nr_events) {
		pr_err("%s: a recording needs at least one event\n", name);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->path = strdup(name); /* for messages: the file is opened by @path */
	w->buf = malloc(WBUF_BYTES);
	w->events = calloc(nr_events, sizeof(*w->events));
	w->nr_events = nr_events;
	w->info = *info;
	if (!w->path || !w->buf || !w->events || copy_events(w, events))
		goto err;
	if (!strcmp(path, "-")) {
		w->fd = STDOUT_FILENO;
		w->pipe = true;
		ret = write_pipe_start(w);
		if (ret) {
			pr_err("-: cannot write the pipe-mode header: %s\n", strerror(-ret));
			w->fd = -1;
			goto err;
		}
		*out = w;
		return 0;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (w->fd < 0) {
		ret = -errno;
		pr_err("%s: cannot create: %s\n", w->path, strerror(errno));
		goto err;
	}
	/* ids first, then the attrs that point at them, then the data */
	ret = write_attrs(w);
	/* A header with data.size 0 marks the file as unterminated until close. */
	if (!ret)
		ret = write_header(w);
	if (ret) {
		pr_err("%s: write failed: %s\n", w->path, strerror(-ret));
		goto err;
	}
	*out = w;
	return 0;
err:
	if (w->fd >= 0)
		close(w->fd);
	writer_free(w);
	return ret;
}

/* Track SAMPLE_TIME from the records written (first and last sample time). */
static void note_time(struct ibsp_perf_writer *w, const struct perf_event_header *rec)
{
	const struct perf_event_attr *attr = &w->events[0].attr;
	uint64_t t = attr->sample_type, ts;
	size_t at;

	if (rec->type != PERF_RECORD_SAMPLE || !(t & PERF_SAMPLE_TIME))
		return;
	/* TIME's position is the same for every attr when ids are used consistently. */
	at = sizeof(*rec) + 8 * (size_t)(!!(t & PERF_SAMPLE_IDENTIFIER) + !!(t & PERF_SAMPLE_IP) +
					 !!(t & PERF_SAMPLE_TID));
	if (at + 8 > rec->size)
		return;
	memcpy(&ts, (const uint8_t *)rec + at, 8);
	if (!w->have_time || ts < w->first_ns)
		w->first_ns = ts;
	if (!w->have_time || ts > w->last_ns)
		w->last_ns = ts;
	w->have_time = 1;
}

int ibsp_perf_writer__write(struct ibsp_perf_writer *w, const struct perf_event_header *rec)
{
	if (rec->size < sizeof(*rec)) {
		pr_err("%s: refusing a record of type %u with size %u\n", w->path, rec->type,
		       rec->size);
		return -EINVAL;
	}
	note_time(w, rec);
	return append(w, rec, rec->size);
}

int ibsp_perf_writer__finish_round(struct ibsp_perf_writer *w)
{
	struct perf_event_header h = { .type = PERF_RECORD_FINISHED_ROUND, .size = sizeof(h) };
	int ret = append(w, &h, sizeof(h));

	/*
	 * Write the round out: if the writer is killed (SIGKILL, OOM) before close,
	 * the file still holds every finished round, readable as "unterminated".
	 */
	return ret ? ret : flush_buf(w);
}

void ibsp_perf_writer__set_sink(struct ibsp_perf_writer *w, ibsp_write_sink_fn fn, void *ctx)
{
	w->sink = fn;
	w->sink_ctx = ctx;
}

uint64_t ibsp_perf_writer__bytes(const struct ibsp_perf_writer *w)
{
	return w->data_bytes;
}

int ibsp_perf_writer__close(struct ibsp_perf_writer *w)
{
	struct ibsp_recording_info info;
	int ret;

	if (!w)
		return 0;
	ret = flush_buf(w);
	if (w->pipe) { /* everything is out; stdout stays open */
		writer_free(w);
		return ret;
	}
	if (!ret) {
		info = w->info;
		if (w->have_time) {
			info.first_sample_ns = w->first_ns;
			info.last_sample_ns = w->last_ns;
			info.has_sample_time = true;
		}
		w->hdr.data.size = w->data_bytes;
		ret = ibsp_features_write(w->fd, w->hdr.data.offset + w->hdr.data.size, &info,
					  w->events, w->nr_events, w->hdr.adds_features);
		if (!ret)
			ret = write_header(w);
		if (ret)
			pr_err("%s: cannot write the feature sections or header: %s\n", w->path,
			       strerror(-ret));
	}
	if (close(w->fd) && !ret) {
		ret = -errno;
		pr_err("%s: close failed: %s\n", w->path, strerror(errno));
	}
	writer_free(w);
	return ret;
}
