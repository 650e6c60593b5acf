// SPDX-License-Identifier: MIT
/*
 * Intel PEBS decoder, the kernel's memory fields (also IBS-op's without RAW)
 * and the perf_mem_data_src classifier.
 * union perf_mem_data_src: Linux 6.1 include/uapi/linux/perf_event.h.
 */
#include <errno.h>

#include "decode.h"

#define DS_FIELD(v, shift, bits) (((v) >> (shift)) & ((1ULL << (bits)) - 1))

enum ibsp_mem_src ibsp_mem_src__from_data_src(uint64_t ds, uint16_t *flags)
{
	uint64_t op = DS_FIELD(ds, PERF_MEM_OP_SHIFT, 5);
	uint64_t lvl = DS_FIELD(ds, PERF_MEM_LVL_SHIFT, 14);
	uint64_t dtlb = DS_FIELD(ds, PERF_MEM_TLB_SHIFT, 7);
	uint64_t lvl_num = DS_FIELD(ds, PERF_MEM_LVLNUM_SHIFT, 4);
	int remote = (int)DS_FIELD(ds, PERF_MEM_REMOTE_SHIFT, 1);

	if (op & PERF_MEM_OP_LOAD)
		*flags |= IBSP_S_LOAD;
	if (op & PERF_MEM_OP_STORE)
		*flags |= IBSP_S_STORE;
	if (op & PERF_MEM_OP_PFETCH)
		*flags |= IBSP_S_SW_PREFETCH;
	if (!(dtlb & PERF_MEM_TLB_NA) && (dtlb & PERF_MEM_TLB_MISS))
		*flags |= IBSP_S_DTLB_MISS;
	if (remote)
		*flags |= IBSP_S_REMOTE;

	/* mem_lvl_num is a value; 0 means "not filled" on kernels that only set mem_lvl. */
	switch (lvl_num) {
	case PERF_MEM_LVLNUM_L1:
	case PERF_MEM_LVLNUM_L2:
	case PERF_MEM_LVLNUM_L3:
	case PERF_MEM_LVLNUM_L4:
	case PERF_MEM_LVLNUM_ANY_CACHE:
	case PERF_MEM_LVLNUM_LFB:
	case 5: /* L2_MHB (after 6.1) */
	case 6: /* MSC, memory-side cache (after 6.1) */
	case 7: /* L0 (after 6.1) */
		return IBSP_SRC_CACHE;
	case PERF_MEM_LVLNUM_CXL:
		return IBSP_SRC_CXL;
	case PERF_MEM_LVLNUM_IO:
		return IBSP_SRC_IO;
	case 8: /* PERF_MEM_LVLNUM_UNC, added after 6.1 */
		return IBSP_SRC_IO;
	case PERF_MEM_LVLNUM_RAM:
		return remote ? IBSP_SRC_REMOTE_DRAM : IBSP_SRC_LOCAL_DRAM;
	case PERF_MEM_LVLNUM_PMEM:
		return IBSP_SRC_PMEM;
	default:
		break;
	}

	/* Legacy mem_lvl bitmask: only a hit says where the data was. */
	if ((lvl & PERF_MEM_LVL_NA) || !(lvl & PERF_MEM_LVL_HIT))
		return IBSP_SRC_UNKNOWN;
	if (lvl & (PERF_MEM_LVL_REM_RAM1 | PERF_MEM_LVL_REM_RAM2)) {
		*flags |= IBSP_S_REMOTE;
		return IBSP_SRC_REMOTE_DRAM;
	}
	if (lvl & PERF_MEM_LVL_LOC_RAM)
		return IBSP_SRC_LOCAL_DRAM;
	if (lvl & (PERF_MEM_LVL_IO | PERF_MEM_LVL_UNC))
		return IBSP_SRC_IO;
	if (lvl & (PERF_MEM_LVL_L1 | PERF_MEM_LVL_LFB | PERF_MEM_LVL_L2 | PERF_MEM_LVL_L3 |
		   PERF_MEM_LVL_REM_CCE1 | PERF_MEM_LVL_REM_CCE2))
		return IBSP_SRC_CACHE;
	return IBSP_SRC_UNKNOWN;
}

int ibsp_decode_pebs(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	s->kind = IBSP_SAMPLER_PEBS;
	return ibsp_decode_mem_fields(rs, s);
}

int ibsp_decode_mem_fields(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	ibsp_decode_addrs(rs, s); /* PHYS_ADDR: the generic perf_virt_to_phys() page walk */
	if (rs->type & PERF_SAMPLE_DATA_SRC)
		s->src = (uint8_t)ibsp_mem_src__from_data_src(rs->data_src, &s->flags);
	if ((rs->type & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT)) && rs->weight) {
		s->latency_cycles = rs->weight > UINT32_MAX ? UINT32_MAX : (uint32_t)rs->weight;
		s->flags |= IBSP_S_LAT_VALID;
	}
	if (!(s->flags & (IBSP_S_VADDR_VALID | IBSP_S_PADDR_VALID))) {
		s->drop = IBSP_DROP_NO_ADDR;
		return -EINVAL;
	}
	return 0;
}
