/* SPDX-License-Identifier: MIT */
/*
 * Samplers: which memory-access samplers this host can run, and the perf
 * events (attrs) that implement each one.
 *
 *  - IBS-op (AMD): the ibs_op PMU, configured from its sysfs format fields.
 *  - PEBS (Intel): the core PMU's load-latency event (and a store event),
 *    encoded by libpfm4 for the running PMU model.
 *  - soft: the page-faults software event. Coarse: it sees first touches and
 *    NUMA hinting faults only, not every access. Only run when asked for.
 *  - hint: the same event, while a scanner (ibsp_hint_scan, capture.h)
 *    write-protects the targets' pages every period through soft-dirty
 *    (/proc/PID/clear_refs), so each page's next write faults, with its
 *    physical address. Coarse: writes only, at most one per page and period.
 *    Needs CONFIG_MEM_SOFT_DIRTY (ibsp_soft_dirty__probe()) and process
 *    targets. auto takes it after IBS and PEBS.
 */
#ifndef IBSP_SAMPLER_H
#define IBSP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

#include "ibsp/host.h"
#include "ibsp/sample.h"

/** struct ibsp_event_desc - one perf event: its attr, name, sample ids and decoder */
struct ibsp_event_desc {
	struct perf_event_attr attr; /* attr.size says how much the file held */
	char *name;		     /* EVENT_DESC name, or one we made up */
	uint32_t nr_ids;
	uint64_t *ids;
	enum ibsp_sampler_kind kind; /* the decoder its samples go to */
};

/** struct ibsp_sampler_opts - how to configure a sampler; start with sz = sizeof(opts) */
struct ibsp_sampler_opts {
	size_t sz;
	enum ibsp_sampler_kind kind; /* IBSP_SAMPLER_NONE: auto (IBS, then PEBS, then hint) */
	uint64_t period;	     /* 0: the sampler's default */
	bool ibs_count_cycles;	     /* IBS: count cycles instead of dispatched ops */
	bool ibs_l3_miss_only;	     /* IBS: keep only ops that missed L3 (Zen4+) */
	uint32_t ldlat_cycles;	     /* PEBS: load-latency threshold; 0: 30 like perf mem */
	bool pebs_no_stores;	     /* PEBS: sample loads only */
	const char *sysfs_root;	     /* NULL: "/sys" */
	bool auto_no_hint;	     /* auto: not hint (no process targets, e.g. -a) */
};

/* The hint sampler's event name (a recording's EVENT_DESC) and its probe detail. */
#define IBSP_HINT_EVENT_NAME "page-faults:hint"
#define IBSP_HINT_DETAIL                                                                        \
	"page-faults software event after soft-dirty write-protection of the targets (coarse: " \
	"writes only, one per page and scan)"
#define IBSP_HINT_SCAN_MS_DEFAULT 1000u /* how often the targets are write-protected */
#define IBSP_HINT_SCAN_MS_MIN	  250u	/* the floor: bounds the faults a target takes */

#define IBSP_IBS_PERIOD_UNIT	 16u	    /* IbsOpMaxCnt counts in units of 16 */
#define IBSP_IBS_PERIOD_MIN	 0x10u	    /* kernel perf_ibs_init() */
#define IBSP_IBS_PERIOD_MAX	 0xFFFF0u   /* MaxCnt[15:0] << 4 */
#define IBSP_IBS_PERIOD_MAX_EXT	 0x7FFFFF0u /* with OpCntExt: MaxCnt[26:20] too */
#define IBSP_IBS_DEFAULT_PERIOD	 0x40000u
#define IBSP_PEBS_DEFAULT_PERIOD 1009u /* prime, as perf mem users often pick */
#define IBSP_PEBS_DEFAULT_LDLAT	 30u   /* perf mem's default */

/** struct ibsp_sampler_status - whether a sampler can run here, and why not */
struct ibsp_sampler_status {
	enum ibsp_sampler_kind kind;
	bool available;
	char detail[160]; /* what was found: the PMU, its type, the event */
	char reason[256]; /* why it is unavailable; "" when available */
};

/**
 * ibsp_sampler__probe() - check whether sampler @kind can run on this host
 *
 * It looks for the PMU and, where that succeeds, opens (and closes) one real
 * event on CPU 0, so permission problems are found too.
 *
 * Return: 0 (see @st->available), or a negative errno on internal failure.
 */
int ibsp_sampler__probe(enum ibsp_sampler_kind kind, const struct ibsp_sampler_opts *opts,
			const struct ibsp_host_caps *caps, struct ibsp_sampler_status *st);

/**
 * ibsp_sampler__events() - the perf events that implement the sampler of @opts
 * @events: receives a malloc'd array (free with ibsp_sampler__free_events())
 * @nr: receives its length
 * @group_leader: receives, per event, the index of its group leader or -1
 *
 * Return: 0, or a negative errno with the reason logged (e.g. a period the
 * hardware cannot do, or no PEBS event for this PMU).
 */
int ibsp_sampler__events(const struct ibsp_sampler_opts *opts, const struct ibsp_host_caps *caps,
			 struct ibsp_event_desc **events, int **group_leader, uint32_t *nr);

void ibsp_sampler__free_events(struct ibsp_event_desc *events, int *group_leader, uint32_t nr);

/**
 * ibsp_sampler__auto() - pick IBS, then PEBS, then hint (unless @opts->auto_no_hint)
 * @why: receives a message for the user when none is available
 *
 * Return: the kind, or IBSP_SAMPLER_NONE with @why filled.
 */
enum ibsp_sampler_kind ibsp_sampler__auto(const struct ibsp_sampler_opts *opts,
					  const struct ibsp_host_caps *caps, char *why,
					  size_t why_len);

/** ibsp_ibs_period_check() - 0 if @period is valid for IBS-op with @ibs_caps, else -ERANGE (logged) */
int ibsp_ibs_period_check(uint64_t period, uint32_t ibs_caps);

/**
 * ibsp_pebs_encode() - libpfm4 encoding of @event_str into @attr
 *
 * Return: 0, or -EINVAL with the libpfm4 error logged.
 */
int ibsp_pebs_encode(const char *event_str, struct perf_event_attr *attr);

#endif /* IBSP_SAMPLER_H */
