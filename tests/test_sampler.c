// SPDX-License-Identifier: MIT
/*
 * Samplers without the hardware:
 *  - PEBS encodings for Ice Lake server (icx), Ice Lake client (icl), Skylake
 *    server (skx) and Sapphire Rapids (spr) through libpfm4's LIBPFM_FORCE_PMU;
 *    expected values from the libpfm4 4.13 Intel event tables
 *    (lib/events/intel_icx_events.h, intel_spr_events.h: MEM_TRANS_RETIRED
 *    0xcd umask LOAD_LATENCY 0x1, MEM_INST_RETIRED 0xd0
 *    ALL_STORES 0x82, LD_BLOCKS 0x03 STORE_FORWARD 0x82) and the ldlat
 *    attribute, which libpfm4 places in config1 (pfmlib_intel_x86_perf_event.c).
 *  - IBS-op attrs built from a fake sysfs ibs_op PMU, and the period rules of
 *    Linux 6.1 arch/x86/events/amd/ibs.c.
 *  - The IBS decoder against perf's own decoder: an ibs_op recording written
 *    by our writer, read back by `perf report -D` (tools/perf/util/amd-sample-raw.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "decode.h"
#include "ibs_bits.h"
#include "pmu.h"
#include "ibsp/sampler.h"

/* ---- PEBS encodings ---------------------------------------------------------------------- */

struct pebs_row {
	const char *pmu;
	uint32_t nr_events;
	struct {
		uint64_t config, config1;
		uint8_t precise_ip;
		uint64_t period;
		int leader;
	} ev[3];
};

static const struct pebs_row pebs_rows[] = {
	{ "icx", 2, { { 0x1cd, 30, 2, 1009, -1 }, { 0x82d0, 0, 2, 1009, -1 } } },
	{ "icl", 2, { { 0x1cd, 30, 2, 1009, -1 }, { 0x82d0, 0, 2, 1009, -1 } } },
	{ "skx", 2, { { 0x1cd, 30, 2, 1009, -1 }, { 0x82d0, 0, 2, 1009, -1 } } },
	/* SPR: the mem-loads-aux placeholder (counting, not precise) leads the load event */
	{ "spr",
	  3,
	  { { 0x8203, 0, 0, 0, -1 }, { 0x1cd, 30, 2, 1009, 0 }, { 0x82d0, 0, 2, 1009, -1 } } },
};

