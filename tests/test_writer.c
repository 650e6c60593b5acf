// SPDX-License-Identifier: MIT
/*
 * The perf.data writer:
 *  - writer -> reader round trip of a real recording (same samples, same host facts);
 *  - perf script and perf report --header-only -I accept our files without a
 *    warning and show the same samples and topology (when perf is installed),
 *    also with our private IBSP_TOPOLOGY section (distances, tiers) in them;
 *  - a synthetic two-attr file (page faults + a PEBS load-latency event) with
 *    sample_id_all trailers and FINISHED_ROUND records: samples are routed to
 *    the right attr and come out in perf's order, which perf script confirms.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "perf_abi.h"
#include "topology_build.h"
#include "topology_internal.h"
#include "util.h"

static struct ibsp_event_desc *copy_events(const struct ibsp_perf_reader *r, uint32_t *nr)
{
	struct ibsp_event_desc *ev;

	*nr = ibsp_perf_reader__nr_events(r);
	ev = calloc(*nr, sizeof(*ev));
	for (uint32_t i = 0; i < *nr; i++)
		ev[i] = *ibsp_perf_reader__event(r, i);
	return ev;
}

/*
 * Copy every record of @in into a new file @out written by our writer; with @topo_ext, the
 * topology gains a distance matrix (10 local, 20 remote) and tier 4 on every node, which
 * the writer stores in our private IBSP_TOPOLOGY section.
 */
static void rewrite_ext(const char *in, const char *out, bool topo_ext)
{
	struct ibsp_perf_reader *r;
	struct ibsp_perf_writer *w;
	const struct perf_event_header *h;
	struct ibsp_event_desc *ev;
	struct ibsp_topology *t;
	uint32_t nr;
	int ret;

	cr_assert_eq(ibsp_perf_reader__open(in, NULL, &r), 0);
	ev = copy_events(r, &nr);
	t = ibsp_perf_reader__info(r)->topo;
	if (topo_ext) {
		uint32_t n = t ? ibsp_topology__nr_nodes(t) : 0;
		uint32_t *dist = calloc((size_t)n * n + 1, sizeof(*dist));

		cr_assert(t && !ibsp_topology__has_distances(t));
		cr_assert(dist);
		for (uint32_t a = 0; a < n; a++) {
			cr_assert_eq(ibsp_topology__set_tier(t, ibsp_node_idx((int)a), 4), 0);
			for (uint32_t b = 0; b < n; b++)
				dist[a * n + b] = a == b ? 10 : 20;
		}
		cr_assert_eq(ibsp_topology__set_distances(t, dist), 0);
		free(dist);
	}
	cr_assert_eq(ibsp_perf_writer__open(out, ibsp_perf_reader__info(r), ev, nr, &w), 0);
	while ((ret = ibsp_perf_reader__next_record(r, &h, NULL)) == 1)
		cr_assert_eq(ibsp_perf_writer__write(w, h), 0);
	cr_assert_eq(ret, 0);
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
	free(ev);
	ibsp_perf_reader__close(r);
}

static void rewrite(const char *in, const char *out)
{
	rewrite_ext(in, out, false);
}

static void assert_same_topology(const struct ibsp_topology *a, const struct ibsp_topology *b)
{
	cr_assert(a && b);
	cr_assert_eq(ibsp_topology__nr_nodes(a), ibsp_topology__nr_nodes(b));
	cr_assert_eq(ibsp_topology__block_size_bytes(a), ibsp_topology__block_size_bytes(b));
	cr_assert_eq(ibsp_topology__has_block_map(a), ibsp_topology__has_block_map(b));
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(a); i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);
		const struct ibsp_block_range *ra = ibsp_topology__ranges(a, n);
		const struct ibsp_block_range *rb = ibsp_topology__ranges(b, n);

		cr_assert_eq(ibsp_topology__node_id(a, n).id, ibsp_topology__node_id(b, n).id);
		cr_assert_str_eq(ibsp_topology__cpulist(a, n), ibsp_topology__cpulist(b, n));
		cr_assert_eq(ibsp_topology__mem_total_kb(a, n), ibsp_topology__mem_total_kb(b, n));
		cr_assert_eq(ibsp_topology__mem_free_kb(a, n), ibsp_topology__mem_free_kb(b, n));
		cr_assert_eq(ibsp_topology__nr_ranges(a, n), ibsp_topology__nr_ranges(b, n));
		for (uint32_t k = 0; k < ibsp_topology__nr_ranges(a, n); k++) {
			cr_assert_eq(ra[k].first, rb[k].first);
			cr_assert_eq(ra[k].nr, rb[k].nr);
		}
	}
}

