// SPDX-License-Identifier: MIT
/*
 * AMD IBS-op decoder: reads the RAW register block, not the kernel's
 * DATA_SRC/WEIGHT translation, because the registers are defined by the
 * hardware and do not change with the kernel version. Bit positions: ibs_bits.h.
 */
#include <errno.h>
#include <string.h>

#include "decode.h"
#include "ibs_bits.h"

static uint64_t reg(const struct ibsp_raw_sample *rs, unsigned int i)
{
	uint64_t v;

	/* +4: the caps word precedes the registers, so they are 4-byte aligned only. */
	memcpy(&v, rs->raw + 4 + 8 * i, 8);
	return v;
}

/*
 * The sampled bits vary from sample to sample, so the decode computes with
 * them instead of branching on them (a mispredicted branch costs more than
 * the whole decode): flags by shifts of the bits where they lie, choices by
 * masks, the page size and the source by small tables.
 */
static uint64_t bit(uint64_t v, unsigned int n)
{
	return v >> n & 1;
}

/* @if_set when the bit @b (0 or 1) is set, else @if_clear: by a mask, not a branch. */
static uint64_t choose(uint64_t b, uint64_t if_set, uint64_t if_clear)
{
	return (if_set & (0 - b)) | (if_clear & (b - 1));
}

/*
 * Page size of the access from the TLB bits of IbsOpData3, by a table of its
 * bits 2-6 (L1 miss, L2 miss, L1 2M, L1 1G, L2 2M) and 19 (L2 1G) as bit 5:
 * the L1 TLB's size when it hit, else the L2 TLB's; 0 after a full TLB miss
 * (unknown).
 */
#define TLB_INDEX(d3) ((unsigned int)(((d3) >> 2 & 31) | ((d3) >> 14 & 32)))
#define TLB_1G(i)     ((i)&1 ? (i)&32 : (i)&8)
#define TLB_2M(i)     ((i)&1 ? (i)&16 : (i)&4)
#define TLB_SHIFT(i)  (((i)&3) == 3 ? 0 : TLB_1G(i) ? 30 : TLB_2M(i) ? 21 : 12)
#define TLB_4(i)      TLB_SHIFT(i), TLB_SHIFT((i) + 1), TLB_SHIFT((i) + 2), TLB_SHIFT((i) + 3)
#define TLB_16(i)     TLB_4(i), TLB_4((i) + 4), TLB_4((i) + 8), TLB_4((i) + 12)
static const uint8_t tlb_shift[64] = { TLB_16(0), TLB_16(16), TLB_16(32), TLB_16(48) };
_Static_assert(IBS_OPDATA3_DCL1TLBMISS == 1ULL << 2 && IBS_OPDATA3_DCL2TLBMISS == 1ULL << 3 &&
		   IBS_OPDATA3_DCL1TLBHIT2M == 1ULL << 4 && IBS_OPDATA3_DCL1TLBHIT1G == 1ULL << 5 &&
		   IBS_OPDATA3_DCL2TLBHIT2M == 1ULL << 6 && IBS_OPDATA3_DCL2TLBHIT1G == 1ULL << 19,
	       "the TLB bits TLB_INDEX() reads");

/* The source by DataSrc code (the DRAM one local; RmtNode makes it remote). */
static const uint8_t src_before_zen4[8] = {
	[IBS_DS_LOCAL_CACHE] = IBSP_SRC_CACHE,
	[IBS_DS_REMOTE_CACHE] = IBSP_SRC_CACHE,
	[IBS_DS_DRAM] = IBSP_SRC_LOCAL_DRAM,
	[IBS_DS_IO] = IBSP_SRC_IO,
};
static const uint8_t src_zen4[32] = {
	[IBS_DS_ZEN4_LOCAL_CACHE] = IBSP_SRC_CACHE,
	[IBS_DS_LOCAL_CACHE] = IBSP_SRC_CACHE, /* near CCX */
	[IBS_DS_ZEN4_FAR_CCX] = IBSP_SRC_CACHE,
	[IBS_DS_DRAM] = IBSP_SRC_LOCAL_DRAM,
	[IBS_DS_ZEN4_LONG_LAT_DRAM] = IBSP_SRC_PMEM,
	[IBS_DS_IO] = IBSP_SRC_IO,
	[IBS_DS_ZEN4_EXT_MEM] = IBSP_SRC_CXL,
};
_Static_assert(IBSP_SRC_REMOTE_DRAM == IBSP_SRC_LOCAL_DRAM + 1, "remote DRAM follows local");

