// SPDX-License-Identifier: MIT
/*
 * The migration worker with a scripted move_pages (every outcome the
 * kernel can give), and with the real one on this host (its answers checked
 * against the kernel's own queries; real moves between nodes: tests/guest).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ibsp/migrate.h"

/* The script: per page (by vaddr / 4096 % 16) the status to report; pid 666 is gone. */
static const int script[16] = { 0, 0, -EBUSY, -EACCES, -ENOENT, -EFAULT, -ENOMEM, 1,
				0, 0, 0,      0,       0,	0,	 0,	  0 };
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static int calls, last_count, sorted = 1;
static int pids_seen[8];

static long fake_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
			    int *status, int flags)
{
	(void)flags;
	pthread_mutex_lock(&gate);
	pids_seen[calls % 8] = pid;
	calls++;
	last_count = (int)count;
	pthread_mutex_unlock(&gate);
	for (unsigned long i = 1; i < count; i++)
		sorted &= (uintptr_t)pages[i - 1] < (uintptr_t)pages[i];
	if (pid == 666) {
		errno = ESRCH;
		return -1;
	}
	if (pid == 777) /* a positive return: nothing migrated, statuses untouched */
		return (long)count;
	for (unsigned long i = 0; i < count; i++) {
		int s = script[((uintptr_t)pages[i] / 4096) % 16];

		status[i] = s == 0 ? nodes[i] : s;
	}
	return 0;
}

static struct ibsp_migration req(uint32_t pid, uint64_t page, int dst)
{
	return (struct ibsp_migration){ .pid = pid,
					.vaddr = page * 4096,
					.bytes = 4096,
					.src_node = ibsp_node_id(2),
					.dst_node = ibsp_node_id(dst) };
}

static size_t reap_all(struct ibsp_migrator *mg, struct ibsp_migration_result *out, size_t want)
{
	size_t n = 0;

	for (int tries = 0; n < want && tries < 500; tries++) {
		n += ibsp_migrator__reap(mg, out + n, want - n);
		if (n < want)
			usleep(2000);
	}
	return n;
}

Test(migrate, outcomes_are_accounted)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o), .move_pages = fake_move_pages };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	struct ibsp_migration m[24];
	struct ibsp_migration_result r[24];
	struct ibsp_migrator_stats st;

	cr_assert(mg);
	for (int i = 0; i < 16; i++)
		m[i] = req(100, (uint64_t)i, 0);
	for (int i = 16; i < 20; i++)
		m[i] = req(666, (uint64_t)i, 0);
	for (int i = 20; i < 24; i++)
		m[i] = req(777, (uint64_t)i, 1);
	cr_assert_eq(ibsp_migrator__submit(mg, m, 24), 24);
	cr_assert_eq(reap_all(mg, r, 24), 24);
	cr_assert_eq(ibsp_migrator__flush(mg, 1000), 0);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.submitted, 24);
	cr_expect_eq(st.moved, 10, "pages 0, 1 and 8-15 of pid 100: %llu",
		     (unsigned long long)st.moved);
	cr_expect_eq(st.moved_elsewhere, 1, "page 7 reported on node 1");
	cr_expect_eq(st.by_err[IBSP_MIG_EBUSY], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_EACCES], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_ENOENT], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_EFAULT], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_ENOMEM], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_ESRCH], 4);
	cr_expect_eq(st.by_err[IBSP_MIG_NOT_MIGRATED], 4);
	cr_expect_eq(st.failed, 13);
	cr_expect_eq(st.moved_bytes, 10 * 4096);
	cr_expect_eq(st.syscalls, 3, "one call per pid");
	cr_expect(sorted, "addresses sorted within a call");
	for (int i = 0; i < 24; i++) {
		int page = (int)(r[i].m.vaddr / 4096), want;

		if (r[i].m.pid == 666)
			want = -ESRCH;
		else if (r[i].m.pid == 777)
			want = -EAGAIN;
		else
			want = script[page % 16] == 0 ? 0 : script[page % 16];
		cr_expect_eq(r[i].final_node, want, "pid %u page %d: %d", r[i].m.pid, page,
			     r[i].final_node);
	}
	ibsp_migrator__delete(mg);
}

Test(migrate, batches_per_pid)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.move_pages = fake_move_pages,
					.batch = 4 };
	struct ibsp_migrator *mg;
	struct ibsp_migration m[30];
	struct ibsp_migration_result r[30];

	/* Hold the worker so all 30 are taken in one drain. */
	pthread_mutex_lock(&gate);
	mg = ibsp_migrator__new(&o);
	cr_assert(mg);
	for (int i = 0; i < 30; i++)
		m[i] = req((uint32_t)(200 + i % 3), (uint64_t)(8 + 16 * (29 - i)), 0);
	cr_assert_eq(ibsp_migrator__submit(mg, m, 30), 30);
	usleep(20000);
	calls = 0;
	pthread_mutex_unlock(&gate);
	cr_assert_eq(reap_all(mg, r, 30), 30);
	/* 10 pages per pid, 4 per call: 3 calls per pid. */
	cr_expect_eq(calls, 9, "calls %d", calls);
	cr_expect(sorted);
	ibsp_migrator__delete(mg);
}

