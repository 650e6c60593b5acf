// SPDX-License-Identifier: MIT
/*
 * The live ring-record parser (live_decode.c over perf_sample.c): the input
 * gives two events' sample_type, read_format and flags, then ring records
 * (header.size as written, as the kernel's ring hands them over), each
 * routed by its PERF_SAMPLE_IDENTIFIER id. ibsp_parse_sample() is also run
 * on each record with the first attr as given, unchecked.
 */
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "ibsp/capture.h"
#include "perf_sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct head {
	uint64_t sample_type[2];
	uint64_t read_format[2];
	uint32_t branch_flags;
	uint16_t regs_user, regs_intr;
	uint8_t kind[2];
	uint8_t nr;
	uint8_t flags; /* bit 0: sample_id_all, 1: freq */
};

static void setup(const struct head *h, struct ibsp_event_desc *ev, uint64_t *ids)
{
	for (int i = 0; i < 2; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		ev[i].attr.size = sizeof(ev[i].attr);
		ev[i].attr.sample_type = h->sample_type[i];
		ev[i].attr.read_format = h->read_format[i];
		ev[i].attr.branch_sample_type = h->branch_flags;
		ev[i].attr.sample_regs_user = h->regs_user;
		ev[i].attr.sample_regs_intr = h->regs_intr;
		ev[i].attr.sample_id_all = h->flags & 1;
		ev[i].attr.freq = (h->flags >> 1) & 1;
		ev[i].attr.sample_period = 4096;
		ev[i].kind = (enum ibsp_sampler_kind)(h->kind[i] % IBSP_SAMPLER__MAX);
		ids[i] = 100 + (uint64_t)i;
		ev[i].ids = &ids[i];
		ev[i].nr_ids = 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ibsp_event_desc ev[2];
	struct ibsp_live_decoder *d;
	struct head h;
	uint64_t ids[2];
	uint8_t rec[1 << 16] __attribute__((aligned(8)));
	size_t off;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	setup(&h, ev, ids);
	d = ibsp_live_decoder__new(ev, 1 + (h.nr & 1), 25, 17);
	if (!d)
		return 0;
	for (off = sizeof(h); off + sizeof(struct perf_event_header) <= size;) {
		struct perf_event_header ph;
		struct ibsp_raw_sample rs;
		struct ibsp_parse_err perr;
		struct ibsp_sample s;

		memcpy(&ph, data + off, sizeof(ph));
		if (ph.size < sizeof(ph) || ph.size > size - off)
			break; /* the ring never hands out a record shorter than its header */
		memcpy(rec, data + off, ph.size); /* aligned, as in the ring */
		ibsp_live_decoder__decode(d, (const struct perf_event_header *)rec, &s);
		ibsp_parse_sample(&ev[0].attr, rec, ph.size, &rs, &perr);
		off += ph.size;
	}
	ibsp_live_decoder__delete(d);
	return 0;
}
