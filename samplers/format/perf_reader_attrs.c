// SPDX-License-Identifier: MIT
/*
 * perf.data attrs and sample ids: the attrs section of a file-mode
 * perf.data, or the HEADER_ATTR / HEADER_FEATURE / EVENT_UPDATE records at
 * the start of a pipe-mode one (Linux 6.1 tools/perf/util/header.c
 * perf_session__read_header, perf_event__process_attr; session.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_print.h"
#include "perf_features.h"
#include "perf_reader_internal.h"
#include "perf_sample.h"

/* Position of the id in samples and trailers; it must be the same for every attr (as in perf). */
static int id_positions(struct ibsp_perf_reader *r)
{
	for (uint32_t i = 0; i < r->nr_events; i++) {
		uint64_t t = r->events[i].attr.sample_type;
		int spos = -1, tpos = -1;

		if (t & PERF_SAMPLE_IDENTIFIER) {
			spos = 0;
			tpos = 1;
		} else if (t & PERF_SAMPLE_ID) {
			spos = !!(t & PERF_SAMPLE_IP) + !!(t & PERF_SAMPLE_TID) +
			       !!(t & PERF_SAMPLE_TIME) + !!(t & PERF_SAMPLE_ADDR);
			tpos = 1 + !!(t & PERF_SAMPLE_CPU) + !!(t & PERF_SAMPLE_STREAM_ID);
		}
		if (i == 0) {
			r->sample_id_pos = spos;
			r->trailer_id_pos = tpos;
		} else if (r->nr_events > 1 &&
			   (spos != r->sample_id_pos || tpos != r->trailer_id_pos)) {
			pr_err("%s: attr %u: sample_type %#" PRIx64 " puts the sample id elsewhere "
			       "than attr 0 does; samples cannot be told apart\n",
			       r->path, i, t);
			return -EINVAL;
		}
		if (r->events[i].attr.sample_id_all != r->events[0].attr.sample_id_all) {
			pr_err("%s: attr %u: sample_id_all differs from attr 0\n", r->path, i);
			return -EINVAL;
		}
	}
	if (r->nr_events > 1 && r->sample_id_pos < 0) {
		pr_err("%s: %u attrs but their samples carry no id (PERF_SAMPLE_ID/IDENTIFIER)\n",
		       r->path, r->nr_events);
		return -EINVAL;
	}
	return 0;
}

/*
 * Append an event from the first @asz bytes of an attr at file offset @off
 * (for messages) with room for @nr_ids ids; the caller fills them.
 */
static struct ibsp_event_desc *add_event(struct ibsp_perf_reader *r, const void *attr, uint32_t asz,
					 uint64_t off, uint64_t nr_ids, int *err)
{
	struct ibsp_event_desc *ev;
	size_t take = asz < sizeof(ev->attr) ? asz : sizeof(ev->attr);

	*err = -EINVAL;
	if (r->nr_events == UINT16_MAX) {
		pr_err("%s: offset %#" PRIx64 ": more than %u attrs\n", r->path, off, UINT16_MAX);
		return NULL;
	}
	/* Attrs may share one ids region; cap the total before allocating. */
	if (nr_ids > MAX_IDS - r->nr_ids) {
		pr_err("%s: offset %#" PRIx64 ": attr %u: field 'ids': more than %u sample ids in "
		       "all\n",
		       r->path, off, r->nr_events, MAX_IDS);
		return NULL;
	}
	ev = reallocarray(r->events, r->nr_events + 1, sizeof(*ev));
	*err = -ENOMEM;
	if (!ev)
		return NULL;
	r->events = ev;
	ev = &r->events[r->nr_events];
	memset(ev, 0, sizeof(*ev));
	memcpy(&ev->attr, attr, take);
	ev->attr.size = asz;
	ev->ids = calloc(nr_ids ? nr_ids : 1, 8);
	if (!ev->ids)
		return NULL;
	ev->nr_ids = (uint32_t)nr_ids;
	r->nr_events++;
	r->nr_ids += nr_ids;
	if (ev->attr.sample_type & ~IBSP_SAMPLE_KNOWN_MASK) {
		pr_err("%s: offset %#" PRIx64 ": attr %u: field 'sample_type' has unknown bit(s) "
		       "%#" PRIx64 "\n",
		       r->path, off + 24, r->nr_events - 1,
		       (uint64_t)(ev->attr.sample_type & ~IBSP_SAMPLE_KNOWN_MASK));
		*err = -EINVAL;
		return NULL;
	}
	*err = 0;
	return ev;
}

