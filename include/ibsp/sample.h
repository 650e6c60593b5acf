/* SPDX-License-Identifier: MIT */
/*
 * The memory-access sample model: one struct for every sample, whatever
 * sampler produced it (IBS-op, PEBS, software page faults).
 *
 * Decoders fill it; nothing downstream of a decoder reads raw perf records.
 */
#ifndef IBSP_SAMPLE_H
#define IBSP_SAMPLE_H

#include <stdint.h>

/** enum ibsp_sampler_kind - which decoder produced a sample */
enum ibsp_sampler_kind {
	IBSP_SAMPLER_NONE = 0, /* an event none of our decoders understands */
	IBSP_SAMPLER_IBS = 1,  /* AMD IBS-op */
	IBSP_SAMPLER_PEBS = 2, /* Intel PEBS precise memory event */
	IBSP_SAMPLER_SOFT = 3, /* software page-fault event (coarse) */
	IBSP_SAMPLER_HINT = 4, /* the same event after soft-dirty write-protection: writes only */
	IBSP_SAMPLER__MAX
};

/**
 * enum ibsp_mem_src - where the sampled access was served from, when known
 *
 * Coarser than perf_mem_data_src on purpose: it is what the policy needs.
 */
enum ibsp_mem_src {
	IBSP_SRC_UNKNOWN = 0,
	IBSP_SRC_CACHE = 1,	  /* any CPU cache, local or peer */
	IBSP_SRC_LOCAL_DRAM = 2,  /* DRAM of the accessing CPU's node */
	IBSP_SRC_REMOTE_DRAM = 3, /* DRAM of another node or socket */
	IBSP_SRC_CXL = 4,	  /* CXL or other extension memory */
	IBSP_SRC_PMEM = 5,	  /* persistent / long-latency DRAM */
	IBSP_SRC_IO = 6,	  /* MMIO, uncached, I/O */
	IBSP_SRC__MAX
};

/**
 * enum ibsp_drop_reason - why a decoder refused a sample
 *
 * Refused samples are counted by reason and never handed downstream.
 */
enum ibsp_drop_reason {
	IBSP_DROP_NONE = 0,
	IBSP_DROP_OP_INVALID = 1,  /* IBS: IbsOpCtl OpVal (or OpEn) clear */
	IBSP_DROP_RIP_INVALID = 2, /* IBS: IbsOpData RipInvalid with the RipInvalidChk cap */
	IBSP_DROP_NO_ADDR = 3,	   /* neither the linear nor the physical address is valid */
	IBSP_DROP_SHORT_RAW = 4,   /* IBS: RAW block shorter than its caps word promises */
	IBSP_DROP__MAX
};

/** ibsp_drop_reason__name() - short stable name ("op_invalid", "rip_invalid", ...) */
const char *ibsp_drop_reason__name(enum ibsp_drop_reason why);

/* Bits of ibsp_sample.flags. */
enum ibsp_sample_flag {
	IBSP_S_VADDR_VALID = 1u << 0,  /* vaddr holds the data linear address */
	IBSP_S_PADDR_VALID = 1u << 1,  /* paddr holds the data physical address */
	IBSP_S_LOAD = 1u << 2,	       /* the access was a load */
	IBSP_S_STORE = 1u << 3,	       /* the access was a store */
	IBSP_S_LAT_VALID = 1u << 4,    /* latency_cycles is meaningful */
	IBSP_S_REMOTE = 1u << 5,       /* the hardware says the data came from a remote node */
	IBSP_S_COARSE = 1u << 6,       /* page-fault sampler: first touch / hint faults only */
	IBSP_S_TIME_VALID = 1u << 7,   /* time_ns is meaningful */
	IBSP_S_CPU_VALID = 1u << 8,    /* cpu is meaningful */
	IBSP_S_TID_VALID = 1u << 9,    /* pid and tid are meaningful */
	IBSP_S_IP_VALID = 1u << 10,    /* ip is meaningful */
	IBSP_S_EXACT_IP = 1u << 11,    /* ip is the sampled instruction itself */
	IBSP_S_DTLB_MISS = 1u << 12,   /* the access missed the data TLB */
	IBSP_S_SW_PREFETCH = 1u << 13, /* a software prefetch, not a demand access */
};

/**
 * struct ibsp_sample - one memory-access sample (64 bytes, one cache line)
 *
 * A field is meaningful only when its flag in @flags says so. @cpu and
 * @pid/@tid identify who made the access; that is what lets the policy
 * choose a destination node by accessor locality.
 */
struct ibsp_sample {
	uint64_t time_ns;	 /* perf clock of the recording host, ns */
	uint64_t vaddr;		 /* data virtual address in @pid's address space */
	uint64_t paddr;		 /* data physical address */
	uint64_t ip;		 /* instruction pointer */
	uint64_t period;	 /* sampling period this sample stands for (events) */
	uint32_t pid;		 /* process id */
	uint32_t tid;		 /* thread id */
	int32_t cpu;		 /* CPU that made the access; -1 if unknown */
	uint32_t latency_cycles; /* access latency in core cycles (IBS DcMissLat, PEBS weight) */
	uint16_t flags;		 /* IBSP_S_* */
	uint16_t event_idx;	 /* index of the event (attr) in its recording or session */
	uint8_t kind;		 /* enum ibsp_sampler_kind */
	uint8_t src;		 /* enum ibsp_mem_src */
	uint8_t page_shift;	 /* log2 of the page size hint; 0 = unknown */
	uint8_t drop;		 /* enum ibsp_drop_reason: why a decoder refused it (0 if valid) */
};

_Static_assert(sizeof(struct ibsp_sample) == 64, "struct ibsp_sample must stay one cache line");

/** ibsp_sampler_kind__name - short stable name ("ibs", "pebs", "soft", "hint", "none") */
const char *ibsp_sampler_kind__name(enum ibsp_sampler_kind kind);

/** ibsp_mem_src__name - short stable name ("cache", "local_dram", ... "unknown") */
const char *ibsp_mem_src__name(enum ibsp_mem_src src);

#endif /* IBSP_SAMPLE_H */
