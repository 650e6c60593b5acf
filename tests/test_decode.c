// SPDX-License-Identifier: MIT
/*
 * The decoders: routing of events to decoders (ibsp_classify_event), the
 * perf_mem_data_src classifier, the AMD IBS-op decoder on hand-built RAW
 * register blocks, and the soft (page-fault) decoder.
 *
 * Sources: union perf_mem_data_src and the PERF_MEM_* macros of Linux 6.1
 * include/uapi/linux/perf_event.h; PERF_MEM_NA of include/linux/perf_event.h;
 * IBS-op RAW layout and register bits of Linux 6.1
 * arch/x86/include/asm/amd-ibs.h and arch/x86/events/amd/ibs.c (erratum
 * #1293), the AMD PPR for family 19h (IbsOpData2/3);
 * /work/shared/reference/sampling.md sections 1.4-1.6 and 2.4.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "decode.h"
#include "helpers.h"
#include "ibs_bits.h"

Test(decode, classify_event)
{
	static const struct {
		const char *name;
		struct perf_event_attr attr;
		const char *pmu;
		enum ibsp_sampler_kind want;
	} rows[] = {
		{ "ibs_op (dynamic type)",
		  { .type = 11, .sample_type = PERF_SAMPLE_RAW },
		  "ibs_op",
		  IBSP_SAMPLER_IBS },
		{ "ibs_fetch", { .type = 10 }, "ibs_fetch", IBSP_SAMPLER_NONE },
		{ "page-faults",
		  { .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_PAGE_FAULTS },
		  "software",
		  IBSP_SAMPLER_SOFT },
		{ "minor-faults",
		  { .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_PAGE_FAULTS_MIN },
		  NULL,
		  IBSP_SAMPLER_SOFT },
		{ "major-faults",
		  { .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_PAGE_FAULTS_MAJ },
		  NULL,
		  IBSP_SAMPLER_SOFT },
		{ "cpu-clock",
		  { .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK },
		  "software",
		  IBSP_SAMPLER_NONE },
		{ "precise raw with addr",
		  { .type = PERF_TYPE_RAW,
		    .config = 0x1cd,
		    .precise_ip = 2,
		    .sample_type = PERF_SAMPLE_ADDR },
		  NULL,
		  IBSP_SAMPLER_PEBS },
		{ "precise raw without addr",
		  { .type = PERF_TYPE_RAW, .config = 0x1cd, .precise_ip = 2 },
		  NULL,
		  IBSP_SAMPLER_NONE },
		{ "raw with addr, not precise",
		  { .type = PERF_TYPE_RAW, .config = 0x1cd, .sample_type = PERF_SAMPLE_ADDR },
		  NULL,
		  IBSP_SAMPLER_NONE },
		{ "cpu_core (hybrid, dynamic type)",
		  { .type = 8, .config = 0x1cd, .precise_ip = 3, .sample_type = PERF_SAMPLE_ADDR },
		  "cpu_core",
		  IBSP_SAMPLER_PEBS },
		{ "cycles",
		  { .type = PERF_TYPE_HARDWARE,
		    .config = PERF_COUNT_HW_CPU_CYCLES,
		    .sample_type = PERF_SAMPLE_ADDR },
		  NULL,
		  IBSP_SAMPLER_NONE },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_assert_eq(ibsp_classify_event(&rows[i].attr, rows[i].pmu), rows[i].want, "%s",
			     rows[i].name);
}

#define S(a, s) PERF_MEM_S(a, s)
/* include/linux/perf_event.h (not uapi): what ibs.c reports for ops that are not loads/stores. */
#define KERNEL_PERF_MEM_NA (S(OP, NA) | S(LVL, NA) | S(SNOOP, NA) | S(LOCK, NA) | S(TLB, NA))
_Static_assert(KERNEL_PERF_MEM_NA == 0x5080021, "PERF_MEM_NA");

