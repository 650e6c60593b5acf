// SPDX-License-Identifier: MIT
/*
 * A fault-heavy load for the live-overhead benchmark (bench/run-all): map
 * MIB anonymous MiB, write one byte per 4 KiB page (a page fault each),
 * unmap, again, for SECONDS. Prints the faults it took.
 * Usage: fault_load SECONDS [MIB]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, end = now_s() + secs;
	size_t len = (size_t)(argc > 2 ? atol(argv[2]) : 64) << 20;
	unsigned long long faults = 0;

	while (now_s() < end) {
		char *p =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("fault_load: mmap");
			return 1;
		}
		for (size_t off = 0; off < len; off += 4096) {
			p[off] = 1;
			faults++;
		}
		munmap(p, len);
	}
	printf("%llu\n", faults);
	return 0;
}