Test(migrate, full_queue_never_blocks)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.move_pages = fake_move_pages,
					.queue_len = 8 };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	struct ibsp_migration m[20];
	struct ibsp_migration_result r[20];
	struct ibsp_migrator_stats st;
	size_t got;

	cr_assert(mg);
	for (int i = 0; i < 20; i++)
		m[i] = req(300, (uint64_t)(8 + 16 * i), 0);
	pthread_mutex_lock(&gate); /* the worker blocks inside move_pages */
	got = ibsp_migrator__submit(mg, m, 8);
	usleep(20000); /* it took those 8 and is stuck in the fake */
	got += ibsp_migrator__submit(mg, m + 8, 12);
	cr_expect_eq(got, 16, "8, then 8 more fit the freed queue");
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.queue_full, 4);
	pthread_mutex_unlock(&gate);
	cr_expect_eq(reap_all(mg, r, 16), 16);
	ibsp_migrator__delete(mg);
}

Test(migrate, rate_limit)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.move_pages = fake_move_pages,
					.rate_bytes_per_s = 1 << 20,
					.burst_bytes = 64 << 10,
					.batch = 16 };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	struct ibsp_migration m[64];
	struct ibsp_migration_result r[64];
	struct ibsp_migrator_stats st;
	struct timespec a, b;

	cr_assert(mg);
	for (int i = 0; i < 64; i++)
		m[i] = req(400, (uint64_t)(8 + 16 * i), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(ibsp_migrator__submit(mg, m, 64), 64);
	cr_assert_eq(reap_all(mg, r, 64), 64);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ibsp_migrator__stats(mg, &st);
	/* 256 KiB at 1 MiB/s with a 64 KiB head start: >= 0.1875 s. */
	cr_expect_geq((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, 0.18);
	cr_expect_gt(st.rate_limited, 0);
	ibsp_migrator__delete(mg);
}

Test(migrate, dry_run_moves_nothing)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.move_pages = fake_move_pages,
					.dry_run = true };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	struct ibsp_migration m = req(500, 8, 0);
	struct ibsp_migration_result r;
	struct ibsp_migrator_stats st;

	cr_assert(mg);
	calls = 0;
	cr_assert_eq(ibsp_migrator__submit(mg, &m, 1), 1);
	cr_assert_eq(reap_all(mg, &r, 1), 1);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(calls, 0);
	cr_expect_eq(st.dry_run, 1);
	cr_expect_eq(st.syscalls, 0);
	cr_expect_eq(r.final_node, -ENOEXEC);
	ibsp_migrator__delete(mg);
}

/* The kernel's own answer: the node each of our @n pages is on (move_pages with no nodes). */
static void query_nodes(char *buf, int n, int *status)
{
	void *pages[64];

	cr_assert_leq(n, 64);
	for (int i = 0; i < n; i++)
		pages[i] = buf + i * 4096;
	cr_assert_eq(move_pages(0, (unsigned long)n, pages, NULL, status, 0), 0, "query: %s",
		     strerror(errno));
}

/*
 * The real move_pages on this host. A real move needs a second node, which
 * the guest tests have (tests/guest); here every page is asked onto the node
 * the kernel says it is on, and each outcome must be the kernel's answer to
 * an independent query, before and after. A node that does not exist is
 * refused by the kernel (ENODEV), and the worker reports that refusal.
 */
