// SPDX-License-Identifier: MIT
/*
 * Replay throughput (docs/performance.md): a generated IBS-op recording of
 * N samples over P distinct pages (ibsp-gen), then, each in a child process
 * measured with wait4() on the same file in the same run:
 *
 *   read    the library reader alone (decode, perf's order)
 *   replay  ibs-promote replay, end to end (reader + engine + policy), one core
 *   perf    perf script -F cpu,tid,ip,time (the yardstick: IBS-op samples carry
 *           their data address in RAW, so perf has no addr/phys_addr field
 *           for them and refuses -F addr,phys_addr)
 *
 * Usage: bench_replay IBS_PROMOTE IBSP_GEN [SAMPLES [PAGES [RUNS]]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ibsp/perf_file.h"

int main(int argc, char **argv)
{
	unsigned long long samples = argc > 3 ? strtoull(argv[3], NULL, 10) : 10000000ULL;
	unsigned long long pages = argc > 4 ? strtoull(argv[4], NULL, 10) : 1000000ULL;
	int runs = argc > 5 ? atoi(argv[5]) : 3;
	const char *path = "/tmp/ibsp-bench-replay.data";
	char cmd[1024];
	struct stat sb;

	if (argc < 3) {
		fprintf(stderr, "usage: %s IBS_PROMOTE IBSP_GEN [SAMPLES [PAGES [RUNS]]]\n",
			argv[0]);
		return 2;
	}
	snprintf(cmd, sizeof(cmd),
		 "%s -o %s --topology 2s-cxl --pattern private:50,shared:20,cold:20,zipf:10 "
		 "--pages %llu --samples %llu --duration-ms 10000",
		 argv[2], path, pages, samples);
	if (system(cmd) || stat(path, &sb)) {
		fprintf(stderr, "bench_replay: %s failed\n", cmd);
		return 1;
	}
	printf("%llu samples, %llu pages, %.0f MB; best of %d runs\n", samples, pages,
	       (double)sb.st_size / 1e6, runs);
	printf(
	    "| tool | wall s | samples/s | max RSS kB | time vs perf |\n|---|---|---|---|---|\n");
	{
		struct result best[3] = { { 1e9, 0, 0 }, { 1e9, 0, 0 }, { 1e9, 0, 0 } };
		const char *names[3] = { "read", "replay", "perf" };
		char rcmd[1024], pcmd[1024];

		/* The heat table holds every page: no eviction muddles the figure. */
		snprintf(rcmd, sizeof(rcmd),
			 "%s replay --no-progress --max-pages %llu %s >/dev/null", argv[1],
			 pages + pages / 8, path);
		snprintf(pcmd, sizeof(pcmd), "perf script -F cpu,tid,ip,time -i %s >/dev/null 2>&1",
			 path);
		for (int r = 0; r < runs; r++) {
			struct result x[3] = { measure(read_all, path, NULL),
					       measure(NULL, NULL, rcmd),
					       measure(NULL, NULL, pcmd) };

			for (int k = 0; k < 3; k++) {
				if (x[k].status) {
					fprintf(stderr, "bench_replay: %s exited %d\n", names[k],
						x[k].status);
					return 1;
				}
				if (x[k].wall_s < best[k].wall_s)
					best[k] = x[k];
			}
		}
		for (int k = 0; k < 3; k++)
			printf("| %s | %.3f | %.2f M | %ld | %.2f |\n", names[k], best[k].wall_s,
			       (double)samples / best[k].wall_s / 1e6, best[k].maxrss_kb,
			       best[k].wall_s / best[2].wall_s);
	}
	unlink(path);
	return 0;
}
