// SPDX-License-Identifier: MIT
/*
 * perf.data reader (file mode).
 *
 * The data section is read through a sliding window (a buffer), so memory stays
 * O(1) in the file size. Samples are reordered exactly as perf's
 * ordered-events queue does (Linux 6.1 tools/perf/util/ordered-events.c):
 * queue every timestamped record, and on each PERF_RECORD_FINISHED_ROUND
 * deliver what is not newer than the previous round's newest timestamp.
 * That makes our sample order equal to `perf script`'s.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "ibsp/perf_file.h"
#include "log_print.h"
#include "perf_abi.h"
#include "perf_features.h"
#include "ordered_events.h"
#include "perf_reader_internal.h"
#include "perf_unzstd.h"
#include "perf_sample.h"
#include "util.h"

const struct ibsp_recording_info *ibsp_perf_reader__info(const struct ibsp_perf_reader *r)
{
	return &r->info;
}

uint32_t ibsp_perf_reader__nr_events(const struct ibsp_perf_reader *r)
{
	return r->nr_events;
}

const struct ibsp_event_desc *ibsp_perf_reader__event(const struct ibsp_perf_reader *r,
						      uint32_t idx)
{
	return idx < r->nr_events ? &r->events[idx] : NULL;
}

const struct ibsp_perf_stats *ibsp_perf_reader__stats(const struct ibsp_perf_reader *r)
{
	return &r->stats;
}

void ibsp_perf_reader__data_range(const struct ibsp_perf_reader *r, uint64_t *offset,
				  uint64_t *size)
{
	*offset = r->data_off;
	*size = r->data_end - r->data_off;
}

uint64_t ibsp_perf_reader__pos(const struct ibsp_perf_reader *r)
{
	return r->pos;
}

void ibsp_perf_reader__close(struct ibsp_perf_reader *r)
{
	if (!r)
		return;
	free(r->win);
	if (r->fd >= 0)
		close(r->fd);
	for (uint32_t i = 0; i < r->nr_events; i++) {
		free(r->events[i].name);
		free(r->events[i].ids);
	}
	free(r->events);
	free(r->layouts);
	ibsp_id_index__exit(&r->ids);
	ibsp_ordered_events__exit(&r->oe);
	if (r->unz)
		ibsp_unzstd__exit(r->unz);
	free(r->unz);
	free(r->stats.samples_per_event);
	free(r->stats.samples_per_cpu);
	ibsp_recording_info__exit(&r->info);
	free(r->path);
	free(r);
}

static struct ibsp_perf_reader *reader_new(const char *path,
					   const struct ibsp_perf_reader_opts *user_opts)
{
	struct ibsp_perf_reader_opts o;
	struct ibsp_perf_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->path = strdup(path);
	IBSP_OPTS_COPY(o, user_opts);
	r->ordered = !o.unordered;
	r->include_invalid = o.include_invalid;
	r->quiet = o.quiet;
	r->dctx.no_source = o.no_source;
	r->window = !o.window_bytes		  ? DEFAULT_WINDOW
		    : o.window_bytes < MIN_WINDOW ? MIN_WINDOW
						  : o.window_bytes;
	ibsp_ordered_events__init(&r->oe, o.max_queue ? o.max_queue : DEFAULT_MAX_QUEUE);
	return r;
}

/* Open the file and check the 16 bytes every perf.data starts with: magic and header size. */
static int open_and_check_magic(struct ibsp_perf_reader *r)
{
	const char *path = r->path;
	struct stat st;

	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st)) {
		int ret = -errno;

		pr_err("%s: cannot open: %s\n", path, strerror(errno));
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		pr_err("%s: is a directory, not a perf.data file\n", path);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file (%s); to read a pipe, give '-' and feed it on "
		       "stdin\n",
		       path,
		       S_ISFIFO(st.st_mode)  ? "a pipe"
		       : S_ISCHR(st.st_mode) ? "a device"
					     : "a socket or other");
		return -EINVAL;
	}
	r->file_size = (uint64_t)st.st_size;
	if (r->file_size < 16 || pread(r->fd, &r->hdr, 16, 0) != 16) {
		pr_err("%s: offset 0: file is %" PRIu64
		       " bytes, too short for a perf.data header\n",
		       path, r->file_size);
		return -EINVAL;
	}
	if (r->hdr.magic == PERF_MAGIC2_SW) {
		pr_err(
		    "%s: offset 0: field 'magic': the file was written by an opposite-endian host; "
		    "not supported\n",
		    path);
		return -EPROTONOSUPPORT;
	}
	if (r->hdr.magic != PERF_MAGIC2) {
		pr_err("%s: offset 0: field 'magic' is %#018" PRIx64 ", not \"PERFILE2\"%s\n", path,
		       r->hdr.magic,
		       r->hdr.magic == PERF_MAGIC1 ? " (legacy v1 format, not supported)" : "");
		return -EINVAL;
	}
	return 0;
}

