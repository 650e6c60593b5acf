/* SPDX-License-Identifier: MIT */
/*
 * The fields one perf_event sample carries, as the kernel writes them
 * (Linux 6.1 kernel/events/core.c perf_output_sample). The PMU layer sets
 * sample_type and decodes these; samplers/format parses them out of
 * perf.data and ring records.
 */
#ifndef IBSP_RAW_SAMPLE_H
#define IBSP_RAW_SAMPLE_H

#include <stdint.h>

/** struct ibsp_raw_sample - the fields of one PERF_RECORD_SAMPLE; valid per @type */
struct ibsp_raw_sample {
	uint64_t type; /* the attr's sample_type */
	uint64_t id;   /* IDENTIFIER or ID */
	uint64_t ip;
	uint32_t pid, tid;
	uint64_t time;
	uint64_t addr;
	uint64_t stream_id;
	uint32_t cpu;
	uint64_t period;
	uint32_t raw_size;
	const uint8_t *raw; /* points into the record */
	uint64_t weight;    /* WEIGHT, or WEIGHT_STRUCT var1_dw */
	uint16_t weight_var2, weight_var3;
	uint64_t data_src;
	uint64_t transaction;
	uint64_t phys_addr;
	uint64_t cgroup;
	uint64_t data_page_size;
	uint64_t code_page_size;
	uint16_t misc; /* header misc */
};

#endif
