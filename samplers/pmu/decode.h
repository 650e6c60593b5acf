/* SPDX-License-Identifier: MIT */
/* Decoders: raw perf samples -> struct ibsp_sample, one per sampler kind. */
#ifndef IBSP_DECODE_H
#define IBSP_DECODE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/perf_event.h>

#include "ibsp/sample.h"
#include "raw_sample.h"

/** struct ibsp_decode_ctx - facts about the recording host a decoder may need */
struct ibsp_decode_ctx {
	unsigned int cpu_family; /* from CPUID; 0 if unknown */
	unsigned int cpu_model;
	int ibs_zen4;	/* -1 unknown (take it from the caps word), 0 no, 1 yes */
	bool no_source; /* IBS: leave the data source (src, IBSP_S_REMOTE) unset */
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

/*
 * The decoders with the sample_type @t given apart from @rs (whose type it
 * must be). Where @t is a constant (the fixed layouts of the sample_types
 * read most: sample_types.h), each test of a field folds away; the functions
 * above are these with @t = rs->type.
 */
#define IBSP_DECODE_INLINE static inline __attribute__((always_inline))

IBSP_DECODE_INLINE void ibsp_decode_common_t(uint64_t t, const struct ibsp_raw_sample *rs,
					     struct ibsp_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->cpu = -1;
	if (t & PERF_SAMPLE_TIME) {
		s->time_ns = rs->time;
		s->flags |= IBSP_S_TIME_VALID;
	}
	if (t & PERF_SAMPLE_TID) {
		s->pid = rs->pid;
		s->tid = rs->tid;
		s->flags |= IBSP_S_TID_VALID;
	}
	if (t & PERF_SAMPLE_CPU) {
		s->cpu = (int32_t)rs->cpu;
		s->flags |= IBSP_S_CPU_VALID;
	}
	if (t & PERF_SAMPLE_IP) {
		s->ip = rs->ip;
		s->flags |= IBSP_S_IP_VALID;
		if (rs->misc & PERF_RECORD_MISC_EXACT_IP)
			s->flags |= IBSP_S_EXACT_IP;
	}
	if (t & PERF_SAMPLE_PERIOD)
		s->period = rs->period;
	if ((t & PERF_SAMPLE_DATA_PAGE_SIZE) && rs->data_page_size &&
	    !(rs->data_page_size & (rs->data_page_size - 1)))
		s->page_shift = (uint8_t)__builtin_ctzll(rs->data_page_size);
}

/* Addresses as the kernel reported them: ADDR and PHYS_ADDR, 0 meaning "not known". */
IBSP_DECODE_INLINE void ibsp_decode_addrs_t(uint64_t t, const struct ibsp_raw_sample *rs,
					    struct ibsp_sample *s)
{
	/*
	 * An event with no data address of its own (cpu-clock, cycles) still
	 * writes the field when asked (perf record -d): 0, perf's "none". No
	 * user mapping is at address 0 (vm.mmap_min_addr), so 0 is "unknown"
	 * for the others too.
	 */
	if ((t & PERF_SAMPLE_ADDR) && rs->addr) {
		s->vaddr = rs->addr;
		s->flags |= IBSP_S_VADDR_VALID;
	}
	/*
	 * perf_virt_to_phys() writes 0 when the page is not present (always the
	 * case on a first-touch fault), so 0 means "unknown", not PFN 0.
	 */
	if ((t & PERF_SAMPLE_PHYS_ADDR) && rs->phys_addr) {
		s->paddr = rs->phys_addr;
		s->flags |= IBSP_S_PADDR_VALID;
	}
}

IBSP_DECODE_INLINE int ibsp_decode_soft_t(uint64_t t, const struct ibsp_raw_sample *rs,
					  struct ibsp_sample *s)
{
	s->kind = IBSP_SAMPLER_SOFT;
	s->flags |= IBSP_S_COARSE;
	ibsp_decode_addrs_t(t, rs, s);
	return 0;
}

/*
 * A hint fault: the page-faults event while the targets' PTEs are
 * write-protected (soft-dirty). A fault on a present page (the kernel
 * found a physical address) is a write to it. The others are dropped
 * (no_address): first touches, and faults on a page under migration (its
 * PTE is a migration entry), which would key the page by (pid, address),
 * apart from its frame's entry, seeing one process's accesses only.
 */
IBSP_DECODE_INLINE int ibsp_decode_hint_t(uint64_t t, const struct ibsp_raw_sample *rs,
					  struct ibsp_sample *s)
{
	s->kind = IBSP_SAMPLER_HINT;
	s->flags |= IBSP_S_COARSE;
	ibsp_decode_addrs_t(t, rs, s);
	if (!(s->flags & IBSP_S_PADDR_VALID)) {
		s->drop = IBSP_DROP_NO_ADDR;
		return -EINVAL;
	}
	s->flags |= IBSP_S_STORE;
	return 0;
}

IBSP_DECODE_INLINE int ibsp_decode_generic_t(uint64_t t, const struct ibsp_raw_sample *rs,
					     struct ibsp_sample *s)
{
	s->kind = IBSP_SAMPLER_NONE;
	ibsp_decode_addrs_t(t, rs, s);
	return 0;
}

IBSP_DECODE_INLINE int ibsp_decode_t(uint64_t t, enum ibsp_sampler_kind kind,
				     const struct ibsp_decode_ctx *ctx,
				     const struct ibsp_raw_sample *rs, struct ibsp_sample *out)
{
	ibsp_decode_common_t(t, rs, out);
	switch (kind) {
	case IBSP_SAMPLER_IBS:
		return ibsp_decode_ibs(ctx, rs, out);
	case IBSP_SAMPLER_PEBS:
		return ibsp_decode_pebs(rs, out);
	case IBSP_SAMPLER_SOFT:
		return ibsp_decode_soft_t(t, rs, out);
	case IBSP_SAMPLER_HINT:
		return ibsp_decode_hint_t(t, rs, out);
	case IBSP_SAMPLER_NONE:
	case IBSP_SAMPLER__MAX:
		break;
	}
	return ibsp_decode_generic_t(t, rs, out);
}

/** ibsp_mem_src__from_data_src() - classify a perf_mem_data_src value; sets IBSP_S_* bits in *flags */
enum ibsp_mem_src ibsp_mem_src__from_data_src(uint64_t data_src, uint16_t *flags);

#endif
