// SPDX-License-Identifier: MIT
/*
 * ibsp-gen's output: IBS-op samples as `perf record -e ibs_op// -a` writes
 * them (RAW register block), through the library's perf.data writer; with
 * --pebs, the same accesses as Intel PEBS load-latency samples, as `perf
 * record -e cpu/mem-loads,ldlat=30/P -d --phys-data --data-page-size -a`
 * writes them (address, weight, data source, physical address, page size).
 *
 * Sample times are i.i.d. uniform over the duration and written in time
 * order without sorting them all: the duration is cut into buckets, every
 * sample first draws its bucket (a multinomial count per bucket), then each
 * bucket's samples draw their times inside it and only they are sorted.
 * Register bits: samples/ibs_bits.h; what each field carries: docs/generator.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "ibs_bits.h"
#include "ibsp/perf_file.h"

#define IBS_OP_PMU_TYPE 11u
#define CNT_CTL_CONFIG	(1ULL << 19) /* ibs_op/format/cnt_ctl = config:19: count dispatched ops */
#define SAMPLE_TYPE                                                              \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | \
	 PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW)
/* IBS capability words (CPUID Fn8000_001B EAX) as Zen3 and Zen4 parts report them. */
#define CAPS_ZEN3                                                                         \
	(IBS_CAPS_AVAIL | IBS_CAPS_FETCHSAM | IBS_CAPS_OPSAM | IBS_CAPS_RDWROPCNT |       \
	 IBS_CAPS_OPCNT | IBS_CAPS_BRNTRGT | IBS_CAPS_OPCNTEXT | IBS_CAPS_RIPINVALIDCHK | \
	 IBS_CAPS_OPBRNFUSE | IBS_CAPS_FETCHCTLEXTD)
#define CAPS_ZEN4	  (CAPS_ZEN3 | IBS_CAPS_ZEN4)
#define NR_REGS		  (IBS_REG_NR_BASE + 1) /* + IbsBrTarget (IBS_CAPS_BRNTRGT) */
#define TEXT_BASE	  0x555555555000ULL	/* IbsOpRip of the sampled loads and stores */
#define LAT_PER_DISTANCE  25u			/* DcMissLat = SLIT distance * 25 cycles + 0..63 */
#define LOAD_SHARE_16	  45875u		/* 0.7 * 65536: loads vs stores */
#define TLB_L1_HIT_16	  52429u		/* 0.8 * 65536: L1 DTLB hit */
#define TLB_L2_HIT_16	  62259u /* 0.95 * 65536: L1 miss, L2 hit; the rest miss both (4K) */
#define THP_TLB_L1_HIT_16 58982u /* 0.9 * 65536: 2M pages hit the L1 DTLB, else the L2 */
#define BUCKET_SAMPLES	  32u	 /* samples per time bucket, on average */

/* PERF_RECORD_SAMPLE for SAMPLE_TYPE, in kernel order (perf_output_sample). */
struct ibs_rec {
	struct perf_event_header h;
	uint64_t ip;
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
	uint64_t period;
	uint32_t raw_size; /* caps word + registers; 4 + 4 + 8 * NR_REGS is 8-aligned */
	uint32_t caps;
	uint64_t regs[NR_REGS];
};
_Static_assert(sizeof(struct ibs_rec) == 120, "IBS sample record layout");

#define PEBS_SAMPLE_TYPE                                                                    \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |           \
	 PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC | \
	 PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_DATA_PAGE_SIZE)
#define PEBS_MEM_LOADS 0x1cdULL /* event=0xcd,umask=0x1: MEM_TRANS_RETIRED.LOAD_LATENCY */
#define PEBS_LDLAT     30ULL	/* config1: the load-latency threshold, in cycles */

/* PERF_RECORD_SAMPLE for PEBS_SAMPLE_TYPE, in kernel order (perf_output_sample). */
struct pebs_rec {
	struct perf_event_header h;
	uint64_t ip;
	uint32_t pid, tid;
	uint64_t time;
	uint64_t addr;
	uint32_t cpu, res;
	uint64_t period;
	uint64_t weight;
	uint64_t data_src; /* union perf_mem_data_src */
	uint64_t phys_addr;
	uint64_t data_page_size;
};
_Static_assert(sizeof(struct pebs_rec) == 88, "PEBS sample record layout");

