// SPDX-License-Identifier: MIT
/*
 * The samplers' perf events, their availability, and auto selection.
 *
 * IBS-op rules: Linux 6.1 arch/x86/events/amd/ibs.c (perf_ibs_init,
 * perf_ibs_op_init). PEBS events: libpfm4 4.13 event tables, and the
 * mem-loads-aux rule of arch/x86/events/intel/core.c (intel_pmu_hw_config).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ibs_bits.h"
#include "ibsp/sampler.h"
#include "log_print.h"
#include "pfm_encode.h"
#include "pmu.h"
#include "sample_types.h"
#include "util.h"

static const char *sysfs(const struct ibsp_sampler_opts *o)
{
	return o && o->sysfs_root ? o->sysfs_root : "/sys";
}

int ibsp_ibs_period_check(uint64_t period, uint32_t ibs_caps)
{
	uint64_t max =
	    (ibs_caps & IBS_CAPS_OPCNTEXT) ? IBSP_IBS_PERIOD_MAX_EXT : IBSP_IBS_PERIOD_MAX;

	if (period < IBSP_IBS_PERIOD_MIN || period > max) {
		pr_err("IBS period %" PRIu64 " is out of range: IbsOpMaxCnt allows %u to %" PRIu64
		       " (%s)\n",
		       period, IBSP_IBS_PERIOD_MIN, max,
		       (ibs_caps & IBS_CAPS_OPCNTEXT) ? "27-bit count, OpCntExt"
						      : "16-bit count, no OpCntExt on this CPU");
		return -ERANGE;
	}
	if (period % IBSP_IBS_PERIOD_UNIT) {
		/* The kernel would clear the low 4 bits silently (perf_ibs_init). */
		pr_err("IBS period %" PRIu64
		       " is not a multiple of 16 (IbsOpMaxCnt counts in units "
		       "of 16); use %" PRIu64 " or %" PRIu64 "\n",
		       period, (uint64_t)(period & ~15ULL), (uint64_t)((period | 15ULL) + 1));
		return -ERANGE;
	}
	return 0;
}

int ibsp_pebs_encode(const char *event_str, struct perf_event_attr *attr)
{
	struct ibsp_pfm_encoding e;
	int ret = ibsp_pfm_encode(event_str, &e);

	if (ret)
		return ret;
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = e.type;
	attr->config = e.config;
	attr->config1 = e.config1;
	attr->config2 = e.config2;
	attr->sample_period = e.sample_period;
	attr->precise_ip = e.precise_ip & 3;
	attr->exclude_user = e.exclude_user & 1;
	attr->exclude_kernel = e.exclude_kernel & 1;
	attr->exclude_hv = e.exclude_hv & 1;
	return 0;
}

/* PEBS event strings per libpfm4 core PMU model (libpfm4 4.13 names). */
struct pebs_model {
	const char *pmu;	/* libpfm4 PMU name */
	const char *load;	/* load-latency event; ":ldlat=N:precise=2" is appended */
	const char *store;	/* precise store event, or NULL */
	const char *aux_leader; /* mem-loads-aux group leader, or NULL */
};

