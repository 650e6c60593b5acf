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
 * the whole decode): flags from shifts, choices by masks, sources by table.
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
 * Page size of the access from the TLB hit bits: the L1 TLB's when it hit,
 * else the L2 TLB's; 0 after a full TLB miss (unknown).
 */
static unsigned int ibs_page_shift(uint64_t d3)
{
	uint64_t l1_miss = bit(d3, 2), full_miss = l1_miss & bit(d3, 3);
	/* L1: 2M bit 4, 1G bit 5; L2: 2M bit 6, 1G bit 19 */
	uint64_t g = bit(d3, 5 + 14 * (unsigned int)l1_miss),
		 m = bit(d3, 4 + 2 * (unsigned int)l1_miss);

	_Static_assert(
	    IBS_OPDATA3_DCL1TLBMISS == 1ULL << 2 && IBS_OPDATA3_DCL2TLBMISS == 1ULL << 3 &&
		IBS_OPDATA3_DCL1TLBHIT2M == 1ULL << 4 && IBS_OPDATA3_DCL1TLBHIT1G == 1ULL << 5 &&
		IBS_OPDATA3_DCL2TLBHIT2M == 1ULL << 6 && IBS_OPDATA3_DCL2TLBHIT1G == 1ULL << 19,
	    "the TLB bits ibs_page_shift() reads");
	return (unsigned int)((12 + 18 * g + 9 * (m & ~g)) & (full_miss - 1));
}

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

static int drop(struct ibsp_sample *s, enum ibsp_drop_reason why)
{
	s->drop = (uint8_t)why;
	return -EINVAL;
}

/* The access itself, from IbsOpData3: addresses, load/store, TLB, page size, miss latency. */
static void decode_access(const struct ibsp_raw_sample *rs, uint64_t d3, struct ibsp_sample *s)
{
	uint64_t lin = bit(d3, 17), phy = bit(d3, 18), ld_miss = bit(d3, 0) & bit(d3, 7);
	unsigned int shift = ibs_page_shift(d3);
	uint64_t lin_addr = reg(rs, IBS_REG_DCLINAD), phys_addr = reg(rs, IBS_REG_DCPHYSAD);
	uint32_t lat = (uint32_t)((d3 >> IBS_OPDATA3_DCMISSLAT_SHIFT) & IBS_OPDATA3_DCMISSLAT_MASK);

	_Static_assert(
	    IBS_OPDATA3_LDOP == 1 && IBS_OPDATA3_STOP == 2 && IBS_OPDATA3_DCMISS == 1ULL << 7 &&
		IBS_OPDATA3_DCLINADDRVALID == 1ULL << 17 &&
		IBS_OPDATA3_DCPHYADDRVALID == 1ULL << 18 && IBS_OPDATA3_SWPF == 1ULL << 21,
	    "the bits decode_access() reads");
	s->ip = reg(rs, IBS_REG_OPRIP);
	s->vaddr = choose(lin, lin_addr, s->vaddr);
	s->paddr = choose(phy, phys_addr, s->paddr);
	s->page_shift = (uint8_t)choose(lin & (shift != 0), shift, s->page_shift);
	s->latency_cycles = (uint32_t)choose(ld_miss, lat, s->latency_cycles);
	s->flags |= (uint16_t)(IBSP_S_IP_VALID | IBSP_S_EXACT_IP | lin * IBSP_S_VADDR_VALID |
			       phy * IBSP_S_PADDR_VALID | bit(d3, 0) * IBSP_S_LOAD |
			       bit(d3, 1) * IBSP_S_STORE | bit(d3, 21) * IBSP_S_SW_PREFETCH |
			       bit(d3, 3) * IBSP_S_DTLB_MISS | ld_miss * IBSP_S_LAT_VALID);
}

/* Where the data came from: the cache level from IbsOpData3, the source from IbsOpData2. */
static void decode_source(const struct ibsp_decode_ctx *ctx, uint32_t caps, uint64_t d2,
			  uint64_t d3, struct ibsp_sample *s)
{
	int zen4 = ctx && ctx->ibs_zen4 >= 0 ? ctx->ibs_zen4 : !!(caps & IBS_CAPS_ZEN4);
	/* Erratum #1293 (family 19h models <= 0x0f): L2Miss and OpData2 are unreliable here. */
	int erratum_1293 = ctx && ctx->cpu_family == 0x19 && ctx->cpu_model <= 0x0f &&
			   (d3 & (IBS_OPDATA3_SWPF | IBS_OPDATA3_DCMISSNOMABALLOC));
	unsigned int code = (unsigned int)(d2 & IBS_OPDATA2_DATASRC_LO_MASK);
	uint64_t remote = bit(d2, 4), l2_miss = bit(d3, 20), unknown, miss = bit(d3, 7), io;
	unsigned int src;

	_Static_assert(IBS_OPDATA2_RMTNODE == 1ULL << 4 && IBS_OPDATA3_L2MISS == 1ULL << 20 &&
			   IBS_OPDATA3_DCWCMEMACC == 1ULL << 13 &&
			   IBS_OPDATA3_DCUCMEMACC == 1ULL << 14,
		       "the bits decode_source() reads");
	if (zen4)
		code |= (unsigned int)(((d2 >> IBS_OPDATA2_DATASRC_HI_SHIFT) &
					IBS_OPDATA2_DATASRC_HI_MASK)
				       << 3);
	unknown = (bit(d3, 0) ^ 1) | (erratum_1293 != 0); /* stores carry no DataSrc */
	io = bit(d3, 14) & ~bit(d3, 13);		  /* uncached, not write-combining */
	/* From the last case up: the code's source past an L2 miss, ... */
	src = (zen4 ? src_zen4 : src_before_zen4)[code] +
	      ((unsigned int)remote & (code == IBS_DS_DRAM));
	src = (unsigned int)choose(l2_miss, src, IBSP_SRC_CACHE); /* else an L2 hit */
	src = (unsigned int)choose(unknown, IBSP_SRC_UNKNOWN, src);
	src = (unsigned int)choose(miss, src, IBSP_SRC_CACHE); /* else an L1 hit */
	s->src = (uint8_t)choose(io, IBSP_SRC_IO, src);
	s->flags |= (uint16_t)(((io ^ 1) & miss & (unknown ^ 1) & l2_miss & remote &
				(code != IBS_DS_NONE)) *
			       IBSP_S_REMOTE);
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
