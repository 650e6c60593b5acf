/* SPDX-License-Identifier: MIT */
/*
 * AMD IBS-op register layout: every bit position the decoder uses, in one place.
 *
 * Sources: Linux 6.1 arch/x86/include/asm/amd-ibs.h (register unions),
 * arch/x86/include/asm/perf_event.h (IBS_CAPS_*), arch/x86/events/amd/ibs.c
 * (RAW layout, errata), tools/perf/util/amd-sample-raw.c (DataSrc names);
 * AMD PPR for family 19h (IbsOpData2/3 field definitions).
 */
#ifndef IBSP_IBS_BITS_H
#define IBSP_IBS_BITS_H

/* IBS capability word (CPUID Fn8000_001B EAX), the first u32 of the RAW block. */
#define IBS_CAPS_AVAIL	       (1u << 0)
#define IBS_CAPS_FETCHSAM      (1u << 1)
#define IBS_CAPS_OPSAM	       (1u << 2)
#define IBS_CAPS_RDWROPCNT     (1u << 3)
#define IBS_CAPS_OPCNT	       (1u << 4)
#define IBS_CAPS_BRNTRGT       (1u << 5) /* IbsBrTarget follows the 7 base registers */
#define IBS_CAPS_OPCNTEXT      (1u << 6)
#define IBS_CAPS_RIPINVALIDCHK (1u << 7) /* IbsOpData bit 38 is meaningful */
#define IBS_CAPS_OPBRNFUSE     (1u << 8)
#define IBS_CAPS_FETCHCTLEXTD  (1u << 9)
#define IBS_CAPS_OPDATA4       (1u << 10) /* IbsOpData4 follows (after BrTarget) */
#define IBS_CAPS_ZEN4	       (1u << 11) /* 5-bit DataSrc, L3MissOnly */

/* RAW block: u32 caps, then u64 registers in this order (struct perf_ibs_data). */
enum ibs_op_reg {
	IBS_REG_OPCTL = 0,
	IBS_REG_OPRIP = 1,
	IBS_REG_OPDATA = 2,
	IBS_REG_OPDATA2 = 3,
	IBS_REG_OPDATA3 = 4,
	IBS_REG_DCLINAD = 5,
	IBS_REG_DCPHYSAD = 6,
	IBS_REG_NR_BASE = 7,
	/* then IbsBrTarget if IBS_CAPS_BRNTRGT, then IbsOpData4 if IBS_CAPS_OPDATA4 */
};

/* IbsOpCtl (MSR c0011033) */
#define IBS_OPCTL_MAXCNT_MASK	   0xffffULL	/* bits 15:0, period = MaxCnt * 16 */
#define IBS_OPCTL_L3MISSONLY	   (1ULL << 16) /* Zen4 */
#define IBS_OPCTL_OPEN		   (1ULL << 17)
#define IBS_OPCTL_OPVAL		   (1ULL << 18)
#define IBS_OPCTL_CNTCTL	   (1ULL << 19) /* 1 = count dispatched ops */
#define IBS_OPCTL_MAXCNT_EXT_SHIFT 20		/* bits 26:20 */

/* IbsOpData (MSR c0011035) */
#define IBS_OPDATA_TAGTORET_SHIFT 16 /* bits 31:16 */
#define IBS_OPDATA_RIPINVALID	  (1ULL << 38)

/* IbsOpData2 (MSR c0011036) */
#define IBS_OPDATA2_DATASRC_LO_MASK  0x7ULL /* bits 2:0 */
#define IBS_OPDATA2_RMTNODE	     (1ULL << 4)
#define IBS_OPDATA2_CACHEHITST	     (1ULL << 5)
#define IBS_OPDATA2_DATASRC_HI_SHIFT 6 /* bits 7:6, Zen4: code = hi << 3 | lo */
#define IBS_OPDATA2_DATASRC_HI_MASK  0x3ULL

/* IbsOpData3 (MSR c0011037) */
#define IBS_OPDATA3_LDOP	     (1ULL << 0)
#define IBS_OPDATA3_STOP	     (1ULL << 1)
#define IBS_OPDATA3_DCL1TLBMISS	     (1ULL << 2)
#define IBS_OPDATA3_DCL2TLBMISS	     (1ULL << 3)
#define IBS_OPDATA3_DCL1TLBHIT2M     (1ULL << 4)
#define IBS_OPDATA3_DCL1TLBHIT1G     (1ULL << 5)
#define IBS_OPDATA3_DCL2TLBHIT2M     (1ULL << 6)
#define IBS_OPDATA3_DCMISS	     (1ULL << 7)
#define IBS_OPDATA3_DCMISACC	     (1ULL << 8)
#define IBS_OPDATA3_DCWCMEMACC	     (1ULL << 13)
#define IBS_OPDATA3_DCUCMEMACC	     (1ULL << 14)
#define IBS_OPDATA3_DCLOCKEDOP	     (1ULL << 15)
#define IBS_OPDATA3_DCMISSNOMABALLOC (1ULL << 16)
#define IBS_OPDATA3_DCLINADDRVALID   (1ULL << 17)
#define IBS_OPDATA3_DCPHYADDRVALID   (1ULL << 18)
#define IBS_OPDATA3_DCL2TLBHIT1G     (1ULL << 19)
#define IBS_OPDATA3_L2MISS	     (1ULL << 20)
#define IBS_OPDATA3_SWPF	     (1ULL << 21)
#define IBS_OPDATA3_DCMISSLAT_SHIFT  32 /* bits 47:32, cycles */
#define IBS_OPDATA3_DCMISSLAT_MASK   0xffffULL

/* DataSrc codes (IbsOpData2). Before Zen4 only the low 3 bits exist. */
enum ibs_data_src {
	IBS_DS_NONE = 0,
	IBS_DS_ZEN4_LOCAL_CACHE = 1, /* local L3 or another L1/L2 in the CCX */
	IBS_DS_LOCAL_CACHE = 2,	     /* pre-Zen4: local node cache; Zen4: near CCX peer cache */
	IBS_DS_DRAM = 3,	     /* RmtNode tells local or remote */
	IBS_DS_REMOTE_CACHE = 4,     /* pre-Zen4 only */
	IBS_DS_ZEN4_FAR_CCX = 5,
	IBS_DS_ZEN4_LONG_LAT_DRAM = 6, /* kernel: EXT_PMEM */
	IBS_DS_IO = 7,
	IBS_DS_ZEN4_EXT_MEM = 8, /* CXL and other extension memory; kernel: EXT_EXT_MEM */
	IBS_DS_ZEN4_PEER_AGENT = 12,
};

#endif
