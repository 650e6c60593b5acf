/* SPDX-License-Identifier: MIT */
/*
 * The telemetry state, shared by the JSON lines (telemetry.c) and the
 * Prometheus text (metrics.c): both read the same counters.
 */
#ifndef IBSP_TELEMETRY_INTERNAL_H
#define IBSP_TELEMETRY_INTERNAL_H

#include "ibsp/telemetry.h"

struct ibsp_telemetry {
	const struct ibsp_topology *topo;
	char sampler[8];
	bool dry_run;
	uint64_t seq;
	double last_time_s;
	struct ibsp_telemetry_counts cur, prev;
};

#endif
