// SPDX-License-Identifier: MIT
/*
 * Live decoding: ring-buffer records of our own events -> struct
 * ibsp_sample, for the daemon (the reader does the same for files). Every
 * event we open has PERF_SAMPLE_IDENTIFIER, so a sample's id is its first
 * u64 and routes it to its event and decoder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ibsp/capture.h"
#include "id_index.h"
#include "log_print.h"
#include "perf_sample.h"

struct ibsp_live_decoder {
	const struct ibsp_event_desc *events;
	struct ibsp_sample_layout *layouts; /* per event: the fixed places of its sample fields */
	uint32_t nr;
	struct ibsp_id_index ids; /* sample id -> event, the reader's lookup */
	struct ibsp_decode_ctx dctx;
	struct ibsp_live_stats st;
};

struct ibsp_live_decoder *ibsp_live_decoder__new(const struct ibsp_event_desc *events, uint32_t nr,
						 unsigned int cpu_family, unsigned int cpu_model)
{
	struct ibsp_live_decoder *d;
	int ret;

	if (!nr) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->events = events;
	d->nr = nr;
	d->dctx.cpu_family = cpu_family;
	d->dctx.cpu_model = cpu_model;
	d->dctx.ibs_zen4 = -1; /* the caps word in each IBS sample says */
	d->layouts = calloc(nr, sizeof(*d->layouts));
	if (!d->layouts) {
		free(d);
		return NULL;
	}
	for (uint32_t i = 0; i < nr; i++)
		ibsp_sample_layout__init(&d->layouts[i], &events[i].attr);
	ret = ibsp_id_index__init(&d->ids, events, nr);
	if (ret) {
		free(d->layouts);
		free(d);
		errno = -ret;
		return NULL;
	}
	return d;
}

void ibsp_live_decoder__delete(struct ibsp_live_decoder *d)
{
	if (!d)
		return;
	ibsp_id_index__exit(&d->ids);
	free(d->layouts);
	free(d);
}

static int find_event(const struct ibsp_live_decoder *d, const struct perf_event_header *h,
		      uint32_t *idx)
{
	uint64_t id;

	if (d->nr == 1) {
		*idx = 0;
		return 0;
	}
	if (h->size < sizeof(*h) + 8 || !(d->events[0].attr.sample_type & PERF_SAMPLE_IDENTIFIER))
		return -EINVAL;
	memcpy(&id, h + 1, 8);
	return ibsp_id_index__find(&d->ids, id, idx);
}

int ibsp_live_decoder__decode(struct ibsp_live_decoder *d, const struct perf_event_header *rec,
			      struct ibsp_sample *out)
{
	const struct ibsp_event_desc *ev;
	struct ibsp_parse_err perr;
	struct ibsp_raw_sample rs;
	uint32_t idx;
	int ret;

	if (rec->type != PERF_RECORD_SAMPLE)
		return 0;
	d->st.samples++;
	if (find_event(d, rec, &idx)) {
		d->st.unknown_event++;
		return 0;
	}
	ev = &d->events[idx];
	ret = ibsp_parse_sample_fixed(&d->layouts[idx], rec, rec->size, &rs);
	if (ret)
		ret = ibsp_parse_sample(&ev->attr, rec, rec->size, &rs, &perr);
	if (ret) {
		/* The kernel wrote it: a parse failure is our bug; count, warn once. */
		if (!d->st.malformed++)
			pr_warn("live sample (event %u, %u bytes): field '%s' at offset %zu %s\n",
				idx, rec->size, perr.field, perr.offset, perr.reason);
		return 0;
	}
	ret = ibsp_decode(ev->kind, &d->dctx, &rs, out);
	out->event_idx = (uint16_t)idx;
	if (!(rs.type & PERF_SAMPLE_PERIOD) && !ev->attr.freq)
		out->period = ev->attr.sample_period;
	if (ret) {
		d->st.dropped[out->drop < IBSP_DROP__MAX ? out->drop : IBSP_DROP_NONE]++;
		return 0;
	}
	d->st.decoded++;
	if (out->kind < IBSP_SAMPLER__MAX)
		d->st.by_kind[out->kind]++;
	return 1;
}

const struct ibsp_live_stats *ibsp_live_decoder__stats(const struct ibsp_live_decoder *d)
{
	return &d->st;
}
