// SPDX-License-Identifier: MIT
/*
 * The reader on real recordings made on this machine with stock perf:
 *   perf record -e page-faults -c 1 -d --phys-data --sample-cpu [-a] -- faulter 32
 * (and the same with -o -, pipe mode). The expected tuples are perf script
 * -F cpu,tid,addr,phys_addr output of the
 * same files (tests/fixtures/NAME.perf-script.txt), and the expected topology is
 * perf report --header-only -I output (NAME.perf-header.txt). pf-zstd and
 * pf-zstd-pipe: the same with -z (zstd-compressed records), without -a.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <zstd.h>

#include "helpers.h"
#include "perf_unzstd.h"

static void check_tuples_equal(const struct tuple *want, size_t nw, const struct tuple *got,
			       size_t ng, const char *what)
{
	cr_assert_eq(ng, nw, "%s: %zu samples decoded, perf script printed %zu", what, ng, nw);
	for (size_t i = 0; i < nw; i++) {
		cr_assert(
		    want[i].cpu == got[i].cpu && want[i].tid == got[i].tid &&
			want[i].addr == got[i].addr && want[i].phys == got[i].phys,
		    "%s: sample %zu: perf (%d, %u, %#llx, %#llx) vs ours (%d, %u, %#llx, %#llx)",
		    what, i, want[i].cpu, want[i].tid, (unsigned long long)want[i].addr,
		    (unsigned long long)want[i].phys, got[i].cpu, got[i].tid,
		    (unsigned long long)got[i].addr, (unsigned long long)got[i].phys);
	}
}

static void check_fixture(const char *data, const char *expected)
{
	struct ibsp_sample *s;
	struct tuple *want, *got;
	size_t len, nw, ng, nphys = 0;
	char *text = (char *)slurp(expected, &len);
	int err;

	nw = parse_perf_tuples(text, &want);
	ng = read_all_samples(data, &s, &err);
	cr_assert_eq(err, 0, "%s: read error %d", data, err);
	cr_assert_gt(nw, 100, "fixture %s has too few samples to mean anything", expected);
	samples_to_tuples(s, ng, &got);
	check_tuples_equal(want, nw, got, ng, data);
	for (size_t i = 0; i < ng; i++) {
		cr_assert_eq(s[i].kind, IBSP_SAMPLER_SOFT);
		cr_assert(s[i].flags & IBSP_S_COARSE);
		nphys += !!(s[i].flags & IBSP_S_PADDR_VALID);
	}
	/* faulter's copy-on-write faults have present pages, so perf reported their phys_addr */
	cr_assert_geq(nphys, 32, "only %zu samples with a physical address", nphys);
	free(text);
	free(want);
	free(got);
	free(s);
}

Test(reader_fixtures, task_mode_matches_perf_script)
{
	check_fixture(FIXTURE("pf-task.data"), FIXTURE("pf-task.perf-script.txt"));
}

Test(reader_fixtures, system_wide_matches_perf_script)
{
	check_fixture(FIXTURE("pf-system.data"), FIXTURE("pf-system.perf-script.txt"));
}

/* perf record -a -o - (pipe mode: attrs, features and names arrive as records), saved to a file */
Test(reader_fixtures, pipe_mode_matches_perf_script)
{
	struct ibsp_perf_reader *r;

	check_fixture(FIXTURE("pf-pipe.data"), FIXTURE("pf-pipe.perf-script.txt"));
	cr_assert_eq(ibsp_perf_reader__open(FIXTURE("pf-pipe.data"), NULL, &r), 0);
	cr_assert_str_eq(ibsp_perf_reader__event(r, 0)->name, "page-faults");
	cr_assert(ibsp_perf_reader__info(r)->topo, "HEADER_FEATURE NUMA_TOPOLOGY not read");
	cr_assert(ibsp_topology__has_block_map(ibsp_perf_reader__info(r)->topo));
	cr_assert_str_eq(ibsp_perf_reader__info(r)->cpuid, "AuthenticAMD,25,17,1");
	ibsp_perf_reader__close(r);
}