Test(decode, mem_src_from_data_src)
{
	/* Values built with the uapi macros of Linux 6.1 include/uapi/linux/perf_event.h. */
	static const struct {
		const char *name;
		uint64_t ds;
		enum ibsp_mem_src want;
		uint16_t flags;
	} rows[] = {
		{ "L1 hit", S(OP, LOAD) | S(LVL, HIT) | S(LVL, L1), IBSP_SRC_CACHE, IBSP_S_LOAD },
		{ "LFB hit", S(OP, LOAD) | S(LVL, HIT) | S(LVL, LFB), IBSP_SRC_CACHE, IBSP_S_LOAD },
		{ "lvl_num LFB", S(OP, LOAD) | S(LVLNUM, LFB), IBSP_SRC_CACHE, IBSP_S_LOAD },
		{ "L3 hit", S(OP, LOAD) | S(LVL, HIT) | S(LVL, L3) | S(LVLNUM, L3), IBSP_SRC_CACHE,
		  IBSP_S_LOAD },
		{ "remote cache", S(LVL, HIT) | S(LVL, REM_CCE1), IBSP_SRC_CACHE, 0 },
		{ "LOC_RAM hit", S(OP, LOAD) | S(LVL, HIT) | S(LVL, LOC_RAM), IBSP_SRC_LOCAL_DRAM,
		  IBSP_S_LOAD },
		{ "REM_RAM1 hit", S(OP, LOAD) | S(LVL, HIT) | S(LVL, REM_RAM1),
		  IBSP_SRC_REMOTE_DRAM, IBSP_S_LOAD | IBSP_S_REMOTE },
		{ "REM_RAM2 hit", S(LVL, HIT) | S(LVL, REM_RAM2), IBSP_SRC_REMOTE_DRAM,
		  IBSP_S_REMOTE },
		{ "lvl_num RAM", S(OP, LOAD) | S(LVLNUM, RAM), IBSP_SRC_LOCAL_DRAM, IBSP_S_LOAD },
		{ "lvl_num RAM remote", S(OP, LOAD) | S(LVLNUM, RAM) | S(REMOTE, REMOTE),
		  IBSP_SRC_REMOTE_DRAM, IBSP_S_LOAD | IBSP_S_REMOTE },
		{ "lvl_num CXL", S(OP, LOAD) | S(LVL, NA) | S(LVLNUM, CXL), IBSP_SRC_CXL,
		  IBSP_S_LOAD },
		{ "lvl_num CXL remote (ibs, RmtNode)",
		  S(OP, LOAD) | S(LVLNUM, CXL) | S(REMOTE, REMOTE) | S(HOPS, 1), IBSP_SRC_CXL,
		  IBSP_S_LOAD | IBSP_S_REMOTE },
		{ "lvl_num PMEM", S(OP, LOAD) | S(LVLNUM, PMEM), IBSP_SRC_PMEM, IBSP_S_LOAD },
		{ "lvl_num IO", S(OP, LOAD) | S(LVL, IO) | S(LVLNUM, IO), IBSP_SRC_IO,
		  IBSP_S_LOAD },
		{ "legacy IO hit", S(LVL, HIT) | S(LVL, IO), IBSP_SRC_IO, 0 },
		{ "uncached hit", S(LVL, HIT) | S(LVL, UNC), IBSP_SRC_IO, 0 },
		{ "lvl_num UNC (8, after 6.1)", S(OP, LOAD) | 8ULL << PERF_MEM_LVLNUM_SHIFT,
		  IBSP_SRC_IO, IBSP_S_LOAD },
		{ "lvl_num NA, legacy L2 hit", S(LVL, HIT) | S(LVL, L2) | S(LVLNUM, NA),
		  IBSP_SRC_CACHE, 0 },
		{ "NA", S(OP, NA) | S(LVL, NA), IBSP_SRC_UNKNOWN, 0 },
		{ "kernel PERF_MEM_NA (ibs non-memory op)", KERNEL_PERF_MEM_NA, IBSP_SRC_UNKNOWN,
		  0 },
		{ "zero", 0, IBSP_SRC_UNKNOWN, 0 },
		{ "MISS only", S(OP, LOAD) | S(LVL, MISS) | S(LVL, L3), IBSP_SRC_UNKNOWN,
		  IBSP_S_LOAD },
		{ "store L1 hit", S(OP, STORE) | S(LVL, HIT) | S(LVL, L1), IBSP_SRC_CACHE,
		  IBSP_S_STORE },
		{ "store NA (ibs store)", S(OP, STORE) | S(LVL, NA), IBSP_SRC_UNKNOWN,
		  IBSP_S_STORE },
		{ "prefetch", S(OP, PFETCH) | S(LVL, HIT) | S(LVL, L2), IBSP_SRC_CACHE,
		  IBSP_S_SW_PREFETCH },
		{ "dTLB L2 miss",
		  S(OP, LOAD) | S(LVL, HIT) | S(LVL, L1) | S(TLB, MISS) | S(TLB, L2),
		  IBSP_SRC_CACHE, IBSP_S_LOAD | IBSP_S_DTLB_MISS },
		{ "dTLB hit", S(OP, LOAD) | S(LVL, HIT) | S(LVL, L1) | S(TLB, HIT) | S(TLB, L1),
		  IBSP_SRC_CACHE, IBSP_S_LOAD },
		{ "dTLB NA|MISS", S(OP, LOAD) | S(TLB, NA) | S(TLB, MISS), IBSP_SRC_UNKNOWN,
		  IBSP_S_LOAD },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint16_t flags = 0;
		enum ibsp_mem_src src = ibsp_mem_src__from_data_src(rows[i].ds, &flags);

		cr_assert_eq(src, rows[i].want, "%s (%#llx): %s, want %s", rows[i].name,
			     (unsigned long long)rows[i].ds, ibsp_mem_src__name(src),
			     ibsp_mem_src__name(rows[i].want));
		cr_assert_eq(flags, rows[i].flags, "%s: flags %#x, want %#x", rows[i].name, flags,
			     rows[i].flags);
	}
}