/* Pipe mode (perf record -o -): attrs and features come as records before the samples. */
static int read_pipe_header(struct ibsp_perf_reader *r)
{
	r->pipe = 1;
	r->data_off = sizeof(struct perf_pipe_file_header);
	r->data_end = r->file_size;
	r->pos = r->data_off;
	return ibsp_perf_reader__read_attrs(r);
}

/* File mode: the full header, the attrs section, the data section and the feature sections. */
static int read_file_header(struct ibsp_perf_reader *r)
{
	const char *path = r->path;
	int ret;

	if (r->hdr.size != sizeof(r->hdr) || r->file_size < sizeof(r->hdr) ||
	    pread(r->fd, &r->hdr, sizeof(r->hdr), 0) != sizeof(r->hdr)) {
		pr_err("%s: offset 8: field 'size' = %" PRIu64
		       " (expected %zu) or the file (%" PRIu64
		       " bytes) is shorter than the header\n",
		       path, r->hdr.size, sizeof(r->hdr), r->file_size);
		return -EINVAL;
	}
	if (r->hdr.data.offset > r->file_size ||
	    r->hdr.data.size > r->file_size - r->hdr.data.offset) {
		pr_err("%s: offset 0x28: field 'data' {offset %#" PRIx64 ", size %" PRIu64
		       "} runs past the end of the file (size %" PRIu64 ")\n",
		       path, r->hdr.data.offset, r->hdr.data.size, r->file_size);
		return -EINVAL;
	}
	ret = ibsp_perf_reader__read_attrs(r);
	if (ret)
		return ret;
	r->data_off = r->hdr.data.offset;
	/*
	 * data.size 0 with no feature bits: the writer never closed the file (perf and we
	 * write both at close). With feature bits it is a finished, empty recording.
	 */
	if (r->hdr.data.size == 0 && !(r->hdr.adds_features[0] | r->hdr.adds_features[1] |
				       r->hdr.adds_features[2] | r->hdr.adds_features[3])) {
		if (!r->quiet)
			pr_warn("%s: data size is 0 (was the recording terminated properly?); "
				"reading to the "
				"end of the file and ignoring feature sections\n",
				path);
		r->data_end = r->file_size;
		r->unterminated = 1;
		return 0;
	}
	r->data_end = r->data_off + r->hdr.data.size;
	return ibsp_features_parse(path, r->fd, r->file_size, &r->hdr, &r->info, r->events,
				   r->nr_events);
}

