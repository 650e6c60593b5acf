// SPDX-License-Identifier: MIT
/*
 * ThreadSanitizer's workload (ctest -L tsan, cmake/check.sh --tsan): the
 * threads of ibs-promote under load, without Criterion (whose arena cannot
 * start under TSan: Snaipe/Criterion#274). Exits 0 when every count adds up;
 * TSan itself fails the run (exit 66) on a race.
 *
 *   tsan_stress migrate
 *       the migration worker and its queue: a submitting thread, a reaping
 *       thread, a stats reader and flushes, with a scripted move_pages that
 *       yields; then a delete while requests are still queued.
 *   tsan_stress daemon
 *       the daemon loop and the worker together: a --pid target (a child
 *       that faults for 2 s) on a fake two-node sysfs tree, so that moves are planned and
 *       handed to the worker (scripted move_pages), whose pid check reads
 *       the targets while the loop polls them; the target exits mid-run.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ibsp/daemon.h"
#include "ibsp/migrate.h"
#include "ibsp/policies.h"

#define FAIL(...)                                             \
	do {                                                  \
		fprintf(stderr, "tsan_stress: " __VA_ARGS__); \
		exit(1);                                      \
	} while (0)

static long scripted(int pid, unsigned long count, void **pages, const int *nodes, int *status,
		     int flags)
{
	(void)pid;
	(void)pages;
	(void)flags;
	sched_yield();
	for (unsigned long i = 0; i < count; i++) /* nodes NULL: a query, every page on node 1 */
		status[i] = !nodes ? 1 : i % 4 == 3 ? -EBUSY : nodes[i];
	return 0;
}

#define REQS 20000

static struct ibsp_migrator *mg;
static volatile int submitting = 1; /* written before the join that reads it last */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t reaped;

static void *submitter(void *arg)
{
	uint64_t *taken = arg;

	for (uint32_t i = 0; i < REQS; i += 16) {
		struct ibsp_migration m[16];

		for (int k = 0; k < 16; k++)
			m[k] = (struct ibsp_migration){ .pid = 1000 + (i + k) % 7,
							.vaddr = (uint64_t)(i + k) << 12,
							.bytes = 4096,
							.dst_node = ibsp_node_id(1) };
		size_t n = ibsp_migrator__submit(mg, m, 16);

		pthread_mutex_lock(&done_lock);
		*taken += n;
		pthread_mutex_unlock(&done_lock);
		if (n < 16) /* full: let the worker and the reaper run */
			sched_yield();
	}
	pthread_mutex_lock(&done_lock);
	submitting = 0;
	pthread_mutex_unlock(&done_lock);
	return NULL;
}

/* Reap until every request taken has come back (the worker waits for room in the results). */
static void *reaper(void *arg)
{
	const uint64_t *taken = arg;
	struct ibsp_migration_result r[256];

	for (;;) {
		size_t n = ibsp_migrator__reap(mg, r, 256);
		bool over;

		pthread_mutex_lock(&done_lock);
		reaped += n;
		over = !submitting && reaped == *taken;
		pthread_mutex_unlock(&done_lock);
		if (over)
			break;
		if (!n)
			sched_yield();
	}
	return NULL;
}

static void *stats_reader(void *arg)
{
	struct ibsp_migrator_stats st;

	(void)arg;
	for (int i = 0; i < 2000; i++) {
		ibsp_migrator__stats(mg, &st);
		if (st.moved + st.failed > st.submitted)
			FAIL("stats: %lu moved + %lu failed > %lu submitted\n",
			     (unsigned long)st.moved, (unsigned long)st.failed,
			     (unsigned long)st.submitted);
	}
	return NULL;
}

static int stress_migrate(void)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.queue_len = 1024,
					.batch = 32,
					.move_pages = scripted,
					.node_mask = 3 };
	struct ibsp_migration_result r[1024];
	struct ibsp_migrator_stats st;
	pthread_t t[3];
	uint64_t taken = 0;

	mg = ibsp_migrator__new(&o);
	if (!mg)
		FAIL("migrator: %s\n", strerror(errno));
	pthread_create(&t[0], NULL, submitter, &taken);
	pthread_create(&t[1], NULL, reaper, &taken);
	pthread_create(&t[2], NULL, stats_reader, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	if (ibsp_migrator__flush(mg, 10000))
		FAIL("flush timed out\n");
	reaped += ibsp_migrator__reap(mg, r, 1024);
	ibsp_migrator__stats(mg, &st);
	if (st.submitted != taken || reaped != taken || st.moved + st.failed != taken ||
	    st.submitted + st.queue_full != REQS)
		FAIL("counts: taken %lu, submitted %lu, reaped %lu, moved %lu, failed %lu, full "
		     "%lu\n",
		     (unsigned long)taken, (unsigned long)st.submitted, (unsigned long)reaped,
		     (unsigned long)st.moved, (unsigned long)st.failed,
		     (unsigned long)st.queue_full);
	/* A delete with work queued: the worker stops mid-queue. */
	for (uint32_t i = 0; i < 1024; i++) {
		struct ibsp_migration m = { .pid = 42,
					    .vaddr = (uint64_t)i << 12,
					    .bytes = 4096,
					    .dst_node = ibsp_node_id(1) };

		ibsp_migrator__submit(mg, &m, 1);
	}
	ibsp_migrator__delete(mg);
	printf("tsan_stress migrate: %lu requests, %lu moved, %lu failed, %lu refused (full)\n",
	       (unsigned long)taken, (unsigned long)st.moved, (unsigned long)st.failed,
	       (unsigned long)st.queue_full);
	return 0;
}