static int read_file_attrs(struct ibsp_perf_reader *r)
{
	const struct perf_file_header *h = &r->hdr;
	uint64_t n;
	int ret;

	if (h->attr_size < PERF_ATTR_SIZE_VER0 + sizeof(struct perf_file_section)) {
		pr_err("%s: offset 0x10: field 'attr_size' = %" PRIu64 " is too small\n", r->path,
		       h->attr_size);
		return -EINVAL;
	}
	if (h->attrs.offset > r->file_size || h->attrs.size > r->file_size - h->attrs.offset) {
		pr_err("%s: offset 0x18: field 'attrs' {offset %#" PRIx64 ", size %" PRIu64
		       "} runs past the end of the file (size %" PRIu64 ")\n",
		       r->path, h->attrs.offset, h->attrs.size, r->file_size);
		return -EINVAL;
	}
	n = h->attrs.size / h->attr_size;
	if (!n || n > UINT16_MAX) {
		pr_err("%s: offset 0x18: field 'attrs' holds %" PRIu64 " attrs\n", r->path, n);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = h->attrs.offset + i * h->attr_size;
		struct perf_event_attr attr;
		struct ibsp_event_desc *ev;
		struct perf_file_section ids;
		uint32_t asz;

		if (pread(r->fd, &asz, 4, (off_t)off + 4) != 4)
			return -EIO;
		if (!asz)
			asz = PERF_ATTR_SIZE_VER0;
		/* Entries are attr.size + 16 bytes; attr_size only gives the count (perf does the same). */
		if (asz + sizeof(ids) > h->attr_size) {
			pr_err("%s: offset %#" PRIx64 ": attr %" PRIu64
			       ": field 'size' = %u does not "
			       "fit attr_size %" PRIu64 "\n",
			       r->path, off + 4, i, asz, h->attr_size);
			return -EINVAL;
		}
		memset(&attr, 0, sizeof(attr));
		if (pread(r->fd, &attr, asz < sizeof(attr) ? asz : sizeof(attr), (off_t)off) < 0 ||
		    pread(r->fd, &ids, sizeof(ids), (off_t)(off + asz)) != sizeof(ids))
			return -EIO;
		if (ids.size % 8 || ids.offset > r->file_size ||
		    ids.size > r->file_size - ids.offset) {
			pr_err("%s: offset %#" PRIx64 ": attr %" PRIu64
			       ": field 'ids' {offset %#" PRIx64 ", size %" PRIu64
			       "} lies outside the file\n",
			       r->path, off + asz, i, ids.offset, ids.size);
			return -EINVAL;
		}
		ev = add_event(r, &attr, asz, off, ids.size / 8, &ret);
		if (!ev)
			return ret;
		if (ids.size &&
		    pread(r->fd, ev->ids, ids.size, (off_t)ids.offset) != (ssize_t)ids.size)
			return -EIO;
	}
	return 0;
}

/* PERF_RECORD_EVENT_UPDATE (78) of type PERF_EVENT_UPDATE__NAME (2): { u64 type; u64 id; char name[] } */
static void event_update_name(struct ibsp_perf_reader *r, const struct perf_event_header *h)
{
	uint64_t v[2];

	if (h->size < sizeof(*h) + 17)
		return;
	memcpy(v, h + 1, 16);
	if (v[0] != 2)
		return;
	for (uint32_t i = 0; i < r->nr_events; i++)
		for (uint32_t k = 0; k < r->events[i].nr_ids; k++)
			if (r->events[i].ids[k] == v[1] && !r->events[i].name) {
				r->events[i].name =
				    strndup((const char *)(h + 1) + 16, h->size - sizeof(*h) - 16);
				return;
			}
}

/*
 * Pipe mode: PERF_RECORD_HEADER_FEATURE { u64 feat_id; payload } at @off. perf
 * writes each feature once; a second copy of one is refused, as the first
 * one's strings, arrays and topology would be replaced (and were freed with
 * the wrong count: a heap overflow, found by tests/fuzz). A feat_id past the
 * 256 feature bits is refused too (perf refuses any it does not know): it has
 * no bit to remember it by, and cut to 32 bits it named a parsed feature,
 * 133143986187 = 31 * 2^32 + 11 a second CMDLINE (tests/regress/pipe-cmdline-count.data).
 */