Test(writer, round_trip_keeps_samples_and_host_facts)
{
	const char *out = tmp_path("rt.data");
	struct ibsp_perf_reader *a, *b;
	struct ibsp_sample *sa, *sb;
	size_t na, nb;
	int ea, eb;

	rewrite(FIXTURE("pf-system.data"), out);
	na = read_all_samples(FIXTURE("pf-system.data"), &sa, &ea);
	nb = read_all_samples(out, &sb, &eb);
	cr_assert_eq(ea, 0);
	cr_assert_eq(eb, 0);
	cr_assert_eq(na, nb);
	cr_assert_gt(na, 100);
	for (size_t i = 0; i < na; i++)
		cr_assert_eq(memcmp(&sa[i], &sb[i], sizeof(sa[i])), 0, "sample %zu differs", i);

	cr_assert_eq(ibsp_perf_reader__open(FIXTURE("pf-system.data"), NULL, &a), 0);
	cr_assert_eq(ibsp_perf_reader__open(out, NULL, &b), 0);
	const struct ibsp_recording_info *ia = ibsp_perf_reader__info(a);
	const struct ibsp_recording_info *ib = ibsp_perf_reader__info(b);

	cr_assert_str_eq(ia->hostname, ib->hostname);
	cr_assert_str_eq(ia->osrelease, ib->osrelease);
	cr_assert_str_eq(ia->arch, ib->arch);
	cr_assert_str_eq(ia->cpuid, ib->cpuid);
	cr_assert_eq(ia->nr_cpus_online, ib->nr_cpus_online);
	cr_assert_eq(ia->nr_cpus_avail, ib->nr_cpus_avail);
	cr_assert_eq(ia->nr_cmdline, ib->nr_cmdline);
	cr_assert_eq(ia->nr_pmus, ib->nr_pmus);
	cr_assert(ib->has_sample_time);
	cr_assert_eq(ib->first_sample_ns, ia->first_sample_ns);
	cr_assert_eq(ib->last_sample_ns, ia->last_sample_ns);
	assert_same_topology(ia->topo, ib->topo);
	cr_assert_eq(ibsp_perf_reader__nr_events(a), ibsp_perf_reader__nr_events(b));
	for (uint32_t i = 0; i < ibsp_perf_reader__nr_events(a); i++) {
		const struct ibsp_event_desc *x = ibsp_perf_reader__event(a, i);
		const struct ibsp_event_desc *y = ibsp_perf_reader__event(b, i);

		cr_assert_str_eq(x->name, y->name);
		cr_assert_eq(x->attr.sample_type, y->attr.sample_type);
		cr_assert_eq(x->attr.config, y->attr.config);
		cr_assert_eq(x->nr_ids, y->nr_ids);
	}
	ibsp_perf_reader__close(a);
	ibsp_perf_reader__close(b);
	free(sa);
	free(sb);
}

