// SPDX-License-Identifier: MIT
/*
 * bench_migrate: the same N pages moved from node SRC to node DST and back,
 * in one process and one boot, by
 *   - migratepages(8) from numactl (`migratepages PID SRC DST`, a child),
 *   - migrate_pages(2) called here (what migratepages calls, without its
 *     process start),
 *   - one move_pages(2) call for all N pages (the kernel's floor for move_pages),
 *   - the migration worker (ibsp_migrator) at each batch size (batch 1 is one
 *     call per page), given the pages in a random order (the daemon's plans
 *     come in heat order, not address order).
 * Each round runs every method once, each right next to migrate_pages(2),
 * the reference (the pair in alternating order; the methods in reverse
 * order every other round), after one round that is not counted (a
 * warm-up). TCG's speed follows the host's load, which only ever adds
 * time and moves within seconds. Two estimates come out: ratios of the
 * minimum times over the rounds, and paired ratios (the median over the
 * rounds of the reference's time / the method's time in one pair; two
 * methods compare by the quotient of their paired ratios). After every
 * move a move_pages query checks all N pages on their node (a method that
 * leaves one elsewhere fails the run).
 *
 * It needs both nodes: run it in the 3-node guest,
 *   IBSP_GUEST_MODE=bench tests/guest/run-guest.sh build
 * (docs/performance.md, "Migration throughput").
 *
 * Usage: bench_migrate [--pages N] [--rounds R] [--batches 1,64,512,4096]
 *                      [--src 2] [--dst 0] [--cpu C] [--migratepages PATH]
 * --cpu C pins the process to CPU C and re-executes it with its memory
 * preferred on C's node, so that none of its own pages sit on SRC or DST
 * (migratepages moves every page of the process on the source node).
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ibsp/migrate.h"

extern char **environ;

#define MAX_BATCHES 8
#define MAX_ROUNDS  16
#define PINNED_ENV  "IBSP_BENCH_PINNED"

struct opts {
	long pages;
	int rounds, src, dst, cpu;
	uint32_t batches[MAX_BATCHES];
	int nr_batches;
	const char *migratepages;
};

/* One method's timings, seconds, per round: [0] forward (SRC -> DST), [1] back. */
struct method {
	char name[32];
	uint32_t batch;		  /* migrator batch; 0 for the others */
	struct ibsp_migrator *mg; /* one per batch, kept for every round, as the daemon keeps it */
	double s[2][MAX_ROUNDS];
	double ref[2][MAX_ROUNDS]; /* the reference's times, run next to this method */
};

struct bench {
	struct opts o;
	struct ibsp_migrator *dry; /* a dry-run migrator: the bookkeeping without the calls */
	double start_s[MAX_ROUNDS], dry_s[MAX_ROUNDS];
	char *buf;
	void **pages;
	int *status, *nodes;
	struct ibsp_migration *req;
	struct ibsp_migration_result *res;
	uint32_t *order; /* the migrator's requests in a random order, as the policy's heat order */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_migrate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_batches(struct opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	o->nr_batches = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long b = strtol(t, NULL, 10);

		if (b < 1 || b > 65536 || o->nr_batches == MAX_BATCHES) {
			free(copy);
			return -1;
		}
		o->batches[o->nr_batches++] = (uint32_t)b;
	}
	free(copy);
	return o->nr_batches ? 0 : -1;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .pages = 16384,
			    .rounds = 5,
			    .src = 2,
			    .dst = 0,
			    .cpu = -1,
			    .migratepages = "migratepages" };
	parse_batches(o, "1,64,512,4096");
	for (int i = 1; i < argc; i += 2) { /* every option takes a value */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return -1;
		if (!strcmp(a, "--pages"))
			o->pages = strtol(v, NULL, 10);
		else if (!strcmp(a, "--rounds"))
			o->rounds = atoi(v);
		else if (!strcmp(a, "--src"))
			o->src = atoi(v);
		else if (!strcmp(a, "--dst"))
			o->dst = atoi(v);
		else if (!strcmp(a, "--cpu"))
			o->cpu = atoi(v);
		else if (!strcmp(a, "--migratepages"))
			o->migratepages = v;
		else if (strcmp(a, "--batches") || parse_batches(o, v))
			return -1;
	}
	if (o->pages < 1 || o->pages > 65536 || o->rounds < 1 || o->rounds > MAX_ROUNDS ||
	    o->src < 0 || o->dst < 0 || o->src == o->dst || o->src > 63 || o->dst > 63)
		return -1;
	return 0;
}