/*
 * IBS-op rows. RAW block: u32 caps, then IbsOpCtl, IbsOpRip, IbsOpData,
 * IbsOpData2, IbsOpData3, IbsDcLinAd, IbsDcPhysAd (struct perf_ibs_data of
 * Linux 6.1 arch/x86/include/asm/amd-ibs.h); bits per ibs_bits.h and the
 * AMD PPR 19h.
 */
#define CAPS_ZEN3                                                                           \
	(IBS_CAPS_AVAIL | IBS_CAPS_FETCHSAM | IBS_CAPS_OPSAM | IBS_CAPS_RDWROPCNT |         \
	 IBS_CAPS_OPCNT | IBS_CAPS_OPCNTEXT | IBS_CAPS_RIPINVALIDCHK | IBS_CAPS_OPBRNFUSE | \
	 IBS_CAPS_FETCHCTLEXTD)
#define CAPS_ZEN4 (CAPS_ZEN3 | IBS_CAPS_ZEN4)
#define CTL	  (IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL | 0x1000)
#define RIP	  0x401234ULL
#define LIN	  0x7f1234567000ULL
#define PHYS	  0x12345678000ULL
#define ADDRS	  (IBS_OPDATA3_DCLINADDRVALID | IBS_OPDATA3_DCPHYADDRVALID)
#define LAT(c)	  ((uint64_t)(c) << IBS_OPDATA3_DCMISSLAT_SHIFT)
#define MEM_LD	  (IBS_OPDATA3_LDOP | IBS_OPDATA3_DCMISS | IBS_OPDATA3_L2MISS | ADDRS)
#define HI(h)	  ((uint64_t)(h) << IBS_OPDATA2_DATASRC_HI_SHIFT)
#define F_COMMON  (IBSP_S_TIME_VALID | IBSP_S_TID_VALID | IBSP_S_CPU_VALID)
#define F_IBS	  (F_COMMON | IBSP_S_IP_VALID | IBSP_S_EXACT_IP)
#define F_ADDRS	  (IBSP_S_VADDR_VALID | IBSP_S_PADDR_VALID)
#define F_MEM_LD  (F_IBS | F_ADDRS | IBSP_S_LOAD | IBSP_S_LAT_VALID)
/* clang-format off */
#define ZEN3_CTX    { .cpu_family = 0x19, .cpu_model = 0x01, .ibs_zen4 = -1 }
#define ZEN4_CTX    { .cpu_family = 0x19, .cpu_model = 0x11, .ibs_zen4 = -1 }
#define UNKNOWN_CTX { .ibs_zen4 = -1 }
#define REJECT      -EINVAL, IBSP_SRC_UNKNOWN, 0, 0, 0
/* clang-format on */

