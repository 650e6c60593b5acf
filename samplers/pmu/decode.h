/* SPDX-License-Identifier: MIT */
/* Decoders: raw perf samples -> struct ibsp_sample, one per sampler kind. */
#ifndef IBSP_DECODE_H
#define IBSP_DECODE_H

#include <stdint.h>
#include <linux/perf_event.h>

#include "ibsp/sample.h"
#include "raw_sample.h"

/** struct ibsp_decode_ctx - facts about the recording host a decoder may need */
struct ibsp_decode_ctx {
	unsigned int cpu_family; /* from CPUID; 0 if unknown */
	unsigned int cpu_model;
	int ibs_zen4; /* -1 unknown (take it from the caps word), 0 no, 1 yes */
};

/**
 * ibsp_classify_event() - which decoder an event's samples go to
 * @pmu_name: the PMU name of attr->type (from PMU_MAPPINGS or sysfs), or NULL
 */
enum ibsp_sampler_kind ibsp_classify_event(const struct perf_event_attr *attr,
					   const char *pmu_name);

/** ibsp_decode_ctx__from_cpuid() - parse "Vendor,family,model,stepping" */
void ibsp_decode_ctx__from_cpuid(struct ibsp_decode_ctx *ctx, const char *cpuid);

/*
 * Each decoder returns 0 with @out filled, or -EINVAL when the sample is
 * invalid and must be dropped (counted by the caller). The caller fills the
 * generic fields first with ibsp_decode_common().
 */
void ibsp_decode_common(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);
/* ADDR and PHYS_ADDR as the kernel reported them; a physical address of 0 means unknown. */
void ibsp_decode_addrs(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);
int ibsp_decode_soft(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);
int ibsp_decode_hint(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);
int ibsp_decode_ibs(const struct ibsp_decode_ctx *ctx, const struct ibsp_raw_sample *rs,
		    struct ibsp_sample *out);
int ibsp_decode_pebs(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);
/*
 * The kernel's memory fields (ADDR, PHYS_ADDR, DATA_SRC, WEIGHT), for PEBS
 * and for IBS-op recorded without RAW (`perf mem record`); -EINVAL (drop
 * no_address) when neither address is known.
 */
int ibsp_decode_mem_fields(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);
int ibsp_decode_generic(const struct ibsp_raw_sample *rs, struct ibsp_sample *out);

/** ibsp_decode() - route @rs to the decoder of @kind */
int ibsp_decode(enum ibsp_sampler_kind kind, const struct ibsp_decode_ctx *ctx,
		const struct ibsp_raw_sample *rs, struct ibsp_sample *out);

/** ibsp_mem_src__from_data_src() - classify a perf_mem_data_src value; sets IBSP_S_* bits in *flags */
enum ibsp_mem_src ibsp_mem_src__from_data_src(uint64_t data_src, uint16_t *flags);

#endif