Test(migrate, real_move_pages_here)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o) };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	size_t len = 64 * 4096;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ibsp_migration m[66];
	struct ibsp_migration_result r[66];
	struct ibsp_migrator_stats st;
	int before[64], after[64], here;

	cr_assert(mg);
	cr_assert_neq(buf, MAP_FAILED);
	memset(buf, 1, len);
	query_nodes(buf, 64, before);
	here = before[0];
	cr_assert_geq(here, 0, "the kernel does not know where page 0 is: %d", here);
	for (int i = 0; i < 64; i++) {
		m[i] = req((uint32_t)getpid(), 0, before[i]);
		m[i].vaddr = (uint64_t)(uintptr_t)(buf + i * 4096);
	}
	m[64] = req((uint32_t)getpid(), 0, here); /* page 0: never mapped */
	m[65] = req(0x3fffff, 1, here);		  /* no such pid */
	cr_assert_eq(ibsp_migrator__submit(mg, m, 66), 66);
	cr_assert_eq(reap_all(mg, r, 66), 66);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.moved, 64, "moved %llu", (unsigned long long)st.moved);
	cr_expect_eq(st.by_err[IBSP_MIG_EFAULT] + st.by_err[IBSP_MIG_ENOENT], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_ESRCH], 1);
	query_nodes(buf, 64, after);
	for (int i = 0; i < 66; i++) {
		if (r[i].m.pid == 0x3fffff) {
			cr_expect_eq(r[i].final_node, -ESRCH);
		} else if (r[i].m.vaddr == 0) {
			cr_expect(r[i].final_node == -EFAULT || r[i].final_node == -ENOENT, "%d",
				  r[i].final_node);
		} else {
			int k = (int)((r[i].m.vaddr - (uintptr_t)buf) / 4096);

			cr_expect_eq(r[i].final_node, before[k], "page %d: %d, the kernel said %d",
				     k, r[i].final_node, before[k]);
			cr_expect_eq(after[k], before[k], "page %d moved from %d to %d", k,
				     before[k], after[k]);
		}
	}
	ibsp_migrator__delete(mg);

	/* A node this host lacks: the kernel refuses the whole call with ENODEV. */
	{
		int nowhere = numa_max_node() + 1, status[4];
		void *pages[4] = { buf, buf + 4096, buf + 8192, buf + 12288 };
		int nodes[4] = { nowhere, nowhere, nowhere, nowhere };

		errno = 0;
		cr_assert_eq(move_pages(0, 4, pages, nodes, status, 0), -1);
		cr_assert_eq(errno, ENODEV, "move_pages to node %d: %s", nowhere, strerror(errno));
		mg = ibsp_migrator__new(&o);
		cr_assert(mg);
		for (int i = 0; i < 4; i++) {
			m[i] = req((uint32_t)getpid(), 0, nowhere);
			m[i].vaddr = (uint64_t)(uintptr_t)pages[i];
		}
		cr_assert_eq(ibsp_migrator__submit(mg, m, 4), 4);
		cr_assert_eq(reap_all(mg, r, 4), 4);
		ibsp_migrator__stats(mg, &st);
		cr_expect_eq(st.moved, 0);
		cr_expect_eq(st.failed, 4);
		cr_expect_eq(st.by_err[IBSP_MIG_OTHER], 4, "ENODEV counts as other");
		for (int i = 0; i < 4; i++)
			cr_expect_eq(r[i].final_node, -ENODEV, "page %d: %d", i, r[i].final_node);
		query_nodes(buf, 4, after);
		for (int i = 0; i < 4; i++)
			cr_expect_eq(after[i], before[i], "page %d left node %d", i, before[i]);
		ibsp_migrator__delete(mg);
	}
	munmap(buf, len);
}

/* The check before each call: pid 300 "exited" (its pid may name another process now). */
static int checks;

static int check_pid(void *ctx, uint32_t pid)
{
	(void)ctx;
	__atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
	return pid == 300 ? -ESRCH : 0;
}

Test(migrate, a_pid_that_fails_its_check_is_never_moved)
{
	struct ibsp_migrator_opts o = {
		.sz = sizeof(o), .move_pages = fake_move_pages, .batch = 4, .check_pid = check_pid
	};
	struct ibsp_migrator *mg;
	struct ibsp_migration m[16];
	struct ibsp_migration_result r[16];
	struct ibsp_migrator_stats st;

	calls = 0;
	mg = ibsp_migrator__new(&o);
	cr_assert(mg);
	for (int i = 0; i < 8; i++)
		m[i] = req(300, (uint64_t)(8 + i), 0); /* script: pages 8-15 would move */
	for (int i = 8; i < 16; i++)
		m[i] = req(301, (uint64_t)i, 0);
	cr_assert_eq(ibsp_migrator__submit(mg, m, 16), 16);
	cr_assert_eq(reap_all(mg, r, 16), 16);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.by_err[IBSP_MIG_ESRCH], 8, "pid 300's pages fail with esrch");
	cr_expect_eq(st.moved, 8, "pid 301's pages move");
	cr_expect_eq(st.syscalls, 2, "two calls of 4 for pid 301, none for 300");
	cr_expect_eq(calls, 2);
	cr_expect_eq(st.pid_refused, 1, "one refusal stops the pid's pass");
	cr_expect_eq(checks, 3, "checked before each call: once for 300, twice for 301");
	for (int i = 0; i < 16; i++)
		cr_expect_eq(r[i].final_node, r[i].m.pid == 300 ? -ESRCH : 0, "pid %u page %llu",
			     r[i].m.pid, (unsigned long long)(r[i].m.vaddr / 4096));
	ibsp_migrator__delete(mg);
}