/* Name and route the events, take the decoders' host facts, and settle the sample order. */
static int prepare_to_read(struct ibsp_perf_reader *r)
{
	ibsp_perf_reader__name_and_route(r);
	r->layouts = calloc(r->nr_events, sizeof(*r->layouts));
	if (!r->layouts)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->nr_events; i++)
		ibsp_sample_layout__init(&r->layouts[i], &r->events[i].attr);
	ibsp_decode_ctx__from_cpuid(&r->dctx, r->info.cpuid); /* keeps no_source */
	r->dctx.ibs_zen4 = r->info.ibs_zen4 ? 1 : -1;
	r->pos = r->data_off;
	/* perf falls back to file order when attr 0 lacks sample_id_all (session.c). */
	if (!r->events[0].attr.sample_id_all)
		r->ordered = 0;
	return 0;
}

int ibsp_perf_reader__open(const char *path, const struct ibsp_perf_reader_opts *user_opts,
			   struct ibsp_perf_reader **out)
{
	struct ibsp_perf_reader *r = reader_new(path, user_opts);
	int ret;

	if (!r)
		return -ENOMEM;
	if (!r->path) {
		ret = -ENOMEM;
		goto err;
	}
	ret = open_and_check_magic(r);
	if (!ret && r->hdr.size == sizeof(struct perf_pipe_file_header))
		ret = read_pipe_header(r);
	else if (!ret)
		ret = read_file_header(r);
	if (!ret)
		ret = prepare_to_read(r);
	if (ret)
		goto err;
	*out = r;
	return 0;
err:
	ibsp_perf_reader__close(r);
	return ret;
}

static int find_event_by_id(struct ibsp_perf_reader *r, const struct perf_event_header *h,
			    uint64_t off, uint32_t *idx)
{
	uint64_t id;

	if (h->type == PERF_RECORD_SAMPLE) {
		size_t at = sizeof(*h) + 8 * (size_t)r->sample_id_pos;

		if (at + 8 > h->size) {
			pr_err("%s: offset %#" PRIx64
			       ": sample of %u bytes is too short for its id\n",
			       r->path, off, h->size);
			return -EINVAL;
		}
		memcpy(&id, (const uint8_t *)h + at, 8);
	} else {
		if (r->trailer_id_pos < 0 || !r->events[0].attr.sample_id_all ||
		    h->size < sizeof(*h) + 8 * (size_t)r->trailer_id_pos) {
			*idx = 0;
			return 0;
		}
		memcpy(&id, (const uint8_t *)h + h->size - 8 * (size_t)r->trailer_id_pos, 8);
	}
	if (!id) { /* synthesized records carry id 0; perf maps them to the first attr */
		*idx = 0;
		return 0;
	}
	if (!ibsp_id_index__find(&r->ids, id, idx))
		return 0;
	/*
	 * perf record -a now and then writes samples whose id no attr lists
	 * (perf script then stops: "failed to process type: 9 [Bad address]").
	 * With one event that samples beside perf's dummy, they can only be that
	 * event's: counted, said once, and kept.
	 */
	if (h->type == PERF_RECORD_SAMPLE && r->only_sampler >= 0) {
		if (!r->stats.nr_unlisted_id++ && !r->quiet)
			pr_warn(
			    "%s: offset %#" PRIx64 ": sample id %" PRIu64
			    " is listed for no event (perf script refuses such a file); samples "
			    "with such ids are taken as samples of '%s', the only event that "
			    "samples\n",
			    r->path, off, id,
			    r->events[r->only_sampler].name ? r->events[r->only_sampler].name
							    : "?");
		*idx = (uint32_t)r->only_sampler;
		return 0;
	}
	pr_err("%s: offset %#" PRIx64 ": record type %u: field 'id' = %" PRIu64
	       " belongs to no attr\n",
	       r->path, off, h->type, id);
	return -EINVAL;
}

/* The record's event: with one event, without looking (the slow path keeps its frame apart). */
static inline int find_event(struct ibsp_perf_reader *r, const struct perf_event_header *h,
			     uint64_t off, uint32_t *idx)
{
	if (r->nr_events == 1) {
		*idx = 0;
		return 0;
	}
	return find_event_by_id(r, h, off, idx);
}

