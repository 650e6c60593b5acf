/* SPDX-License-Identifier: MIT */
/*
 * ibsp-gen: synthetic IBS-op (or Intel PEBS) recordings with their ground truth.
 *
 *   main.c   options and the canonical command line
 *   model.c  topologies, pages (class, owner, placement) and the sampling tables
 *   emit.c   sample times, accessors and the IBS-op or PEBS records, through the library writer
 *   truth.c  the ground truth as JSON Lines
 *
 * Everything that reaches the output is a function of the options alone: one
 * seeded PRNG, integer arithmetic and IEEE basic operations (no libm, whose
 * results may differ between builds), no host data and no wall clock.
 * docs/generator.md describes the model.
 */
#ifndef IBSP_GEN_H
#define IBSP_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "ibsp/topology.h"

#define GEN_MAX_NODES	  8
#define GEN_MAX_FREE	  GEN_MAX_NODES
#define GEN_PAGE_BYTES	  4096ULL
#define GEN_THP_BYTES	  (2ULL << 20)
#define GEN_BLOCK_BYTES	  (128ULL << 20) /* memory block size of the synthetic hosts */
#define GEN_NODE_SKIP	  (16ULL << 20)	 /* no page in the first 16 MiB of a node */
#define GEN_VADDR_BASE	  0x7f0000000000ULL
#define GEN_PROC_SPAN	  (1ULL << 36) /* virtual space of one process */
#define GEN_PID_BASE	  1000u
#define GEN_TID_PER_PID	  1000u /* tid = pid * 1000 + cpu: one thread per process and CPU */
#define GEN_MAX_PROCS	  1000u
#define GEN_IBS_PERIOD	  0x10000ULL
#define GEN_PEBS_PERIOD	  10007ULL	   /* loads per sample of cpu/mem-loads,ldlat=30/P */
#define GEN_START_NS	  1000000000000ULL /* perf clock of the first possible sample (1000 s) */
#define GEN_ROUND_RECORDS 1024u		   /* a FINISHED_ROUND after this many samples */

enum gen_class {
	GEN_PRIVATE = 0,
	GEN_SHARED = 1,
	GEN_COLD = 2,
	GEN_PHASE = 3,
	GEN_ZIPF = 4,
	GEN_NR_CLASSES
};

/** gen_class_name() - "private", "shared", "cold", "phase", "zipf" */
const char *gen_class_name(enum gen_class c);

/** struct gen_opts - the command line, parsed and checked */
struct gen_opts {
	const char *out_path;
	const char *truth_path;	      /* NULL: no truth file */
	const char *topology;	      /* "2s-cxl" or "4s-2cxl" */
	uint32_t pct[GEN_NR_CLASSES]; /* percent of pages per class; sums to 100 */
	uint64_t pages;
	uint64_t samples;
	uint64_t duration_ms;
	uint64_t seed;
	uint32_t procs;
	double dominance;   /* private-like pages: share of samples from the owner node */
	double zipf_s;	    /* Zipf exponent of the zipf class */
	double cold_weight; /* sampling weight of a cold page, relative to a hot one */
	double thp;	    /* fraction of hot private pages that are 2 MiB pages */
	double no_phys;	    /* fraction of samples without DcPhyAddrValid */
	bool initial_mixed; /* --initial mixed */
	bool phase_swap;
	bool zen3;
	bool pebs;     /* Intel PEBS load-latency records instead of IBS-op */
	bool perf_mem; /* IBS-op with the kernel's memory fields, no RAW (perf mem record) */
	uint32_t nr_free;
	struct {
		int node;
		uint64_t mib;
	} free_mib[GEN_MAX_FREE];
};

/** struct gen_page - one page of the model (4 KiB, or 2 MiB when @thp) */
struct gen_page {
	uint64_t vaddr; /* first byte, in process @pid */
	uint64_t paddr; /* first byte of its frame(s) on node @node */
	uint32_t pid;
	uint8_t cls;	   /* enum gen_class */
	uint8_t node;	   /* initial node, as an index into topo->nodes */
	uint8_t owner;	   /* position in the top-tier list; unused for shared pages */
	uint8_t owner2;	   /* --phase-swap: the owner after the midpoint */
	uint8_t thp;	   /* a 2 MiB page */
	uint8_t late_half; /* phase pages: 0 = hot in the first half, 1 = in the second */
};

/** struct gen_alias_entry - one slot of Walker's alias table */
struct gen_alias_entry {
	uint32_t thr;	/* keep this slot when a 32-bit coin is below @thr */
	uint32_t alias; /* else take this page */
};

/** struct gen_model - the synthetic host and its pages */
struct gen_model {
	struct ibsp_topology *topo;
	uint32_t nr_top; /* top-tier (CPU) nodes, in node order */
	uint8_t top[GEN_MAX_NODES];
	int8_t top_pos[GEN_MAX_NODES]; /* node index -> position in @top, -1 if not top-tier */
	uint32_t nr_lower;	       /* CPU-less nodes */
	uint8_t lower[GEN_MAX_NODES];
	uint8_t attach[GEN_MAX_NODES]; /* CPU-less node -> the socket it hangs off (nearest) */
	uint32_t first_cpu[GEN_MAX_NODES], nr_cpus[GEN_MAX_NODES];
	uint64_t node_base[GEN_MAX_NODES], node_bytes[GEN_MAX_NODES];
	uint32_t nr_cpus_total;
	uint64_t nr_pages;
	struct gen_page *pages;
	uint64_t class_pages[GEN_NR_CLASSES];
	bool has_phase;			  /* there are phase pages: the truth has a midpoint */
	bool two_tables;		  /* weights differ before and after the midpoint */
	struct gen_alias_entry *table[2]; /* [0] before the midpoint, [1] after */
	uint64_t duration_ns, mid_ns;	  /* sample times are start + [0, duration) */
	uint32_t *counts;		  /* [page * nr_top + accessor position] */
};

/* xoshiro256** (Blackman, Vigna), seeded through splitmix64. */
struct gen_rng {
	uint64_t s[4];
};

static inline uint64_t gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_rng_next(struct gen_rng *r)
{
	uint64_t *s = r->s, res = gen_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n): Lemire's multiply-shift, bias below n / 2^64. */
static inline uint64_t gen_rng_below(struct gen_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)gen_rng_next(r) * n) >> 64);
}

/* A probability as a 53-bit threshold: gen_rng_next() >> 11 < it with probability @p. */
static inline uint64_t gen_prob_thr(double p)
{
	return (uint64_t)(p * 9007199254740992.0);
}

void gen_rng_seed(struct gen_rng *r, uint64_t seed);

/**
 * gen_model_build() - the topology, the pages and the sampling tables for @o
 * @err: receives a message for the user when the options cannot be met
 *
 * Return: 0, -EINVAL (@err says why: an option's value), or -ENOMEM.
 */
int gen_model_build(const struct gen_opts *o, struct gen_rng *rng, struct gen_model *m, char *err,
		    size_t err_len);
void gen_model_free(struct gen_model *m);

/**
 * gen_emit() - write the recording: COMM records, then the samples in time order
 * @cmdline: the canonical command line, for the CMDLINE feature
 *
 * Fills @m->counts with what was generated. Return: 0 or a negative errno (logged).
 */
int gen_emit(const struct gen_opts *o, struct gen_model *m, struct gen_rng *rng, char **cmdline,
	     uint32_t nr_cmdline);

/** gen_truth_write() - the ground truth (JSON Lines) of an emitted model; 0 or -errno */
int gen_truth_write(const char *path, const struct gen_opts *o, const struct gen_model *m);

#endif
