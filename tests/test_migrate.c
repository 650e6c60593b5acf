// SPDX-License-Identifier: MIT
/*
 * The migration worker with a scripted move_pages (every outcome the
 * kernel can give), and with the real one on this host (its answers checked
 * against the kernel's own queries; real moves between nodes: tests/guest).
 *
 * Two scripts: fake_move_pages (the first tests: a status per page by
 * vaddr / 4096 % 16, pid 666 gone, pid 777 a positive return) and
 * kernel_move_pages (the v2 rules, table-driven: whole-call errors per
 * node or pid, statuses written before a failure, the node query after a
 * positive return, a log of every call).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ibsp/migrate.h"
#include "helpers.h"
#include "migrate_internal.h" /* keysort.c's entry, white-box */

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
	if (!nodes) { /* the node query after a positive return: fails here (not_migrated) */
		errno = ENOSYS;
		return -1;
	}
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

/* Page numbers start at 16 (same script slot): vaddr 0 is refused without a call. */
static struct ibsp_migration req(uint32_t pid, uint64_t page, int dst)
{
	return (struct ibsp_migration){ .pid = pid,
					.vaddr = (page + 16) * 4096,
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
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.move_pages = fake_move_pages,
					.node_mask = 0x3 };
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
		int page = (int)(r[i].m.vaddr / 4096 - 16), want;

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
 * an independent query, before and after; with them, an unmapped page
 * (-EFAULT or -ENOENT), ESRCH for a pid that does not exist, and a zero
 * vaddr refused before any call: one call per (pid, node). A node that does
 * not exist is refused by the kernel (ENODEV); the worker, which knows the
 * host's nodes, refuses such requests without a call (invalid).
 */
Test(migrate, real_move_pages_here)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o) };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	size_t len = 65 * 4096;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t hole = (uint64_t)(uintptr_t)(buf + 64 * 4096);
	struct ibsp_migration m[67];
	struct ibsp_migration_result r[67];
	struct ibsp_migrator_stats st;
	int before[64], after[64], here;

	cr_assert(mg);
	cr_assert_neq(buf, MAP_FAILED);
	memset(buf, 1, len);
	query_nodes(buf, 64, before);
	here = before[0];
	cr_assert_geq(here, 0, "the kernel does not know where page 0 is: %d", here);
	cr_assert_eq(munmap(buf + 64 * 4096, 4096), 0); /* the 65th page: no VMA any more */
	for (int i = 0; i < 64; i++) {
		m[i] = req((uint32_t)getpid(), 0, before[i]);
		m[i].vaddr = (uint64_t)(uintptr_t)(buf + i * 4096);
	}
	m[64] = req((uint32_t)getpid(), 0, here);
	m[64].vaddr = hole;
	m[65] = req(0x3fffff, 1, here); /* no such pid */
	m[66] = req((uint32_t)getpid(), 0, here);
	m[66].vaddr = 0; /* refused: no call */
	cr_assert_eq(ibsp_migrator__submit(mg, m, 67), 67);
	cr_assert_eq(reap_all(mg, r, 67), 67);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.moved, 64, "moved %llu", (unsigned long long)st.moved);
	cr_expect_eq(st.by_err[IBSP_MIG_EFAULT] + st.by_err[IBSP_MIG_ENOENT], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_ESRCH], 1);
	cr_expect_eq(st.by_err[IBSP_MIG_INVALID], 1);
	cr_expect_eq(st.syscalls, 2, "one call for our pid's node, one for the absent pid");
	cr_expect_eq(st.matrix[2][here], 64, "src 2 (as requested) -> the node it is on");
	query_nodes(buf, 64, after);
	for (int i = 0; i < 67; i++) {
		if (r[i].m.pid == 0x3fffff) {
			cr_expect_eq(r[i].final_node, -ESRCH);
		} else if (r[i].m.vaddr == hole) {
			cr_expect(r[i].final_node == -EFAULT || r[i].final_node == -ENOENT, "%d",
				  r[i].final_node);
		} else if (r[i].m.vaddr == 0) {
			cr_expect_eq(r[i].final_node, -EINVAL);
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
		/* The worker knows the host's nodes: it refuses the requests without a call. */
		cr_expect_eq(st.by_err[IBSP_MIG_INVALID], 4, "refused as invalid");
		cr_expect_eq(st.syscalls, 0);
		for (int i = 0; i < 4; i++)
			cr_expect_eq(r[i].final_node, -EINVAL, "page %d: %d", i, r[i].final_node);
		query_nodes(buf, 4, after);
		for (int i = 0; i < 4; i++)
			cr_expect_eq(after[i], before[i], "page %d left node %d", i, before[i]);
		ibsp_migrator__delete(mg);
	}
	munmap(buf, 64 * 4096);
}

/* ---- The v2 rules, against a scripted kernel ---- */

#define BASE_PAGE  0x10000u /* first page number of the scripted requests */
#define ST_TARGET  0	    /* k_status: report the page on its destination */
#define ST_NODE(n) (1000 + (n))