static int count_cpu(struct ibsp_perf_stats *st, const struct ibsp_sample *s)
{
	if (!(s->flags & IBSP_S_CPU_VALID) || s->cpu < 0) {
		st->samples_no_cpu++;
		return 0;
	}
	if ((uint32_t)s->cpu >= st->nr_cpu_slots) {
		uint32_t n = (uint32_t)s->cpu + 1;
		uint64_t *p;

		if (n > IBSP_MAX_CPUS) { /* no real host has more CPUs; count it apart */
			st->samples_no_cpu++;
			return 0;
		}
		p = reallocarray(st->samples_per_cpu, n, sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + st->nr_cpu_slots, 0, (n - st->nr_cpu_slots) * sizeof(*p));
		st->samples_per_cpu = p;
		st->nr_cpu_slots = n;
	}
	st->samples_per_cpu[s->cpu]++;
	return 0;
}

/*
 * Decode the sample @h at @off where it goes: into the ordered-events queue
 * (no copy in and out of a local), or, delivered at once, into r->imm.
 */
static int handle_sample(struct ibsp_perf_reader *r, const struct perf_event_header *h,
			 uint64_t off)
{
	struct ibsp_raw_sample rs;
	struct ibsp_parse_err perr;
	struct ibsp_sample *s;
	uint32_t idx;
	int ret, valid, queued;

	ret = find_event(r, h, off, &idx);
	if (ret)
		return ret;
	if (ibsp_parse_sample_fixed(&r->layouts[idx], h, h->size, &rs))
		ret = ibsp_parse_sample(&r->events[idx].attr, h, h->size, &rs, &perr);
	if (ret) {
		pr_err("%s: offset %#" PRIx64
		       ": sample (attr %u, sample_type %#llx, header.size %u): "
		       "field '%s' at record offset %zu %s\n",
		       r->path, off, idx, (unsigned long long)r->events[idx].attr.sample_type,
		       h->size, perr.field, perr.offset, perr.reason);
		return ret;
	}
	r->stats.nr_samples++;
	r->stats.samples_per_event[idx]++;
	/* perf's ordered_events__queue(): timestamp 0 or ~0 is delivered at once (-ETIME). */
	queued = r->ordered && (rs.type & PERF_SAMPLE_TIME) && rs.time && rs.time != ~0ULL;
	s = queued ? ibsp_ordered_events__reserve(&r->oe, rs.time) : &r->imm;
	if (!s)
		return -ENOMEM;
	valid = ibsp_decode(r->events[idx].kind, &r->dctx, &rs, s) == 0;
	s->event_idx = (uint16_t)idx;
	if (!(rs.type & PERF_SAMPLE_PERIOD) && !r->events[idx].attr.freq)
		s->period = r->events[idx].attr.sample_period; /* a fixed period is not sampled */
	if (!valid) {
		r->stats.nr_invalid++;
		r->stats.nr_dropped[s->drop < IBSP_DROP__MAX ? s->drop : IBSP_DROP_NONE]++;
	} else if ((ret = count_cpu(&r->stats, s)))
		return ret;

	valid |= r->include_invalid; /* handed out with s->drop set */
	if (!queued)
		r->have_imm = valid;
	else if (!valid)
		ibsp_ordered_events__not_sample(&r->oe);
	return 0;
}