/* perf script must print our file's samples; stderr must be empty or exactly @expect_err. */
static void perf_script_agrees(const char *file, const char *expect_err)
{
	const char *perf = perf_path();
	struct ibsp_sample *s;
	struct tuple *want, *got;
	char cmd[1024], *out, *err;
	size_t nw, ng;
	int e;

	if (!perf)
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	snprintf(cmd, sizeof(cmd), "%s script -i %s -F cpu,tid,addr,phys_addr", perf, file);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf script failed: %s", err);
	if (expect_err)
		cr_assert_str_eq(err, expect_err);
	else
		cr_assert_str_empty(err, "perf script warned: %s", err);
	nw = parse_perf_tuples(out, &want);
	ng = read_all_samples(file, &s, &e);
	cr_assert_eq(e, 0);
	samples_to_tuples(s, ng, &got);
	cr_assert_eq(nw, ng, "perf script printed %zu samples, we read %zu", nw, ng);
	for (size_t i = 0; i < nw; i++)
		cr_assert(want[i].cpu == got[i].cpu && want[i].tid == got[i].tid &&
			      want[i].addr == got[i].addr && want[i].phys == got[i].phys,
			  "sample %zu differs from perf script", i);
	free(out);
	free(err);
	free(want);
	free(got);
	free(s);
}

static void perf_header_shows_topology(const char *file)
{
	const char *perf = perf_path();
	struct ibsp_perf_reader *r;
	char cmd[1024], *out, *err;

	if (!perf)
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	snprintf(cmd, sizeof(cmd), "%s report --header-only -I -i %s", perf, file);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf report failed: %s", err);
	cr_assert_str_empty(err, "perf report warned: %s", err);
	cr_assert_eq(ibsp_perf_reader__open(file, NULL, &r), 0);
	check_topology_vs_perf_header(ibsp_perf_reader__info(r)->topo, out);
	ibsp_perf_reader__close(r);
	free(out);
	free(err);
}

Test(writer, perf_script_reads_rewritten_recording)
{
	const char *out = tmp_path("rt2.data");

	rewrite(FIXTURE("pf-system.data"), out);
	perf_script_agrees(out, NULL);
	perf_header_shows_topology(out);
}

/* Our private section (bit 192) comes last in the feature index; perf 6.1 never reads it. */
Test(writer, perf_ignores_our_topology_section)
{
	const char *out = tmp_path("rt3.data");
	const struct ibsp_topology *t;
	struct ibsp_perf_reader *r;

	rewrite_ext(FIXTURE("pf-system.data"), out, true);
	cr_assert_eq(ibsp_perf_reader__open(out, NULL, &r), 0);
	t = ibsp_perf_reader__info(r)->topo;
	cr_assert(ibsp_perf_reader__info(r)->features[HEADER_IBSP_TOPOLOGY / 64] &
		  (1ULL << (HEADER_IBSP_TOPOLOGY % 64)));
	cr_assert(ibsp_topology__has_distances(t));
	cr_assert_eq(ibsp_topology__distance(t, ibsp_node_idx(0), ibsp_node_idx(0)), 10);
	cr_assert_eq(ibsp_topology__tier(t, ibsp_node_idx(0)), 4);
	ibsp_perf_reader__close(r);
	perf_script_agrees(out, NULL);
	perf_header_shows_topology(out);
}

/* ---- a synthetic two-attr recording ------------------------------------------------------- */

struct rec {
	uint8_t b[512];
	size_t len;
};