/* The scripted kernel; criterion runs each test in its own process. */
static struct {
	int status[64]; /* by (page - BASE_PAGE) % 64: ST_TARGET, ST_NODE(n) or -errno */
	int node_err[IBSP_MIG_MAX_NODES]; /* a whole-call errno for calls to that node */
	int written; /* statuses stored before a failure (-1: none for node_err, else all) */
	long ret;    /* the return for calls without node_err */
	int err;     /* its errno when ret < 0 */
	int ncalls;
	/* The node query (nodes NULL): fails with ENOSYS unless @locate; else by slot. */
	bool locate;
	int where[64]; /* a node, or -errno */
	int nqueries;
	struct {
		int pid, node;
		unsigned long count;
		bool one_node, sorted;
	} call[128];
} k = { .written = -1 };

static long kernel_query(unsigned long count, void **pages, int *status)
{
	k.nqueries++;
	if (!k.locate) {
		errno = ENOSYS;
		return -1;
	}
	for (unsigned long i = 0; i < count; i++)
		status[i] = k.where[((uintptr_t)pages[i] / 4096 - BASE_PAGE) % 64];
	return 0;
}

static long kernel_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
			      int *status, int flags)
{
	int err = nodes ? k.node_err[nodes[0]] : 0;
	unsigned long stored = k.written >= 0 ? (unsigned long)k.written : err ? 0 : count;
	int n = k.ncalls;

	if (!nodes)
		return kernel_query(count, pages, status);
	k.ncalls++;
	(void)flags;
	cr_assert_lt(n, 128);
	k.call[n].pid = pid;
	k.call[n].node = nodes[0];
	k.call[n].count = count;
	k.call[n].one_node = k.call[n].sorted = true;
	for (unsigned long i = 1; i < count; i++) {
		k.call[n].one_node &= nodes[i] == nodes[0];
		k.call[n].sorted &= (uintptr_t)pages[i - 1] < (uintptr_t)pages[i];
	}
	for (unsigned long i = 0; i < stored && i < count; i++) {
		int s = k.status[((uintptr_t)pages[i] / 4096 - BASE_PAGE) % 64];

		status[i] = s == ST_TARGET ? nodes[i] : s >= ST_NODE(0) ? s - ST_NODE(0) : s;
	}
	if (err || k.ret < 0) {
		errno = err ? err : k.err;
		return -1;
	}
	return k.ret;
}

static struct ibsp_migration kreq(uint32_t pid, int page, int src, int dst)
{
	return (struct ibsp_migration){ .pid = pid,
					.vaddr = (BASE_PAGE + (uint64_t)page) * 4096,
					.bytes = 4096,
					.src_node = ibsp_node_id(src),
					.dst_node = ibsp_node_id(dst) };
}

/* Submit @n requests to a new migrator with @o, reap them all, keep the stats, delete it. */
static void run_all(struct ibsp_migrator_opts *o, const struct ibsp_migration *m, size_t n,
		    struct ibsp_migration_result *r, struct ibsp_migrator_stats *st)
{
	struct ibsp_migrator *mg;

	o->sz = sizeof(*o);
	o->move_pages = kernel_move_pages;
	mg = ibsp_migrator__new(o);
	cr_assert(mg);
	cr_assert_eq(ibsp_migrator__submit(mg, m, n), n);
	cr_assert_eq(reap_all(mg, r, n), n);
	cr_assert_eq(ibsp_migrator__flush(mg, 1000), 0);
	ibsp_migrator__stats(mg, st);
	ibsp_migrator__delete(mg);
}

/* Rule 1: one call per (pid, destination node), sorted, chunked by batch. */
Test(migrate, one_call_per_pid_and_node)
{
	static const struct {
		uint32_t batch;
		int calls; /* runs of 3, 2 and 5 pages: (pid 10, node 0), (10, 1), (11, 1) */
	} rows[] = { { 512, 3 }, { 5, 3 }, { 4, 4 }, { 3, 4 }, { 2, 6 }, { 1, 10 } };
	struct ibsp_migration m[10];
	struct ibsp_migration_result r[10];
	struct ibsp_migrator_stats st;

	for (int i = 0; i < 10; i++)
		m[i] = kreq(i % 2 ? 10 : 11, 20 - i, 2, i % 4 == 1 ? 0 : 1);
	/* Interleaved, addresses descending: pid 10 is i = 1, 5, 9 (node 0) and 3, 7 (node 1);
	 * pid 11 is i = 0, 2, 4, 6, 8 (node 1). */
	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		struct ibsp_migrator_opts o = { .batch = rows[t].batch, .node_mask = 0x3 };
		int pages = 0;

		k.ncalls = 0;
		run_all(&o, m, 10, r, &st);
		cr_expect_eq(k.ncalls, rows[t].calls, "batch %u: %d calls", rows[t].batch,
			     k.ncalls);
		cr_expect_eq(st.syscalls, (uint64_t)rows[t].calls);
		cr_expect_eq(st.moved, 10);
		for (int c = 0; c < k.ncalls; c++) {
			cr_expect(k.call[c].one_node && k.call[c].sorted, "call %d", c);
			cr_expect_leq(k.call[c].count, rows[t].batch);
			if (c) /* (pid, node) order */
				cr_expect(k.call[c - 1].pid < k.call[c].pid ||
					  (k.call[c - 1].pid == k.call[c].pid &&
					   k.call[c - 1].node <= k.call[c].node));
			pages += (int)k.call[c].count;
		}
		cr_expect_eq(pages, 10);
	}
}

