// SPDX-License-Identifier: MIT
/*
 * The IBS and PEBS decoders (and the others behind ibsp_decode()): the
 * input's first bytes fill a raw sample's fields and the decode context, the
 * rest is its PERF_SAMPLE_RAW payload (IBS's register words).
 */
#include <stdint.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct head {
	uint8_t kind;
	uint8_t zen4;
	uint8_t family, model;
	uint32_t cpu, pid, tid;
	uint64_t type, ip, time, addr, period, weight, data_src, phys_addr, data_page_size;
	uint16_t misc, var2;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ibsp_decode_ctx ctx;
	struct ibsp_raw_sample rs;
	struct ibsp_sample out;
	struct head h;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	memset(&rs, 0, sizeof(rs));
	ctx.cpu_family = h.family;
	ctx.cpu_model = h.model;
	ctx.ibs_zen4 = (int)(h.zen4 % 3) - 1;
	ctx.no_source = h.zen4 & 0x80; /* the replay's reader */
	rs.type = h.type;
	rs.ip = h.ip;
	rs.pid = h.pid;
	rs.tid = h.tid;
	rs.time = h.time;
	rs.addr = h.addr;
	rs.cpu = h.cpu;
	rs.period = h.period;
	rs.weight = h.weight;
	rs.weight_var2 = h.var2;
	rs.data_src = h.data_src;
	rs.phys_addr = h.phys_addr;
	rs.data_page_size = h.data_page_size;
	rs.misc = h.misc;
	rs.raw_size = (uint32_t)(size - sizeof(h));
	/* The decoders read the payload in place, as it sits in a record: no copy. */
	rs.raw = rs.raw_size ? data + sizeof(h) : NULL;
	ibsp_decode((enum ibsp_sampler_kind)(h.kind % (IBSP_SAMPLER__MAX + 1)), &ctx, &rs, &out);
	if (h.kind & 0x80)
		ibsp_mem_src__from_data_src(h.data_src, &out.flags);
	return 0;
}
