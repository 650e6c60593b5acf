// SPDX-License-Identifier: MIT
/*
 * The fields every decoder fills the same way: the generic ones (time, task,
 * CPU, IP, period, page size) and the addresses the kernel reported.
 */
#include <string.h>

#include "decode.h"

void ibsp_decode_common(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	uint64_t t = rs->type;

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
void ibsp_decode_addrs(const struct ibsp_raw_sample *rs, struct ibsp_sample *s)
{
	/*
	 * An event with no data address of its own (cpu-clock, cycles) still
	 * writes the field when asked (perf record -d): 0, perf's "none". No
	 * user mapping is at address 0 (vm.mmap_min_addr), so 0 is "unknown"
	 * for the others too.
	 */
	if ((rs->type & PERF_SAMPLE_ADDR) && rs->addr) {
		s->vaddr = rs->addr;
		s->flags |= IBSP_S_VADDR_VALID;
	}
	/*
	 * perf_virt_to_phys() writes 0 when the page is not present (always the
	 * case on a first-touch fault), so 0 means "unknown", not PFN 0.
	 */
	if ((rs->type & PERF_SAMPLE_PHYS_ADDR) && rs->phys_addr) {
		s->paddr = rs->phys_addr;
		s->flags |= IBSP_S_PADDR_VALID;
	}
}