/*
 * Rules 1 and 3: a whole-call error belongs to its (pid, node). Pid 100
 * sends 6 pages to each of nodes 0, 1 and 3, pid 200 two pages to node 0;
 * batch 2. Calls to @fail_node fail with @err. ENODEV and EACCES end that
 * run's calls, ESRCH and EPERM the pid's, others only their call.
 */
Test(migrate, whole_call_errors_by_node)
{
	static const struct {
		int err, fail_node, calls, moved;
		enum ibsp_mig_err cls;
		uint64_t failed;
		bool pid_wide;
	} rows[] = {
		{ ENODEV, 3, 8, 14, IBSP_MIG_ENODEV, 6, false },
		{ ENODEV, 0, 8, 12, IBSP_MIG_ENODEV, 8, false }, /* pid 200's node 0 too */
		{ EACCES, 3, 8, 14, IBSP_MIG_EACCES, 6, false },
		{ ENOMEM, 3, 10, 14, IBSP_MIG_ENOMEM, 6, false },
		{ EIO, 3, 10, 14, IBSP_MIG_OTHER, 6, false },
		{ ESRCH, 0, 2, 0, IBSP_MIG_ESRCH, 20, true }, /* one call per pid */
		{ EPERM, 1, 5, 8, IBSP_MIG_EPERM, 12, true }, /* pid 100: node 0 moved first */
	};
	struct ibsp_migration m[20];
	struct ibsp_migration_result r[20];
	struct ibsp_migrator_stats st;

	for (int i = 0; i < 18; i++)
		m[i] = kreq(100, i, 2, i / 6 == 2 ? 3 : i / 6);
	m[18] = kreq(200, 30, 2, 0);
	m[19] = kreq(200, 31, 2, 0);
	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		struct ibsp_migrator_opts o = { .batch = 2, .node_mask = 0xf };

		memset(k.node_err, 0, sizeof(k.node_err));
		k.node_err[rows[t].fail_node] = rows[t].err;
		k.ncalls = 0;
		run_all(&o, m, 20, r, &st);
		cr_expect_eq(k.ncalls, rows[t].calls, "row %zu: %d calls", t, k.ncalls);
		cr_expect_eq(st.moved, (uint64_t)rows[t].moved, "row %zu", t);
		cr_expect_eq(st.failed, rows[t].failed, "row %zu", t);
		cr_expect_eq(st.by_err[rows[t].cls], rows[t].failed, "row %zu", t);
		for (int i = 0; i < 20; i++) {
			bool hit = r[i].m.dst_node.id == rows[t].fail_node ||
				   (rows[t].pid_wide && r[i].m.pid == 100 &&
				    r[i].m.dst_node.id > rows[t].fail_node);

			if (rows[t].err == ESRCH) /* every call fails: both pids */
				hit = true;
			cr_expect_eq(r[i].final_node, hit ? -rows[t].err : r[i].m.dst_node.id,
				     "row %zu pid %u node %d: %d", t, r[i].m.pid,
				     r[i].m.dst_node.id, r[i].final_node);
		}
	}
}

/*
 * Rule 2: a call that fails after storing some statuses. 8 pages to node 1
 * in one call; the kernel stores the first @written statuses of
 * {1, -EBUSY, 1, -EFAULT, 1, 1, 1, 1}, then returns @ret (errno @err).
 * Only the untouched pages take the call's outcome.
 */
Test(migrate, partial_status_on_failure)
{
	static const int script8[8] = { ST_TARGET, -EBUSY,    ST_TARGET, -EFAULT,
					ST_TARGET, ST_TARGET, ST_TARGET, ST_TARGET };
	static const struct {
		int written;
		long ret;
		int err;
		int want[8];
	} rows[] = {
		{ 8, 0, 0, { 1, -EBUSY, 1, -EFAULT, 1, 1, 1, 1 } },
		{ 3, -1, ENOMEM, { 1, -EBUSY, 1, -ENOMEM, -ENOMEM, -ENOMEM, -ENOMEM, -ENOMEM } },
		{ 2, 6, 0, { 1, -EBUSY, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN } },
		{ 4, 4, 0, { 1, -EBUSY, 1, -EFAULT, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN } },
		{ 5, -1, EFAULT, { 1, -EBUSY, 1, -EFAULT, 1, -EFAULT, -EFAULT, -EFAULT } },
		{ 0,
		  -1,
		  ENODEV,
		  { -ENODEV, -ENODEV, -ENODEV, -ENODEV, -ENODEV, -ENODEV, -ENODEV, -ENODEV } },
	};
	struct ibsp_migration m[8];
	struct ibsp_migration_result r[8];
	struct ibsp_migrator_stats st;

	memcpy(k.status, script8, sizeof(script8));
	for (int i = 0; i < 8; i++)
		m[i] = kreq(100, 7 - i, 2, 1);
	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		struct ibsp_migrator_opts o = { .node_mask = 0x3 };
		uint64_t want_by[IBSP_MIG_ERR__MAX] = { 0 }, moved = 0;

		k.written = rows[t].written;
		k.ret = rows[t].ret;
		k.err = rows[t].err;
		k.ncalls = 0;
		run_all(&o, m, 8, r, &st);
		cr_expect_eq(k.ncalls, 1);
		for (int i = 0; i < 8; i++) {
			int page = (int)(r[i].m.vaddr / 4096 - BASE_PAGE),
			    want = rows[t].want[page];

			cr_expect_eq(r[i].final_node, want, "row %zu page %d: %d", t, page,
				     r[i].final_node);
			if (want >= 0)
				moved++;
			else if (want == -EAGAIN)
				want_by[IBSP_MIG_NOT_MIGRATED]++;
			else
				want_by[ibsp_mig_err__from_errno(-want)]++;
		}
		cr_expect_eq(st.moved, moved, "row %zu", t);
		for (int e = 0; e < IBSP_MIG_ERR__MAX; e++)
			cr_expect_eq(st.by_err[e], want_by[e], "row %zu class %s", t,
				     ibsp_mig_err__name((enum ibsp_mig_err)e));
	}
}