static void put(struct rec *r, const void *p, size_t n)
{
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static void put64(struct rec *r, uint64_t v)
{
	put(r, &v, 8);
}

static void put32x2(struct rec *r, uint32_t a, uint32_t b)
{
	put(r, &a, 4);
	put(r, &b, 4);
}

static const struct perf_event_header *finish(struct rec *r, uint32_t type, uint16_t misc)
{
	struct perf_event_header h = { .type = type, .misc = misc, .size = (uint16_t)r->len };

	memcpy(r->b, &h, sizeof(h));
	return (const void *)r->b;
}

#define PF_TYPE                                                                         \
	(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | \
	 PERF_SAMPLE_ADDR | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_PHYS_ADDR)
#define PEBS_TYPE (PF_TYPE | PERF_SAMPLE_WEIGHT | PERF_SAMPLE_DATA_SRC)

/* One sample in kernel order for the two sample_types above. */
static const struct perf_event_header *sample(struct rec *r, int pebs, uint64_t id, uint32_t tid,
					      uint64_t time, uint64_t addr, uint32_t cpu,
					      uint64_t phys)
{
	r->len = sizeof(struct perf_event_header);
	put64(r, id);
	put64(r, 0xffffffff81000000ULL + time); /* ip */
	put32x2(r, tid, tid);
	put64(r, time);
	put64(r, addr);
	put32x2(r, cpu, 0);
	put64(r, pebs ? 20011 : 1); /* period */
	if (pebs) {
		put64(r, 250); /* weight: load latency in cycles */
		put64(r, PERF_MEM_S(OP, LOAD) | PERF_MEM_S(LVL, HIT) | PERF_MEM_S(LVL, REM_RAM1) |
			     PERF_MEM_S(LVLNUM, RAM) | PERF_MEM_S(REMOTE, REMOTE) |
			     PERF_MEM_S(SNOOP, NA) | PERF_MEM_S(TLB, NA) | PERF_MEM_S(LOCK, NA));
	}
	put64(r, phys);
	return finish(r, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
}

/* PERF_RECORD_COMM with the attr-0 sample_id trailer: TID, TIME, CPU, IDENTIFIER. */
static const struct perf_event_header *comm(struct rec *r, uint32_t pid, const char *name,
					    uint64_t time)
{
	char c[16] = { 0 };

	r->len = sizeof(struct perf_event_header);
	put32x2(r, pid, pid);
	snprintf(c, sizeof(c), "%s", name);
	put(r, c, sizeof(c));
	put32x2(r, pid, pid);
	put64(r, time);
	put32x2(r, 0, 0);
	put64(r, 11);
	return finish(r, PERF_RECORD_COMM, 0);
}

static void write_synthetic(const char *path)
{
	static uint64_t pf_ids[] = { 11, 12 }, pebs_ids[] = { 21 };
	struct ibsp_event_desc ev[2] = { 0 };
	struct ibsp_recording_info info;
	struct ibsp_topology *topo;
	struct ibsp_perf_writer *w;
	struct rec r;
	char *argv[] = { "test_writer", "synthetic" };

	ev[0].attr.type = PERF_TYPE_SOFTWARE;
	ev[0].attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev[0].attr.sample_period = 1;
	ev[0].attr.sample_type = PF_TYPE;
	ev[0].attr.sample_id_all = 1;
	ev[0].name = "page-faults";
	ev[0].nr_ids = 2;
	ev[0].ids = pf_ids;
	ev[1].attr.type = PERF_TYPE_RAW;
	ev[1].attr.config = 0x1cd; /* MEM_TRANS_RETIRED.LOAD_LATENCY */
	ev[1].attr.config1 = 30;
	ev[1].attr.precise_ip = 2;
	ev[1].attr.sample_period = 20011;
	ev[1].attr.sample_type = PEBS_TYPE;
	ev[1].attr.sample_id_all = 1;
	ev[1].name = "cpu/mem-loads,ldlat=30/P";
	ev[1].nr_ids = 1;
	ev[1].ids = pebs_ids;

	cr_assert_eq(ibsp_topology__from_host("/sys", &topo), 0);
	cr_assert_eq(ibsp_recording_info__from_host(&info, topo, 2, argv), 0);
	cr_assert_eq(ibsp_perf_writer__open(path, &info, ev, 2, &w), 0);
	cr_assert_eq(ibsp_perf_writer__write(w, comm(&r, 100, "synthetic", 50)), 0);
	/* round 1: out of order across CPUs, as per-CPU ring buffers deliver them */
	cr_assert_eq(ibsp_perf_writer__write(w, sample(&r, 0, 11, 100, 300, 0x7f0000003000, 1, 0)),
		     0);
	cr_assert_eq(
	    ibsp_perf_writer__write(w, sample(&r, 1, 21, 100, 100, 0x7f0000001000, 0, 0x40001000)),
	    0);
	cr_assert_eq(
	    ibsp_perf_writer__write(w, sample(&r, 0, 12, 100, 200, 0x7f0000002000, 0, 0x40002000)),
	    0);
	cr_assert_eq(ibsp_perf_writer__finish_round(w), 0);
	cr_assert_eq(ibsp_perf_writer__write(w, sample(&r, 1, 21, 100, 150, 0x7f0000001500, 1, 0)),
		     0);
	cr_assert_eq(ibsp_perf_writer__finish_round(w), 0);
	/* older than what round 2 flushed: perf delivers it late, and so must we */
	cr_assert_eq(ibsp_perf_writer__write(w, sample(&r, 0, 11, 100, 250, 0x7f0000002500, 1, 0)),
		     0);
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
	ibsp_recording_info__exit(&info);
}

Test(writer, two_attrs_route_and_order_like_perf)
{
	const char *path = tmp_path("two.data");
	static const struct {
		uint64_t time, addr;
		uint16_t event_idx;
		uint8_t kind, src;
	} want[] = {
		{ 100, 0x7f0000001000, 1, IBSP_SAMPLER_PEBS, IBSP_SRC_REMOTE_DRAM },
		{ 150, 0x7f0000001500, 1, IBSP_SAMPLER_PEBS, IBSP_SRC_REMOTE_DRAM },
		{ 200, 0x7f0000002000, 0, IBSP_SAMPLER_SOFT, IBSP_SRC_UNKNOWN },
		{ 300, 0x7f0000003000, 0, IBSP_SAMPLER_SOFT, IBSP_SRC_UNKNOWN },
		{ 250, 0x7f0000002500, 0, IBSP_SAMPLER_SOFT, IBSP_SRC_UNKNOWN },
	};
	struct ibsp_perf_reader *r;
	struct ibsp_sample *s, want_buf[8];
	size_t n;
	int err;

	write_synthetic(path);
	n = read_all_samples(path, &s, &err);
	cr_assert_eq(err, 0);
	cr_assert_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(s[i].time_ns, want[i].time, "sample %zu time %llu", i,
			     (unsigned long long)s[i].time_ns);
		cr_assert_eq(s[i].vaddr, want[i].addr);
		cr_assert_eq(s[i].event_idx, want[i].event_idx);
		cr_assert_eq(s[i].kind, want[i].kind);
		cr_assert_eq(s[i].src, want[i].src);
		cr_assert_eq(s[i].pid, 100);
	}
	cr_assert_eq(s[0].latency_cycles, 250);
	cr_assert(s[0].flags & IBSP_S_LAT_VALID);
	cr_assert(s[0].flags & IBSP_S_LOAD);
	cr_assert(s[0].flags & IBSP_S_REMOTE);
	cr_assert_eq(s[0].paddr, 0x40001000);
	cr_assert(!(s[1].flags & IBSP_S_PADDR_VALID));
	cr_assert_eq(s[0].period, 20011);

	cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), 0);
	cr_assert_str_eq(ibsp_perf_reader__event(r, 1)->name, "cpu/mem-loads,ldlat=30/P");
	cr_assert(ibsp_perf_reader__info(r)->has_sample_time);
	cr_assert_eq(ibsp_perf_reader__info(r)->first_sample_ns, 100);
	cr_assert_eq(ibsp_perf_reader__info(r)->last_sample_ns, 300);
	/* the host's distances (from_host has them on every Linux host) came through */
	cr_assert(ibsp_topology__has_distances(ibsp_perf_reader__info(r)->topo));
	cr_assert_eq(ibsp_topology__distance(ibsp_perf_reader__info(r)->topo, ibsp_node_idx(0),
					     ibsp_node_idx(0)),
		     10);
	ibsp_perf_reader__close(r);
	free(s);

	/* the late sample (250 after 300) is the one perf counts as out of order */
	cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), 0);
	while (ibsp_perf_reader__read(r, want_buf, 8) > 0)
		;
	cr_assert_eq(ibsp_perf_reader__stats(r)->nr_out_of_order, 1);
	ibsp_perf_reader__close(r);
	perf_script_agrees(path, "Warning:\n1 out of order events recorded.\n");
	perf_header_shows_topology(path);
}