/*
 * What decides whether DataSrc counts, by (uncached I/O, DC miss, no DataSrc,
 * L2 miss) as bits 3 to 0: the source + 1 when it is fixed by them, 0 when
 * DataSrc's code gives it. I/O first; an L1 hit is a cache; a store, or a
 * load under erratum #1293, has no source; an L2 hit is a cache.
 */
#define SRC_IO	  (IBSP_SRC_IO + 1)
#define SRC_CACHE (IBSP_SRC_CACHE + 1)
#define SRC_NONE  (IBSP_SRC_UNKNOWN + 1)
static const uint8_t src_fixed[16] = {
	SRC_CACHE, SRC_CACHE, SRC_CACHE, SRC_CACHE, /* L1 hit */
	SRC_CACHE, 0,	      SRC_NONE,	 SRC_NONE,  /* DC miss: L2 hit, L2 miss, no DataSrc */
	SRC_IO,	   SRC_IO,    SRC_IO,	 SRC_IO,    SRC_IO, SRC_IO, SRC_IO, SRC_IO,
};

static int drop(struct ibsp_sample *s, enum ibsp_drop_reason why)
{
	s->drop = (uint8_t)why;
	return -EINVAL;
}

/* The access itself, from IbsOpData3: addresses, load/store, TLB, page size, miss latency. */
static void decode_access(const struct ibsp_raw_sample *rs, uint64_t d3, struct ibsp_sample *s)
{
	uint64_t lin = bit(d3, 17), phy = bit(d3, 18), ld_miss = d3 & d3 >> 7 & 1;
	unsigned int shift = tlb_shift[TLB_INDEX(d3)];
	uint32_t lat = (uint32_t)((d3 >> IBS_OPDATA3_DCMISSLAT_SHIFT) & IBS_OPDATA3_DCMISSLAT_MASK);

	_Static_assert(
	    IBS_OPDATA3_LDOP == 1 && IBS_OPDATA3_STOP == 2 && IBS_OPDATA3_DCMISS == 1ULL << 7 &&
		IBS_OPDATA3_DCLINADDRVALID == 1ULL << 17 &&
		IBS_OPDATA3_DCPHYADDRVALID == 1ULL << 18 && IBS_OPDATA3_SWPF == 1ULL << 21,
	    "the bits decode_access() reads");
	_Static_assert(IBSP_S_VADDR_VALID == 1 << 0 && IBSP_S_PADDR_VALID == 1 << 1 &&
			   IBSP_S_LOAD == 1 << 2 && IBSP_S_STORE == 1 << 3 &&
			   IBSP_S_LAT_VALID == 1 << 4 && IBSP_S_DTLB_MISS == 1 << 12 &&
			   IBSP_S_SW_PREFETCH == 1 << 13,
		       "the flags decode_access() shifts the bits of IbsOpData3 to");
	s->ip = reg(rs, IBS_REG_OPRIP);
	s->vaddr = choose(lin, reg(rs, IBS_REG_DCLINAD), s->vaddr);
	s->paddr = choose(phy, reg(rs, IBS_REG_DCPHYSAD), s->paddr);
	s->page_shift = (uint8_t)choose(lin & (shift != 0), shift, s->page_shift);
	s->latency_cycles = (uint32_t)choose(ld_miss, lat, s->latency_cycles);
	/* Linear and physical valid (bits 17-18), load and store (0-1), L2 TLB miss (3), SwPf (21). */
	s->flags |= (uint16_t)(IBSP_S_IP_VALID | IBSP_S_EXACT_IP | (d3 >> 17 & 3) | (d3 & 3) << 2 |
			       ld_miss << 4 | (d3 << 9 & IBSP_S_DTLB_MISS) |
			       (d3 >> 8 & IBSP_S_SW_PREFETCH));
}