/*
 * Rule 2 after a positive return: 8 pages from node 2 to node 1 in one
 * call; the kernel stores {1, -EBUSY}, then returns 3 and nothing more.
 * The query finds each untouched page: on its destination (moved, and
 * recovered), still on node 2 (it ends there), or nowhere (not_migrated);
 * a failed query leaves them all not_migrated.
 */
Test(migrate, positive_return_locates_the_untouched_pages)
{
	static const int script8[8] = { ST_TARGET, -EBUSY,    ST_TARGET, ST_TARGET,
					ST_TARGET, ST_TARGET, ST_TARGET, ST_TARGET };
	static const int where8[8] = { 1, 2, 1, 2, 1, -ENOENT, 1, 2 };
	static const struct {
		bool locate;
		int want[8];
		uint64_t moved, recovered, elsewhere, not_migrated;
	} rows[] = {
		{ true, { 1, -EBUSY, 1, 2, 1, -EAGAIN, 1, 2 }, 4, 3, 2, 1 },
		{ false,
		  { 1, -EBUSY, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN },
		  1,
		  0,
		  0,
		  6 },
	};
	struct ibsp_migration m[8];
	struct ibsp_migration_result r[8];
	struct ibsp_migrator_stats st;

	memcpy(k.status, script8, sizeof(script8));
	memcpy(k.where, where8, sizeof(where8));
	for (int i = 0; i < 8; i++)
		m[i] = kreq(100, 7 - i, 2, 1);
	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		struct ibsp_migrator_opts o = { .node_mask = 0x3 };

		k.written = 2;
		k.ret = 3;
		k.locate = rows[t].locate;
		k.ncalls = k.nqueries = 0;
		run_all(&o, m, 8, r, &st);
		cr_expect_eq(k.ncalls, 1, "row %zu", t);
		cr_expect_eq(k.nqueries, 1, "row %zu: one query for the call", t);
		cr_expect_eq(st.syscalls, 1, "row %zu: the query is no migration call", t);
		for (int i = 0; i < 8; i++) {
			int page = (int)(r[i].m.vaddr / 4096 - BASE_PAGE);

			cr_expect_eq(r[i].final_node, rows[t].want[page], "row %zu page %d: %d", t,
				     page, r[i].final_node);
		}
		cr_expect_eq(st.moved, rows[t].moved, "row %zu: %llu", t,
			     (unsigned long long)st.moved);
		cr_expect_eq(st.recovered, rows[t].recovered, "row %zu", t);
		cr_expect_eq(st.moved_elsewhere, rows[t].elsewhere, "row %zu", t);
		cr_expect_eq(st.by_err[IBSP_MIG_NOT_MIGRATED], rows[t].not_migrated, "row %zu", t);
		cr_expect_eq(st.by_err[IBSP_MIG_EBUSY], 1, "row %zu", t);
		cr_expect_eq(st.matrix[2][1], rows[t].moved, "row %zu", t);
		cr_expect_eq(st.matrix[2][2], rows[t].elsewhere, "row %zu", t);
	}
}

/* A call the kernel refuses with EINVAL: its pages are invalid, the next call goes on. */
Test(migrate, kernel_einval_is_invalid)
{
	struct ibsp_migration m[4];
	struct ibsp_migration_result r[4];
	struct ibsp_migrator_stats st;
	struct ibsp_migrator_opts o = { .node_mask = 0x3, .batch = 2 };

	for (int i = 0; i < 4; i++)
		m[i] = kreq(100, i, 2, 1);
	k.written = 0;
	k.ret = -1;
	k.err = EINVAL;
	run_all(&o, m, 4, r, &st);
	cr_expect_eq(k.ncalls, 2, "call scope: both calls made");
	cr_expect_eq(st.by_err[IBSP_MIG_INVALID], 4);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(r[i].final_node, -EINVAL);
}