/* PERF_RECORD_COMM with the sample_id_all trailer (TID, TIME, CPU of SAMPLE_TYPE). */
struct comm_rec {
	struct perf_event_header h;
	uint32_t pid, tid;
	char comm[16];
	uint32_t s_pid, s_tid;
	uint64_t s_time;
	uint32_t s_cpu, s_res;
};

struct emitter {
	const struct gen_opts *o;
	struct gen_model *m;
	struct gen_rng *rng;
	struct ibsp_perf_writer *w;
	uint64_t dom_thr, nophys_thr;
	uint64_t written;
	struct ibs_rec rec;
	struct pebs_rec pebs;
};

/* One COMM per process, then one per thread (tid = pid * 1000 + cpu), as perf record -a synthesizes. */
static int emit_comm(struct emitter *e, uint32_t pid, uint32_t tid)
{
	struct comm_rec c = {
		.h = { .type = PERF_RECORD_COMM, .size = sizeof(c) },
		.pid = pid,
		.tid = tid,
		.s_pid = pid,
		.s_tid = tid,
		.s_time = GEN_START_NS - 1000,
	};

	snprintf(c.comm, sizeof(c.comm), "gen-%u", pid);
	return ibsp_perf_writer__write(e->w, &c.h);
}

static int emit_comms(struct emitter *e)
{
	int ret = 0;

	for (uint32_t p = 0; p < e->o->procs && !ret; p++)
		ret = emit_comm(e, GEN_PID_BASE + p, GEN_PID_BASE + p);
	for (uint32_t p = 0; p < e->o->procs && !ret; p++)
		for (uint32_t cpu = 0; cpu < e->m->nr_cpus_total && !ret; cpu++)
			ret = emit_comm(e, GEN_PID_BASE + p,
					(GEN_PID_BASE + p) * GEN_TID_PER_PID + cpu);
	return ret ? ret : ibsp_perf_writer__finish_round(e->w);
}

/* The accessor of page @pg at time @t_ns, as a position in the top-tier list. */
static uint32_t accessor(struct emitter *e, const struct gen_page *pg, uint64_t t_ns)
{
	const struct gen_model *m = e->m;
	uint32_t owner, k;

	if (pg->cls == GEN_SHARED)
		return (uint32_t)gen_rng_below(e->rng, m->nr_top);
	owner =
	    e->o->phase_swap && pg->cls == GEN_PHASE && t_ns >= m->mid_ns ? pg->owner2 : pg->owner;
	if (m->nr_top == 1 || (gen_rng_next(e->rng) >> 11) < e->dom_thr)
		return owner;
	k = (uint32_t)gen_rng_below(e->rng, m->nr_top - 1);
	return k >= owner ? k + 1 : k;
}

/*
 * Walker's alias draw from one 64-bit number: the high word of r * n picks a
 * slot, the fraction left over is the coin. Only the slot is returned here;
 * pick_resolve() reads the table (after a prefetch: this is the hot path's
 * cache miss, and a bucket's samples overlap theirs).
 */
static uint64_t pick_slot(const struct gen_model *m, uint64_t r, uint32_t *coin)
{
	unsigned __int128 prod = (unsigned __int128)r * m->nr_pages;

	*coin = (uint32_t)((uint64_t)prod >> 32);
	return (uint64_t)(prod >> 64);
}

static uint64_t pick_resolve(const struct gen_model *m, uint64_t t_ns, uint64_t slot, uint32_t coin)
{
	const struct gen_alias_entry *a = &m->table[m->two_tables && t_ns >= m->mid_ns][slot];

	return coin < a->thr ? slot : a->alias;
}

/* What one sample draws, in the order the generator's PRNG gives it (with or without --pebs). */
struct draw {
	uint64_t off;  /* byte offset in the page, 8-aligned */
	uint64_t bits; /* 16 bits load/store, 16 bits TLB, 6 bits latency jitter */
	uint64_t lat;  /* load latency, cycles */
	uint32_t cpu;
	bool remote; /* RmtNode: DRAM of another socket, or CXL memory off another socket */
	bool phys;   /* the physical address is known */
};

