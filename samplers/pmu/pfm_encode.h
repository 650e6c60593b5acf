/* SPDX-License-Identifier: MIT */
/*
 * libpfm4 event encoding, kept in its own unit: libpfm4's perfmon/perf_event.h
 * redefines what <linux/perf_event.h> defines, so the two never meet in one file.
 */
#ifndef IBSP_PFM_ENCODE_H
#define IBSP_PFM_ENCODE_H

#include <stdint.h>

/* The perf_event_attr fields libpfm4 fills (PFM_OS_PERF_EVENT_EXT). */
struct ibsp_pfm_encoding {
	uint32_t type;
	uint64_t config, config1, config2;
	uint64_t sample_period;
	uint8_t precise_ip;
	uint8_t exclude_user, exclude_kernel, exclude_hv;
};

/* Encode @event_str for the detected (or LIBPFM_FORCE_PMU) PMU. Return 0 or -EINVAL (logged). */
int ibsp_pfm_encode(const char *event_str, struct ibsp_pfm_encoding *enc);

#endif