static const struct ibs_row {
	const char *name;
	struct ibsp_decode_ctx ctx;
	uint32_t caps;
	uint64_t ctl, data, d2, d3;
	int ret;
	enum ibsp_mem_src src;
	uint16_t flags;
	uint32_t lat;
	uint8_t page_shift;
} ibs_rows[] = {
	{ "zen3 local DRAM load", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM, MEM_LD | LAT(300), 0,
	  IBSP_SRC_LOCAL_DRAM, F_MEM_LD, 300, 12 },
	{ "zen3 remote DRAM load", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM | IBS_OPDATA2_RMTNODE,
	  MEM_LD | LAT(700), 0, IBSP_SRC_REMOTE_DRAM, F_MEM_LD | IBSP_S_REMOTE, 700, 12 },
	{ "zen3 local cache (code 2)", ZEN3_CTX, CAPS_ZEN3, CTL, 0, 2, MEM_LD | LAT(90), 0,
	  IBSP_SRC_CACHE, F_MEM_LD, 90, 12 },
	{ "zen3 code 1 is reserved", ZEN3_CTX, CAPS_ZEN3, CTL, 0, 1, MEM_LD, 0, IBSP_SRC_UNKNOWN,
	  F_MEM_LD, 0, 12 },
	{ "zen3 ignores DataSrc hi bits", ZEN3_CTX, CAPS_ZEN3, CTL, 0, HI(1), MEM_LD, 0,
	  IBSP_SRC_UNKNOWN, F_MEM_LD, 0, 12 },
	{ "zen4 ext mem (code 8) -> cxl", ZEN4_CTX, CAPS_ZEN4, CTL, 0, HI(1), MEM_LD | LAT(900), 0,
	  IBSP_SRC_CXL, F_MEM_LD, 900, 12 },
	{ "zen4 remote ext mem", ZEN4_CTX, CAPS_ZEN4, CTL, 0, HI(1) | IBS_OPDATA2_RMTNODE, MEM_LD,
	  0, IBSP_SRC_CXL, F_MEM_LD | IBSP_S_REMOTE, 0, 12 },
	{ "zen4 long-latency DRAM (code 6) -> pmem", ZEN4_CTX, CAPS_ZEN4, CTL, 0, 6, MEM_LD, 0,
	  IBSP_SRC_PMEM, F_MEM_LD, 0, 12 },
	{ "zen4 code 1 -> cache", ZEN4_CTX, CAPS_ZEN4, CTL, 0, 1, MEM_LD, 0, IBSP_SRC_CACHE,
	  F_MEM_LD, 0, 12 },
	{ "zen4 peer agent (12) -> unknown", ZEN4_CTX, CAPS_ZEN4, CTL, 0, HI(1) | 4, MEM_LD, 0,
	  IBSP_SRC_UNKNOWN, F_MEM_LD, 0, 12 },
	{ "ctx says zen4 over zen3 caps",
	  { .ibs_zen4 = 1 },
	  CAPS_ZEN3,
	  CTL,
	  0,
	  HI(1),
	  MEM_LD,
	  0,
	  IBSP_SRC_CXL,
	  F_MEM_LD,
	  0,
	  12 },
	{ "L1 hit", ZEN3_CTX, CAPS_ZEN3, CTL, 0, 0, IBS_OPDATA3_LDOP | ADDRS, 0, IBSP_SRC_CACHE,
	  F_IBS | F_ADDRS | IBSP_S_LOAD, 0, 12 },
	{ "L2 hit", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  IBS_OPDATA3_LDOP | IBS_OPDATA3_DCMISS | ADDRS | LAT(20), 0, IBSP_SRC_CACHE, F_MEM_LD, 20,
	  12 },
	{ "uncached -> io", ZEN3_CTX, CAPS_ZEN3, CTL, 0, 0, MEM_LD | IBS_OPDATA3_DCUCMEMACC, 0,
	  IBSP_SRC_IO, F_MEM_LD, 0, 12 },
	{ "paddr invalid", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  (MEM_LD & ~IBS_OPDATA3_DCPHYADDRVALID) | LAT(300), 0, IBSP_SRC_LOCAL_DRAM,
	  F_MEM_LD & ~IBSP_S_PADDR_VALID, 300, 12 },
	{ "store, DcMiss", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  IBS_OPDATA3_STOP | IBS_OPDATA3_DCMISS | IBS_OPDATA3_L2MISS | ADDRS, 0, IBSP_SRC_UNKNOWN,
	  F_IBS | F_ADDRS | IBSP_S_STORE, 0, 12 },
	{ "rip invalid", ZEN3_CTX, CAPS_ZEN3, CTL, IBS_OPDATA_RIPINVALID, IBS_DS_DRAM, MEM_LD,
	  REJECT },
	{ "bit 38 without the RipInvalid cap", ZEN3_CTX, CAPS_ZEN3 & ~IBS_CAPS_RIPINVALIDCHK, CTL,
	  IBS_OPDATA_RIPINVALID, IBS_DS_DRAM, MEM_LD, 0, IBSP_SRC_LOCAL_DRAM, F_MEM_LD, 0, 12 },
	{ "op_val 0", ZEN3_CTX, CAPS_ZEN3, CTL & ~IBS_OPCTL_OPVAL, 0, IBS_DS_DRAM, MEM_LD, REJECT },
	{ "op_en 0", ZEN3_CTX, CAPS_ZEN3, CTL & ~IBS_OPCTL_OPEN, 0, IBS_DS_DRAM, MEM_LD, REJECT },
	{ "no address valid", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM, MEM_LD & ~ADDRS, REJECT },
	{ "2M page, L1 TLB hit", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_DCL1TLBHIT2M, 0, IBSP_SRC_LOCAL_DRAM, F_MEM_LD, 0, 21 },
	{ "1G page, L1 TLB hit", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_DCL1TLBHIT1G, 0, IBSP_SRC_LOCAL_DRAM, F_MEM_LD, 0, 30 },
	{ "1G page, L2 TLB hit", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_DCL1TLBMISS | IBS_OPDATA3_DCL2TLBHIT1G, 0, IBSP_SRC_LOCAL_DRAM,
	  F_MEM_LD, 0, 30 },
	{ "2M page, L2 TLB hit", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_DCL1TLBMISS | IBS_OPDATA3_DCL2TLBHIT2M, 0, IBSP_SRC_LOCAL_DRAM,
	  F_MEM_LD, 0, 21 },
	{ "full TLB miss: page size unknown", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_DCL1TLBMISS | IBS_OPDATA3_DCL2TLBMISS, 0, IBSP_SRC_LOCAL_DRAM,
	  F_MEM_LD | IBSP_S_DTLB_MISS, 0, 0 },
	{ "erratum 1293 (19h model 1, SwPf)", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_SWPF, 0, IBSP_SRC_UNKNOWN, F_MEM_LD | IBSP_S_SW_PREFETCH, 0, 12 },
	{ "erratum 1293 (DcMissNoMabAlloc)", ZEN3_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_DCMISSNOMABALLOC, 0, IBSP_SRC_UNKNOWN, F_MEM_LD, 0, 12 },
	{ "no erratum 1293 on 19h model 0x11", ZEN4_CTX, CAPS_ZEN4, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_SWPF, 0, IBSP_SRC_LOCAL_DRAM, F_MEM_LD | IBSP_S_SW_PREFETCH, 0, 12 },
	{ "no erratum 1293 when the model is unknown", UNKNOWN_CTX, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM,
	  MEM_LD | IBS_OPDATA3_SWPF, 0, IBSP_SRC_LOCAL_DRAM, F_MEM_LD | IBSP_S_SW_PREFETCH, 0, 12 },
};