static void check_pebs_model(const struct pebs_row *row)
{
	struct ibsp_sampler_opts o = { .sz = sizeof(o), .kind = IBSP_SAMPLER_PEBS };
	struct ibsp_host_caps caps;
	struct ibsp_event_desc *ev;
	int *leader;
	uint32_t nr;

	cr_assert_eq(setenv("LIBPFM_FORCE_PMU", row->pmu, 1), 0);
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_str_eq(caps.pfm_pmu, row->pmu, "libpfm4 detected '%s' under LIBPFM_FORCE_PMU=%s",
			 caps.pfm_pmu, row->pmu);
	cr_assert_eq(ibsp_sampler__events(&o, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(nr, row->nr_events);
	for (uint32_t i = 0; i < nr; i++) {
		const struct perf_event_attr *a = &ev[i].attr;

		cr_assert_eq(a->type, PERF_TYPE_RAW, "%s event %u type %u", row->pmu, i, a->type);
		cr_assert_eq(a->config, row->ev[i].config, "%s event %u (%s) config %#llx",
			     row->pmu, i, ev[i].name, (unsigned long long)a->config);
		cr_assert_eq(a->config1, row->ev[i].config1, "%s event %u config1", row->pmu, i);
		cr_assert_eq(a->precise_ip, row->ev[i].precise_ip, "%s event %u precise_ip",
			     row->pmu, i);
		cr_assert_eq(a->sample_period, row->ev[i].period);
		cr_assert_eq(leader[i], row->ev[i].leader);
		/* every attr of a recording puts the sample id first and has sample_id_all */
		cr_assert(a->sample_type & PERF_SAMPLE_IDENTIFIER, "%s event %u", row->pmu, i);
		cr_assert(a->sample_id_all, "%s event %u", row->pmu, i);
		if (a->sample_period) {
			uint64_t want = PERF_SAMPLE_ADDR | PERF_SAMPLE_PHYS_ADDR |
					PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_WEIGHT_STRUCT |
					PERF_SAMPLE_CPU | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
					PERF_SAMPLE_IDENTIFIER;

			cr_assert_eq(a->sample_type & want, want, "%s event %u sample_type %#llx",
				     row->pmu, i, (unsigned long long)a->sample_type);
			cr_assert(!(a->sample_type & PERF_SAMPLE_WEIGHT),
				  "WEIGHT with WEIGHT_STRUCT is -EINVAL");
		}
	}
	ibsp_sampler__free_events(ev, leader, nr);
}

Test(pebs, icelake_server_encoding)
{
	check_pebs_model(&pebs_rows[0]);
}

Test(pebs, icelake_client_encoding)
{
	check_pebs_model(&pebs_rows[1]);
}

Test(pebs, skylake_server_encoding)
{
	check_pebs_model(&pebs_rows[2]);
}

Test(pebs, sapphire_rapids_encoding_with_aux_leader)
{
	check_pebs_model(&pebs_rows[3]);
}

Test(pebs, ldlat_and_loads_only)
{
	struct ibsp_sampler_opts o = { .sz = sizeof(o),
				       .kind = IBSP_SAMPLER_PEBS,
				       .ldlat_cycles = 128,
				       .pebs_no_stores = true,
				       .period = 4001 };
	struct ibsp_host_caps caps;
	struct ibsp_event_desc *ev;
	int *leader;
	uint32_t nr;

	setenv("LIBPFM_FORCE_PMU", "icx", 1);
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_eq(ibsp_sampler__events(&o, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(nr, 1);
	cr_assert_eq(ev[0].attr.config1, 128);
	cr_assert_eq(ev[0].attr.sample_period, 4001);
	ibsp_sampler__free_events(ev, leader, nr);
}

/* The reference table of libpfm4 4.13 encodings. */
static const struct {
	const char *pmu, *str;
	uint64_t config, config1;
	uint8_t precise;
} pfm_rows[] = {
	{ "spr", "MEM_TRANS_RETIRED:LOAD_LATENCY:ldlat=128:precise=2", 0x1cd, 0x80, 2 },
	{ "icx", "MEM_INST_RETIRED:ALL_LOADS:precise=2", 0x81d0, 0, 2 },
	{ "spr", "LD_BLOCKS:STORE_FORWARD", 0x8203, 0, 0 },
	{ "skx", "MEM_LOAD_L3_MISS_RETIRED:REMOTE_DRAM", 0x2d3, 0, 0 },
};

/*
 * The rows of @pmu, one by one. libpfm4 binds to one forced PMU per process,
 * so each PMU has its own test (Criterion runs every test in its own process).
 */
static void check_pfm_rows(const char *pmu)
{
	struct perf_event_attr a;
	unsigned int checked = 0;

	cr_assert_eq(setenv("LIBPFM_FORCE_PMU", pmu, 1), 0);
	for (size_t i = 0; i < sizeof(pfm_rows) / sizeof(pfm_rows[0]); i++) {
		if (strcmp(pfm_rows[i].pmu, pmu))
			continue;
		cr_assert_eq(ibsp_pebs_encode(pfm_rows[i].str, &a), 0, "%s %s", pmu,
			     pfm_rows[i].str);
		cr_assert_eq(a.type, PERF_TYPE_RAW, "%s", pfm_rows[i].str);
		cr_assert_eq(a.config, pfm_rows[i].config, "%s: config %#llx", pfm_rows[i].str,
			     (unsigned long long)a.config);
		cr_assert_eq(a.config1, pfm_rows[i].config1, "%s", pfm_rows[i].str);
		cr_assert_eq(a.precise_ip, pfm_rows[i].precise, "%s", pfm_rows[i].str);
		checked++;
	}
	cr_assert_gt(checked, 0, "no row for %s", pmu);
}

Test(pebs, documented_raw_encodings)
{
	struct perf_event_attr a;

	check_pfm_rows("spr");
	log_capture_start();
	cr_assert_eq(ibsp_pebs_encode("NO_SUCH_EVENT:FOO", &a), -EINVAL);
	cr_assert(strstr(log_captured(), "NO_SUCH_EVENT:FOO"), "log: %s", log_captured());
}

Test(pebs, documented_raw_encodings_icx)
{
	check_pfm_rows("icx");
}

Test(pebs, documented_raw_encodings_skx)
{
	check_pfm_rows("skx");
}

Test(pebs, unknown_pmu_is_refused)
{
	struct ibsp_sampler_opts o = { .sz = sizeof(o), .kind = IBSP_SAMPLER_PEBS };
	struct ibsp_host_caps caps = { 0 };
	struct ibsp_event_desc *ev;
	int *leader;
	uint32_t nr;

	strcpy(caps.pfm_pmu, "amd64_fam19h_zen4");
	log_capture_start();
	cr_assert_eq(ibsp_sampler__events(&o, &caps, &ev, &leader, &nr), -ENOENT);
	cr_assert(strstr(log_captured(), "amd64_fam19h_zen4"), "log: %s", log_captured());
}

/* ---- IBS-op attrs from a fake sysfs ------------------------------------------------------- */

static void put_file(const char *root, const char *rel, const char *text)
{
	char path[1024], cmd[1200];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	cr_assert_eq(system(cmd), 0);
	spit(path, text, strlen(text));
}

static const char *fake_ibs_sysfs(const char *name, int zen4)
{
	const char *root = tmp_path(name);

	put_file(root, "bus/event_source/devices/ibs_op/type", "11\n");
	put_file(root, "bus/event_source/devices/ibs_op/format/cnt_ctl", "config:19\n");
	if (zen4) {
		put_file(root, "bus/event_source/devices/ibs_op/format/l3missonly", "config:16\n");
		put_file(root, "bus/event_source/devices/ibs_op/caps/zen4_ibs_extensions", "1\n");
	}
	return root;
}

static struct ibsp_event_desc *ibs_events(struct ibsp_sampler_opts *o, uint32_t ibs_caps,
					  int expect_ret)
{
	struct ibsp_host_caps caps = { .ibs_caps = ibs_caps };
	struct ibsp_event_desc *ev = NULL;
	int *leader = NULL;
	uint32_t nr = 0;

	o->sz = sizeof(*o);
	o->kind = IBSP_SAMPLER_IBS;
	cr_assert_eq(ibsp_sampler__events(o, &caps, &ev, &leader, &nr), expect_ret);
	if (expect_ret)
		return NULL;
	cr_assert_eq(nr, 1);
	cr_assert_eq(leader[0], -1);
	free(leader);
	return ev;
}

Test(ibs, attr_from_sysfs_format_fields)
{
	struct ibsp_sampler_opts o = { .sysfs_root = fake_ibs_sysfs("ibs-zen4", 1) };
	struct ibsp_event_desc *ev = ibs_events(&o, 0, 0);
	const uint64_t want_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU |
				   PERF_SAMPLE_PERIOD | PERF_SAMPLE_IP | PERF_SAMPLE_RAW |
				   PERF_SAMPLE_ADDR | PERF_SAMPLE_PHYS_ADDR | PERF_SAMPLE_DATA_SRC |
				   PERF_SAMPLE_WEIGHT | PERF_SAMPLE_IDENTIFIER;

	cr_assert_eq(ev[0].attr.type, 11);
	cr_assert_eq(ev[0].attr.config, 1ULL << 19, "cnt_ctl=1 from format/cnt_ctl 'config:19'");
	cr_assert_eq(ev[0].attr.sample_period, IBSP_IBS_DEFAULT_PERIOD);
	cr_assert_eq(ev[0].attr.sample_type, want_type);
	cr_assert_eq(ev[0].attr.exclude_kernel, 0, "ibs_op refuses exclude_* bits up to 6.13");
	cr_assert_eq(ev[0].attr.exclude_user | ev[0].attr.exclude_hv | ev[0].attr.exclude_idle, 0);
	cr_assert_eq(ev[0].attr.read_format &
			 (PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING),
		     PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING);
	cr_assert_str_eq(ev[0].name, "ibs_op//");
	ibsp_sampler__free_events(ev, NULL, 1);

	o.ibs_count_cycles = true;
	o.ibs_l3_miss_only = true;
	o.period = 0x10000;
	ev = ibs_events(&o, 0, 0);
	cr_assert_eq(ev[0].attr.config, 1ULL << 16, "cycles mode with l3missonly ('config:16')");
	cr_assert_eq(ev[0].attr.sample_period, 0x10000);
	ibsp_sampler__free_events(ev, NULL, 1);
}

Test(ibs, l3_miss_needs_the_format_field)
{
	struct ibsp_sampler_opts o = { .sysfs_root = fake_ibs_sysfs("ibs-zen3", 0),
				       .ibs_l3_miss_only = true };

	log_capture_start();
	ibs_events(&o, 0, -ENOENT);
	cr_assert(strstr(log_captured(), "l3missonly"), "log: %s", log_captured());
}

Test(ibs, missing_pmu)
{
	struct ibsp_sampler_opts o = { .sysfs_root = tmp_path("no-ibs") };

	log_capture_start();
	ibs_events(&o, 0, -ENOENT);
	cr_assert(strstr(log_captured(), "ibs_op"), "log: %s", log_captured());
}

Test(ibs, period_limits)
{
	static const struct {
		uint64_t period;
		uint32_t caps;
		int ret;
	} rows[] = {
		{ 0x10, 0, 0 },			     /* minimum: MaxCnt 1 */
		{ 0xF, 0, -ERANGE },		     /* below the minimum */
		{ 1000, 0, -ERANGE },		     /* not a multiple of 16 */
		{ 0xFFFF0, 0, 0 },		     /* MaxCnt 0xffff */
		{ 0x100000, 0, -ERANGE },	     /* needs OpCntExt */
		{ 0x100000, IBS_CAPS_OPCNTEXT, 0 },  /* 27-bit count */
		{ 0x7FFFFF0, IBS_CAPS_OPCNTEXT, 0 }, /* largest with OpCntExt */
		{ 0x8000000, IBS_CAPS_OPCNTEXT, -ERANGE },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		log_capture_start();
		cr_assert_eq(ibsp_ibs_period_check(rows[i].period, rows[i].caps), rows[i].ret,
			     "period %#llx caps %#x", (unsigned long long)rows[i].period,
			     rows[i].caps);
		if (rows[i].ret)
			cr_assert(strstr(log_captured(), "IBS period"), "log: %s", log_captured());
	}
	log_capture_start();
	ibsp_ibs_period_check(1000, 0);
	cr_assert(strstr(log_captured(), "use 992 or 1008"), "log: %s", log_captured());
}

/* ---- the IBS decoder against perf report -D ----------------------------------------------- */

#define IBS_TYPE_NR 11

/* Register values for sample @i: a mix of loads, stores, valid flags, latencies, page sizes. */
static void ibs_regs(unsigned int i, uint64_t *regs, int *ours_keeps, int *perf_prints)
{
	uint64_t d3 = 0, ctl = IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL | (0x4000 & IBS_OPCTL_MAXCNT_MASK);

	d3 |= (i % 3 == 0) ? IBS_OPDATA3_LDOP : (i % 3 == 1) ? IBS_OPDATA3_STOP : 0;
	if (i % 2)
		d3 |= IBS_OPDATA3_DCMISS | IBS_OPDATA3_L2MISS;
	if (i % 5 != 4)
		d3 |= IBS_OPDATA3_DCLINADDRVALID;
	if (i % 4 != 3)
		d3 |= IBS_OPDATA3_DCPHYADDRVALID;
	if (i % 7 == 0)
		d3 |= IBS_OPDATA3_DCL1TLBHIT2M;
	d3 |= (uint64_t)(100 + 37 * i) << IBS_OPDATA3_DCMISSLAT_SHIFT;
	if (i == 11)
		ctl &= ~IBS_OPCTL_OPVAL; /* invalid: neither we nor perf decode it */
	regs[IBS_REG_OPCTL] = ctl;
	regs[IBS_REG_OPRIP] = 0x401000 + i * 16;
	regs[IBS_REG_OPDATA] = 0;
	regs[IBS_REG_OPDATA2] = (i % 2) ? 3 | ((i % 4 == 1) ? IBS_OPDATA2_RMTNODE : 0) : 0;
	regs[IBS_REG_OPDATA3] = d3;
	regs[IBS_REG_DCLINAD] = 0x7f1234560000ULL + i * 0x1040;
	regs[IBS_REG_DCPHYSAD] = 0x2345670000ULL + i * 0x1040;
	*perf_prints = !!(ctl & IBS_OPCTL_OPVAL);
	*ours_keeps =
	    *perf_prints && (d3 & (IBS_OPDATA3_DCLINADDRVALID | IBS_OPDATA3_DCPHYADDRVALID));
}

#define NR_IBS 40

static void ibs_regs_of(unsigned int i, uint64_t *regs)
{
	int keeps, prints;

	ibs_regs(i, regs, &keeps, &prints);
}

/* An IBS-op recording of @nr samples, sample i's registers from @fill (Zen4 caps word). */
static void write_ibs_file_of(const char *path, unsigned int nr,
			      void (*fill)(unsigned int i, uint64_t *regs))
{
	static uint64_t ids[] = { 7 };
	struct ibsp_recording_info info = { 0 };
	struct ibsp_pmu_mapping pmus[] = { { 1, "software" }, { IBS_TYPE_NR, "ibs_op" } };
	struct ibsp_event_desc ev = { 0 };
	struct ibsp_perf_writer *w;
	char *cmd[] = { "test_sampler" };

	info.hostname = "zen4-host";
	info.osrelease = "6.1.0-test";
	info.arch = "x86_64";
	info.cpuid = "AuthenticAMD,25,17,1";
	info.nr_cpus_avail = 4;
	info.nr_cpus_online = 4;
	info.nr_cmdline = 1;
	info.cmdline = cmd;
	info.nr_pmus = 2;
	info.pmus = pmus;
	ev.attr.type = IBS_TYPE_NR;
	ev.attr.sample_period = 0x40000;
	ev.attr.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
			      PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_IP |
			      PERF_SAMPLE_RAW | PERF_SAMPLE_ADDR | PERF_SAMPLE_DATA_SRC |
			      PERF_SAMPLE_WEIGHT | PERF_SAMPLE_PHYS_ADDR;
	ev.attr.sample_id_all = 1;
	ev.name = "ibs_op//";
	ev.nr_ids = 1;
	ev.ids = ids;
	cr_assert_eq(ibsp_perf_writer__open(path, &info, &ev, 1, &w), 0);
	for (unsigned int i = 0; i < nr; i++) {
		/* kernel order: IDENTIFIER IP TID TIME ADDR CPU PERIOD RAW WEIGHT DATA_SRC PHYS_ADDR */
		uint64_t rec[24] = { 0 }, regs[7];
		struct perf_event_header h = { .type = PERF_RECORD_SAMPLE,
					       .misc = PERF_RECORD_MISC_USER |
						       PERF_RECORD_MISC_EXACT_IP };
		uint32_t raw_head[2] = { 4 + 8 * 7, IBS_CAPS_AVAIL | IBS_CAPS_OPSAM |
							IBS_CAPS_RIPINVALIDCHK | IBS_CAPS_ZEN4 };
		size_t n = 1;

		fill(i, regs);
		rec[n++] = 7;				/* id */
		rec[n++] = regs[IBS_REG_OPRIP];		/* ip */
		rec[n++] = 4242 | (uint64_t)4242 << 32; /* pid, tid */
		rec[n++] = 1000 + i;			/* time */
		rec[n++] = (regs[IBS_REG_OPDATA3] & IBS_OPDATA3_DCLINADDRVALID)
			       ? regs[IBS_REG_DCLINAD]
			       : 0;		     /* addr */
		rec[n++] = i % 4;		     /* cpu, res */
		rec[n++] = 0x40000;		     /* period */
		memcpy(&rec[n++], raw_head, 8);	     /* raw size, IBS caps */
		memcpy(&rec[n], regs, sizeof(regs)); /* the 7 registers */
		n += 7;
		rec[n++] = 0;	      /* weight */
		rec[n++] = 0x5080021; /* data_src PERF_MEM_NA: our decoder reads the registers */
		rec[n++] = (regs[IBS_REG_OPDATA3] & IBS_OPDATA3_DCPHYADDRVALID)
			       ? regs[IBS_REG_DCPHYSAD]
			       : 0; /* phys_addr */
		h.size = (uint16_t)(n * 8);
		memcpy(rec, &h, sizeof(h));
		cr_assert_eq(ibsp_perf_writer__write(w, (const struct perf_event_header *)rec), 0);
	}
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
}

static void write_ibs_file(const char *path)
{
	write_ibs_file_of(path, NR_IBS, ibs_regs_of);
}

/* The value after "name " on a perf -D line, or -1. */
static long long field_after(const char *line, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), " %s ", name);
	p = strstr(line, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/*
 * Every sample perf's decoder prints (OpEn and OpVal set) is compared, the ones
 * we refuse for having no valid address included: the reader hands them out
 * with include_invalid, decoded as far as they go and with drop set.
 */
Test(ibs, decoder_matches_perf_report_dump)
{
	const char *perf = perf_path();
	const char *path = tmp_path("ibs.data");
	struct ibsp_perf_reader_opts o = { .sz = sizeof(o),
					   .unordered = true,
					   .include_invalid = true };
	struct ibsp_perf_reader *r;
	struct ibsp_sample s[NR_IBS];
	char cmd[1024], *out, *err, *line;
	unsigned int compared = 0, dropped_compared = 0;
	int n;

	if (!perf)
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	write_ibs_file(path);
	cr_assert_eq(ibsp_perf_reader__open(path, &o, &r), 0);
	n = ibsp_perf_reader__read(r, s, NR_IBS);
	cr_assert_eq(n, NR_IBS, "with include_invalid every sample is handed out");
	snprintf(cmd, sizeof(cmd), "%s report -D -i %s", perf, path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf report -D failed: %s", err);

	/* Walk perf's dump in file order next to our samples (also file order). */
	line = out;
	for (unsigned int i = 0; i < NR_IBS; i++) {
		const struct ibsp_sample *x = &s[i];
		uint64_t regs[7];
		int keeps, prints;
		char *d3, *lin, *phys, *next;

		ibs_regs(i, regs, &keeps, &prints);
		cr_assert_eq(x->drop != IBSP_DROP_NONE, !keeps, "sample %u drop %s", i,
			     ibsp_drop_reason__name((enum ibsp_drop_reason)x->drop));
		if (!prints) {
			/* perf skips it as "Invalid raw IBS Op MSR data"; we count why */
			cr_assert_eq(x->drop, IBSP_DROP_OP_INVALID, "sample %u", i);
			continue;
		}
		d3 = strstr(line, "ibs_op_data3:");
		cr_assert(d3, "perf -D printed no ibs_op_data3 for sample %u", i);
		next = strstr(d3 + 1, "ibs_op_ctl:"); /* the next sample's dump, if any */
		lin = strstr(d3, "IbsDCLinAd:");
		phys = strstr(d3, "IbsDCPhysAd:");
		if (next && lin > next)
			lin = NULL;
		if (next && phys > next)
			phys = NULL;
		line = next ? next : d3 + 1;

		cr_assert_eq(field_after(d3, "LdOp"), !!(x->flags & IBSP_S_LOAD), "sample %u LdOp",
			     i);
		cr_assert_eq(field_after(d3, "StOp"), !!(x->flags & IBSP_S_STORE), "sample %u StOp",
			     i);
		cr_assert_eq(field_after(d3, "DcLinAddrValid"), !!(x->flags & IBSP_S_VADDR_VALID),
			     "sample %u DcLinAddrValid", i);
		cr_assert_eq(field_after(d3, "DcPhyAddrValid"), !!(x->flags & IBSP_S_PADDR_VALID),
			     "sample %u DcPhyAddrValid", i);
		if (x->flags & IBSP_S_LAT_VALID)
			cr_assert_eq(field_after(d3, "DcMissLat"), x->latency_cycles,
				     "sample %u DcMissLat", i);
		else /* not a load that missed: perf prints the raw field, we call it unknown */
			cr_assert_eq(field_after(d3, "DcMissLat"),
				     (long long)((regs[IBS_REG_OPDATA3] >> 32) & 0xffff));
		cr_assert_eq(!!lin, !!(x->flags & IBSP_S_VADDR_VALID), "sample %u IbsDCLinAd", i);
		if (lin)
			cr_assert_eq(strtoull(lin + strlen("IbsDCLinAd:"), NULL, 16), x->vaddr,
				     "sample %u IbsDCLinAd", i);
		cr_assert_eq(!!phys, !!(x->flags & IBSP_S_PADDR_VALID), "sample %u IbsDCPhysAd", i);
		if (phys)
			cr_assert_eq(strtoull(phys + strlen("IbsDCPhysAd:"), NULL, 16), x->paddr,
				     "sample %u IbsDCPhysAd", i);
		compared++;
		dropped_compared += !keeps;
	}
	cr_assert_eq(compared, NR_IBS - 1, "perf prints all but the OpVal=0 sample");
	cr_assert_eq(dropped_compared, 2, "the two no-address samples are compared too");
	/* sample 11 has OpVal clear; samples 19 and 39 (i % 5 == 4, i % 4 == 3) have no address */
	cr_assert_eq(ibsp_perf_reader__stats(r)->nr_invalid, 3);
	cr_assert_eq(ibsp_perf_reader__stats(r)->nr_dropped[IBSP_DROP_OP_INVALID], 1);
	cr_assert_eq(ibsp_perf_reader__stats(r)->nr_dropped[IBSP_DROP_NO_ADDR], 2);
	ibsp_perf_reader__close(r);
	free(out);
	free(err);

	/* without include_invalid they are counted but not handed out */
	o.include_invalid = false;
	cr_assert_eq(ibsp_perf_reader__open(path, &o, &r), 0);
	cr_assert_eq(ibsp_perf_reader__read(r, s, NR_IBS), NR_IBS - 3);
	ibsp_perf_reader__close(r);

	/* the same through the command: dump and dump --invalid */
	snprintf(cmd, sizeof(cmd), IBSP_CLI " dump %s | grep -c '\"sampler\":\"ibs\"'", path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0);
	cr_assert_eq(atoi(out), NR_IBS - 3, "dump printed %s", out);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd),
		 IBSP_CLI " dump --invalid %s | grep -c '\"drop\":\"no_address\"'", path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0);
	cr_assert_eq(atoi(out), 2, "dump --invalid printed %s", out);
	free(out);
	free(err);
}

/*
 * DataSrc, RmtNode and the page size, from register values written out by
 * hand (AMD PPR for family 19h, IbsOpData2/IbsOpData3; docs in
 * shared/reference/sampling.md 1.5-1.6), not from the decoder's header:
 * the expected source and page size of each row are stated independently,
 * and each row is also checked against what perf report -D prints for it.
 */
#define LOAD_MISS_L2 \
	0x160081ULL		/* LdOp(0) DcMiss(7) LinAddrValid(17) PhyAddrValid(18) L2Miss(20) */
#define LOAD_L1_HIT 0x060001ULL /* LdOp, both addresses valid, DcMiss 0 */

static const struct ibs_src_row {
	const char *what;
	uint64_t d2, d3;
	enum ibsp_mem_src src;
	bool remote;
	uint8_t page_shift; /* 0: unknown (full TLB miss) */
	int perf_code;	    /* DataSrc perf 6.1 names (3 low bits), -1 when it prints none */
} ibs_src_rows[] = {
	{ "Zen4 CXL (code 8)", 0x40, LOAD_MISS_L2, IBSP_SRC_CXL, false, 12, -1 },
	{ "Zen4 CXL, remote", 0x50, LOAD_MISS_L2, IBSP_SRC_CXL, true, 12, -1 },
	{ "remote DRAM", 0x13, LOAD_MISS_L2, IBSP_SRC_REMOTE_DRAM, true, 12, 3 },
	{ "local DRAM", 0x03, LOAD_MISS_L2, IBSP_SRC_LOCAL_DRAM, false, 12, 3 },
	{ "long-latency DRAM (code 6)", 0x06, LOAD_MISS_L2, IBSP_SRC_PMEM, false, 12, 6 },
	{ "I/O (code 7)", 0x07, LOAD_MISS_L2, IBSP_SRC_IO, false, 12, 7 },
	{ "peer agent memory (code 12)", 0x44, LOAD_MISS_L2, IBSP_SRC_UNKNOWN, false, 12, 4 },
	{ "near CCX cache (code 2)", 0x02, LOAD_MISS_L2, IBSP_SRC_CACHE, false, 12, 2 },
	{ "L1 hit: DataSrc ignored", 0x13, LOAD_L1_HIT, IBSP_SRC_CACHE, false, 12, 3 },
	{ "L1 TLB hit, 2M", 0x03, LOAD_MISS_L2 | 0x10, IBSP_SRC_LOCAL_DRAM, false, 21, 3 },
	{ "L1 TLB hit, 1G", 0x03, LOAD_MISS_L2 | 0x20, IBSP_SRC_LOCAL_DRAM, false, 30, 3 },
	{ "L1 TLB miss, L2 hit 2M", 0x03, LOAD_MISS_L2 | 0x44, IBSP_SRC_LOCAL_DRAM, false, 21, 3 },
	{ "L1 TLB miss, L2 hit 1G", 0x03, LOAD_MISS_L2 | 0x80004, IBSP_SRC_LOCAL_DRAM, false, 30,
	  3 },
	{ "L1 TLB miss, L2 hit 4K", 0x13, LOAD_MISS_L2 | 0x04, IBSP_SRC_REMOTE_DRAM, true, 12, 3 },
	{ "full TLB miss", 0x03, LOAD_MISS_L2 | 0x0c, IBSP_SRC_LOCAL_DRAM, false, 0, 3 },
};

#define NR_SRC_ROWS (sizeof(ibs_src_rows) / sizeof(ibs_src_rows[0]))

static void ibs_src_regs(unsigned int i, uint64_t *regs)
{
	const struct ibs_src_row *row = &ibs_src_rows[i];

	memset(regs, 0, 7 * sizeof(*regs));
	regs[0] = 0x64000 | (1ULL << 17) | (1ULL << 18); /* IbsOpCtl: MaxCnt, OpEn, OpVal */
	regs[1] = 0x401000 + i * 16;			 /* IbsOpRip */
	regs[3] = row->d2;				 /* IbsOpData2 */
	regs[4] = row->d3 | (200ULL << 32);		 /* IbsOpData3, DcMissLat 200 */
	regs[5] = 0x7f0000100000ULL + i * 0x1000;	 /* IbsDcLinAd */
	regs[6] = 0x1000100000ULL + i * 0x1000;		 /* IbsDcPhysAd */
}

/* The page size perf's printed TLB fields say (sampling.md 1.5), 0 after a full miss. */
static uint8_t perf_page_shift(const char *d3)
{
	if (!field_after(d3, "DcL1TlbMiss"))
		return field_after(d3, "DcL1TlbHit1G")	 ? 30
		       : field_after(d3, "DcL1TlbHit2M") ? 21
							 : 12;
	if (!field_after(d3, "DcL2TlbMiss"))
		return field_after(d3, "DcL2TlbHit1G")	 ? 30
		       : field_after(d3, "DcL2TlbHit2M") ? 21
							 : 12;
	return 0;
}

/* One row: our sample against the expectation, and perf's dump (@d2, @d3 lines) against both. */
static void check_src_row(unsigned int i, const struct ibsp_sample *x, const char *d2,
			  const char *d3)
{
	const struct ibs_src_row *row = &ibs_src_rows[i];
	uint64_t d2_val = strtoull(d2 + strlen("ibs_op_data2:"), NULL, 16);
	const char *ds = strstr(d2, "DataSrc ");
	const char *eol = strchr(d2, '\n');

	cr_expect_eq(x->src, row->src, "%s: source %s, expected %s", row->what,
		     ibsp_mem_src__name((enum ibsp_mem_src)x->src), ibsp_mem_src__name(row->src));
	cr_expect_eq(!!(x->flags & IBSP_S_REMOTE), row->remote, "%s: remote", row->what);
	cr_expect_eq(x->page_shift, row->page_shift, "%s: page shift %u", row->what, x->page_shift);
	/* perf's dump: the register as written, its RmtNode, DataSrc and TLB fields */
	cr_expect_eq(d2_val, row->d2, "%s: perf shows IbsOpData2 %#llx", row->what,
		     (unsigned long long)d2_val);
	cr_expect_eq(field_after(d2, "RmtNode"), !!(row->d2 & 0x10), "%s: perf's RmtNode",
		     row->what);
	if (ds && eol && ds > eol)
		ds = NULL;
	cr_expect_eq(ds ? atoi(ds + strlen("DataSrc ")) : -1, row->perf_code,
		     "%s: perf's DataSrc: %.80s", row->what, d2);
	cr_expect_eq(perf_page_shift(d3), row->page_shift, "%s: perf's TLB fields", row->what);
}

Test(ibs, data_source_remote_node_and_page_size_match_perf_report_dump)
{
	const char *perf = perf_path();
	const char *path = tmp_path("ibs-src.data");
	struct ibsp_perf_reader_opts o = { .sz = sizeof(o), .unordered = true };
	struct ibsp_perf_reader *r;
	struct ibsp_sample s[NR_SRC_ROWS];
	char cmd[1024], *out = NULL, *err = NULL, *at;

	write_ibs_file_of(path, NR_SRC_ROWS, ibs_src_regs);
	cr_assert_eq(ibsp_perf_reader__open(path, &o, &r), 0);
	cr_assert_eq(ibsp_perf_reader__read(r, s, NR_SRC_ROWS), (int)NR_SRC_ROWS);
	ibsp_perf_reader__close(r);
	if (perf) {
		snprintf(cmd, sizeof(cmd), "%s report -D -i %s", perf, path);
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf report -D failed: %s", err);
	}
	at = out;
	for (unsigned int i = 0; i < NR_SRC_ROWS; i++) {
		char *d2 = at ? strstr(at, "ibs_op_data2:") : NULL;
		char *d3 = d2 ? strstr(d2, "ibs_op_data3:") : NULL;

		if (perf)
			cr_assert(d2 && d3, "perf -D printed no ibs_op_data2/3 for row %u", i);
		if (!perf) {
			/* without perf, the independent expectations alone */
			const struct ibs_src_row *row = &ibs_src_rows[i];

			cr_expect_eq(s[i].src, row->src, "%s", row->what);
			cr_expect_eq(!!(s[i].flags & IBSP_S_REMOTE), row->remote, "%s", row->what);
			cr_expect_eq(s[i].page_shift, row->page_shift, "%s", row->what);
			continue;
		}
		check_src_row(i, &s[i], d2, d3);
		at = d3 + 1;
	}
	if (!perf)
		skip_part("perf is not installed (apt-get install linux-perf): the rows were not "
			  "compared with perf report -D");
	free(out);
	free(err);
}

/* IbsBrTarget and IbsOpData4 follow the 7 base registers when the caps word says so. */
Test(ibs, drop_reasons_and_optional_registers)
{
	static const struct {
		uint32_t caps, raw_size;
		uint64_t ctl, data, d3;
		int ret;
		uint8_t drop;
	} rows[] = {
		/* a valid load, 7 registers */
		{ 0, 60, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL, 0,
		  IBS_OPDATA3_LDOP | IBS_OPDATA3_DCLINADDRVALID, 0, IBSP_DROP_NONE },
		/* BrTarget promised, not there */
		{ IBS_CAPS_BRNTRGT, 60, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL, 0,
		  IBS_OPDATA3_DCLINADDRVALID, -EINVAL, IBSP_DROP_SHORT_RAW },
		/* BrTarget and OpData4 promised and there */
		{ IBS_CAPS_BRNTRGT | IBS_CAPS_OPDATA4, 76, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL, 0,
		  IBS_OPDATA3_DCLINADDRVALID, 0, IBSP_DROP_NONE },
		{ IBS_CAPS_OPDATA4, 60, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL, 0,
		  IBS_OPDATA3_DCLINADDRVALID, -EINVAL, IBSP_DROP_SHORT_RAW },
		{ 0, 60, IBS_OPCTL_OPEN, 0, IBS_OPDATA3_DCLINADDRVALID, -EINVAL,
		  IBSP_DROP_OP_INVALID },
		{ IBS_CAPS_RIPINVALIDCHK, 60, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL,
		  IBS_OPDATA_RIPINVALID, IBS_OPDATA3_DCLINADDRVALID, -EINVAL,
		  IBSP_DROP_RIP_INVALID },
		{ 0, 60, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL, 0, IBS_OPDATA3_LDOP, -EINVAL,
		  IBSP_DROP_NO_ADDR },
		{ 0, 52, IBS_OPCTL_OPEN | IBS_OPCTL_OPVAL, 0, IBS_OPDATA3_DCLINADDRVALID, -EINVAL,
		  IBSP_DROP_SHORT_RAW },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t raw[4 + 8 * 9] = { 0 };
		uint64_t regs[9] = { 0 };
		struct ibsp_raw_sample rs = { 0 };
		struct ibsp_sample s;

		regs[IBS_REG_OPCTL] = rows[i].ctl;
		regs[IBS_REG_OPDATA] = rows[i].data;
		regs[IBS_REG_OPDATA3] = rows[i].d3;
		regs[IBS_REG_DCLINAD] = 0x7f0000001000ULL;
		memcpy(raw, &rows[i].caps, 4);
		memcpy(raw + 4, regs, sizeof(regs));
		rs.type = PERF_SAMPLE_RAW;
		rs.raw = raw;
		rs.raw_size = rows[i].raw_size;
		cr_assert_eq(ibsp_decode(IBSP_SAMPLER_IBS, NULL, &rs, &s), rows[i].ret, "row %zu",
			     i);
		cr_assert_eq(s.drop, rows[i].drop, "row %zu: drop %s", i,
			     ibsp_drop_reason__name((enum ibsp_drop_reason)s.drop));
		if (!rows[i].ret)
			cr_assert_eq(s.vaddr, 0x7f0000001000ULL);
	}
}

/* A Sapphire Rapids recording (aux leader + loads + stores) must be readable: one id position. */
Test(pebs, sapphire_rapids_recording_reads_back)
{
	struct ibsp_sampler_opts o = { .sz = sizeof(o), .kind = IBSP_SAMPLER_PEBS };
	struct ibsp_recording_info info = { .hostname = "spr", .arch = "x86_64" };
	const char *path = tmp_path("spr.data");
	struct ibsp_perf_writer *w;
	struct ibsp_perf_reader *r;
	struct ibsp_host_caps caps;
	struct ibsp_event_desc *ev;
	int *leader;
	uint32_t nr;

	setenv("LIBPFM_FORCE_PMU", "spr", 1);
	ibsp_host_caps__read("/sys", &caps);
	cr_assert_eq(ibsp_sampler__events(&o, &caps, &ev, &leader, &nr), 0);
	cr_assert_eq(nr, 3);
	for (uint32_t i = 0; i < nr; i++) {
		ev[i].ids = calloc(1, sizeof(uint64_t));
		ev[i].ids[0] = 100 + i;
		ev[i].nr_ids = 1;
	}
	cr_assert_eq(ibsp_perf_writer__open(path, &info, ev, nr, &w), 0);
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
	log_capture_start();
	cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), 0, "%s", log_captured());
	cr_assert_eq(ibsp_perf_reader__nr_events(r), 3);
	for (uint32_t i = 1; i < 3; i++)
		cr_assert_eq(ibsp_perf_reader__event(r, i)->kind, IBSP_SAMPLER_PEBS, "event %u", i);
	ibsp_perf_reader__close(r);
	ibsp_sampler__free_events(ev, leader, nr);
}

/* sysfs format descriptions: single ranges only, nothing after them. */
Test(ibs, format_field_parsing)
{
	static const struct {
		const char *text;
		int ret;
		uint8_t config, lo, hi;
	} rows[] = {
		{ "config:19\n", 0, 0, 19, 19 },	  { "config:0-15", 0, 0, 0, 15 },
		{ "config1:0-11\n", 0, 1, 0, 11 },	  { "config2:0", 0, 2, 0, 0 },
		{ "config:0-7,32-35", -EINVAL, 0, 0, 0 }, { "config:3junk", -EINVAL, 0, 0, 0 },
		{ "config:7-3", -EINVAL, 0, 0, 0 },	  { "config:64", -EINVAL, 0, 0, 0 },
		{ "config3:1", -EINVAL, 0, 0, 0 },	  { "cfg:1", -EINVAL, 0, 0, 0 },
		{ "config:", -EINVAL, 0, 0, 0 },	  { "config:1-", -EINVAL, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_pmu_format f = { 0 };

		cr_assert_eq(ibsp_pmu_format__parse(rows[i].text, &f), rows[i].ret, "'%s'",
			     rows[i].text);
		if (!rows[i].ret)
			cr_assert(f.config == rows[i].config && f.lo == rows[i].lo &&
				      f.hi == rows[i].hi,
				  "'%s' -> config%u:%u-%u", rows[i].text, f.config, f.lo, f.hi);
	}
}