Test(writer, unordered_mode_keeps_file_order)
{
	struct ibsp_perf_reader_opts o = { .sz = sizeof(o), .unordered = true };
	const char *path = tmp_path("two-unordered.data");
	static const uint64_t want[] = { 300, 100, 200, 150, 250 };
	struct ibsp_perf_reader *r;
	struct ibsp_sample s[8];

	write_synthetic(path);
	cr_assert_eq(ibsp_perf_reader__open(path, &o, &r), 0);
	cr_assert_eq(ibsp_perf_reader__read(r, s, 8), 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(s[i].time_ns, want[i]);
	cr_assert_eq(ibsp_perf_reader__read(r, s, 8), 0);
	ibsp_perf_reader__close(r);
}

Test(writer, refuses_no_events_and_bad_path)
{
	struct ibsp_recording_info info = { 0 };
	struct ibsp_event_desc ev = { 0 };
	struct ibsp_perf_writer *w;

	log_capture_start();
	cr_assert_eq(ibsp_perf_writer__open(tmp_path("none.data"), &info, &ev, 0, &w), -EINVAL);
	cr_assert_eq(ibsp_perf_writer__open("/nonexistent-dir/x.data", &info, &ev, 1, &w), -ENOENT);
	cr_assert(strstr(log_captured(), "/nonexistent-dir/x.data"), "log: %s", log_captured());
}

/* A page-fault event with sample type PF_TYPE and the one sample id 11. */
static struct ibsp_event_desc pf_event(void)
{
	static uint64_t id11 = 11;
	struct ibsp_event_desc ev = { 0 };

	ev.attr.type = PERF_TYPE_SOFTWARE;
	ev.attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev.attr.sample_period = 1;
	ev.attr.sample_type = PF_TYPE;
	ev.attr.sample_id_all = 1;
	ev.nr_ids = 1;
	ev.ids = &id11;
	return ev;
}

/* PERF_RECORD_LOST and THROTTLE records (with sample_id trailers) are counted, not skipped. */
Test(writer, lost_and_throttle_are_counted)
{
	struct ibsp_recording_info info = { .hostname = "h" };
	struct ibsp_event_desc ev = pf_event();
	const char *path = tmp_path("lost.data");
	struct ibsp_perf_writer *w;
	struct ibsp_perf_reader *r;
	struct ibsp_sample s[4];
	struct rec rc;

	cr_assert_eq(ibsp_perf_writer__open(path, &info, &ev, 1, &w), 0);
	for (int i = 0; i < 2; i++) {
		/* { u64 id; u64 lost; sample_id: TID, TIME, CPU, IDENTIFIER } */
		rc.len = sizeof(struct perf_event_header);
		put64(&rc, 11);
		put64(&rc, 7 + (uint64_t)i);
		put32x2(&rc, 1, 1);
		put64(&rc, 500 + (uint64_t)i);
		put32x2(&rc, 0, 0);
		put64(&rc, 11);
		cr_assert_eq(ibsp_perf_writer__write(w, finish(&rc, PERF_RECORD_LOST, 0)), 0);
	}
	/* { u64 time; u64 id; u64 stream_id; sample_id } */
	rc.len = sizeof(struct perf_event_header);
	put64(&rc, 600);
	put64(&rc, 11);
	put64(&rc, 11);
	put32x2(&rc, 1, 1);
	put64(&rc, 600);
	put32x2(&rc, 0, 0);
	put64(&rc, 11);
	cr_assert_eq(ibsp_perf_writer__write(w, finish(&rc, PERF_RECORD_THROTTLE, 0)), 0);
	cr_assert_eq(ibsp_perf_writer__write(w, sample(&rc, 0, 11, 1, 700, 0x1000, 0, 0)), 0);
	cr_assert_eq(ibsp_perf_writer__close(w), 0);

	cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), 0);
	cr_assert_eq(ibsp_perf_reader__read(r, s, 4), 1);
	cr_assert_eq(ibsp_perf_reader__stats(r)->loss.lost_records, 2);
	cr_assert_eq(ibsp_perf_reader__stats(r)->loss.lost, 15);
	cr_assert_eq(ibsp_perf_reader__stats(r)->loss.throttle, 1);
	ibsp_perf_reader__close(r);
}