#define IBS_TYPE (PERF_SAMPLE_RAW | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU)

static void ibs_raw(uint8_t *raw, uint32_t caps, uint64_t ctl, uint64_t data, uint64_t d2,
		    uint64_t d3)
{
	const uint64_t regs[IBS_REG_NR_BASE] = { ctl, RIP, data, d2, d3, LIN, PHYS };

	memcpy(raw, &caps, 4);
	memcpy(raw + 4, regs, sizeof(regs));
}

/* An IBS-op sample of pid 41, tid 42 on CPU 3 at @time, its RAW block @raw. */
static struct ibsp_raw_sample ibs_sample(const uint8_t *raw, uint32_t size, uint64_t time)
{
	return (struct ibsp_raw_sample){
		.type = IBS_TYPE,
		.pid = 41,
		.tid = 42,
		.time = time,
		.cpu = 3,
		.raw = raw,
		.raw_size = size,
	};
}

Test(decode, ibs_op)
{
	for (size_t i = 0; i < sizeof(ibs_rows) / sizeof(ibs_rows[0]); i++) {
		const struct ibs_row *w = &ibs_rows[i];
		uint8_t raw[4 + 8 * IBS_REG_NR_BASE];
		struct ibsp_raw_sample rs = ibs_sample(raw, sizeof(raw), 1000 + i);
		struct ibsp_sample s;
		int ret;

		cr_assert_eq(sizeof(raw), 60);
		ibs_raw(raw, w->caps, w->ctl, w->data, w->d2, w->d3);
		ret = ibsp_decode(IBSP_SAMPLER_IBS, &w->ctx, &rs, &s);
		cr_assert_eq(ret, w->ret, "%s: ret %d", w->name, ret);
		cr_assert_eq(s.kind, IBSP_SAMPLER_IBS, "%s", w->name);
		if (ret)
			continue;
		cr_assert_eq(s.src, w->src, "%s: src %s, want %s", w->name,
			     ibsp_mem_src__name(s.src), ibsp_mem_src__name(w->src));
		cr_assert_eq(s.flags, w->flags, "%s: flags %#x, want %#x", w->name, s.flags,
			     w->flags);
		cr_assert_eq(s.latency_cycles, w->lat, "%s: latency %u", w->name, s.latency_cycles);
		cr_assert_eq(s.page_shift, w->page_shift, "%s: page_shift %u", w->name,
			     s.page_shift);
		cr_assert_eq(s.ip, RIP, "%s", w->name);
		cr_assert_eq(s.vaddr, (s.flags & IBSP_S_VADDR_VALID) ? LIN : 0, "%s", w->name);
		cr_assert_eq(s.paddr, (s.flags & IBSP_S_PADDR_VALID) ? PHYS : 0, "%s", w->name);
		cr_assert(s.pid == 41 && s.tid == 42 && s.cpu == 3, "%s", w->name);
		cr_assert_eq(s.time_ns, 1000 + i, "%s", w->name);
	}
}