/* Where the data came from: the cache level from IbsOpData3, the source from IbsOpData2. */
static void decode_source(const struct ibsp_decode_ctx *ctx, uint32_t caps, uint64_t d2,
			  uint64_t d3, struct ibsp_sample *s)
{
	int zen4 = ctx && ctx->ibs_zen4 >= 0 ? ctx->ibs_zen4 : !!(caps & IBS_CAPS_ZEN4);
	/* Erratum #1293 (family 19h models <= 0x0f): L2Miss and OpData2 are unreliable here. */
	uint64_t erratum_1293 = ctx && ctx->cpu_family == 0x19 && ctx->cpu_model <= 0x0f &&
				(d3 & (IBS_OPDATA3_SWPF | IBS_OPDATA3_DCMISSNOMABALLOC));
	/* Zen4's code: the high bits (7:6) above the low ones (2:0). */
	unsigned int code = (unsigned int)((d2 & IBS_OPDATA2_DATASRC_LO_MASK) |
					   (d2 >> 3 & 0x18 & (0 - (uint64_t)zen4)));
	uint64_t remote = bit(d2, 4), no_src = (bit(d3, 0) ^ 1) | erratum_1293; /* stores */
	/* Uncached and not write-combining, DC miss, no DataSrc, L2 miss. */
	unsigned int fixed = src_fixed[(bit(d3, 14) & ~bit(d3, 13)) << 3 | bit(d3, 7) << 2 |
				       no_src << 1 | bit(d3, 20)];
	unsigned int by_code = (zen4 ? src_zen4 : src_before_zen4)[code] +
			       ((unsigned int)remote & (code == IBS_DS_DRAM));

	_Static_assert(IBS_OPDATA2_RMTNODE == 1ULL << 4 && IBS_OPDATA3_L2MISS == 1ULL << 20 &&
			   IBS_OPDATA3_DCWCMEMACC == 1ULL << 13 &&
			   IBS_OPDATA3_DCUCMEMACC == 1ULL << 14 &&
			   IBS_OPDATA2_DATASRC_HI_SHIFT == 6 && IBS_OPDATA2_DATASRC_HI_MASK == 3,
		       "the bits decode_source() reads");
	s->src = (uint8_t)choose(fixed != 0, fixed - 1, by_code);
	s->flags |= (uint16_t)(((fixed == 0) & remote & (code != IBS_DS_NONE)) * IBSP_S_REMOTE);
}

int ibsp_decode_ibs(const struct ibsp_decode_ctx *ctx, const struct ibsp_raw_sample *rs,
		    struct ibsp_sample *s)
{
	uint64_t ctl, data, d3;
	uint32_t caps;

	s->kind = IBSP_SAMPLER_IBS;
	/*
	 * `perf mem record` asks ibs_op for the kernel's own fields (ADDR,
	 * PHYS_ADDR, DATA_SRC, WEIGHT; Linux 6.1 and later) and no RAW block.
	 */
	if (!(rs->type & PERF_SAMPLE_RAW))
		return ibsp_decode_mem_fields(rs, s);
	if (!rs->raw || rs->raw_size < 4 + 8 * IBS_REG_NR_BASE)
		return drop(s, IBSP_DROP_SHORT_RAW);
	memcpy(&caps, rs->raw, 4);
	/* The optional registers follow the 7 base ones: IbsBrTarget, then IbsOpData4. */
	if (rs->raw_size <
	    4u + 8u * (IBS_REG_NR_BASE + !!(caps & IBS_CAPS_BRNTRGT) + !!(caps & IBS_CAPS_OPDATA4)))
		return drop(s, IBSP_DROP_SHORT_RAW);
	ctl = reg(rs, IBS_REG_OPCTL);
	data = reg(rs, IBS_REG_OPDATA);
	d3 = reg(rs, IBS_REG_OPDATA3);

	/* Decode everything first: a refused sample can still be inspected (dump --invalid). */
	decode_access(rs, d3, s);
	if (!ctx || !ctx->no_source) /* ~80 of the ~200 instructions */
		decode_source(ctx, caps, reg(rs, IBS_REG_OPDATA2), d3, s);

	/* perf's decoder accepts a sample only with OpEn and OpVal set. */
	if ((ctl & (IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL)) != (IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL))
		return drop(s, IBSP_DROP_OP_INVALID);
	if ((caps & IBS_CAPS_RIPINVALIDCHK) && (data & IBS_OPDATA_RIPINVALID))
		return drop(s, IBSP_DROP_RIP_INVALID);
	if (!(d3 & (IBS_OPDATA3_DCLINADDRVALID | IBS_OPDATA3_DCPHYADDRVALID)))
		return drop(s, IBSP_DROP_NO_ADDR);
	return 0;
}