static void draw_sample(struct emitter *e, uint64_t t_ns, uint64_t idx, struct draw *d)
{
	const struct gen_model *m = e->m;
	const struct gen_page *pg = &m->pages[idx];
	uint32_t pos = accessor(e, pg, t_ns), acc = m->top[pos], dist;

	d->cpu = m->first_cpu[acc] + (uint32_t)gen_rng_below(e->rng, m->nr_cpus[acc]);
	d->off = gen_rng_below(e->rng, (pg->thp ? GEN_THP_BYTES : GEN_PAGE_BYTES) / 8) * 8;
	m->counts[idx * m->nr_top + pos]++;
	d->bits = gen_rng_next(e->rng);
	dist = ibsp_topology__distance(m->topo, ibsp_node_idx((int)acc), ibsp_node_idx(pg->node));
	d->lat = LAT_PER_DISTANCE * dist + ((d->bits >> 32) & 63);
	d->remote = m->attach[pg->node] != acc;
	d->phys = !(e->nophys_thr && (gen_rng_next(e->rng) >> 11) < e->nophys_thr);
}

/* The IBS encoding's load/store draw: 70% loads. */
static bool is_load(const struct draw *d)
{
	return (d->bits & 0xffff) < LOAD_SHARE_16;
}

/* Where the access's translation hit, from the draw's TLB bits (both encodings). */
enum tlb_hit { TLB_HIT_L1, TLB_HIT_L2, TLB_HIT_NONE };

static enum tlb_hit tlb_of(const struct gen_page *pg, const struct draw *d)
{
	uint64_t tb = (d->bits >> 16) & 0xffff;

	if (pg->thp) /* a 2 MiB entry: always found, in L1 or L2 */
		return tb < THP_TLB_L1_HIT_16 ? TLB_HIT_L1 : TLB_HIT_L2;
	return tb >= TLB_L2_HIT_16 ? TLB_HIT_NONE : tb >= TLB_L1_HIT_16 ? TLB_HIT_L2 : TLB_HIT_L1;
}

/* The sample's IP: a user text address per class and page. */
static uint64_t text_ip(const struct gen_page *pg, uint64_t idx)
{
	return TEXT_BASE + pg->cls * 0x400 + (idx % 64) * 16;
}

/* Is the page on a CPU-less (CXL) node? */
static bool on_cxl(const struct emitter *e, const struct gen_page *pg)
{
	return e->m->top_pos[pg->node] < 0;
}

static int emit_ibs(struct emitter *e, uint64_t t_ns, const struct gen_page *pg, uint64_t idx,
		    const struct draw *d)
{
	struct ibs_rec *rec = &e->rec;
	uint64_t d2 = 0, d3;

	d3 = IBS_OPDATA3_DCMISS | IBS_OPDATA3_L2MISS | IBS_OPDATA3_DCLINADDRVALID |
	     IBS_OPDATA3_DCPHYADDRVALID;
	if (is_load(d)) {
		d3 |= IBS_OPDATA3_LDOP | (d->lat << IBS_OPDATA3_DCMISSLAT_SHIFT);
		/* Zen4 DataSrc 8: extension memory */
		if (on_cxl(e, pg) && !e->o->zen3)
			d2 = (uint64_t)(IBS_DS_ZEN4_EXT_MEM >> 3) << IBS_OPDATA2_DATASRC_HI_SHIFT;
		else
			d2 = IBS_DS_DRAM;
		if (d->remote)
			d2 |= IBS_OPDATA2_RMTNODE;
	} else {
		d3 |= IBS_OPDATA3_STOP; /* stores carry no DataSrc or latency */
	}
	switch (tlb_of(pg, d)) {
	case TLB_HIT_L1:
		d3 |= pg->thp ? IBS_OPDATA3_DCL1TLBHIT2M : 0;
		break;
	case TLB_HIT_L2:
		d3 |= IBS_OPDATA3_DCL1TLBMISS | (pg->thp ? IBS_OPDATA3_DCL2TLBHIT2M : 0);
		break;
	case TLB_HIT_NONE:
		d3 |= IBS_OPDATA3_DCL1TLBMISS | IBS_OPDATA3_DCL2TLBMISS; /* page size unknown */
		break;
	}
	if (!d->phys)
		d3 &= ~IBS_OPDATA3_DCPHYADDRVALID;

	rec->ip = text_ip(pg, idx);
	rec->pid = pg->pid;
	rec->tid = pg->pid * GEN_TID_PER_PID + d->cpu;
	rec->time = GEN_START_NS + t_ns;
	rec->cpu = d->cpu;
	rec->regs[IBS_REG_OPCTL] = IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL | IBS_OPCTL_CNTCTL |
				   ((GEN_IBS_PERIOD >> 4) & IBS_OPCTL_MAXCNT_MASK);
	rec->regs[IBS_REG_OPRIP] = rec->ip;
	/* CompToRetCtr (15:0) and TagToRetCtr (31:16), in cycles */
	rec->regs[IBS_REG_OPDATA] =
	    ((d->lat + 40) << IBS_OPDATA_TAGTORET_SHIFT) | (8 + (d->bits >> 38 & 7));
	rec->regs[IBS_REG_OPDATA2] = d2;
	rec->regs[IBS_REG_OPDATA3] = d3;
	rec->regs[IBS_REG_DCLINAD] = pg->vaddr + d->off;
	rec->regs[IBS_REG_DCPHYSAD] = d->phys ? pg->paddr + d->off : 0;
	rec->regs[IBS_REG_NR_BASE] = 0; /* IbsBrTarget: not a branch */
	return ibsp_perf_writer__write(e->w, &rec->h);
}