static int pipe_feature(struct ibsp_perf_reader *r, const struct perf_event_header *h, uint64_t off,
			uint64_t *feat_off)
{
	uint64_t feat;

	if (h->size < sizeof(*h) + 8) {
		pr_err("%s: offset %#" PRIx64 ": HEADER_FEATURE: field 'size' = %u is too small\n",
		       r->path, off, h->size);
		return -EINVAL;
	}
	memcpy(&feat, h + 1, 8);
	if (feat >= HEADER_FEAT_BITS) {
		pr_err("%s: offset %#" PRIx64 ": HEADER_FEATURE: field 'feat_id' = %" PRIu64
		       " is not a feature bit (0 to %d)\n",
		       r->path, off + sizeof(*h), feat, HEADER_FEAT_BITS - 1);
		return -EINVAL;
	}
	if (feat_off[feat]) {
		pr_err("%s: offset %#" PRIx64 ": HEADER_FEATURE: field 'feat_id' = %" PRIu64
		       " (%s) repeats the feature record at offset %#" PRIx64 "\n",
		       r->path, off + sizeof(*h), feat, ibsp_feature_name((unsigned int)feat),
		       feat_off[feat]);
		return -EINVAL;
	}
	feat_off[feat] = off;
	r->info.features[feat / 64] |= 1ULL << (feat % 64);
	return ibsp_feature_parse_payload(r->path, (unsigned int)feat, (const uint8_t *)(h + 1) + 8,
					  h->size - sizeof(*h) - 8, off + 16, &r->info, r->events,
					  r->nr_events);
}

/*
 * Pipe mode: the header is { magic, size 16 }; attrs arrive as
 * PERF_RECORD_HEADER_ATTR { attr; u64 ids[] }, features as
 * PERF_RECORD_HEADER_FEATURE { u64 feat_id; payload }, names as EVENT_UPDATE.
 * perf writes them all before the first sample; so read up to it.
 */
static int read_pipe_attrs(struct ibsp_perf_reader *r)
{
	uint64_t feat_off[HEADER_FEAT_BITS] = { 0 }; /* where each feature came, 0: not yet */
	const struct perf_event_header *h;
	uint64_t off;
	int ret;

	while ((ret = ibsp_perf_reader__next_record(r, &h, &off)) == 1) {
		if (h->type == PERF_RECORD_SAMPLE)
			break;
		if (h->type == PERF_RECORD_HEADER_ATTR) {
			struct perf_event_attr attr;
			struct ibsp_event_desc *ev;
			uint32_t asz;

			memset(&attr, 0, sizeof(attr));
			if (h->size < sizeof(*h) + PERF_ATTR_SIZE_VER0) {
				pr_err("%s: offset %#" PRIx64
				       ": HEADER_ATTR: field 'size' = %u is too "
				       "small for an attr\n",
				       r->path, off, h->size);
				return -EINVAL;
			}
			memcpy(&asz, (const uint8_t *)(h + 1) + 4, 4);
			if (!asz)
				asz = PERF_ATTR_SIZE_VER0;
			if (asz < PERF_ATTR_SIZE_VER0 || asz > h->size - sizeof(*h) ||
			    (h->size - sizeof(*h) - asz) % 8) {
				pr_err("%s: offset %#" PRIx64
				       ": HEADER_ATTR: field 'attr.size' = %u "
				       "does not fit the record (%u bytes)\n",
				       r->path, off + 12, asz, h->size);
				return -EINVAL;
			}
			memcpy(&attr, h + 1, asz < sizeof(attr) ? asz : sizeof(attr));
			ev = add_event(r, &attr, asz, off + sizeof(*h),
				       (h->size - sizeof(*h) - asz) / 8, &ret);
			if (!ev)
				return ret;
			memcpy(ev->ids, (const uint8_t *)(h + 1) + asz, ev->nr_ids * 8ULL);
		} else if (h->type == PERF_RECORD_HEADER_FEATURE) {
			ret = pipe_feature(r, h, off, feat_off);
			if (ret)
				return ret;
		} else if (h->type == PERF_RECORD_EVENT_UPDATE) {
			event_update_name(r, h);
		}
	}
	if (ret < 0)
		return ret;
	if (!r->nr_events) {
		pr_err(
		    "%s: offset 0x10: pipe-mode perf.data without a HEADER_ATTR record before its "
		    "samples\n",
		    r->path);
		return -EINVAL;
	}
	/* Stream from the start again: the reader counts and orders from there. */
	r->pos = r->data_off;
	r->stats.nr_records = 0;
	return 0;
}