/* Rule 3 and the names telemetry prints. */
Test(migrate, error_classes)
{
	static const struct {
		int err;
		enum ibsp_mig_err cls;
		const char *name;
	} rows[] = {
		{ EBUSY, IBSP_MIG_EBUSY, "ebusy" },    { EACCES, IBSP_MIG_EACCES, "eacces" },
		{ ENOENT, IBSP_MIG_ENOENT, "enoent" }, { EFAULT, IBSP_MIG_EFAULT, "efault" },
		{ ENOMEM, IBSP_MIG_ENOMEM, "enomem" }, { ESRCH, IBSP_MIG_ESRCH, "esrch" },
		{ EPERM, IBSP_MIG_EPERM, "eperm" },    { ENODEV, IBSP_MIG_ENODEV, "enodev" },
		{ EIO, IBSP_MIG_OTHER, "other" },      { EINVAL, IBSP_MIG_INVALID, "invalid" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_expect_eq(ibsp_mig_err__from_errno(rows[i].err), rows[i].cls, "%s",
			     rows[i].name);
		cr_expect_str_eq(ibsp_mig_err__name(rows[i].cls), rows[i].name);
	}
	cr_expect_str_eq(ibsp_mig_err__name(IBSP_MIG_NOT_MIGRATED), "not_migrated");
	cr_expect_str_eq(ibsp_mig_err__name(IBSP_MIG_INVALID), "invalid");
	cr_expect_str_eq(ibsp_mig_err__name(IBSP_MIG_ERR__MAX), "?");
}

/* Rule 5: malformed requests are refused without a call; the one valid request moves. */
Test(migrate, invalid_requests_make_no_call)
{
	static const struct {
		uint32_t pid;
		uint64_t vaddr;
		uint32_t bytes;
		int dst;
		bool valid;
	} rows[] = {
		{ 100, 0x10000000, 4096, 1, true },
		{ 100, 0x10200000, 2u << 20, 1, true },	 /* a huge page, 2 MiB-aligned */
		{ 0, 0x10000000, 4096, 1, false },	 /* pid 0 */
		{ 100, 0, 4096, 1, false },		 /* vaddr 0 */
		{ 100, 0x10000010, 4096, 1, false },	 /* unaligned */
		{ 100, 0x10001000, 2u << 20, 1, false }, /* 4 KiB- but not 2 MiB-aligned */
		{ 100, 0x10000000, 0, 1, false },	 /* no bytes */
		{ 100, 0x10000000, 8192, 1, false },	 /* not a page size */
		{ 100, 0x10000000, 4096, -1, false },	 /* negative node */
		{ 100, 0x10000000, 4096, 5, false },	 /* not in the node mask */
		{ 100, 0x10000000, 4096, IBSP_MIG_MAX_NODES, false },
		{ 100, 0x10000000, 4096, 32767, false },
	};
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	struct ibsp_migration m[N];
	struct ibsp_migration_result r[N];
	struct ibsp_migrator_stats st;
	struct ibsp_migrator_opts o = { .node_mask = 0x3 };

	for (int i = 0; i < N; i++)
		m[i] = (struct ibsp_migration){ .pid = rows[i].pid,
						.vaddr = rows[i].vaddr,
						.bytes = rows[i].bytes,
						.src_node = ibsp_node_id(2),
						.dst_node = ibsp_node_id(rows[i].dst) };
	/* The script's slots: (page - BASE_PAGE) % 64, both 0 here (ST_TARGET). */
	m[0].vaddr = (uint64_t)BASE_PAGE * 4096;
	m[1].vaddr = (uint64_t)BASE_PAGE * 4096 + (2u << 20);
	run_all(&o, m, N, r, &st);
	cr_expect_eq(k.ncalls, 1, "the two valid requests, one call");
	cr_expect_eq(k.call[0].count, 2);
	cr_expect_eq(st.by_err[IBSP_MIG_INVALID], N - 2);
	cr_expect_eq(st.failed, N - 2);
	cr_expect_eq(st.moved, 2);
	cr_expect_eq(st.moved_bytes, 4096 + (2u << 20));
	for (int i = 0; i < N; i++) {
		const struct ibsp_migration_result *x = NULL;

		for (int j = 0; j < N; j++) {
			if (!memcmp(&r[j].m, &m[i], sizeof(m[i])))
				x = &r[j];
		}
		cr_assert(x, "request %d has a result", i);
		cr_expect_eq(x->final_node, rows[i].valid ? 1 : -EINVAL, "request %d: %d", i,
			     x->final_node);
	}
}

/* Rule 6: pages by (source node, final node); failures and unknown sources stay out. */
Test(migrate, matrix_by_source_and_final_node)
{
	static const struct {
		int src, dst, status;
	} rows[] = {
		{ 2, 0, ST_TARGET },  { 2, 0, ST_TARGET },  { 2, 0, ST_TARGET },
		{ 2, 1, ST_TARGET },  { 2, 1, ST_NODE(2) }, /* the kernel left it on node 2 */
		{ 1, 0, -EBUSY },     { -1, 0, ST_TARGET }, /* source unknown: moved, not in it */
		{ 0, 0, ST_TARGET },			    /* already there */
		{ 3, 1, ST_NODE(0) },			    /* moved elsewhere */
	};
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	static const struct {
		int src, dst;
		uint64_t pages;
	} want[] = { { 2, 0, 3 }, { 2, 1, 1 }, { 2, 2, 1 }, { 0, 0, 1 }, { 3, 0, 1 } };
	struct ibsp_migration m[N];
	struct ibsp_migration_result r[N];
	struct ibsp_migrator_stats st;
	struct ibsp_migrator_opts o = { .node_mask = 0xf };
	uint64_t total = 0, cells = 0;

	for (int i = 0; i < N; i++) {
		m[i] = kreq(100, i, rows[i].src, rows[i].dst);
		k.status[i] = rows[i].status;
	}
	run_all(&o, m, N, r, &st);
	cr_expect_eq(st.moved, 6);
	cr_expect_eq(st.moved_elsewhere, 2);
	cr_expect_eq(st.failed, 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_expect_eq(st.matrix[want[i].src][want[i].dst], want[i].pages, "%d -> %d: %llu",
			     want[i].src, want[i].dst,
			     (unsigned long long)st.matrix[want[i].src][want[i].dst]);
		cells += want[i].pages;
	}
	for (int s = 0; s < IBSP_MIG_MAX_NODES; s++) {
		for (int d = 0; d < IBSP_MIG_MAX_NODES; d++)
			total += st.matrix[s][d];
	}
	cr_expect_eq(total, cells, "no other cell counts");
}

/*
 * Rule 4: the bucket counts bytes. Under a rate limit a call carries at
 * most the burst; the first call spends the full bucket, every later one
 * waits for its bytes: at least (total - burst) / rate seconds in all.
 */
Test(migrate, token_bucket_counts_bytes)
{
	static const struct {
		uint64_t rate, burst;
		int pages;
		uint32_t bytes;
		int calls, per_call, waits;
		double min_s;
	} rows[] = {
		{ 4u << 20, 256u << 10, 256, 4096, 4, 64, 3, 0.1875 }, /* 1 MiB of 4 KiB pages */
		{ 32u << 20, 4u << 20, 8, 2u << 20, 4, 2, 3, 0.375 },  /* 16 MiB of 2 MiB pages */
		{ 0, 0, 256, 4096, 1, 256, 0, 0 },		       /* no limit: one call */
		{ 1u << 30, 2u << 20, 64, 2u << 20, 64, 1, 0, 0.124 }, /* 128 MiB: a page a call */
	};

	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		struct ibsp_migrator_opts o = { .rate_bytes_per_s = rows[t].rate,
						.burst_bytes = rows[t].burst,
						.node_mask = 0x1 };
		struct ibsp_migration m[256];
		struct ibsp_migration_result r[256];
		struct ibsp_migrator_stats st;
		double t0, took;

		for (int i = 0; i < rows[t].pages; i++) {
			m[i] = kreq(100, 0, 2, 0);
			m[i].bytes = rows[t].bytes;
			m[i].vaddr = ((uint64_t)BASE_PAGE << 12) + (uint64_t)i * rows[t].bytes;
		}
		k.ncalls = 0;
		t0 = now_s();
		run_all(&o, m, (size_t)rows[t].pages, r, &st);
		took = now_s() - t0;
		cr_expect_eq(k.ncalls, rows[t].calls, "row %zu: %d calls", t, k.ncalls);
		for (int c = 0; c < k.ncalls; c++)
			cr_expect_eq(k.call[c].count, (unsigned long)rows[t].per_call, "row %zu",
				     t);
		cr_expect_eq(st.moved_bytes, (uint64_t)rows[t].pages * rows[t].bytes);
		cr_expect_geq(took, rows[t].min_s, "row %zu: %.3f s", t, took);
		cr_expect_lt(took, rows[t].min_s + 2.0, "row %zu: %.3f s, far above the rate", t,
			     took);
		if (rows[t].waits)
			cr_expect_eq(st.rate_limited, (uint64_t)rows[t].waits, "row %zu: %llu", t,
				     (unsigned long long)st.rate_limited);
	}
}