/* A MEM_TOPOLOGY bitmap of alternating bits (a range per block) is refused past the cap, fast. */
Test(writer, mem_topology_with_too_many_ranges_is_refused)
{
	static uint64_t ids[] = { 1 };
	const uint32_t nr_ranges = IBSP_TOPO_MAX_RANGES + 1;
	struct ibsp_recording_info info = { .hostname = "h" };
	struct ibsp_event_desc ev = { 0 };
	const char *path = tmp_path("ranges.data");
	struct ibsp_perf_writer *w;
	struct ibsp_perf_reader *r;
	struct ibsp_topology *t = ibsp_topology__new(1);

	cr_assert(t);
	ibsp_topology__set_block_size(t, 0x8000000);
	cr_assert_eq(ibsp_topology__set_cpulist(t, ibsp_node_idx(0), "0"), 0);
	/* More ranges than ibsp_topology__add_range() allows: only the layout can say it. */
	t->nodes[0].ranges = calloc(nr_ranges, sizeof(*t->nodes[0].ranges));
	t->nodes[0].nr_ranges = nr_ranges;
	for (uint32_t i = 0; i < nr_ranges; i++)
		t->nodes[0].ranges[i] = (struct ibsp_block_range){ .first = 2ULL * i, .nr = 1 };
	info.topo = t;
	ev.attr.type = PERF_TYPE_SOFTWARE;
	ev.attr.sample_type = PF_TYPE;
	ev.nr_ids = 1;
	ev.ids = ids;
	cr_assert_eq(ibsp_perf_writer__open(path, &info, &ev, 1, &w), 0);
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
	ibsp_topology__delete(t);

	log_capture_start();
	cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), -EINVAL);
	cr_assert(
	    strstr(log_captured(), "feature MEM_TOPOLOGY: field 'bitmap' has more memory ranges"),
	    "log: %s", log_captured());
}