/*
 * ctx.no_source (the replay's reader): every row decodes to the same sample,
 * the same return and drop, but without the data source (src unknown, no
 * IBSP_S_REMOTE).
 */
Test(decode, ibs_op_no_source)
{
	int sourced = 0;

	for (size_t i = 0; i < sizeof(ibs_rows) / sizeof(ibs_rows[0]); i++) {
		const struct ibs_row *w = &ibs_rows[i];
		struct ibsp_decode_ctx lean = w->ctx;
		uint8_t raw[4 + 8 * IBS_REG_NR_BASE];
		struct ibsp_raw_sample rs = ibs_sample(raw, sizeof(raw), 1000 + i);
		struct ibsp_sample full, s;
		int ret;

		lean.no_source = true;
		ibs_raw(raw, w->caps, w->ctl, w->data, w->d2, w->d3);
		cr_assert_eq(ibsp_decode(IBSP_SAMPLER_IBS, &w->ctx, &rs, &full), w->ret, "%s",
			     w->name);
		ret = ibsp_decode(IBSP_SAMPLER_IBS, &lean, &rs, &s);
		cr_assert_eq(ret, w->ret, "%s: ret %d", w->name, ret);
		cr_assert_eq(s.src, IBSP_SRC_UNKNOWN, "%s", w->name);
		cr_assert_eq(s.flags & IBSP_S_REMOTE, 0, "%s", w->name);
		sourced += full.src != IBSP_SRC_UNKNOWN || (full.flags & IBSP_S_REMOTE);
		full.src = IBSP_SRC_UNKNOWN;
		full.flags &= (uint16_t)~IBSP_S_REMOTE;
		cr_assert(!memcmp(&full, &s, sizeof(s)), "%s: the other fields differ", w->name);
	}
	cr_assert_gt(sourced, 20, "the rows exercise the source");
}

/* The same through the two-step API, with no context (caps decide Zen4). */
Test(decode, ibs_op_common_then_ibs)
{
	uint8_t raw[60];
	struct ibsp_raw_sample rs = { .type = IBS_TYPE, .raw = raw, .raw_size = 60 };
	struct ibsp_sample s;

	ibs_raw(raw, CAPS_ZEN4, CTL, 0, HI(1), MEM_LD);
	ibsp_decode_common(&rs, &s);
	cr_assert_eq(ibsp_decode_ibs(NULL, &rs, &s), 0);
	cr_assert_eq(s.src, IBSP_SRC_CXL);
	ibs_raw(raw, CAPS_ZEN3, CTL, 0, HI(1), MEM_LD);
	ibsp_decode_common(&rs, &s);
	cr_assert_eq(ibsp_decode_ibs(NULL, &rs, &s), 0);
	cr_assert_eq(s.src, IBSP_SRC_UNKNOWN);
}

Test(decode, ibs_op_short_raw)
{
	const struct ibsp_decode_ctx ctx = ZEN3_CTX;
	uint8_t raw[60];
	struct ibsp_raw_sample rs = { .type = IBS_TYPE, .raw = raw, .raw_size = 52 };
	struct ibsp_sample s;

	ibs_raw(raw, CAPS_ZEN3, CTL, 0, IBS_DS_DRAM, MEM_LD);
	cr_assert_eq(ibsp_decode(IBSP_SAMPLER_IBS, &ctx, &rs, &s), -EINVAL);
	rs.raw_size = 59;
	cr_assert_eq(ibsp_decode(IBSP_SAMPLER_IBS, &ctx, &rs, &s), -EINVAL);
	rs.raw_size = 0;
	rs.raw = NULL;
	cr_assert_eq(ibsp_decode(IBSP_SAMPLER_IBS, &ctx, &rs, &s), -EINVAL);
}