/* Pin to @cpu, prefer its node's memory, and start again so every page of ours is there. */
static void pin_and_reexec(const struct opts *o, char **argv)
{
	cpu_set_t set;
	unsigned long mask;
	int node = numa_node_of_cpu(o->cpu);

	if (getenv(PINNED_ENV))
		return;
	if (node < 0)
		die("numa_node_of_cpu");
	CPU_ZERO(&set);
	CPU_SET(o->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	mask = 1ul << node;
	if (set_mempolicy(MPOL_PREFERRED, &mask, 64))
		die("set_mempolicy");
	setenv(PINNED_ENV, "1", 1);
	execv("/proc/self/exe", argv);
	die("execv /proc/self/exe");
}

/* N pages of 4 KiB (no THP) on node @src, with no policy left on them. */
static void alloc_region(struct bench *b)
{
	size_t len = (size_t)b->o.pages * 4096;
	unsigned long mask = 1ul << b->o.src;

	b->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->buf == MAP_FAILED)
		die("mmap");
	if (madvise(b->buf, len, MADV_NOHUGEPAGE))
		die("madvise");
	if (mbind(b->buf, len, MPOL_BIND, &mask, 64, 0))
		die("mbind");
	memset(b->buf, 0x5a, len);
	if (mbind(b->buf, len, MPOL_DEFAULT, NULL, 0, 0))
		die("mbind default");
	b->pages = calloc((size_t)b->o.pages, sizeof(*b->pages));
	b->status = calloc((size_t)b->o.pages, sizeof(*b->status));
	b->nodes = calloc((size_t)b->o.pages, sizeof(*b->nodes));
	b->req = calloc((size_t)b->o.pages, sizeof(*b->req));
	b->order = calloc((size_t)b->o.pages, sizeof(*b->order));
	b->res = calloc((size_t)b->o.pages, sizeof(*b->res));
	if (!b->pages || !b->status || !b->nodes || !b->req || !b->res || !b->order)
		die("calloc");
	for (long i = 0; i < b->o.pages; i++) {
		b->pages[i] = b->buf + i * 4096;
		b->order[i] = (uint32_t)i;
	}
	for (long i = b->o.pages - 1; i > 0; i--) { /* Fisher-Yates, fixed seed */
		unsigned int seed = (unsigned int)i * 2654435761u;
		long j = rand_r(&seed) % (i + 1);
		uint32_t t = b->order[i];

		b->order[i] = b->order[j];
		b->order[j] = t;
	}
}

/* How many of the N pages are on @node now (a move_pages query). */
static long on_node(struct bench *b, int node)
{
	long n = 0;

	if (move_pages(0, (unsigned long)b->o.pages, b->pages, NULL, b->status, 0))
		die("move_pages query");
	for (long i = 0; i < b->o.pages; i++)
		n += b->status[i] == node;
	return n;
}

/* Pages of this process on @node outside the region (from /proc/self/numa_maps). */
static long others_on_node(const struct bench *b, int node)
{
	char line[4096], key[16], start[32];
	long n = 0;
	FILE *f = fopen("/proc/self/numa_maps", "r");

	if (!f)
		return -1;
	snprintf(key, sizeof(key), " N%d=", node);
	snprintf(start, sizeof(start), "%lx ", (unsigned long)(uintptr_t)b->buf);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);

		if (p && strncmp(line, start, strlen(start)))
			n += strtol(p + strlen(key), NULL, 10);
	}
	fclose(f);
	return n;
}