/*
 * Rule 4: ibsp_migrator__delete() cuts a wait for tokens short. At 4 KiB/s
 * with a 4 KiB burst the worker would wait ~99 s for the rest of 100 pages,
 * or ~511 s after a 2 MiB page left the bucket in debt.
 */
Test(migrate, delete_does_not_wait_out_a_refill)
{
	static const struct {
		int pages;
		uint32_t bytes;
	} rows[] = { { 100, 4096 }, { 2, 2u << 20 } };

	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		struct ibsp_migrator_opts o = { .sz = sizeof(o),
						.move_pages = kernel_move_pages,
						.rate_bytes_per_s = 4096,
						.burst_bytes = 4096,
						.node_mask = 0x1 };
		struct ibsp_migrator *mg = ibsp_migrator__new(&o);
		struct ibsp_migration m[100];
		struct ibsp_migration_result r[100];
		struct ibsp_migrator_stats st;
		double t0;

		cr_assert(mg);
		for (int i = 0; i < rows[t].pages; i++) {
			m[i] = kreq(100, 0, 2, 0);
			m[i].bytes = rows[t].bytes;
			m[i].vaddr = ((uint64_t)BASE_PAGE << 12) + (uint64_t)i * rows[t].bytes;
		}
		cr_assert_eq(ibsp_migrator__submit(mg, m, (size_t)rows[t].pages),
			     (size_t)rows[t].pages);
		cr_expect_eq(reap_all(mg, r, 1), 1, "the first page goes at once");
		usleep(100000);
		ibsp_migrator__stats(mg, &st);
		cr_expect_eq(st.rate_limited, 1, "row %zu: waiting for the second page", t);
		cr_expect_eq(ibsp_migrator__flush(mg, 0), -ETIMEDOUT);
		t0 = now_s();
		ibsp_migrator__delete(mg);
		cr_expect_lt(now_s() - t0, 0.5, "row %zu: delete took %.3f s", t, now_s() - t0);
	}
}

/*
 * The end of a run: stop() drops what the rate limit still holds back, says
 * how many, and leaves the results so far to be reaped; the accounting
 * holds (results + dropped = submitted), and nothing is queued after it.
 */