/* A writer killed before close: every finished round is in the file and still readable. */
Test(writer, killed_writer_leaves_readable_rounds)
{
	struct ibsp_recording_info info = { .hostname = "h" };
	struct ibsp_event_desc ev = pf_event();
	const char *path = tmp_path("killed.data");
	struct ibsp_sample *s;
	size_t n;
	int status, e;
	pid_t pid;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct ibsp_perf_writer *w;
		struct rec rc;

		if (ibsp_perf_writer__open(path, &info, &ev, 1, &w))
			_exit(1);
		for (int i = 0; i < 10; i++)
			if (ibsp_perf_writer__write(w, sample(&rc, 0, 11, 1, 100 + (uint64_t)i,
							      0x1000 * (uint64_t)(i + 1), 0, 0)))
				_exit(1);
		if (ibsp_perf_writer__finish_round(w))
			_exit(1);
		/* one more sample, not in a finished round: it may be lost */
		ibsp_perf_writer__write(w, sample(&rc, 0, 11, 1, 200, 0xb000, 0, 0));
		kill(getpid(), SIGKILL);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status), "the writer child was not killed: %#x", status);
	log_capture_start();
	n = read_all_samples(path, &s, &e);
	cr_assert_eq(e, 0, "%s", log_captured());
	cr_assert(strstr(log_captured(), "data size is 0"), "no warning: %s", log_captured());
	cr_assert_eq(n, 10);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(s[i].vaddr, 0x1000 * (i + 1));
	free(s);
}