Test(decode, soft)
{
	static const struct {
		uint64_t type, addr, phys;
		uint16_t flags;
	} rows[] = {
		{ PERF_SAMPLE_ADDR | PERF_SAMPLE_PHYS_ADDR, 0x7f0000001000, 0,
		  IBSP_S_COARSE | IBSP_S_VADDR_VALID },
		{ PERF_SAMPLE_ADDR | PERF_SAMPLE_PHYS_ADDR, 0x7f0000001000, 0x1234000,
		  IBSP_S_COARSE | IBSP_S_VADDR_VALID | IBSP_S_PADDR_VALID },
		{ PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU, 0,
		  0x1234000,
		  IBSP_S_COARSE | IBSP_S_PADDR_VALID | IBSP_S_TID_VALID | IBSP_S_TIME_VALID |
		      IBSP_S_CPU_VALID },
		{ PERF_SAMPLE_TID, 0x7f0000001000, 0x1234000, IBSP_S_COARSE | IBSP_S_TID_VALID },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_raw_sample rs = {
			.type = rows[i].type,
			.addr = rows[i].addr,
			.phys_addr = rows[i].phys,
			.pid = 5,
			.tid = 6,
			.time = 77,
			.cpu = 1,
		};
		struct ibsp_sample s;

		cr_assert_eq(ibsp_decode(IBSP_SAMPLER_SOFT, NULL, &rs, &s), 0, "row %zu", i);
		cr_assert_eq(s.kind, IBSP_SAMPLER_SOFT, "row %zu", i);
		cr_assert_eq(s.flags, rows[i].flags, "row %zu: flags %#x", i, s.flags);
		cr_assert_eq(s.vaddr, (s.flags & IBSP_S_VADDR_VALID) ? rows[i].addr : 0, "row %zu",
			     i);
		cr_assert_eq(s.paddr, (s.flags & IBSP_S_PADDR_VALID) ? rows[i].phys : 0, "row %zu",
			     i);
		cr_assert_eq(s.cpu, (s.flags & IBSP_S_CPU_VALID) ? 1 : -1, "row %zu", i);
		cr_assert_eq(s.src, IBSP_SRC_UNKNOWN, "row %zu", i);
	}
}

/*
 * hint: the same event; a fault on a present page (a physical address) is a
 * write; one without (a first touch, a page under migration) is dropped.
 */
Test(decode, hint)
{
	static const struct {
		uint64_t addr, phys;
		uint16_t flags;
		int ret;
	} rows[] = {
		{ 0x7f0000001000, 0, IBSP_S_COARSE | IBSP_S_VADDR_VALID, -EINVAL },
		{ 0x7f0000001000, 0x1234000,
		  IBSP_S_COARSE | IBSP_S_VADDR_VALID | IBSP_S_PADDR_VALID | IBSP_S_STORE, 0 },
	};
	static const struct perf_event_attr hint_attr = { .type = PERF_TYPE_SOFTWARE,
							  .config = PERF_COUNT_SW_PAGE_FAULTS };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_raw_sample rs = { .type = PERF_SAMPLE_ADDR | PERF_SAMPLE_PHYS_ADDR,
					      .addr = rows[i].addr,
					      .phys_addr = rows[i].phys };
		struct ibsp_sample s;

		cr_assert_eq(ibsp_decode(IBSP_SAMPLER_HINT, NULL, &rs, &s), rows[i].ret, "row %zu",
			     i);
		cr_assert_eq(s.kind, IBSP_SAMPLER_HINT, "row %zu", i);
		cr_assert_eq(s.flags, rows[i].flags, "row %zu: flags %#x", i, s.flags);
		cr_assert_eq(s.drop, rows[i].ret ? IBSP_DROP_NO_ADDR : IBSP_DROP_NONE, "row %zu",
			     i);
	}
	cr_expect_str_eq(ibsp_sampler_kind__name(IBSP_SAMPLER_HINT), "hint");
	/* By its attr alone, a recording's hint event is a page-faults event: its name tells. */
	cr_expect_eq(ibsp_classify_event(&hint_attr, NULL), IBSP_SAMPLER_SOFT);
}

/*
 * The IBS tables above are built from ibs_bits.h, the decoder's own header:
 * pin every value they use to the hardware's register layout, written out
 * here by hand (AMD PPR for family 19h, IbsOpCtl/IbsOpData/IbsOpData2/
 * IbsOpData3 and CPUID 8000_001B; shared/reference/sampling.md 1.4-1.6), so a
 * wrong bit in the header fails here instead of agreeing with itself.
 */