/*
 * The PEBS data source of a load (union perf_mem_data_src): the DTLB level
 * from the same draw as IBS's TLB bits, the memory level (mem_lvl_num RAM or
 * CXL, as Sapphire Rapids reports them, and the legacy mem_lvl) and the
 * remote bit. Every sample is a load: mem-loads counts nothing else.
 */
static uint64_t pebs_data_src(const struct emitter *e, const struct gen_page *pg,
			      const struct draw *d)
{
	static const uint64_t tlb_bits[] = {
		[TLB_HIT_L1] = PERF_MEM_TLB_L1 | PERF_MEM_TLB_HIT,
		[TLB_HIT_L2] = PERF_MEM_TLB_L2 | PERF_MEM_TLB_HIT,
		[TLB_HIT_NONE] = PERF_MEM_TLB_WK | PERF_MEM_TLB_MISS,
	};
	uint64_t tlb = tlb_bits[tlb_of(pg, d)], ds;
	if (e->o->perf_mem && !is_load(d))
		return PERF_MEM_S(OP, STORE) | PERF_MEM_S(LVL, NA) | PERF_MEM_S(SNOOP, NA) |
		       PERF_MEM_S(LOCK, NA) | (tlb << PERF_MEM_TLB_SHIFT);
	ds = PERF_MEM_S(OP, LOAD) | PERF_MEM_S(SNOOP, NA) | PERF_MEM_S(LOCK, NA) |
	     (tlb << PERF_MEM_TLB_SHIFT) | PERF_MEM_S(LVL, HIT) |
	     (d->remote ? PERF_MEM_S(LVL, REM_RAM1) : PERF_MEM_S(LVL, LOC_RAM));
	/* 6.1's IBS mapping fills mem_lvl_num only for CXL and PMEM memory (DataSrc 8, 6). */
	if (on_cxl(e, pg))
		ds |= PERF_MEM_S(LVLNUM, CXL);
	else if (!e->o->perf_mem)
		ds |= PERF_MEM_S(LVLNUM, RAM);
	if (d->remote)
		ds |= PERF_MEM_S(REMOTE, REMOTE) | PERF_MEM_S(HOPS, 1);
	return ds;
}

static int emit_pebs(struct emitter *e, uint64_t t_ns, const struct gen_page *pg, uint64_t idx,
		     const struct draw *d)
{
	struct pebs_rec *rec = &e->pebs;

	rec->ip = text_ip(pg, idx);
	rec->pid = pg->pid;
	rec->tid = pg->pid * GEN_TID_PER_PID + d->cpu;
	rec->time = GEN_START_NS + t_ns;
	rec->addr = pg->vaddr + d->off;
	rec->cpu = d->cpu;
	rec->weight = e->o->perf_mem && !is_load(d) ? 0 : d->lat; /* IBS: DcMissLat of loads */
	rec->data_src = pebs_data_src(e, pg, d);
	rec->phys_addr = d->phys ? pg->paddr + d->off : 0;
	rec->data_page_size = pg->thp ? GEN_THP_BYTES : GEN_PAGE_BYTES;
	return ibsp_perf_writer__write(e->w, &rec->h);
}

static int emit_sample(struct emitter *e, uint64_t t_ns, uint64_t idx)
{
	const struct gen_page *pg = &e->m->pages[idx];
	struct draw d;
	int ret;

	draw_sample(e, t_ns, idx, &d);
	ret = e->o->pebs || e->o->perf_mem ? emit_pebs(e, t_ns, pg, idx, &d)
					   : emit_ibs(e, t_ns, pg, idx, &d);
	if (!ret && ++e->written % GEN_ROUND_RECORDS == 0)
		ret = ibsp_perf_writer__finish_round(e->w);
	return ret;
}

