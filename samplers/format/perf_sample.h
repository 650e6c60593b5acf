/* SPDX-License-Identifier: MIT */
/*
 * Parsing of PERF_RECORD_SAMPLE bodies and sample_id trailers, by
 * sample_type, in the kernel's order (Linux 6.1 kernel/events/core.c
 * perf_output_sample, __perf_event__output_id_sample).
 */
#ifndef IBSP_PERF_SAMPLE_H
#define IBSP_PERF_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/perf_event.h>

#include "raw_sample.h"

/* Every sample_type bit this parser knows (decodes or skips exactly). */
#define IBSP_SAMPLE_KNOWN_MASK ((uint64_t)PERF_SAMPLE_MAX - 1)

/** struct ibsp_parse_err - where and why a parse failed */
struct ibsp_parse_err {
	const char *field; /* e.g. "PERF_SAMPLE_RAW size" */
	size_t offset;	   /* byte offset inside the record */
	const char *reason;
};

/**
 * ibsp_parse_sample() - parse the record @rec of @size bytes (header included)
 *
 * Return: 0, or -EINVAL with @err filled.
 */
int ibsp_parse_sample(const struct perf_event_attr *attr, const void *rec, size_t size,
		      struct ibsp_raw_sample *out, struct ibsp_parse_err *err);

#define IBSP_LAYOUT_MAX_COPIES 16

/** struct ibsp_sample_copy - one field of the record copied into struct ibsp_raw_sample */
struct ibsp_sample_copy {
	uint16_t src; /* from the record's start (head) or from the end of RAW (tail) */
	uint8_t dst;  /* offset in struct ibsp_raw_sample; each copy is 8 bytes */
};

/**
 * struct ibsp_sample_layout - where an attr's sample fields sit, computed once
 *
 * @fixed is 0 where a field's size varies per sample (READ, CALLCHAIN,
 * BRANCH_STACK, REGS_*, STACK_USER, AUX) or a bit is unknown: those samples
 * take ibsp_parse_sample().
 */
struct ibsp_sample_layout {
	uint64_t type;
	uint8_t fixed, has_raw, weight_struct, nr_copies, first_tail;
	uint16_t head_size; /* header and the fields before RAW, bytes */
	uint16_t tail_size; /* the fields after RAW, bytes */
	uint16_t weight_struct_at;
	struct ibsp_sample_copy copies[IBSP_LAYOUT_MAX_COPIES];
};

/** ibsp_sample_layout__init() - the layout of @attr's samples */
void ibsp_sample_layout__init(struct ibsp_sample_layout *l, const struct perf_event_attr *attr);

/**
 * ibsp_parse_sample_fixed() - parse @rec by its attr's layout @l
 *
 * Fills @out as ibsp_parse_sample() would, without testing sample_type bits.
 *
 * Return: 0, or -1 when the layout does not apply or the record's size
 * disagrees with it: the caller then calls ibsp_parse_sample(), which says why.
 */
int ibsp_parse_sample_fixed(const struct ibsp_sample_layout *l, const void *rec, size_t size,
			    struct ibsp_raw_sample *out);

/** ibsp_sample_id_size() - bytes of the sample_id trailer for @sample_type */
size_t ibsp_sample_id_size(uint64_t sample_type);

/**
 * ibsp_parse_id_trailer() - read TIME (and IDENTIFIER id) from the sample_id
 * trailer at the end of a non-sample record
 *
 * Return: 0, or -EINVAL if the record is shorter than its trailer.
 */
int ibsp_parse_id_trailer(uint64_t sample_type, const void *rec, size_t size, uint64_t *time,
			  int *has_time);

/** ibsp_sample_type_bit_name() - "PERF_SAMPLE_IP" etc. for a single bit, or NULL */
const char *ibsp_sample_type_bit_name(uint64_t bit);

#endif
