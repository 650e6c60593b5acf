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
	const char *reload; /* for the next line: "applied" or "failed"; NULL */
};

/* Name tables by index, as both outputs walk them (by_names() and its metrics twin). */
static inline const char *sampler_name(int i)
{
	return ibsp_sampler_kind__name((enum ibsp_sampler_kind)i);
}

static inline const char *drop_name(int i)
{
	return ibsp_drop_reason__name((enum ibsp_drop_reason)i);
}

static inline const char *unres_name(int i)
{
	return ibsp_unresolved__name((enum ibsp_unresolved)i);
}

static inline const char *skip_name(int i)
{
	return ibsp_skip__name((enum ibsp_skip)i);
}

static inline const char *err_name(int i)
{
	return ibsp_mig_err__name((enum ibsp_mig_err)i);
}

#endif
