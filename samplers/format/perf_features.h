/* SPDX-License-Identifier: MIT */
#ifndef IBSP_PERF_FEATURES_H
#define IBSP_PERF_FEATURES_H

#include <stdint.h>

#include "ibsp/perf_file.h"
#include "perf_abi.h"

/* Name of feature bit @bit ("NUMA_TOPOLOGY"), or "unknown". */
const char *ibsp_feature_name(unsigned int bit);

/*
 * Parse the feature sections of a file-mode perf.data whose header is @hdr.
 * Errors are logged with @path, the file offset and the field. Return 0 or -errno.
 */
int ibsp_features_parse(const char *path, int fd, uint64_t file_size,
			const struct perf_file_header *hdr, struct ibsp_recording_info *info,
			struct ibsp_event_desc *ev, uint32_t nr_events);

/*
 * Parse the payload of feature @bit held in @buf (pipe mode carries it in a
 * HEADER_FEATURE record); @file_off is where it starts, for messages.
 */
int ibsp_feature_parse_payload(const char *path, unsigned int bit, const uint8_t *buf, size_t len,
			       uint64_t file_off, struct ibsp_recording_info *info,
			       struct ibsp_event_desc *ev, uint32_t nr_events);

/*
 * Write the feature index at @idx_off followed by the payloads; @features
 * receives the bitmap to put in the file header. Return 0 or -errno.
 */
int ibsp_features_write(int fd, uint64_t idx_off, const struct ibsp_recording_info *info,
			const struct ibsp_event_desc *ev, uint32_t nr_events, uint64_t features[4]);

/*
 * Pipe mode: each feature (but SAMPLE_TIME, known only at the end) as a
 * PERF_RECORD_HEADER_FEATURE record { header; u64 feat_id; payload }, handed
 * to @emit. Return 0, -E2BIG for a payload a record cannot hold, or -errno.
 */
int ibsp_features_write_records(const struct ibsp_recording_info *info,
				const struct ibsp_event_desc *ev, uint32_t nr_events,
				int (*emit)(const void *rec, size_t len, void *ctx), void *ctx);

#endif