static int handle_other(struct ibsp_perf_reader *r, const struct perf_event_header *h, uint64_t off)
{
	uint32_t idx;
	int ret;

	ibsp_loss_stats__count(&r->stats.loss, h);
	switch (h->type) {
	case PERF_RECORD_COMPRESSED: /* next_any() opens those of the file */
	case PERF_RECORD_COMPRESSED2:
		pr_err("%s: offset %#" PRIx64 ": the records decompressed from the COMPRESSED "
		       "record there hold another COMPRESSED record, which perf never writes\n",
		       r->path, off);
		return -EINVAL;
	case PERF_RECORD_FINISHED_ROUND:
		r->stats.nr_rounds++;
		if (r->ordered) {
			/* perf: flush up to the previous round's newest, then remember this one's. */
			ibsp_ordered_events__round(&r->oe);
		}
		return 0;
	default:
		break;
	}
	if (!r->ordered || h->type >= PERF_RECORD_USER_TYPE_START)
		return 0;
	ret = find_event(r, h, off, &idx);
	if (ret)
		return ret;
	if (r->events[idx].attr.sample_id_all) {
		uint64_t ts;
		int has_time;

		if (ibsp_parse_id_trailer(r->events[idx].attr.sample_type, h, h->size, &ts,
					  &has_time)) {
			pr_err("%s: offset %#" PRIx64
			       ": record type %u of %u bytes is too short for its "
			       "sample_id trailer\n",
			       r->path, off, h->type, h->size);
			return -EINVAL;
		}
		if (has_time && ts && ts != ~0ULL)
			return ibsp_ordered_events__queue(&r->oe, ts, NULL);
	}
	return 0;
}

/* Process records until something is ready to deliver or the data ends. */
static int pump(struct ibsp_perf_reader *r)
{
	while (!r->have_imm && !ibsp_ordered_events__has_ready(&r->oe) && !r->at_end) {
		const struct perf_event_header *h;
		uint64_t off;
		int ret = ibsp_perf_reader__take_in_window(r, &h, &off);

		if (!ret)
			ret = ibsp_perf_reader__next_any(r, &h, &off);

		if (ret < 0)
			return ret;
		if (ret == 0) {
			r->at_end = 1;
			ibsp_ordered_events__final(&r->oe);
			break;
		}
		if (h->type == PERF_RECORD_SAMPLE)
			ret = handle_sample(r, h, off);
		else
			ret = handle_other(r, h, off);
		if (ret)
			return ret;
		ibsp_ordered_events__bound(&r->oe);
	}
	return 0;
}

/*
 * The next samples, up to @cap, where the reader holds them: a sample
 * delivered at once, or a run of the ordered queue's ready ones.
 */
static int next_samples(struct ibsp_perf_reader *r, const struct ibsp_sample **out, size_t cap)
{
	for (;;) {
		int ret = r->err ? r->err : pump(r);
		size_t n;

		if (ret) {
			r->err = ret;
			return ret;
		}
		if (r->have_imm) {
			r->have_imm = 0;
			*out = &r->imm;
			return 1;
		}
		if (!ibsp_ordered_events__has_ready(&r->oe))
			return 0; /* at the end */
		n = ibsp_ordered_events__next_run(&r->oe, out, cap);
		if (n)
			return (int)n;
	}
}

int ibsp_perf_reader__read(struct ibsp_perf_reader *r, struct ibsp_sample *buf, size_t cap)
{
	size_t n = 0;

	if (cap > INT_MAX)
		cap = INT_MAX;
	while (n < cap) {
		const struct ibsp_sample *s;
		int got = next_samples(r, &s, cap - n);

		if (got <= 0) {
			r->stats.nr_out_of_order = r->oe.nr_out_of_order;
			return n ? (int)n : got;
		}
		memcpy(buf + n, s, (size_t)got * sizeof(*s));
		n += (size_t)got;
		r->stats.nr_decoded += (uint64_t)got;
	}
	r->stats.nr_out_of_order = r->oe.nr_out_of_order;
	return (int)n;
}

int ibsp_perf_reader__read_in_place(struct ibsp_perf_reader *r, const struct ibsp_sample **out,
				    size_t cap)
{
	int got = next_samples(r, out, cap < INT_MAX ? cap : INT_MAX);

	if (got > 0)
		r->stats.nr_decoded += (uint64_t)got;
	r->stats.nr_out_of_order = r->oe.nr_out_of_order;
	return got;
}