/* perf record -z: the COMPRESSED records read as the records they hold, file and pipe mode */
Test(reader_fixtures, zstd_compressed_matches_perf_script)
{
	static const char *const names[] = { "pf-zstd", "pf-zstd-pipe" };

	for (size_t i = 0; i < 2; i++) {
		char data[512], txt[512];
		struct ibsp_perf_reader *r;
		struct ibsp_sample buf[64];
		int ret;

		snprintf(data, sizeof(data), "%s/%s.data", IBSP_FIXTURE_DIR, names[i]);
		snprintf(txt, sizeof(txt), "%s/%s.perf-script.txt", IBSP_FIXTURE_DIR, names[i]);
		check_fixture(data, txt);
		cr_assert_eq(ibsp_perf_reader__open(data, NULL, &r), 0);
		cr_expect_eq(ibsp_perf_reader__info(r)->comp_type, 1, "%s: zstd", data);
		cr_expect_eq(ibsp_perf_reader__info(r)->comp_level, 1);
		while ((ret = ibsp_perf_reader__read(r, buf, 64)) > 0)
			;
		cr_assert_eq(ret, 0);
		cr_expect_geq(ibsp_perf_reader__stats(r)->nr_compressed, 1, "%s", data);
		ibsp_perf_reader__close(r);
	}
}

/*
 * perf 6.15 writes PERF_RECORD_COMPRESSED2 (type 83) instead: { header; u64
 * data_size; data; padding to 8 bytes }. pf-zstd-pipe.data (pipe mode: no
 * offsets to fix) with its COMPRESSED records rewritten so reads the same.
 */
Test(reader_fixtures, zstd_compressed2_matches_perf_script)
{
	size_t len, out = 16, n2 = 0;
	uint8_t *in = slurp(FIXTURE("pf-zstd-pipe.data"), &len);
	uint8_t *o = calloc(1, 2 * len);
	const char *path = tmp_path("pf-zstd2-pipe.data");

	cr_assert(o);
	memcpy(o, in, 16); /* the pipe header */
	for (size_t off = 16; off < len;) {
		struct perf_event_header h;

		cr_assert_leq(off + sizeof(h), len);
		memcpy(&h, in + off, sizeof(h));
		cr_assert(h.size >= sizeof(h) && off + h.size <= len, "record at %zu", off);
		if (h.type == 81) {
			uint64_t dsz = h.size - sizeof(h);
			struct perf_event_header h2 = { .type = 83,
							.misc = h.misc,
							.size =
							    (uint16_t)((16 + dsz + 7) & ~7ULL) };

			memcpy(o + out, &h2, sizeof(h2));
			memcpy(o + out + 8, &dsz, 8);
			memcpy(o + out + 16, in + off + sizeof(h), dsz);
			out += h2.size; /* the padding stays zero */
			n2++;
		} else {
			memcpy(o + out, in + off, h.size);
			out += h.size;
		}
		off += h.size;
	}
	cr_assert_gt(n2, 0, "the fixture has COMPRESSED records");
	spit(path, o, out);
	check_fixture(path, FIXTURE("pf-zstd-pipe.perf-script.txt"));
	free(in);
	free(o);
}

/* @n records of @size bytes each (type 9 + k, payload bytes k), into @out. */
static size_t make_records(uint8_t *out, int n, uint16_t size)
{
	size_t len = 0;

	for (int k = 0; k < n; k++) {
		struct perf_event_header h = { .type = (uint32_t)(9 + k), .size = size };

		memcpy(out + len, &h, sizeof(h));
		memset(out + len + sizeof(h), k, size - sizeof(h));
		len += size;
	}
	return len;
}

/*
 * The stream across payloads, as perf writes it: one zstd stream flushed at
 * each payload's end, with payload boundaries that cut records in two (and
 * one with a size that is no multiple of 8, so the next is not aligned). The
 * records come out whole, in order, and only once their last byte arrived;
 * garbage is refused with zstd's reason.
 */