static double run_migratepages(struct bench *b, int from, int to)
{
	char pid[16], sfrom[8], sto[8];
	char *args[] = { (char *)b->o.migratepages, pid, sfrom, sto, NULL };
	pid_t child;
	int st;
	double t;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(sfrom, sizeof(sfrom), "%d", from);
	snprintf(sto, sizeof(sto), "%d", to);
	t = now_s();
	errno = posix_spawnp(&child, b->o.migratepages, NULL, NULL, args, environ);
	if (errno)
		die(b->o.migratepages);
	if (waitpid(child, &st, 0) < 0)
		die("waitpid");
	t = now_s() - t;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_migrate: %s %s %s %s failed (status %d)\n",
			b->o.migratepages, pid, sfrom, sto, st);
		exit(1);
	}
	return t;
}

static double run_migrate_pages(struct bench *b, int from, int to)
{
	unsigned long old = 1ul << from, new = 1ul << to;
	double t = now_s();

	(void)b;
	if (migrate_pages(0, 64, &old, &new) < 0)
		die("migrate_pages");
	return now_s() - t;
}

static double run_move_pages(struct bench *b, int from, int to)
{
	double t;

	(void)from;
	for (long i = 0; i < b->o.pages; i++)
		b->nodes[i] = to;
	t = now_s();
	if (move_pages(0, (unsigned long)b->o.pages, b->pages, b->nodes, b->status, MPOL_MF_MOVE))
		die("move_pages");
	return now_s() - t;
}

static struct ibsp_migrator *new_migrator(const struct bench *b, uint32_t batch, bool dry_run)
{
	struct ibsp_migrator_opts mo = { .sz = sizeof(mo),
					 .queue_len = (uint32_t)b->o.pages,
					 .batch = batch,
					 .dry_run = dry_run };
	struct ibsp_migrator *mg = ibsp_migrator__new(&mo);

	if (!mg)
		die("ibsp_migrator__new");
	return mg;
}

/* The migrator: submit all N, wait until every result is back. */
static double run_migrator(struct bench *b, struct ibsp_migrator *mg, int from, int to)
{
	size_t n = (size_t)b->o.pages, got = 0;
	double t;

	for (size_t i = 0; i < n; i++)
		b->req[i] =
		    (struct ibsp_migration){ .pid = (uint32_t)getpid(),
					     .vaddr = (uint64_t)(uintptr_t)b->pages[b->order[i]],
					     .bytes = 4096,
					     .src_node = ibsp_node_id(from),
					     .dst_node = ibsp_node_id(to) };
	t = now_s();
	if (ibsp_migrator__submit(mg, b->req, n) != n)
		die("ibsp_migrator__submit");
	while (got < n) {
		ibsp_migrator__flush(mg, 1000);
		got += ibsp_migrator__reap(mg, b->res + got, n - got);
	}
	t = now_s() - t;
	for (size_t i = 0; i < n && mg != b->dry; i++) {
		if (b->res[i].final_node != to) {
			fprintf(stderr, "bench_migrate: the migrator left %p on %d\n",
				(void *)(uintptr_t)b->res[i].m.vaddr, b->res[i].final_node);
			exit(1);
		}
	}
	return t;
}

/*
 * What the peers pay besides moving, once per round: migratepages from the
 * source node to itself (its process start and the syscall; nothing moves)
 * and the migrator's bookkeeping for N requests in a dry run (queue, sort,
 * accounting, results; no move_pages).
 */
static void fixed_costs(struct bench *b, int round)
{
	double start = run_migratepages(b, b->o.src, b->o.src);
	double dry = run_migrator(b, b->dry, b->o.src, b->o.dst);

	if (on_node(b, b->o.src) != b->o.pages) {
		fprintf(stderr, "bench_migrate: pages moved by a no-op\n");
		exit(1);
	}
	if (round >= 0) {
		b->start_s[round] = start;
		b->dry_s[round] = dry;
	}
}

