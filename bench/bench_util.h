/* SPDX-License-Identifier: MIT */
/* What the benchmarks share: a clock, a reader pass, and a child measured with wait4(). */
#ifndef IBSP_BENCH_UTIL_H
#define IBSP_BENCH_UTIL_H

struct result {
	double wall_s;
	long maxrss_kb;
	int status;
};

/* CLOCK_MONOTONIC in seconds. */
double now_s(void);
/* Read every sample of @path with the library reader; 0 on success (for measure()). */
int read_all(const char *path);
/* Run @fn(@arg) (if set) or @cmd via sh in a child; its wall time, max RSS and exit status. */
struct result measure(int (*fn)(const char *), const char *arg, const char *cmd);

#endif
