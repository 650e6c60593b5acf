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