Test(decode, ibs_bits_are_the_hardware_layout)
{
	static const struct {
		const char *name;
		uint64_t got, want;
	} rows[] = {
		{ "caps OpSam", IBS_CAPS_OPSAM, 0x4 },
		{ "caps BrnTrgt", IBS_CAPS_BRNTRGT, 0x20 },
		{ "caps RipInvalidChk", IBS_CAPS_RIPINVALIDCHK, 0x80 },
		{ "caps OpData4", IBS_CAPS_OPDATA4, 0x400 },
		{ "caps Zen4", IBS_CAPS_ZEN4, 0x800 },
		{ "raw regs: OpCtl", IBS_REG_OPCTL, 0 },
		{ "raw regs: OpData2", IBS_REG_OPDATA2, 3 },
		{ "raw regs: OpData3", IBS_REG_OPDATA3, 4 },
		{ "raw regs: DcLinAd", IBS_REG_DCLINAD, 5 },
		{ "raw regs: DcPhysAd", IBS_REG_DCPHYSAD, 6 },
		{ "OpCtl OpEn", IBS_OPCTL_OPEN, 0x20000 },
		{ "OpCtl OpVal", IBS_OPCTL_OPVAL, 0x40000 },
		{ "OpData RipInvalid", IBS_OPDATA_RIPINVALID, 0x4000000000ULL },
		{ "OpData2 DataSrc lo", IBS_OPDATA2_DATASRC_LO_MASK, 0x7 },
		{ "OpData2 RmtNode", IBS_OPDATA2_RMTNODE, 0x10 },
		{ "OpData2 DataSrc hi", IBS_OPDATA2_DATASRC_HI_MASK << IBS_OPDATA2_DATASRC_HI_SHIFT,
		  0xc0 },
		{ "OpData3 LdOp", IBS_OPDATA3_LDOP, 0x1 },
		{ "OpData3 StOp", IBS_OPDATA3_STOP, 0x2 },
		{ "OpData3 DcL1TlbMiss", IBS_OPDATA3_DCL1TLBMISS, 0x4 },
		{ "OpData3 DcL2TlbMiss", IBS_OPDATA3_DCL2TLBMISS, 0x8 },
		{ "OpData3 DcL1TlbHit2M", IBS_OPDATA3_DCL1TLBHIT2M, 0x10 },
		{ "OpData3 DcL1TlbHit1G", IBS_OPDATA3_DCL1TLBHIT1G, 0x20 },
		{ "OpData3 DcL2TlbHit2M", IBS_OPDATA3_DCL2TLBHIT2M, 0x40 },
		{ "OpData3 DcMiss", IBS_OPDATA3_DCMISS, 0x80 },
		{ "OpData3 DcUcMemAcc", IBS_OPDATA3_DCUCMEMACC, 0x4000 },
		{ "OpData3 DcWcMemAcc", IBS_OPDATA3_DCWCMEMACC, 0x2000 },
		{ "OpData3 DcMissNoMabAlloc", IBS_OPDATA3_DCMISSNOMABALLOC, 0x10000 },
		{ "OpData3 DcLinAddrValid", IBS_OPDATA3_DCLINADDRVALID, 0x20000 },
		{ "OpData3 DcPhyAddrValid", IBS_OPDATA3_DCPHYADDRVALID, 0x40000 },
		{ "OpData3 DcL2TlbHit1G", IBS_OPDATA3_DCL2TLBHIT1G, 0x80000 },
		{ "OpData3 L2Miss", IBS_OPDATA3_L2MISS, 0x100000 },
		{ "OpData3 SwPf", IBS_OPDATA3_SWPF, 0x200000 },
		{ "OpData3 DcMissLat", IBS_OPDATA3_DCMISSLAT_MASK << IBS_OPDATA3_DCMISSLAT_SHIFT,
		  0xffff00000000ULL },
		{ "DataSrc DRAM", IBS_DS_DRAM, 3 },
		{ "DataSrc I/O", IBS_DS_IO, 7 },
		{ "DataSrc Zen4 long-latency DRAM", IBS_DS_ZEN4_LONG_LAT_DRAM, 6 },
		{ "DataSrc Zen4 extension memory (CXL)", IBS_DS_ZEN4_EXT_MEM, 8 },
		{ "DataSrc Zen4 peer agent", IBS_DS_ZEN4_PEER_AGENT, 12 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(rows[i].got, rows[i].want, "%s: %#llx, the PPR says %#llx",
			     rows[i].name, (unsigned long long)rows[i].got,
			     (unsigned long long)rows[i].want);
}