Test(reader_fixtures, zstd_stream_records_span_payloads)
{
	static const size_t cuts[] = { 1, 100, 1000, 4095, 9000 };
	uint8_t plain[20 * 1004 + 12], comp[65536];
	size_t plen = make_records(plain, 20, 1004), done = 0, at = 0;
	struct ibsp_unzstd z;
	ZSTD_CStream *cs = ZSTD_createCStream();
	const char *why = NULL;
	int got = 0;

	cr_assert(cs && !ZSTD_isError(ZSTD_initCStream(cs, 1)));
	cr_assert_eq(ibsp_unzstd__init(&z, 0), 0);
	for (size_t c = 0; c <= sizeof(cuts) / sizeof(cuts[0]); c++) {
		size_t end = c < sizeof(cuts) / sizeof(cuts[0]) ? cuts[c] * 2 : plen;
		ZSTD_inBuffer in = { plain + at, (end > plen ? plen : end) - at, 0 };
		ZSTD_outBuffer out = { comp, sizeof(comp), 0 };
		const struct perf_event_header *h;
		uint64_t off;

		while (in.pos < in.size)
			cr_assert(!ZSTD_isError(ZSTD_compressStream(cs, &out, &in)));
		cr_assert(!ZSTD_isError(ZSTD_flushStream(cs, &out)));
		at += in.size;
		cr_assert_eq(ibsp_unzstd__feed(&z, comp, out.pos, &why), 0, "%s", why);
		while (ibsp_unzstd__next(&z, &h, &off, &why) == 1) {
			cr_assert_eq(h->type, (uint32_t)(9 + got), "record %d", got);
			cr_assert_eq(h->size, 1004);
			cr_assert_eq(off, (uint64_t)got * 1004);
			cr_assert_eq(((const uint8_t *)h)[1003], got, "its last byte");
			got++;
			done += h->size;
		}
		cr_assert_eq(done, at / 1004 * 1004, "whole records only, after %zu bytes", at);
		cr_assert_eq(ibsp_unzstd__left(&z), at - done);
	}
	cr_expect_eq(got, 20);
	cr_expect_eq(z.out, plen);
	cr_assert_eq(ibsp_unzstd__feed(&z, "not zstd at all", 15, &why), -EINVAL);
	cr_expect(why && *why, "zstd's reason");
	ibsp_unzstd__exit(&z);
	ZSTD_freeCStream(cs);
}

static void check_header(const char *data, const char *header_txt)
{
	struct ibsp_perf_reader *r;
	size_t len;
	char *hdr = (char *)slurp(header_txt, &len);

	cr_assert_eq(ibsp_perf_reader__open(data, NULL, &r), 0);
	check_topology_vs_perf_header(ibsp_perf_reader__info(r)->topo, hdr);
	cr_assert_str_eq(ibsp_perf_reader__info(r)->cpuid, "AuthenticAMD,25,17,1");
	cr_assert_eq(ibsp_perf_reader__info(r)->nr_cpus_online, 2);
	/* perf record -a adds a "dummy:HG" side-band event after ours */
	cr_assert_geq(ibsp_perf_reader__nr_events(r), 1);
	cr_assert_str_eq(ibsp_perf_reader__event(r, 0)->name, "page-faults");
	cr_assert_eq(ibsp_perf_reader__event(r, 0)->kind, IBSP_SAMPLER_SOFT);
	for (uint32_t i = 1; i < ibsp_perf_reader__nr_events(r); i++)
		cr_assert_eq(ibsp_perf_reader__event(r, i)->kind, IBSP_SAMPLER_NONE);
	ibsp_perf_reader__close(r);
	free(hdr);
}

Test(reader_fixtures, topology_matches_perf_header_task)
{
	check_header(FIXTURE("pf-task.data"), FIXTURE("pf-task.perf-header.txt"));
}

Test(reader_fixtures, topology_matches_perf_header_system)
{
	check_header(FIXTURE("pf-system.data"), FIXTURE("pf-system.perf-header.txt"));
}

Test(reader_fixtures, counts_per_cpu_add_up)
{
	struct ibsp_perf_reader *r;
	struct ibsp_sample buf[64];
	uint64_t sum = 0;
	const struct ibsp_perf_stats *st;
	int ret;

	cr_assert_eq(ibsp_perf_reader__open(FIXTURE("pf-system.data"), NULL, &r), 0);
	while ((ret = ibsp_perf_reader__read(r, buf, 64)) > 0)
		;
	cr_assert_eq(ret, 0);
	st = ibsp_perf_reader__stats(r);
	for (uint32_t c = 0; c < st->nr_cpu_slots; c++)
		sum += st->samples_per_cpu[c];
	cr_assert_eq(sum + st->samples_no_cpu, st->nr_samples - st->nr_invalid);
	cr_assert_eq(st->nr_samples, st->samples_per_event[0]);
	cr_assert_eq(st->nr_decoded, st->nr_samples);
	cr_assert_gt(st->nr_rounds, 0, "perf record writes FINISHED_ROUND records");
	cr_assert_leq(st->nr_cpu_slots, 2);
	ibsp_perf_reader__close(r);
}

/*
 * The samples handed out in place are those read() copies, in its order,
 * for every fixture (rounds out of order across CPUs, records that only
 * order, compressed and pipe files), in runs of at most the cap.
 */