Test(migrate, stop_drops_the_backlog_and_counts_it)
{
	struct ibsp_migrator_opts o = { .sz = sizeof(o),
					.move_pages = kernel_move_pages,
					.rate_bytes_per_s = 4096,
					.burst_bytes = 3 * 4096,
					.node_mask = 0x1 };
	struct ibsp_migrator *mg = ibsp_migrator__new(&o);
	struct ibsp_migration m[40];
	struct ibsp_migration_result r[40];
	struct ibsp_migrator_stats st;
	size_t got, dropped;

	cr_assert(mg);
	for (int i = 0; i < 40; i++) {
		m[i] = kreq(100, 0, 2, 0);
		m[i].vaddr = ((uint64_t)BASE_PAGE << 12) + (uint64_t)i * 4096;
	}
	cr_assert_eq(ibsp_migrator__submit(mg, m, 40), 40);
	got = reap_all(mg, r, 3); /* the burst: three pages at once */
	cr_expect_eq(got, 3);
	dropped = ibsp_migrator__stop(mg);
	got += ibsp_migrator__reap(mg, r, 40); /* one more may have gone before the stop */
	cr_expect(got == 3 || got == 4, "%zu results", got);
	cr_expect_eq(dropped, 40 - got);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.submitted, 40);
	cr_expect_eq(st.results, got);
	cr_expect_eq(st.dropped, dropped);
	cr_expect_eq(ibsp_migrator__stop(mg), 0, "a second stop drops nothing more");
	cr_expect_eq(ibsp_migrator__submit(mg, m, 1), 0, "a stopped worker takes nothing");
	cr_expect_eq(ibsp_migrator__flush(mg, 0), 0, "nothing is left to wait for");
	ibsp_migrator__delete(mg);
}

/* A node id this host does not have (skip when it has them all). */
static int absent_node(void)
{
	char path[64];

	for (int n = 1; n < 8; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", n);
		if (access(path, F_OK))
			return n;
	}
	return -1;
}

/*
 * The real kernel: ENODEV for a node without memory belongs to that node's
 * call only. Our pages to node 0 (already there: nothing moves, the status
 * is the node) and to an absent node (the whole call fails with ENODEV,
 * and the mask has to name it, since the host's own mask refuses it).
 */
Test(migrate, real_enodev_is_one_nodes_call)
{
	int bad = absent_node();
	struct ibsp_migrator_opts o = { .sz = sizeof(o) };
	struct ibsp_migrator *mg;
	char *buf =
	    mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ibsp_migration m[16];
	struct ibsp_migration_result r[16];
	struct ibsp_migrator_stats st;

	if (bad < 0)
		cr_skip_test("nodes 1-7 all exist here: no absent node to ask for");
	o.node_mask = 1ull | 1ull << bad;
	mg = ibsp_migrator__new(&o);
	cr_assert(mg);
	cr_assert_neq(buf, MAP_FAILED);
	memset(buf, 1, 16 * 4096);
	for (int i = 0; i < 16; i++) {
		m[i] = req((uint32_t)getpid(), 0, i % 2 ? bad : 0);
		m[i].vaddr = (uint64_t)(uintptr_t)(buf + i * 4096);
	}
	cr_assert_eq(ibsp_migrator__submit(mg, m, 16), 16);
	cr_assert_eq(reap_all(mg, r, 16), 16);
	ibsp_migrator__stats(mg, &st);
	cr_expect_eq(st.syscalls, 2, "one call per node");
	cr_expect_eq(st.moved, 8);
	cr_expect_eq(st.by_err[IBSP_MIG_ENODEV], 8, "enodev %llu",
		     (unsigned long long)st.by_err[IBSP_MIG_ENODEV]);
	for (int i = 0; i < 16; i++)
		cr_expect_eq(r[i].final_node, r[i].m.dst_node.id ? -ENODEV : 0, "%d",
			     r[i].final_node);
	munmap(buf, 16 * 4096);
	ibsp_migrator__delete(mg);
}

/*
 * The premise of rule 2, on the real kernel (no migrator): one call whose
 * third page asks for an absent node fails with ENODEV after storing the
 * status of the first two (already on node 0), and leaves the third as it
 * was. The worker never mixes nodes in a call, but the kernel behaves the
 * same for any failure after a flush (man 2 move_pages does not say so).
 */
Test(migrate, real_kernel_stores_status_before_failing)
{
	int bad = absent_node();
	char *buf =
	    mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *pages[3];
	int nodes[3] = { 0, 0, bad }, status[3] = { -12345, -12345, -12345 };
	long ret;

	if (bad < 0)
		cr_skip_test("nodes 1-7 all exist here: no absent node to ask for");
	cr_assert_neq(buf, MAP_FAILED);
	memset(buf, 1, 3 * 4096);
	for (int i = 0; i < 3; i++)
		pages[i] = buf + i * 4096;
	ret = move_pages(0, 3, pages, nodes, status, MPOL_MF_MOVE);
	cr_expect_eq(ret, -1);
	cr_expect_eq(errno, ENODEV, "%s", strerror(errno));
	cr_expect_eq(status[0], 0);
	cr_expect_eq(status[1], 0);
	cr_expect_eq(status[2], -12345, "untouched: %d", status[2]);
	munmap(buf, 3 * 4096);
}

