// SPDX-License-Identifier: MIT
/*
 * A small, deterministic page-fault workload for recording fixtures:
 * two threads first-touch their own pages, then a forked child writes to
 * the parent's pages (copy-on-write faults, whose physical address the
 * kernel can report). Usage: faulter [pages-per-thread [maps-file]]
 * With maps-file, it copies /proc/self/maps there before it exits, so a test
 * can check that sampled addresses lie inside its mappings. With
 * FAULTER_HOLD_MS in the environment, it keeps its pages that long before it
 * exits (a live test's engine can still find them when it asks their node).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static long npages = 64;
static long page;

static void *toucher(void *arg)
{
	char *p = arg;

	for (long i = 0; i < npages; i++)
		p[i * page] = (char)i;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[2];
	char *mem[2];
	pid_t pid;

	page = sysconf(_SC_PAGESIZE);
	if (argc > 1)
		npages = strtol(argv[1], NULL, 10);
	if (npages <= 0 || npages > 1 << 20) {
		fprintf(stderr, "faulter: bad page count\n");
		return 2;
	}
	for (int i = 0; i < 2; i++) {
		mem[i] = mmap(NULL, (size_t)(npages * page), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem[i] == MAP_FAILED)
			return 1;
		madvise(mem[i], (size_t)(npages * page), MADV_NOHUGEPAGE);
	}
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, toucher, mem[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pid = fork();
	if (pid == 0) {
		for (long i = 0; i < npages; i++)
			mem[0][i * page] ^= 1; /* copy-on-write */
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	if (argc > 2) {
		char buf[4096];
		size_t n;
		FILE *in = fopen("/proc/self/maps", "r"), *out = fopen(argv[2], "w");

		if (!in || !out)
			return 1;
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(in);
		if (fclose(out))
			return 1;
	}
	printf("faulter: %ld pages x 2 threads + %ld COW at %p %p\n", npages, npages,
	       (void *)mem[0], (void *)mem[1]);
	if (getenv("FAULTER_HOLD_MS"))
		usleep((useconds_t)strtol(getenv("FAULTER_HOLD_MS"), NULL, 10) * 1000);
	return 0;
}
