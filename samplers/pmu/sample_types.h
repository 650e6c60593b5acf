/* SPDX-License-Identifier: MIT */
/*
 * The sample_types our samplers ask for, and those of the perf record
 * recordings read most. samplers/format parses each of them by a function of
 * its own (perf_sample_layout.c).
 */
#ifndef IBSP_SAMPLE_TYPES_H
#define IBSP_SAMPLE_TYPES_H

#include <linux/perf_event.h>

/* The soft sampler: page faults with their address (and frame, where mapped). */
#define IBSP_TYPE_SOFT                                                                  \
	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | \
	 PERF_SAMPLE_ADDR | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_PHYS_ADDR)
/* The IBS-op sampler: the RAW registers, and the kernel's own fields beside them. */
#define IBSP_TYPE_IBS                                                                    \
	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | \
	 PERF_SAMPLE_PERIOD | PERF_SAMPLE_IP | PERF_SAMPLE_RAW | PERF_SAMPLE_ADDR |      \
	 PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_WEIGHT)
/* The PEBS load-latency sampler. */
#define IBSP_TYPE_PEBS (IBSP_TYPE_SOFT | PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_WEIGHT_STRUCT)
/* perf record -e ibs_op// -a, and with -d (ADDR; IDENTIFIER beside its dummy event). */
#define IBSP_TYPE_PERF_IBS                                                       \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | \
	 PERF_SAMPLE_PERIOD | PERF_SAMPLE_RAW)
#define IBSP_TYPE_PERF_IBS_D (IBSP_TYPE_PERF_IBS | PERF_SAMPLE_ADDR | PERF_SAMPLE_IDENTIFIER)
/* perf mem record --phys-data --data-page-size, and PEBS load latency by perf record -d. */
#define IBSP_TYPE_PERF_MEM                                                                  \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |           \
	 PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC | \
	 PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_DATA_PAGE_SIZE)

/*
 * Each of the types above, for a switch that handles each with its type a
 * constant: X(type) for each.
 */
#define IBSP_FOR_EACH_READ_MOST_TYPE(X) \
	X(IBSP_TYPE_SOFT)               \
	X(IBSP_TYPE_IBS)                \
	X(IBSP_TYPE_PEBS)               \
	X(IBSP_TYPE_PERF_IBS)           \
	X(IBSP_TYPE_PERF_IBS_D)         \
	X(IBSP_TYPE_PERF_MEM)

#endif