/*
 * The recording's one event that samples, when all the others are perf's
 * dummy (the tracking event perf record adds: it never samples); -1 when
 * there is none or more than one.
 */
static int only_sampler(const struct ibsp_perf_reader *r)
{
	int only = -1;

	for (uint32_t i = 0; i < r->nr_events; i++) {
		const struct perf_event_attr *a = &r->events[i].attr;

		if (a->type == PERF_TYPE_SOFTWARE && a->config == PERF_COUNT_SW_DUMMY)
			continue;
		if (only >= 0)
			return -1;
		only = (int)i;
	}
	return only;
}

int ibsp_perf_reader__read_attrs(struct ibsp_perf_reader *r)
{
	int ret = r->pipe ? read_pipe_attrs(r) : read_file_attrs(r);

	if (ret)
		return ret;
	r->stats.samples_per_event = calloc(r->nr_events, sizeof(uint64_t));
	if (!r->stats.samples_per_event || ibsp_id_index__init(&r->ids, r->events, r->nr_events))
		return -ENOMEM;
	r->only_sampler = only_sampler(r);
	return id_positions(r);
}

/*
 * The PMU of a dynamic perf type (ibs_op's is registered at boot, so is
 * cpu_core's on a hybrid Intel) comes from the PMU_MAPPINGS feature. A
 * writer that leaves it out but names the event (EVENT_DESC, or an
 * EVENT_UPDATE in a pipe) in perf's PMU/terms/ form, "ibs_op//",
 * "ibs_op/cnt_ctl=1/", "cpu_core/mem-loads,ldlat=30/P", still tells the PMU
 * by that name: its part before the first '/', copied into @buf.
 */
static const char *pmu_of(const struct ibsp_perf_reader *r, const struct ibsp_event_desc *ev,
			  char *buf, size_t size)
{
	const char *pmu = ibsp_recording_info__pmu_name(&r->info, ev->attr.type);
	const char *slash = ev->name ? strchr(ev->name, '/') : NULL;

	if (pmu || !slash || slash == ev->name || (size_t)(slash - ev->name) >= size)
		return pmu;
	memcpy(buf, ev->name, (size_t)(slash - ev->name));
	buf[slash - ev->name] = '\0';
	return buf;
}

void ibsp_perf_reader__name_and_route(struct ibsp_perf_reader *r)
{
	for (uint32_t i = 0; i < r->nr_events; i++) {
		struct ibsp_event_desc *ev = &r->events[i];
		char pmu_buf[32];
		const char *pmu = pmu_of(r, ev, pmu_buf, sizeof(pmu_buf));

		ev->kind = ibsp_classify_event(&ev->attr, pmu);
		/* The hint sampler's page faults are told apart by the name we gave them. */
		if (ev->kind == IBSP_SAMPLER_SOFT && ev->name &&
		    !strcmp(ev->name, IBSP_HINT_EVENT_NAME))
			ev->kind = IBSP_SAMPLER_HINT;
		if (!r->quiet && ev->kind == IBSP_SAMPLER_NONE && ev->attr.type >= PERF_TYPE_MAX &&
		    (ev->attr.sample_type & PERF_SAMPLE_RAW))
			pr_warn(
			    "%s: event %u '%s' (perf type %u, PMU %s): not a PMU whose RAW data "
			    "ibs-promote decodes (ibs_op), so its samples have only their own "
			    "address fields\n",
			    r->path, i, ev->name ? ev->name : "?", ev->attr.type,
			    pmu ? pmu : "unknown: no PMU_MAPPINGS feature, none in the event name");
		if (!ev->name) {
			char buf[96];

			if (ev->kind == IBSP_SAMPLER_SOFT)
				snprintf(buf, sizeof(buf), "page-faults");
			else if (pmu)
				snprintf(buf, sizeof(buf), "%s/config=%#llx/", pmu,
					 (unsigned long long)ev->attr.config);
			else
				snprintf(buf, sizeof(buf), "type%u/config=%#llx/", ev->attr.type,
					 (unsigned long long)ev->attr.config);
			ev->name = strdup(buf);
		}
	}
}
