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

/* Page size of the access from the TLB hit bits; 0 after a full TLB miss (unknown). */
static uint8_t ibs_page_shift(uint64_t d3)
{
	if (!(d3 & IBS_OPDATA3_DCL1TLBMISS)) {
		if (d3 & IBS_OPDATA3_DCL1TLBHIT1G)
			return 30;
		return (d3 & IBS_OPDATA3_DCL1TLBHIT2M) ? 21 : 12;
	}
	if (!(d3 & IBS_OPDATA3_DCL2TLBMISS)) {
		if (d3 & IBS_OPDATA3_DCL2TLBHIT1G)
			return 30;
		return (d3 & IBS_OPDATA3_DCL2TLBHIT2M) ? 21 : 12;
	}
	return 0;
}

static enum ibsp_mem_src ibs_src(unsigned int code, int zen4, int remote)
{
	if (zen4) {
		switch (code) {
		case IBS_DS_ZEN4_LOCAL_CACHE:
		case IBS_DS_LOCAL_CACHE: /* near CCX */
		case IBS_DS_ZEN4_FAR_CCX:
			return IBSP_SRC_CACHE;
		case IBS_DS_DRAM:
			return remote ? IBSP_SRC_REMOTE_DRAM : IBSP_SRC_LOCAL_DRAM;
		case IBS_DS_ZEN4_LONG_LAT_DRAM:
			return IBSP_SRC_PMEM;
		case IBS_DS_IO:
			return IBSP_SRC_IO;
		case IBS_DS_ZEN4_EXT_MEM:
			return IBSP_SRC_CXL;
		default:
			return IBSP_SRC_UNKNOWN;
		}
	}
	switch (code) {
	case IBS_DS_LOCAL_CACHE:
	case IBS_DS_REMOTE_CACHE:
		return IBSP_SRC_CACHE;
	case IBS_DS_DRAM:
		return remote ? IBSP_SRC_REMOTE_DRAM : IBSP_SRC_LOCAL_DRAM;
	case IBS_DS_IO:
		return IBSP_SRC_IO;
	default:
		return IBSP_SRC_UNKNOWN;
	}
}

static int drop(struct ibsp_sample *s, enum ibsp_drop_reason why)
{
	s->drop = (uint8_t)why;
	return -EINVAL;
}

/* The access itself, from IbsOpData3: addresses, load/store, TLB, page size, miss latency. */
static void decode_access(const struct ibsp_raw_sample *rs, uint64_t d3, struct ibsp_sample *s)
{
	s->ip = reg(rs, IBS_REG_OPRIP);
	s->flags |= IBSP_S_IP_VALID | IBSP_S_EXACT_IP;
	if (d3 & IBS_OPDATA3_DCLINADDRVALID) {
		s->vaddr = reg(rs, IBS_REG_DCLINAD);
		s->flags |= IBSP_S_VADDR_VALID;
	}
	if (d3 & IBS_OPDATA3_DCPHYADDRVALID) {
		s->paddr = reg(rs, IBS_REG_DCPHYSAD);
		s->flags |= IBSP_S_PADDR_VALID;
	}
	if (d3 & IBS_OPDATA3_LDOP)
		s->flags |= IBSP_S_LOAD;
	if (d3 & IBS_OPDATA3_STOP)
		s->flags |= IBSP_S_STORE;
	if (d3 & IBS_OPDATA3_SWPF)
		s->flags |= IBSP_S_SW_PREFETCH;
	if (d3 & IBS_OPDATA3_DCL2TLBMISS)
		s->flags |= IBSP_S_DTLB_MISS;
	if (d3 & IBS_OPDATA3_DCLINADDRVALID) {
		uint8_t shift = ibs_page_shift(d3);

		if (shift)
			s->page_shift = shift;
	}
	if ((d3 & IBS_OPDATA3_LDOP) && (d3 & IBS_OPDATA3_DCMISS)) {
		s->latency_cycles =
		    (uint32_t)((d3 >> IBS_OPDATA3_DCMISSLAT_SHIFT) & IBS_OPDATA3_DCMISSLAT_MASK);
		s->flags |= IBSP_S_LAT_VALID;
	}
}

/* Where the data came from: the cache level from IbsOpData3, the source from IbsOpData2. */
static void decode_source(const struct ibsp_decode_ctx *ctx, uint32_t caps, uint64_t d2,
			  uint64_t d3, struct ibsp_sample *s)
{
	int zen4 = ctx && ctx->ibs_zen4 >= 0 ? ctx->ibs_zen4 : !!(caps & IBS_CAPS_ZEN4);
	/* Erratum #1293 (family 19h models <= 0x0f): L2Miss and OpData2 are unreliable here. */
	int erratum_1293 = ctx && ctx->cpu_family == 0x19 && ctx->cpu_model <= 0x0f &&
			   (d3 & (IBS_OPDATA3_SWPF | IBS_OPDATA3_DCMISSNOMABALLOC));

	if ((d3 & IBS_OPDATA3_DCUCMEMACC) && !(d3 & IBS_OPDATA3_DCWCMEMACC)) {
		s->src = IBSP_SRC_IO;
	} else if (!(d3 & IBS_OPDATA3_DCMISS)) {
		s->src = IBSP_SRC_CACHE; /* L1 hit */
	} else if (!(d3 & IBS_OPDATA3_LDOP) || erratum_1293) {
		s->src = IBSP_SRC_UNKNOWN; /* stores carry no DataSrc */
	} else if (!(d3 & IBS_OPDATA3_L2MISS)) {
		s->src = IBSP_SRC_CACHE; /* L2 hit */
	} else {
		unsigned int code = (unsigned int)(d2 & IBS_OPDATA2_DATASRC_LO_MASK);
		int remote = !!(d2 & IBS_OPDATA2_RMTNODE);

		if (zen4)
			code |= (unsigned int)(((d2 >> IBS_OPDATA2_DATASRC_HI_SHIFT) &
						IBS_OPDATA2_DATASRC_HI_MASK)
					       << 3);
		s->src = ibs_src(code, zen4, remote);
		if (remote && code != IBS_DS_NONE)
			s->flags |= IBSP_S_REMOTE;
	}
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
