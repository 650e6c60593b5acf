// SPDX-License-Identifier: MIT
/*
 * A program outside the tree that uses only the installed library: count the
 * samples of a perf.data file through include/ibsp/perf_file.h. Built by
 * tests/install/check-install.sh with pkg-config and with find_package(ibsp).
 */
#include <stdio.h>
#include <string.h>

#include <ibsp/perf_file.h>

int main(int argc, char **argv)
{
	struct ibsp_perf_reader *r;
	struct ibsp_sample buf[256];
	unsigned long long n = 0;
	int got;

	if (argc != 2) {
		fprintf(stderr, "usage: count_samples FILE\n");
		return 2;
	}
	got = ibsp_perf_reader__open(argv[1], NULL, &r);
	if (got) {
		fprintf(stderr, "count_samples: %s: %s\n", argv[1], strerror(-got));
		return 1;
	}
	while ((got = ibsp_perf_reader__read(r, buf, 256)) > 0)
		n += (unsigned long long)got;
	ibsp_perf_reader__close(r);
	if (got < 0)
		return 1;
	printf("%llu\n", n);
	return 0;
}