Test(reader_fixtures, in_place_same_samples)
{
	static const char *const files[] = {
		FIXTURE("pf-task.data"),      FIXTURE("pf-system.data"),
		FIXTURE("pf-pipe.data"),      FIXTURE("pf-zstd.data"),
		FIXTURE("pf-zstd-pipe.data"), FIXTURE("example-2s-cxl.data")
	};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct ibsp_perf_reader *r;
		const struct ibsp_sample *got;
		struct ibsp_sample *ref;
		size_t nref, n = 0, runs = 0;
		int err, ret;

		nref = read_all_samples(files[f], &ref, &err);
		cr_assert_eq(err, 0, "%s", files[f]);
		cr_assert_gt(nref, 0, "%s", files[f]);
		cr_assert_eq(ibsp_perf_reader__open(files[f], NULL, &r), 0);
		while ((ret = ibsp_perf_reader__read_in_place(r, &got, 7)) > 0) {
			cr_assert_leq(ret, 7);
			for (int i = 0; i < ret; i++, n++)
				cr_assert_eq(memcmp(&got[i], &ref[n], sizeof(got[i])), 0,
					     "%s: sample %zu differs", files[f], n);
			runs++;
		}
		cr_assert_eq(ret, 0, "%s", files[f]);
		cr_assert_eq(n, nref, "%s", files[f]);
		cr_assert_lt(runs, n, "%s: runs of more than one sample", files[f]);
		cr_assert_eq(ibsp_perf_reader__stats(r)->nr_decoded, nref, "%s", files[f]);
		ibsp_perf_reader__close(r);
		free(ref);
	}
}

/* A small window forces many remaps: the result must not change. */
Test(reader_fixtures, small_window_same_samples)
{
	struct ibsp_perf_reader_opts o = { .sz = sizeof(o), .window_bytes = 4096 };
	struct ibsp_perf_reader *r;
	struct ibsp_sample *ref, got[7];
	size_t nref, n = 0;
	int err, ret;

	nref = read_all_samples(FIXTURE("pf-system.data"), &ref, &err);
	cr_assert_eq(err, 0);
	cr_assert_eq(ibsp_perf_reader__open(FIXTURE("pf-system.data"), &o, &r), 0);
	while ((ret = ibsp_perf_reader__read(r, got, 7)) > 0) {
		for (int i = 0; i < ret; i++, n++)
			cr_assert_eq(memcmp(&got[i], &ref[n], sizeof(got[i])), 0,
				     "sample %zu differs", n);
	}
	cr_assert_eq(n, nref);
	ibsp_perf_reader__close(r);
	free(ref);
}

/*
 * Record fresh files with the installed perf and compare with its own perf
 * script. @events: the -e options (page faults at period 1 when NULL). The
 * samples are returned in *@out_samples when it is not NULL (*@n of them).
 */
static void live_compare_events(const char *extra, const char *events, const char *file,
				struct ibsp_sample **out_samples, size_t *n)
{
	const char *perf = perf_path();
	char cmd[2048], *out, *err;
	const char *data = tmp_path(file);
	struct ibsp_sample *s;
	struct tuple *want, *got;
	size_t nw, ng;
	int e;

	if (!perf)
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	if (geteuid() != 0)
		cr_skip_test("perf record of page faults with --phys-data needs root here");
	/*
	 * perf script itself now and then fails on a system-wide file recorded
	 * under load ("failed to process type: 9 [Bad address]"): there is no
	 * reference to compare with then, so such a file is recorded again
	 * (three tries).
	 */
	for (int tries = 0;; tries++) {
		snprintf(cmd, sizeof(cmd),
			 "%s record -q %s %s -d --phys-data --sample-cpu -o %s -- %s 48", perf,
			 extra, events ? events : "-e page-faults -c 1", data, IBSP_FAULTER);
		if (run_cmd(cmd, &out, &err) != 0) {
			/* Only a refusal of the event is this machine's lack; anything else fails. */
			if (strstr(err, "No permission") ||
			    strstr(err, "Operation not permitted") ||
			    strstr(err, "Permission denied"))
				cr_skip_test(
				    "this machine refuses perf record the page-fault event: %s",
				    err);
			cr_assert_fail("perf record failed: %s", err);
		}
		free(out);
		free(err);
		snprintf(cmd, sizeof(cmd), "%s script -i %s -F cpu,tid,addr,phys_addr", perf, data);
		if (run_cmd(cmd, &out, &err) == 0)
			break;
		cr_assert_lt(tries, 2, "perf script failed three times: %s", err);
		/* Not cr_log_warn(): a warning makes Criterion exit non-zero, failing a test that passed. */
		fprintf(stderr, "[NOTE] perf script failed on %s (recording again): %s\n", data,
			err);
		free(out);
		free(err);
	}
	nw = parse_perf_tuples(out, &want);
	ng = read_all_samples(data, &s, &e);
	cr_assert_eq(e, 0);
	samples_to_tuples(s, ng, &got);
	cr_assert_gt(nw, 100);
	check_tuples_equal(want, nw, got, ng, data);
	free(out);
	free(err);
	free(want);
	free(got);
	if (out_samples) {
		*out_samples = s;
		*n = ng;
	} else {
		free(s);
	}
}