/* Rule 1 at scale: 5000 requests in random order (plans come in heat order), 3 pids x 2 nodes. */
Test(migrate, random_order_one_call_per_pid_and_node)
{
	enum { N = 5000 };
	static struct ibsp_migration m[N];
	static struct ibsp_migration_result r[N];
	struct ibsp_migrator_opts o = { .batch = N, .queue_len = N, .node_mask = 0x3 };
	struct ibsp_migrator_stats st;
	unsigned int seed = 42;
	int per[2][3] = { { 0 } };

	for (int i = 0; i < N; i++)
		m[i] = kreq((uint32_t)(300 + i % 3), i, 2, (i / 3) % 2);
	for (int i = N - 1; i > 0; i--) { /* Fisher-Yates */
		int j = rand_r(&seed) % (i + 1);
		struct ibsp_migration t = m[i];

		m[i] = m[j];
		m[j] = t;
	}
	for (int i = 0; i < N; i++)
		per[m[i].dst_node.id][m[i].pid - 300]++;
	run_all(&o, m, N, r, &st);
	cr_expect_eq(k.ncalls, 6, "%d calls", k.ncalls);
	cr_expect_eq(st.moved, N);
	for (int c = 0; c < k.ncalls; c++) {
		cr_expect(k.call[c].one_node && k.call[c].sorted, "call %d", c);
		cr_expect_eq(k.call[c].count,
			     (unsigned long)per[k.call[c].node][k.call[c].pid - 300],
			     "call %d: pid %d node %d, %lu pages", c, k.call[c].pid, k.call[c].node,
			     k.call[c].count);
		if (c)
			cr_expect(k.call[c - 1].pid < k.call[c].pid ||
				  (k.call[c - 1].pid == k.call[c].pid &&
				   k.call[c - 1].node < k.call[c].node));
	}
}

/* More (pid, node) groups than the radix path takes (64): the merge sort orders them. */
Test(migrate, many_groups_one_call_each)
{
	enum { PIDS = 100, N = PIDS * 8 };
	static struct ibsp_migration m[N];
	static struct ibsp_migration_result r[N];
	struct ibsp_migrator_opts o = { .batch = 64, .node_mask = 0x1 };
	struct ibsp_migrator_stats st;
	unsigned int seed = 7;

	for (int i = 0; i < N; i++)
		m[i] = kreq((uint32_t)(1000 + i % PIDS), i, 2, 0);
	for (int i = N - 1; i > 0; i--) {
		int j = rand_r(&seed) % (i + 1);
		struct ibsp_migration t = m[i];

		m[i] = m[j];
		m[j] = t;
	}
	run_all(&o, m, N, r, &st);
	cr_expect_eq(k.ncalls, PIDS, "%d calls", k.ncalls);
	cr_expect_eq(st.moved, N);
	for (int c = 0; c < k.ncalls; c++) {
		cr_expect_eq(k.call[c].pid, 1000 + c, "call %d: pid %d", c, k.call[c].pid);
		cr_expect_eq(k.call[c].count, 8);
		cr_expect(k.call[c].sorted, "call %d", c);
	}
}

/* The drain's sort on its own: radix (<= 64 groups) and merge (more), any addresses. */
Test(migrate, keysort_orders_by_group_then_address)
{
	static const struct {
		uint32_t n, groups;
		uint64_t span_pages; /* addresses drawn from this many pages, from 2^20 up */
	} rows[] = {
		{ 1, 1, 1 },
		{ 17, 1, 100 },
		{ 5000, 1, 1u << 14 },
		{ 5000, 5, 1u << 30 },
		{ 5000, 64, 1ull << 44 },
		{ 5000, 65, 1ull << 44 },
		{ 4096, 300, 1u << 12 },
	};
	static struct ibsp_mig_key a[5000], tmp[5000];
	static bool seen[5000];

	for (size_t t = 0; t < sizeof(rows) / sizeof(rows[0]); t++) {
		unsigned int seed = (unsigned int)t + 1;
		const struct ibsp_mig_key *out;

		for (uint32_t i = 0; i < rows[t].n; i++) {
			uint64_t page = ((uint64_t)rand_r(&seed) << 31 | (uint64_t)rand_r(&seed)) %
					rows[t].span_pages;
			uint32_t g = (uint32_t)rand_r(&seed) % rows[t].groups;

			a[i] =
			    (struct ibsp_mig_key){ .group = (uint64_t)(100 + g * 7) << 16 | (g % 3),
						   .vaddr = ((1ull << 20) + page) << 12,
						   .idx = i };
		}
		out = ibsp_mig_keys__sort(a, tmp, rows[t].n);
		memset(seen, 0, sizeof(seen));
		for (uint32_t i = 0; i < rows[t].n; i++) {
			cr_assert_lt(out[i].idx, rows[t].n);
			cr_expect(!seen[out[i].idx], "row %zu: idx %u twice", t, out[i].idx);
			seen[out[i].idx] = true;
			if (i)
				cr_expect(out[i - 1].group < out[i].group ||
					      (out[i - 1].group == out[i].group &&
					       out[i - 1].vaddr <= out[i].vaddr),
					  "row %zu: keys %u and %u out of order", t, i - 1, i);
		}
	}
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