static void sort_u64(uint64_t *a, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint64_t v = a[i];
		uint32_t j = i;

		for (; j && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int emit_samples(struct emitter *e)
{
	const uint64_t dur = e->m->duration_ns, n = e->o->samples;
	uint64_t nb = n / BUCKET_SAMPLES ? n / BUCKET_SAMPLES : 1, width, *times, *slot;
	uint32_t *per_bucket, *coin, max = 0;
	int ret = 0;

	if (nb > dur)
		nb = dur;
	width = (dur + nb - 1) / nb;
	nb = (dur + width - 1) / width;
	per_bucket = calloc(nb, sizeof(*per_bucket));
	if (!per_bucket)
		return -ENOMEM;
	for (uint64_t s = 0; s < n; s++)
		per_bucket[gen_rng_below(e->rng, dur) / width]++;
	for (uint64_t b = 0; b < nb; b++)
		max = per_bucket[b] > max ? per_bucket[b] : max;
	times = malloc((max + 1) * sizeof(*times));
	slot = malloc((max + 1) * sizeof(*slot));
	coin = malloc((max + 1) * sizeof(*coin));
	if (!times || !slot || !coin)
		ret = -ENOMEM;
	for (uint64_t b = 0; b < nb && !ret; b++) {
		uint64_t lo = b * width, hi = lo + width < dur ? lo + width : dur;

		for (uint32_t k = 0; k < per_bucket[b]; k++)
			times[k] = lo + gen_rng_below(e->rng, hi - lo);
		if (per_bucket[b] <= 4 * BUCKET_SAMPLES)
			sort_u64(times, per_bucket[b]);
		else
			qsort(times, per_bucket[b], sizeof(*times), cmp_u64);
		/* page draws first, prefetching their slots, then their pages and counters */
		for (uint32_t k = 0; k < per_bucket[b]; k++) {
			slot[k] = pick_slot(e->m, gen_rng_next(e->rng), &coin[k]);
			__builtin_prefetch(
			    &e->m->table[e->m->two_tables && times[k] >= e->m->mid_ns][slot[k]]);
		}
		for (uint32_t k = 0; k < per_bucket[b]; k++) {
			slot[k] = pick_resolve(e->m, times[k], slot[k], coin[k]);
			__builtin_prefetch(&e->m->pages[slot[k]]);
			__builtin_prefetch(&e->m->counts[slot[k] * e->m->nr_top], 1);
		}
		for (uint32_t k = 0; k < per_bucket[b] && !ret; k++)
			ret = emit_sample(e, times[k], slot[k]);
	}
	free(coin);
	free(slot);
	free(times);
	free(per_bucket);
	return ret;
}

/* The host a recording describes: an AMD EPYC with IBS, or with --pebs an Intel Xeon. */
static void describe_host(const struct gen_opts *o, const struct gen_model *m,
			  struct ibsp_recording_info *info)
{
	static struct ibsp_pmu_mapping amd[] = {
		{ PERF_TYPE_SOFTWARE, "software" },
		{ PERF_TYPE_TRACEPOINT, "tracepoint" },
		{ PERF_TYPE_RAW, "cpu" },
		{ PERF_TYPE_BREAKPOINT, "breakpoint" },
		{ 10, "ibs_fetch" },
		{ IBS_OP_PMU_TYPE, "ibs_op" },
	};
	static struct ibsp_pmu_mapping intel[] = {
		{ PERF_TYPE_SOFTWARE, "software" },
		{ PERF_TYPE_TRACEPOINT, "tracepoint" },
		{ PERF_TYPE_RAW, "cpu" },
		{ PERF_TYPE_BREAKPOINT, "breakpoint" },
		{ 8, "intel_pt" },
		{ 9, "uncore_imc_0" },
	};

	info->hostname = "ibsp-gen";
	info->osrelease = "6.1.0-synthetic";
	info->arch = "x86_64";
	if (o->pebs) {
		info->cpuid = "GenuineIntel,6,143,8";
		info->cpudesc = "Intel(R) Xeon(R) Platinum 8480+ (ibsp-gen synthetic)";
		info->nr_pmus = sizeof(intel) / sizeof(intel[0]);
		info->pmus = intel;
	} else {
		info->cpuid = o->zen3 ? "AuthenticAMD,25,1,1" : "AuthenticAMD,25,17,1";
		info->cpudesc = o->zen3 ? "AMD EPYC 7713 64-Core Processor (ibsp-gen synthetic)"
					: "AMD EPYC 9654 96-Core Processor (ibsp-gen synthetic)";
		info->nr_pmus = sizeof(amd) / sizeof(amd[0]);
		info->pmus = amd;
		info->ibs_zen4 = !o->zen3;
	}
	info->nr_cpus_avail = m->nr_cpus_total;
	info->nr_cpus_online = m->nr_cpus_total;
	info->topo = m->topo;
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(m->topo); i++)
		info->total_mem_kb += ibsp_topology__mem_total_kb(m->topo, ibsp_node_idx((int)i));
}

/*
 * The one event: ibs_op// (cnt_ctl) with RAW; with --perf-mem ibs_op// with
 * the kernel's memory fields instead; with --pebs cpu/mem-loads,ldlat=30/P.
 */
static void describe_event(const struct gen_opts *o, struct ibsp_event_desc *ev)
{
	if (o->pebs) {
		ev->attr.type = PERF_TYPE_RAW;
		ev->attr.config = PEBS_MEM_LOADS;
		ev->attr.config1 = PEBS_LDLAT;
		ev->attr.precise_ip = 3;
		ev->attr.sample_period = GEN_PEBS_PERIOD;
		ev->attr.sample_type = PEBS_SAMPLE_TYPE;
		ev->attr.mmap_data = 1;
		ev->name = "cpu/mem-loads,ldlat=30/P";
	} else if (o->perf_mem) {
		ev->attr.type = IBS_OP_PMU_TYPE;
		ev->attr.sample_period = GEN_IBS_PERIOD;
		ev->attr.sample_type = PEBS_SAMPLE_TYPE;
		ev->attr.mmap_data = 1;
		ev->name = "ibs_op//";
	} else {
		ev->attr.type = IBS_OP_PMU_TYPE;
		ev->attr.config = CNT_CTL_CONFIG;
		ev->attr.sample_period = GEN_IBS_PERIOD;
		ev->attr.sample_type = SAMPLE_TYPE;
		ev->name = "ibs_op//";
	}
	ev->attr.read_format =
	    PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
	ev->attr.disabled = 1;
	ev->attr.sample_id_all = 1;
	ev->attr.comm = 1;
	ev->attr.task = 1;
}

int gen_emit(const struct gen_opts *o, struct gen_model *m, struct gen_rng *rng, char **cmdline,
	     uint32_t nr_cmdline)
{
	struct ibsp_recording_info info = { .nr_cmdline = nr_cmdline, .cmdline = cmdline };
	struct ibsp_event_desc ev = { 0 };
	struct emitter e = { .o = o, .m = m, .rng = rng };
	uint64_t *ids;
	int ret;

	describe_host(o, m, &info);
	describe_event(o, &ev);
	/* perf record -a: one event per CPU, each with its own id */
	ids = calloc(m->nr_cpus_total, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (uint32_t c = 0; c < m->nr_cpus_total; c++)
		ids[c] = 100 + c;
	ev.nr_ids = m->nr_cpus_total;
	ev.ids = ids;

	e.dom_thr = gen_prob_thr(o->dominance);
	e.nophys_thr = gen_prob_thr(o->no_phys);
	e.rec.h = (struct perf_event_header){ .type = PERF_RECORD_SAMPLE,
					      .misc = PERF_RECORD_MISC_USER,
					      .size = sizeof(e.rec) };
	e.rec.period = GEN_IBS_PERIOD;
	e.rec.raw_size = 4 + 8 * NR_REGS;
	e.rec.caps = o->zen3 ? CAPS_ZEN3 : CAPS_ZEN4;
	e.pebs.h =
	    (struct perf_event_header){ .type = PERF_RECORD_SAMPLE,
					.misc = PERF_RECORD_MISC_USER | PERF_RECORD_MISC_EXACT_IP,
					.size = sizeof(e.pebs) };
	e.pebs.period = o->pebs ? GEN_PEBS_PERIOD : GEN_IBS_PERIOD;

	ret = ibsp_perf_writer__open(o->out_path, &info, &ev, 1, &e.w);
	free(ids);
	if (ret)
		return ret;
	ret = emit_comms(&e);
	if (!ret)
		ret = emit_samples(&e);
	if (!ret && e.written % GEN_ROUND_RECORDS)
		ret = ibsp_perf_writer__finish_round(e.w);
	return ibsp_perf_writer__close(e.w) ?: ret;
}