static void live_compare(const char *extra)
{
	live_compare_events(extra, NULL, extra[0] ? "live-a.data" : "live.data", NULL, NULL);
}

Test(reader_live, fresh_task_recording_matches_perf_script)
{
	live_compare("");
}

Test(reader_live, fresh_system_wide_recording_matches_perf_script)
{
	live_compare("-a");
}

/*
 * perf record -d asks every event for PERF_SAMPLE_ADDR, and an event with no
 * data address of its own (cpu-clock) writes 0 there. Such samples carry no
 * address (not one in page 0, which would make them heat of a page nobody
 * touched), while the page faults beside them keep theirs; both match perf
 * script, which prints 0 for the former. The clock ticks every 50 us: the
 * workload runs for about 2 ms, so a 1 ms period gave no clock sample in
 * half the runs on a fast host.
 */
Test(reader_live, an_event_without_data_addresses_gives_none)
{
	struct ibsp_sample *s = NULL;
	size_t n = 0, clock = 0, faults = 0, faults_addr = 0;

	live_compare_events("", "-e page-faults/period=1/ -e cpu-clock/period=50000/",
			    "live-clock.data", &s, &n);
	for (size_t i = 0; i < n; i++) {
		if (s[i].kind == IBSP_SAMPLER_NONE) {
			clock++;
			cr_expect(!(s[i].flags & (IBSP_S_VADDR_VALID | IBSP_S_PADDR_VALID)),
				  "cpu-clock sample %zu has an address (%#llx)", i,
				  (unsigned long long)s[i].vaddr);
		} else {
			cr_assert_eq(s[i].kind, IBSP_SAMPLER_SOFT);
			faults++;
			faults_addr += !!(s[i].flags & IBSP_S_VADDR_VALID);
		}
	}
	cr_expect_gt(clock, 0, "no cpu-clock sample in %zu", n);
	cr_expect_gt(faults, 100);
	cr_expect_eq(faults_addr, faults, "page faults without an address");
	free(s);
}

/* The info command itself: its NUMA topology equals perf report --header-only -I's. */
Test(reader_fixtures, info_command_topology_matches_perf_header)
{
	static const char *const names[] = { "pf-task", "pf-system" };

	for (size_t f = 0; f < 2; f++) {
		char cmd[1024], path[512], *out, *err, *hdr;
		size_t len;
		json_error_t jerr;
		json_t *root, *nodes, *n;
		size_t i;

		snprintf(path, sizeof(path), "%s/%s.perf-header.txt", IBSP_FIXTURE_DIR, names[f]);
		hdr = (char *)slurp(path, &len);
		snprintf(cmd, sizeof(cmd), IBSP_CLI " info --json %s/%s.data", IBSP_FIXTURE_DIR,
			 names[f]);
		cr_assert_eq(run_cmd(cmd, &out, &err), 0, "info failed: %s", err);
		root = json_loads(out, 0, &jerr);
		cr_assert(root, "info --json is not JSON: %s", jerr.text);
		nodes = json_object_get(root, "nodes");
		cr_assert(json_is_array(nodes) && json_array_size(nodes) > 0);
		json_array_foreach(nodes, i, n)
		{
			char want[256];
			long long id = json_integer_value(json_object_get(n, "node"));
			const char *cpus = json_string_value(json_object_get(n, "cpus"));

			snprintf(want, sizeof(want),
				 "# node%lld meminfo  : total = %lld kB, free = %lld kB\n", id,
				 json_integer_value(json_object_get(n, "mem_total_kb")),
				 json_integer_value(json_object_get(n, "mem_free_kb")));
			cr_assert(strstr(hdr, want), "%s: perf header lacks '%s'", names[f], want);
			snprintf(want, sizeof(want), "# node%lld cpu list : %s\n", id,
				 cpus && *cpus ? cpus : "-1");
			cr_assert(strstr(hdr, want), "%s: perf header lacks '%s'", names[f], want);
		}
		snprintf(cmd, sizeof(cmd),
			 "# memory nodes (nr %zu, block size %#llx):", json_array_size(nodes),
			 json_integer_value(json_object_get(root, "memory_block_size")));
		cr_assert(strstr(hdr, cmd), "%s: perf header lacks '%s'", names[f], cmd);
		json_decref(root);
		free(out);
		free(err);
		free(hdr);
	}
}