static const struct pebs_model pebs_models[] = {
	/*
	 * SPR: PMU_FL_MEM_LOADS_AUX. The kernel's mem-stores there is
	 * MEM_TRANS_RETIRED.STORE_SAMPLE (0x2cd), but libpfm4 4.13 encodes that
	 * name as 0x3cd (it adds the LOAD_LATENCY umask), so we sample stores
	 * with MEM_INST_RETIRED.ALL_STORES, which carries the data address too.
	 */
	{ "spr", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_INST_RETIRED:ALL_STORES:precise=2",
	  "LD_BLOCKS:STORE_FORWARD" },
	{ "icx", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_INST_RETIRED:ALL_STORES:precise=2", NULL },
	{ "icl", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_INST_RETIRED:ALL_STORES:precise=2", NULL },
	{ "skx", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_INST_RETIRED:ALL_STORES:precise=2", NULL },
	{ "clx", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_INST_RETIRED:ALL_STORES:precise=2", NULL },
	{ "skl", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_INST_RETIRED:ALL_STORES:precise=2", NULL },
	{ "bdx", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_UOPS_RETIRED:ALL_STORES:precise=2", NULL },
	{ "bdw", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_UOPS_RETIRED:ALL_STORES:precise=2", NULL },
	{ "hsw_ep", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_UOPS_RETIRED:ALL_STORES:precise=2",
	  NULL },
	{ "hsw", "MEM_TRANS_RETIRED:LOAD_LATENCY", "MEM_UOPS_RETIRED:ALL_STORES:precise=2", NULL },
};

static const struct pebs_model *pebs_model_of(const char *pfm_pmu)
{
	for (size_t i = 0; i < sizeof(pebs_models) / sizeof(pebs_models[0]); i++)
		if (!strcmp(pebs_models[i].pmu, pfm_pmu))
			return &pebs_models[i];
	return NULL;
}

struct evbuild {
	struct ibsp_event_desc *ev;
	int *leader;
	uint32_t nr;
};

static struct ibsp_event_desc *ev_add(struct evbuild *b, const char *name, int leader)
{
	struct ibsp_event_desc *ev = reallocarray(b->ev, b->nr + 1, sizeof(*ev));
	int *ld;

	if (!ev)
		return NULL;
	b->ev = ev;
	ld = reallocarray(b->leader, b->nr + 1, sizeof(*ld));
	if (!ld)
		return NULL;
	b->leader = ld;
	ev = &b->ev[b->nr];
	memset(ev, 0, sizeof(*ev));
	ev->name = strdup(name);
	if (!ev->name)
		return NULL;
	b->leader[b->nr++] = leader;
	ev->attr.size = sizeof(ev->attr);
	return ev;
}

/* Common to every sampling event we open. */
static void common_attr(struct perf_event_attr *a)
{
	a->disabled = 1;
	a->sample_id_all = 1;
	a->read_format =
	    PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
}

static int build_ibs(struct evbuild *b, const struct ibsp_sampler_opts *o,
		     const struct ibsp_host_caps *caps)
{
	struct ibsp_pmu *pmu;
	struct ibsp_event_desc *ev;
	uint64_t period = o->period ? o->period : IBSP_IBS_DEFAULT_PERIOD;
	int ret;

	ret = ibsp_pmu__from_sysfs(sysfs(o), "ibs_op", &pmu);
	if (ret) {
		if (ret == -ENOENT)
			pr_err("%s/bus/event_source/devices/ibs_op: no IBS-op PMU on this host\n",
			       sysfs(o));
		return ret;
	}
	ret = ibsp_ibs_period_check(period, caps->ibs_caps);
	if (ret)
		goto out;
	ev = ev_add(b, "ibs_op//", -1);
	if (!ev) {
		ret = -ENOMEM;
		goto out;
	}
	ev->attr.type = pmu->type;
	ev->attr.sample_period = period;
	ev->attr.sample_type = IBSP_TYPE_IBS;
	/* Count dispatched ops (uniform over ops) unless asked for cycles; from the sysfs field. */
	ret = ibsp_pmu__set(pmu, &ev->attr, "cnt_ctl", o->ibs_count_cycles ? 0 : 1);
	if (ret == -ENOENT && !o->ibs_count_cycles) {
		pr_warn("ibs_op: no cnt_ctl format field (no OpCnt); counting cycles\n");
		ret = 0;
	} else if (ret == -ENOENT) {
		ret = 0;
	}
	if (!ret && o->ibs_l3_miss_only) {
		ret = ibsp_pmu__set(pmu, &ev->attr, "l3missonly", 1);
		if (ret == -ENOENT)
			pr_err(
			    "ibs_op: no l3missonly format field: L3-miss filtering needs Zen4 and "
			    "Linux 5.19+\n");
	}
	if (ret)
		goto out;
	common_attr(&ev->attr);
	/* ibs_op has PERF_PMU_CAP_NO_EXCLUDE up to 6.13: every exclude_* bit must stay 0. */
	ev->attr.comm = 1;
	ev->attr.task = 1;
out:
	ibsp_pmu__delete(pmu);
	return ret;
}

static int build_pebs(struct evbuild *b, const struct ibsp_sampler_opts *o,
		      const struct ibsp_host_caps *caps)
{
	const struct pebs_model *m = caps->pfm_pmu[0] ? pebs_model_of(caps->pfm_pmu) : NULL;
	uint32_t ldlat = o->ldlat_cycles ? o->ldlat_cycles : IBSP_PEBS_DEFAULT_LDLAT;
	uint64_t period = o->period ? o->period : IBSP_PEBS_DEFAULT_PERIOD;
	struct ibsp_event_desc *ev;
	char str[160];
	int leader = -1, ret;

	if (!m) {
		pr_err("PEBS: no precise load-latency event known for core PMU '%s'\n",
		       caps->pfm_pmu[0] ? caps->pfm_pmu : "(none detected by libpfm4)");
		return -ENOENT;
	}
	if (m->aux_leader) {
		/* A counting placeholder: precise_ip on a non-sampling event is -EINVAL. */
		ev = ev_add(b, m->aux_leader, -1);
		if (!ev)
			return -ENOMEM;
		if ((ret = ibsp_pebs_encode(m->aux_leader, &ev->attr)))
			return ret;
		ev->attr.sample_period = 0;
		ev->attr.precise_ip = 0;
		/* The same sample_type and sample_id_all as its members: a recording's attrs must
		 * agree on where the sample id is (perf's evlist__valid_sample_type). */
		ev->attr.sample_type = IBSP_TYPE_PEBS;
		common_attr(&ev->attr);
		ev->attr.comm = 1;
		ev->attr.task = 1;
		leader = (int)b->nr - 1;
	}
	snprintf(str, sizeof(str), "%s:ldlat=%u:precise=2", m->load, ldlat);
	ev = ev_add(b, str, leader);
	if (!ev)
		return -ENOMEM;
	if ((ret = ibsp_pebs_encode(str, &ev->attr)))
		return ret;
	ev->attr.sample_period = period;
	ev->attr.sample_type = IBSP_TYPE_PEBS;
	common_attr(&ev->attr);
	/* Large PEBS needs a watermark wakeup, not wakeup_events (set by the capture). */
	ev->attr.comm = leader < 0;
	ev->attr.task = leader < 0;
	if (!o->pebs_no_stores && m->store) {
		ev = ev_add(b, m->store, -1);
		if (!ev)
			return -ENOMEM;
		if ((ret = ibsp_pebs_encode(m->store, &ev->attr)))
			return ret;
		ev->attr.sample_period = period;
		ev->attr.sample_type = IBSP_TYPE_PEBS;
		common_attr(&ev->attr);
	}
	return 0;
}

/* soft and hint: the page-faults software event; hint's name tells a recording's readers. */
static int build_soft(struct evbuild *b, const struct ibsp_sampler_opts *o)
{
	struct ibsp_event_desc *ev =
	    ev_add(b, o->kind == IBSP_SAMPLER_HINT ? IBSP_HINT_EVENT_NAME : "page-faults", -1);

	if (!ev)
		return -ENOMEM;
	ev->attr.type = PERF_TYPE_SOFTWARE;
	ev->attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev->attr.sample_period = o->period ? o->period : 1;
	ev->attr.sample_type = IBSP_TYPE_SOFT;
	/*
	 * A software event with PERF_SAMPLE_PERIOD samples every event whatever
	 * its sample_period (perf_swevent_event(), kernel/events/core.c: it
	 * overflows at once and reports period = nr), so -c 16 gave as many
	 * samples as -c 1. perf record leaves PERIOD out for -c too; the
	 * readers take the period from the attr when a sample lacks it.
	 */
	if (ev->attr.sample_period > 1)
		ev->attr.sample_type &= ~(uint64_t)PERF_SAMPLE_PERIOD;
	common_attr(&ev->attr);
	ev->attr.comm = 1;
	ev->attr.task = 1;
	return 0;
}

void ibsp_sampler__free_events(struct ibsp_event_desc *events, int *group_leader, uint32_t nr)
{
	for (uint32_t i = 0; events && i < nr; i++) {
		free(events[i].name);
		free(events[i].ids);
	}
	free(events);
	free(group_leader);
}

int ibsp_sampler__events(const struct ibsp_sampler_opts *user_opts,
			 const struct ibsp_host_caps *caps, struct ibsp_event_desc **events,
			 int **group_leader, uint32_t *nr)
{
	struct ibsp_sampler_opts opts, *o = &opts;
	struct evbuild b = { 0 };
	int ret;

	IBSP_OPTS_COPY(opts, user_opts);
	switch (o->kind) {
	case IBSP_SAMPLER_IBS:
		ret = build_ibs(&b, o, caps);
		break;
	case IBSP_SAMPLER_PEBS:
		ret = build_pebs(&b, o, caps);
		break;
	case IBSP_SAMPLER_SOFT:
	case IBSP_SAMPLER_HINT:
		ret = build_soft(&b, o);
		break;
	default:
		pr_err("no sampler chosen\n");
		ret = -EINVAL;
	}
	if (ret) {
		ibsp_sampler__free_events(b.ev, b.leader, b.nr);
		return ret;
	}
	for (uint32_t i = 0; i < b.nr; i++)
		b.ev[i].kind = o->kind;
	*events = b.ev;
	*group_leader = b.leader;
	*nr = b.nr;
	return 0;
}

/* Open the sampler's events on CPU 0 (a group where needed) and close them again. */
static int try_open(struct ibsp_event_desc *ev, const int *leader, uint32_t nr, char *why,
		    size_t len)
{
	int fds[8], ret = 0;
	uint32_t i;

	for (i = 0; i < nr && i < 8; i++) {
		int gfd = leader[i] >= 0 ? fds[leader[i]] : -1;

		fds[i] = (int)syscall(SYS_perf_event_open, &ev[i].attr, -1, 0, gfd,
				      PERF_FLAG_FD_CLOEXEC);
		if (fds[i] < 0) {
			ret = -errno;
			snprintf(why, len, "perf_event_open(%s) on CPU 0 failed: %s", ev[i].name,
				 strerror(errno));
			break;
		}
	}
	while (i-- > 0)
		close(fds[i]);
	return ret;
}

static void perm_reason(const struct ibsp_host_caps *c, char *why, size_t len)
{
	if (c->perf_event_paranoid > 2 && !c->cap_sys_admin)
		snprintf(why, len,
			 "perf_event_paranoid=%d needs CAP_SYS_ADMIN for any perf event (run as "
			 "root, or lower /proc/sys/kernel/perf_event_paranoid)",
			 c->perf_event_paranoid);
	else
		snprintf(why, len,
			 "missing CAP_PERFMON (perf_event_paranoid=%d): CPU-wide sampling with "
			 "physical addresses needs CAP_PERFMON or CAP_SYS_ADMIN, or paranoid <= 0",
			 c->perf_event_paranoid);
}

int ibsp_sampler__probe(enum ibsp_sampler_kind kind, const struct ibsp_sampler_opts *opts,
			const struct ibsp_host_caps *c, struct ibsp_sampler_status *st)
{
	struct ibsp_sampler_opts o = { .sz = sizeof(o) };
	struct ibsp_event_desc *ev = NULL;
	int *leader = NULL;
	uint32_t nr = 0;
	ibsp_print_fn_t saved;
	int ret;

	IBSP_OPTS_COPY(o, opts);
	o.kind = kind;
	memset(st, 0, sizeof(*st));
	st->kind = kind;

	if (kind == IBSP_SAMPLER_IBS) {
		struct ibsp_pmu *pmu;

		ret = ibsp_pmu__from_sysfs(sysfs(&o), "ibs_op", &pmu);
		if (ret) {
			snprintf(st->reason, sizeof(st->reason),
				 "no ibs_op PMU in %s/bus/event_source/devices (%s)", sysfs(&o),
				 strcmp(c->vendor, "AuthenticAMD") ? "not an AMD CPU"
				 : c->hypervisor ? "a VM without a PMU: the hypervisor hides IBS"
						 : "this AMD CPU or kernel has no IBS");
			return 0;
		}
		snprintf(st->detail, sizeof(st->detail), "ibs_op type %u, caps %#x%s", pmu->type,
			 c->ibs_caps,
			 ibsp_pmu__cap(pmu, "zen4_ibs_extensions") ? ", zen4_ibs_extensions" : "");
		ibsp_pmu__delete(pmu);
	} else if (kind == IBSP_SAMPLER_PEBS) {
		if (strcmp(c->vendor, "GenuineIntel")) {
			snprintf(st->reason, sizeof(st->reason),
				 "no precise memory event: not an Intel CPU (%s)",
				 c->vendor[0] ? c->vendor : "unknown vendor");
			return 0;
		}
		if (!c->core_pmu) {
			snprintf(st->reason, sizeof(st->reason),
				 "no precise memory event: no core PMU in "
				 "/sys/bus/event_source/devices%s",
				 c->hypervisor ? " (a VM without a PMU)" : "");
			return 0;
		}
		if (!c->pfm_pmu[0] || !pebs_model_of(c->pfm_pmu)) {
			snprintf(st->reason, sizeof(st->reason),
				 "no precise memory event known for core PMU '%s' (libpfm4 4.13)",
				 c->pfm_pmu[0] ? c->pfm_pmu : "undetected");
			return 0;
		}
		snprintf(st->detail, sizeof(st->detail), "libpfm4 PMU %s", c->pfm_pmu);
	} else if (kind == IBSP_SAMPLER_SOFT) {
		snprintf(
		    st->detail, sizeof(st->detail),
		    "page-faults software event (coarse: first touch and hinting faults only)");
	} else if (kind == IBSP_SAMPLER_HINT) {
		snprintf(st->detail, sizeof(st->detail), IBSP_HINT_DETAIL);
		if (ibsp_soft_dirty__probe(st->reason, sizeof(st->reason)) != 1)
			return 0;
	} else {
		return -EINVAL;
	}

	if (!ibsp_host_caps__may_sample_cpus(c)) {
		perm_reason(c, st->reason, sizeof(st->reason));
		return 0;
	}
	/* The event builders log their errors; the probe reports them as a reason instead. */
	saved = ibsp_set_print(NULL);
	ret = ibsp_sampler__events(&o, c, &ev, &leader, &nr);
	ibsp_set_print(saved);
	if (ret) {
		snprintf(st->reason, sizeof(st->reason), "cannot build its events: %s",
			 strerror(-ret));
		return 0;
	}
	ret = try_open(ev, leader, nr, st->reason, sizeof(st->reason));
	ibsp_sampler__free_events(ev, leader, nr);
	st->available = ret == 0;
	return 0;
}

enum ibsp_sampler_kind ibsp_sampler__auto(const struct ibsp_sampler_opts *opts,
					  const struct ibsp_host_caps *caps, char *why,
					  size_t why_len)
{
	struct ibsp_sampler_status ibs, pebs, hint = { .reason = "" };

	ibsp_sampler__probe(IBSP_SAMPLER_IBS, opts, caps, &ibs);
	if (ibs.available)
		return IBSP_SAMPLER_IBS;
	ibsp_sampler__probe(IBSP_SAMPLER_PEBS, opts, caps, &pebs);
	if (pebs.available)
		return IBSP_SAMPLER_PEBS;
	if (opts && opts->auto_no_hint)
		snprintf(hint.reason, sizeof(hint.reason),
			 "needs process targets (--pid, --cgroup or a command), not -a");
	else
		ibsp_sampler__probe(IBSP_SAMPLER_HINT, opts, caps, &hint);
	if (hint.available)
		return IBSP_SAMPLER_HINT;
	snprintf(why, why_len,
		 "no hardware sampler available, and no hint faults.\n"
		 "  IBS-op: %s\n"
		 "  PEBS:   %s\n"
		 "  hint:   %s\n"
		 "To go on: use --sampler=soft (coarse page-fault sampling, works without a PMU), "
		 "or replay a recording made on a host with IBS or PEBS (ibs-promote info/dump "
		 "FILE).",
		 ibs.reason, pebs.reason, hint.reason);
	return IBSP_SAMPLER_NONE;
}
