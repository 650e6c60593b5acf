// SPDX-License-Identifier: MIT
/*
 * Reader benchmark: speed against perf itself, and memory against file size.
 *
 * It writes synthetic page-fault recordings of N samples (2 CPUs, a
 * FINISHED_ROUND every 1024 records, as perf record writes them) with our
 * writer, then runs, each in a child process measured with wait4():
 *   - ours:  ibsp_perf_reader__read() over all samples (ordered, like perf script)
 *   - dump:  ibs-promote dump FILE > /dev/null
 *   - peer:  perf script -F cpu,tid,addr,phys_addr -i FILE > /dev/null
 * and prints wall time, samples/s, max RSS, and the ratios to perf in the
 * same run (this machine is shared and noisy: compare ratios, not seconds).
 *
 * Usage: bench_reader IBS_PROMOTE_BINARY [N ...]   (default N: 100000 1000000)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ibsp/perf_file.h"

#define SAMPLE_TYPE                                                               \
	(PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | \
	 PERF_SAMPLE_CPU | PERF_SAMPLE_PHYS_ADDR)

struct pf_sample {
	struct perf_event_header h;
	uint64_t ip;
	uint32_t pid, tid;
	uint64_t time;
	uint64_t addr;
	uint32_t cpu, res;
	uint64_t phys;
};

static int write_file(const char *path, uint64_t n)
{
	struct ibsp_recording_info info;
	struct ibsp_topology *topo;
	struct ibsp_event_desc ev = { 0 };
	struct ibsp_perf_writer *w;
	char *argv[] = { "bench_reader" };
	uint64_t t0 = 1000000;
	int ret;

	ev.attr.type = PERF_TYPE_SOFTWARE;
	ev.attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev.attr.sample_period = 1;
	ev.attr.sample_type = SAMPLE_TYPE;
	ev.attr.sample_id_all = 1;
	ev.name = "page-faults";
	if ((ret = ibsp_topology__from_sysfs("/sys", &topo)) ||
	    (ret = ibsp_recording_info__from_host(&info, topo, 1, argv)) ||
	    (ret = ibsp_perf_writer__open(path, &info, &ev, 1, &w)))
		return ret;
	for (uint64_t i = 0; i < n && !ret; i++) {
		/* two CPUs' buffers drained one after the other: times interleave across rounds */
		uint64_t round = i / 1024, k = i % 1024, cpu = k >= 512;
		struct pf_sample s = {
			.h = { .type = PERF_RECORD_SAMPLE, .size = sizeof(s) },
			.ip = 0xffffffff81000000ULL,
			.pid = 1000 + (uint32_t)cpu,
			.tid = 1000 + (uint32_t)cpu,
			.time = t0 + round * 1024 * 10 + (k % 512) * 20 + cpu * 10,
			.addr = 0x7f0000000000ULL + (i % 65536) * 4096,
			.cpu = (uint32_t)cpu,
			.phys = (i & 1) ? 0x100000000ULL + (i % 65536) * 4096 : 0,
		};

		ret = ibsp_perf_writer__write(w, &s.h);
		if (!ret && k == 1023)
			ret = ibsp_perf_writer__finish_round(w);
	}
	ret = ibsp_perf_writer__close(w) ?: ret;
	ibsp_recording_info__exit(&info);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t ns[16] = { 100000, 1000000 };
	int nr_n = 2;
	const char *cli = argc > 1 ? argv[1] : "build/ibs-promote";
	int have_perf = system("perf --version >/dev/null 2>&1") == 0;

	if (argc > 2) {
		nr_n = 0;
		for (int a = 2; a < argc && nr_n < 16; a++)
			ns[nr_n++] = strtoull(argv[a], NULL, 10);
	}
	printf("%-9s %-6s %9s %12s %10s %14s\n", "samples", "tool", "wall_s", "samples/s",
	       "maxrss_kB", "time vs perf");
	for (int i = 0; i < nr_n; i++) {
		uint64_t n = ns[i];
		char path[256], cmd[1024];
		struct result res[3] = { 0 };
		static const char *const names[3] = { "ours", "dump", "perf" };

		snprintf(path, sizeof(path), "/tmp/ibsp-bench-%" PRIu64 ".data", n);
		if (write_file(path, n)) {
			fprintf(stderr, "bench_reader: cannot write %s\n", path);
			return 1;
		}
		res[0] = measure(read_all, path, NULL);
		snprintf(cmd, sizeof(cmd), "%s dump %s > /dev/null", cli, path);
		res[1] = measure(NULL, NULL, cmd);
		if (have_perf) {
			snprintf(cmd, sizeof(cmd),
				 "perf script -F cpu,tid,addr,phys_addr -i %s > /dev/null 2>&1",
				 path);
			res[2] = measure(NULL, NULL, cmd);
		}
		for (int k = 0; k < (have_perf ? 3 : 2); k++) {
			printf("%-9" PRIu64 " %-6s %9.3f %12.0f %10ld %14.3f\n", n, names[k],
			       res[k].wall_s, (double)n / res[k].wall_s, res[k].maxrss_kb,
			       have_perf ? res[k].wall_s / res[2].wall_s : 0.0);
			if (res[k].status) {
				fprintf(stderr, "bench_reader: %s failed with status %d\n",
					names[k], res[k].status);
				return 1;
			}
		}
		unlink(path);
	}
	return 0;
}