/* --- the daemon --- */

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root); (p = strchr(p + 1, '/'));) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			FAIL("mkdir %s: %s\n", path, strerror(errno));
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		FAIL("%s: %s\n", path, strerror(errno));
}

/* The fake host of tests/test_faults.c: node 0 CPU-less (every real page), node 1 the CPUs. */
static void make_tree(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char buf[64];

	snprintf(root, sizeof(root), "/tmp/ibsp-tsan-XXXXXX");
	if (!mkdtemp(root))
		FAIL("mkdtemp: %s\n", strerror(errno));
	put("devices/system/node/online", "0-1\n");
	put("devices/system/node/node0/cpulist", "\n");
	put("devices/system/node/node0/cpumap", "0\n");
	put("devices/system/node/node0/meminfo",
	    "Node 0 MemTotal: 4194304 kB\nNode 0 MemFree: 2097152 kB\n");
	put("devices/system/node/node0/distance", "10 30\n");
	snprintf(buf, sizeof(buf), "0-%ld\n", ncpu - 1);
	put("devices/system/node/node1/cpulist", buf);
	snprintf(buf, sizeof(buf), "%lx\n", (1ul << ncpu) - 1);
	put("devices/system/node/node1/cpumap", buf);
	put("devices/system/node/node1/meminfo",
	    "Node 1 MemTotal: 4194304 kB\nNode 1 MemFree: 4000000 kB\n");
	put("devices/system/node/node1/distance", "30 10\n");
	put("devices/system/memory/block_size_bytes", "8000000\n");
	put("devices/virtual/memory_tiering/memory_tier4/nodelist", "1\n");
	put("devices/virtual/memory_tiering/memory_tier22/nodelist", "0\n");
}

/* The target: maps, touches and unmaps 16 MiB again and again (page faults), then exits. */
static void __attribute__((noreturn)) fault_for(double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		size_t len = 16u << 20;
		char *p =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		for (size_t i = 0; i < len; i += 4096)
			p[i] = (char)i;
		munmap(p, len);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	_exit(0);
}

static int stress_daemon(void)
{
	struct ibsp_daemon_opts o = { .sz = sizeof(o) };
	struct ibsp_daemon_result res;
	char cmd[600];
	pid_t target;

	int ret;

	make_tree();
	target = fork();
	if (target < 0)
		FAIL("fork: %s\n", strerror(errno));
	if (!target)
		fault_for(2.0);
	o.sampler.sz = sizeof(o.sampler);
	o.sampler.kind = IBSP_SAMPLER_SOFT;
	o.sampler.sysfs_root = root;
	o.capture.sz = sizeof(o.capture);
	o.capture.target = IBSP_TARGET_PID;
	o.capture.pids = &target;
	o.capture.nr_pids = 1;
	o.engine.sz = sizeof(o.engine);
	o.engine.policy = (struct ibsp_policy){ .ops = &ibsp_policy_locality, .arg = -1 };
	o.engine.min_heat = 1;
	o.engine.interval_ms = 100;
	o.top_tier = "1";
	o.duration_s = 20;
	o.json_path = "/dev/null";
	o.move_pages = scripted;
	ret = ibsp_daemon__run(&o, &res);
	waitpid(target, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		fprintf(stderr, "tsan_stress: could not remove %s\n", root);
	if (ret)
		FAIL("daemon: %s\n", strerror(-ret));
	printf("tsan_stress daemon: %s, %lu samples, %lu planned, %lu moved, %lu failed\n",
	       res.end_reason, (unsigned long)res.samples, (unsigned long)res.planned,
	       (unsigned long)res.moved, (unsigned long)res.failed);
	if (strcmp(res.end_reason, "target_exit") || !res.samples || !res.moved || !res.failed)
		FAIL("expected the target's exit to end a run with samples, moves and failures\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "migrate"))
		return stress_migrate();
	if (argc >= 2 && !strcmp(argv[1], "daemon"))
		return stress_daemon();
	fprintf(stderr, "usage: tsan_stress migrate | daemon\n");
	return 2;
}
