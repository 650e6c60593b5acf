// SPDX-License-Identifier: MIT
/* Names, the routing of samples to decoders, and the soft/generic decoders. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "sample_types.h"

const char *ibsp_sampler_kind__name(enum ibsp_sampler_kind kind)
{
	switch (kind) {
	case IBSP_SAMPLER_IBS:
		return "ibs";
	case IBSP_SAMPLER_PEBS:
		return "pebs";
	case IBSP_SAMPLER_SOFT:
		return "soft";
	case IBSP_SAMPLER_HINT:
		return "hint";
	case IBSP_SAMPLER_NONE:
	case IBSP_SAMPLER__MAX:
		break;
	}
	return "none";
}

const char *ibsp_mem_src__name(enum ibsp_mem_src src)
{
	static const char *const names[IBSP_SRC__MAX] = {
		[IBSP_SRC_UNKNOWN] = "unknown",
		[IBSP_SRC_CACHE] = "cache",
		[IBSP_SRC_LOCAL_DRAM] = "local_dram",
		[IBSP_SRC_REMOTE_DRAM] = "remote_dram",
		[IBSP_SRC_CXL] = "cxl",
		[IBSP_SRC_PMEM] = "pmem",
		[IBSP_SRC_IO] = "io",
	};

	return (unsigned int)src < IBSP_SRC__MAX ? names[src] : "unknown";
}

const char *ibsp_drop_reason__name(enum ibsp_drop_reason why)
{
	static const char *const names[IBSP_DROP__MAX] = {
		[IBSP_DROP_NONE] = "none",
		[IBSP_DROP_OP_INVALID] = "op_invalid",
		[IBSP_DROP_RIP_INVALID] = "rip_invalid",
		[IBSP_DROP_NO_ADDR] = "no_address",
		[IBSP_DROP_SHORT_RAW] = "short_raw",
	};

	return (unsigned int)why < IBSP_DROP__MAX ? names[why] : "unknown";
}

void ibsp_decode_ctx__from_cpuid(struct ibsp_decode_ctx *ctx, const char *cpuid)
{
	char vendor[32];
	unsigned int fam, model;

	ctx->cpu_family = 0;
	ctx->cpu_model = 0;
	if (cpuid && sscanf(cpuid, "%31[^,],%u,%u", vendor, &fam, &model) == 3) {
		ctx->cpu_family = fam;
		ctx->cpu_model = model;
	}
}

static int is_core_pmu(const char *pmu_name)
{
	return pmu_name && (!strcmp(pmu_name, "cpu") || !strcmp(pmu_name, "cpu_core") ||
			    !strcmp(pmu_name, "cpu_atom"));
}

enum ibsp_sampler_kind ibsp_classify_event(const struct perf_event_attr *attr, const char *pmu_name)
{
	/* ibs_op is found by name: its perf type is dynamic (perf_pmu_register(..., -1)). */
	if (pmu_name && !strncmp(pmu_name, "ibs_op", 6))
		return IBSP_SAMPLER_IBS;
	if (attr->type == PERF_TYPE_SOFTWARE && (attr->config == PERF_COUNT_SW_PAGE_FAULTS ||
						 attr->config == PERF_COUNT_SW_PAGE_FAULTS_MIN ||
						 attr->config == PERF_COUNT_SW_PAGE_FAULTS_MAJ))
		return IBSP_SAMPLER_SOFT;
	/* A precise memory event of the core PMU: PEBS on Intel. */
	if (attr->precise_ip && (attr->sample_type & PERF_SAMPLE_ADDR) &&
	    (attr->type == PERF_TYPE_RAW || is_core_pmu(pmu_name)))
		return IBSP_SAMPLER_PEBS;
	return IBSP_SAMPLER_NONE;
}

int ibsp_decode_soft(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	return ibsp_decode_soft_t(rs->type, rs, s);
}

int ibsp_decode_hint(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	return ibsp_decode_hint_t(rs->type, rs, s);
}

int ibsp_decode_generic(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	return ibsp_decode_generic_t(rs->type, rs, s);
}

/*
 * The sample_types read most (sample_types.h) are decoded each by a copy of
 * ibsp_decode_t() with the type a constant, as the readers parse them: the
 * tests of the fields fold away.
 */
int ibsp_decode(enum ibsp_sampler_kind kind, const struct ibsp_decode_ctx *ctx,
		const struct ibsp_raw_sample *rs, struct ibsp_sample *out)
{
#define DECODE_TYPED(t) \
	case t:         \
		return ibsp_decode_t(t, kind, ctx, rs, out);
	switch (rs->type) {
		IBSP_FOR_EACH_READ_MOST_TYPE(DECODE_TYPED)
	default:
		return ibsp_decode_t(rs->type, kind, ctx, rs, out);
	}
#undef DECODE_TYPED
}