static double run_method(struct bench *b, const struct method *m, int from, int to)
{
	if (m->batch)
		return run_migrator(b, m->mg, from, to);
	if (!strcmp(m->name, "migratepages"))
		return run_migratepages(b, from, to);
	if (!strcmp(m->name, "migrate_pages(2)"))
		return run_migrate_pages(b, from, to);
	return run_move_pages(b, from, to);
}

/* One method, forward, check, back, check: its two times in @t. */
static void there_and_back(struct bench *b, const struct method *m, double t[2])
{
	int node[2] = { b->o.dst, b->o.src };

	for (int dir = 0; dir < 2; dir++) {
		long there;

		t[dir] = run_method(b, m, node[1 - dir], node[dir]);
		there = on_node(b, node[dir]);
		if (there != b->o.pages) {
			fprintf(stderr, "bench_migrate: %s: %ld of %ld pages on node %d\n", m->name,
				there, b->o.pages, node[dir]);
			exit(1);
		}
	}
}

/*
 * One round: every method next to the reference @m[0] (migrate_pages(2)),
 * the pair in alternating order; round -1 warms up and is not kept.
 */
static void one_round(struct bench *b, struct method *m, int nm, int round)
{
	for (int j = 1; j < nm; j++) {
		int i = round % 2 ? nm - j : j; /* every other round in reverse order */
		double ts[2], tr[2];

		if ((round + i) % 2) {
			there_and_back(b, &m[0], tr);
			there_and_back(b, &m[i], ts);
		} else {
			there_and_back(b, &m[i], ts);
			there_and_back(b, &m[0], tr);
		}
		if (round < 0)
			continue;
		for (int dir = 0; dir < 2; dir++) {
			m[i].s[dir][round] = ts[dir];
			m[i].ref[dir][round] = tr[dir];
			if (i == 1) /* the reference's own row: its runs next to migratepages */
				m[0].s[dir][round] = m[0].ref[dir][round] = tr[dir];
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The minimum (@q 0) or the median (@q 1) of @n values. */
static double stat(const double *v, int n, int q)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	if (!q)
		return s[0];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The median over the rounds of a peer's time / this method's time, each pair from one round. */
/* The median over the rounds of the reference's time / @m's time, run side by side. */
static double vs_ref(const struct method *m, int rounds, bool trip)
{
	double q[MAX_ROUNDS];

	for (int r = 0; r < rounds; r++)
		q[r] = (m->ref[0][r] + (trip ? m->ref[1][r] : 0)) /
		       (m->s[0][r] + (trip ? m->s[1][r] : 0));
	return stat(q, rounds, 1);
}

/* Forward times: ratios of the minimums (interference only adds time) and paired medians. */
static void report(const struct bench *b, const struct method *m, int nm)
{
	int r = b->o.rounds;
	double mp_min = stat(m[1].s[0], r, 0), sys_min = stat(m[0].s[0], r, 0);
	double x1_min = stat(m[2].s[0], r, 0), b1_min = 0;
	double mp = vs_ref(&m[1], r, false), b1 = 0;

	for (int i = 0; i < nm; i++) {
		if (m[i].batch == 1) {
			b1_min = stat(m[i].s[0], r, 0);
			b1 = vs_ref(&m[i], r, false);
		}
	}
	printf("BENCH %-16s %5s %8s %8s %8s %8s | %6s %6s %6s %6s | %6s %6s %6s\n", "method",
	       "batch", "fwd_min", "fwd_med", "back_min", "back_med", "mp", "sys", "x1", "b1",
	       "mp_p", "sys_p", "b1_p");
	for (int i = 0; i < nm; i++) {
		double f = stat(m[i].s[0], r, 0), v = vs_ref(&m[i], r, false);

		printf("BENCH %-16s %5u %8.1f %8.1f %8.1f %8.1f | %6.2f %6.2f %6.2f %6.2f | %6.2f "
		       "%6.2f %6.2f\n",
		       m[i].name, m[i].batch, f * 1e3, stat(m[i].s[0], r, 1) * 1e3,
		       stat(m[i].s[1], r, 0) * 1e3, stat(m[i].s[1], r, 1) * 1e3, mp_min / f,
		       sys_min / f, x1_min / f, b1_min / f, v / mp, v, v / b1);
	}
	printf("BENCH ms over %d rounds, fwd: node %d -> %d, back: %d -> %d. Ratios are a peer's "
	       "time / this method's, forward: mp migratepages, sys migrate_pages(2), x1 one "
	       "move_pages call, b1 the migrator at batch 1; left of the bar from the minimums, "
	       "right of it (_p) from the pairs: each method ran next to migrate_pages(2), sys_p "
	       "is the median of those pairs' quotients, mp_p and b1_p divide two of them. "
	       "Targets: mp >= 0.90, b1 >= 5\n",
	       r, b->o.src, b->o.dst, b->o.dst, b->o.src);
	printf("BENCH fixed costs, ms min/median: migratepages %d %d (process start, nothing "
	       "moves) %.1f/%.1f; migrator bookkeeping for %ld requests (dry run, batch 512) "
	       "%.1f/%.1f\n",
	       b->o.src, b->o.src, stat(b->start_s, r, 0) * 1e3, stat(b->start_s, r, 1) * 1e3,
	       b->o.pages, stat(b->dry_s, r, 0) * 1e3, stat(b->dry_s, r, 1) * 1e3);
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct method m[3 + MAX_BATCHES] = {
		{ .name = "migrate_pages(2)" }, /* the reference: first */
		{ .name = "migratepages" },
		{ .name = "move_pages_x1" },
	};
	int nm = 3;

	if (parse_args(&b.o, argc, argv)) {
		fprintf(stderr, "usage: bench_migrate [--pages N<=65536] [--rounds R<=16] "
				"[--batches 1,64,512,4096] [--src 2] [--dst 0] [--cpu C] "
				"[--migratepages PATH]\n");
		return 2;
	}
	if (numa_available() < 0 || numa_max_node() < (b.o.src > b.o.dst ? b.o.src : b.o.dst)) {
		fprintf(stderr, "bench_migrate: this host has no node %d (run it in the guest)\n",
			b.o.src > b.o.dst ? b.o.src : b.o.dst);
		return 77;
	}
	if (b.o.cpu >= 0)
		pin_and_reexec(&b.o, argv);
	for (int i = 0; i < b.o.nr_batches; i++) {
		snprintf(m[nm].name, sizeof(m[nm].name), "migrator");
		m[nm].batch = b.o.batches[i];
		m[nm++].mg = new_migrator(&b, b.o.batches[i], false);
	}
	b.dry = new_migrator(&b, 512, true);
	alloc_region(&b);
	printf("BENCH pages=%ld (%ld MiB) src=%d dst=%d rounds=%d pid=%d cpu=%d on_src=%ld "
	       "others_on_src=%ld others_on_dst=%ld\n",
	       b.o.pages, b.o.pages >> 8, b.o.src, b.o.dst, b.o.rounds, (int)getpid(), b.o.cpu,
	       on_node(&b, b.o.src), others_on_node(&b, b.o.src), others_on_node(&b, b.o.dst));
	fflush(stdout);
	for (int r = -1; r < b.o.rounds; r++) {
		fixed_costs(&b, r);
		one_round(&b, m, nm, r);
	}
	report(&b, m, nm);
	for (int i = 0; i < nm; i++)
		ibsp_migrator__delete(m[i].mg);
	ibsp_migrator__delete(b.dry);
	return 0;
}
