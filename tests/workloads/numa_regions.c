// SPDX-License-Identifier: MIT
/*
 * The guest test's workload (docs/guest-test.md): two regions, A and B,
 * bound to a far node; a thread pinned to one CPU touches A, a thread pinned
 * to another touches B, until the duration ends or SIGTERM/SIGINT/SIGUSR2
 * comes. Then it asks the kernel where every page sits (move_pages with
 * nodes=NULL), prints one RESULT line and checks it against the expectation.
 *
 * With --self-move it is its own mover, the stand-in for ibs-promote: once
 * both regions are touched it moves them with move_pages, per policy.
 * Without it, an outside mover (ibs-promote run --pid) does the work; start
 * the workload with --wait-go, attach the mover, then send SIGUSR1, so that
 * the first touches (which the software sampler sees) come after the attach.
 *
 * Built static, without sanitizers: it runs in the guest's initramfs.
 * Raw syscalls for mbind and move_pages, so it needs no libnuma.
 * Exit status: 0 pass, 1 placement check failed, 2 usage or setup error.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND_MODE 2 /* MPOL_BIND, include/uapi/linux/mempolicy.h */
#define MPOL_MF_MOVE   (1 << 1)
#define MAX_NODES      64 /* nodes counted one by one; higher ones count as "other" */
#define MOVE_TRIES     3

enum { REG_A, REG_B, NREG };
static const char *const reg_name[NREG] = { "A", "B" };

/* One struct holds every option and its default. */
static struct env {
	long size_mib;	  /* per region */
	long duration_ms; /* of the touch phase, after go */
	int bind_node;	  /* where the regions start (CPU-less, far) */
	int cpu[NREG];	  /* the CPU each region's toucher is pinned to */
	int expect[NREG]; /* node each region must end on; -1: no check */
	double min_frac;
	int wait_go;	       /* wait for SIGUSR1 before touching */
	const char *self_move; /* NULL, "locality" or "fixed-node:N" */
} env = {
	.size_mib = 16,
	.duration_ms = 4000,
	.bind_node = 2,
	.cpu = { 0, 1 },
	.expect = { -1, -1 },
	.min_frac = 0.95,
};

struct region {
	char *base;
	long npages;
	void **pages;	       /* one pointer per page, for move_pages */
	int *status;	       /* node per page, or -errno */
	atomic_int touch_node; /* node of its toucher (getcpu); -1 not pinned, -2 not yet */
	atomic_long passes;    /* full passes over the region */
	pthread_t thread;
};

static struct region reg[NREG];
static long page_size;
static atomic_int started, stop;

static const char usage[] =
    "usage: numa_regions [options]\n"
    "  --size-mib N        size of each region (default 16)\n"
    "  --duration-ms N     touch phase after go (default 4000); SIGTERM ends it early\n"
    "  --bind-node N       node both regions are bound to first (default 2)\n"
    "  --cpu-a N --cpu-b N CPUs whose threads touch A and B (default 0 and 1)\n"
    "  --expect-a N --expect-b N  node A and B must end on\n"
    "  --min-frac F        fraction of pages that must be there (default 0.95)\n"
    "  --wait-go           wait for SIGUSR1 before touching (attach a mover first)\n"
    "  --self-move POLICY  move the pages itself: locality (A and B to their\n"
    "                      toucher's node) or fixed-node:N (both to N)\n"
    "examples:\n"
    "  numa_regions --self-move locality --expect-a 0 --expect-b 1\n"
    "  numa_regions --wait-go --expect-a 0 --expect-b 1 &  # then attach, kill -USR1\n";

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Options that take a small integer: where it goes and its range. */
static const struct int_opt {
	const char *name;
	int *dst;
	long lo, hi;
} int_opts[] = {
	{ "--bind-node", &env.bind_node, 0, MAX_NODES - 1 },
	{ "--cpu-a", &env.cpu[REG_A], 0, CPU_SETSIZE - 1 },
	{ "--cpu-b", &env.cpu[REG_B], 0, CPU_SETSIZE - 1 },
	{ "--expect-a", &env.expect[REG_A], 0, MAX_NODES - 1 },
	{ "--expect-b", &env.expect[REG_B], 0, MAX_NODES - 1 },
};

static int parse_value(const char *o, const char *v)
{
	char *end;
	long n;

	if (!strcmp(o, "--size-mib"))
		return parse_long(v, 1, 1024, &env.size_mib);
	if (!strcmp(o, "--duration-ms"))
		return parse_long(v, 0, 3600 * 1000, &env.duration_ms);
	if (!strcmp(o, "--min-frac")) {
		env.min_frac = strtod(v, &end);
		return end != v && !*end && env.min_frac > 0 && env.min_frac <= 1 ? 0 : -EINVAL;
	}
	if (!strcmp(o, "--self-move")) {
		env.self_move = v;
		if (!strcmp(v, "locality"))
			return 0;
		return strncmp(v, "fixed-node:", 11) ? -EINVAL
						     : parse_long(v + 11, 0, MAX_NODES - 1, &n);
	}
	for (size_t i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++)
		if (!strcmp(o, int_opts[i].name)) {
			int r = parse_long(v, int_opts[i].lo, int_opts[i].hi, &n);

			if (!r)
				*int_opts[i].dst = (int)n;
			return r;
		}
	return -ENOENT;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r;

		if (!strcmp(o, "--wait-go")) {
			env.wait_go = 1;
			continue;
		}
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(usage, stdout);
			exit(0);
		}
		r = v ? parse_value(o, v) : -ENOENT;
		if (r == -ENOENT) {
			fprintf(stderr, "numa_regions: unknown option or missing value: %s\n%s", o,
				usage);
			return r;
		}
		if (r) {
			fprintf(stderr, "numa_regions: bad value for %s: '%s'\n", o, v);
			return r;
		}
		i++;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *toucher(void *arg)
{
	struct region *r = arg;
	cpu_set_t set;
	unsigned int cpu, node;

	CPU_ZERO(&set);
	CPU_SET(env.cpu[r - reg], &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		fprintf(stderr, "numa_regions: cannot pin region %s's thread to cpu %d\n",
			reg_name[r - reg], env.cpu[r - reg]);
		r->touch_node = -1;
		return NULL;
	}
	/* getcpu, not sched_getcpu: the node is what the locality policy goes by. */
	if (syscall(SYS_getcpu, &cpu, &node, NULL) == 0)
		r->touch_node = (int)node;
	else
		r->touch_node = -1;
	while (!atomic_load(&started) && !atomic_load(&stop))
		usleep(1000);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (long i = 0; i < r->npages; i++)
			((volatile char *)r->base)[i * page_size]++;
		atomic_fetch_add(&r->passes, 1);
	}
	return NULL;
}

static int region_setup(struct region *r)
{
	size_t len = (size_t)env.size_mib << 20;
	unsigned long mask[MAX_NODES / (8 * sizeof(unsigned long))] = { 0 };

	r->npages = (long)(len / (size_t)page_size);
	r->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->pages = calloc((size_t)r->npages, sizeof(*r->pages));
	r->status = calloc((size_t)r->npages, sizeof(*r->status));
	if (r->base == MAP_FAILED || !r->pages || !r->status) {
		fprintf(stderr, "numa_regions: cannot allocate %ld MiB\n", env.size_mib);
		return -ENOMEM;
	}
	for (long i = 0; i < r->npages; i++)
		r->pages[i] = r->base + i * page_size;
	/* 4K pages: a THP folio would move as a whole (docs/guest-test.md). */
	if (madvise(r->base, len, MADV_NOHUGEPAGE))
		perror("numa_regions: madvise(MADV_NOHUGEPAGE)");
	mask[env.bind_node / (8 * sizeof(unsigned long))] |=
	    1UL << (env.bind_node % (8 * sizeof(unsigned long)));
	if (syscall(SYS_mbind, r->base, len, MPOL_BIND_MODE, mask, (unsigned long)MAX_NODES + 1,
		    0UL)) {
		fprintf(stderr, "numa_regions: mbind to node %d: %s\n", env.bind_node,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* Where each page is now; counts per node, errors (not present, busy) as err. */
struct placement {
	long node[MAX_NODES];
	long err;
	long other;
};

static int query(struct region *r, struct placement *p)
{
	memset(p, 0, sizeof(*p));
	if (syscall(SYS_move_pages, 0, (unsigned long)r->npages, r->pages, NULL, r->status, 0)) {
		fprintf(stderr, "numa_regions: move_pages query: %s\n", strerror(errno));
		return -errno;
	}
	for (long i = 0; i < r->npages; i++) {
		int s = r->status[i];

		if (s < 0)
			p->err++;
		else if (s < MAX_NODES)
			p->node[s]++;
		else
			p->other++;
	}
	return 0;
}

/* "A pages=4096 node0=4096 node1=0 node2=0 other=0 err=0": nodes 0..max(2, highest seen). */
static void print_placement(const char *tag, const struct placement *p)
{
	int last = 2;

	for (int n = 0; n < MAX_NODES; n++)
		if (p[REG_A].node[n] || p[REG_B].node[n])
			last = n > last ? n : last;
	printf("%s", tag);
	for (int i = 0; i < NREG; i++) {
		printf(" %s pages=%ld", reg_name[i], reg[i].npages);
		for (int n = 0; n <= last; n++)
			printf(" node%d=%ld", n, p[i].node[n]);
		printf(" other=%ld err=%ld", p[i].other, p[i].err);
	}
	printf("\n");
}

static int enough_on(const struct region *r, const struct placement *p, int node)
{
	return (double)p->node[node] >= env.min_frac * (double)r->npages;
}

/* The stand-in mover: every page not yet on the target, a few tries (pages
 * being written can be busy for a moment). Returns pages left elsewhere. */
static long move_region(struct region *r, int target)
{
	int *nodes = malloc((size_t)r->npages * sizeof(*nodes));
	void **todo = malloc((size_t)r->npages * sizeof(*todo));
	long left = r->npages;

	if (!nodes || !todo) {
		free(nodes);
		free(todo);
		return left;
	}
	for (int t = 0; t < MOVE_TRIES && left; t++) {
		long n = 0;

		if (syscall(SYS_move_pages, 0, (unsigned long)r->npages, r->pages, NULL, r->status,
			    0))
			break;
		for (long i = 0; i < r->npages; i++)
			if (r->status[i] != target) {
				todo[n] = r->pages[i];
				nodes[n++] = target;
			}
		left = n;
		if (n && syscall(SYS_move_pages, 0, (unsigned long)n, todo, nodes, r->status,
				 MPOL_MF_MOVE) < 0)
			fprintf(stderr, "numa_regions: move_pages of %ld pages to node %d: %s\n", n,
				target, strerror(errno));
	}
	free(nodes);
	free(todo);
	return left;
}

static int self_move(void)
{
	struct placement p[NREG];
	int target[NREG];
	long t0;

	for (int i = 0; i < NREG; i++)
		if (query(&reg[i], &p[i]))
			return 2;
	print_placement("INITIAL", p);
	/* Otherwise a pass would prove nothing: the pages must start far away. */
	for (int i = 0; i < NREG; i++)
		if (!enough_on(&reg[i], &p[i], env.bind_node)) {
			printf("numa_regions: region %s did not start on node %d\n", reg_name[i],
			       env.bind_node);
			return 1;
		}
	for (int i = 0; i < NREG; i++)
		target[i] = !strcmp(env.self_move, "locality") ? reg[i].touch_node
							       : atoi(env.self_move + 11);
	t0 = now_ms();
	for (int i = 0; i < NREG; i++) {
		long left = move_region(&reg[i], target[i]);

		printf(
		    "numa_regions: self-move %s: region %s to node %d, %ld pages left elsewhere\n",
		    env.self_move, reg_name[i], target[i], left);
	}
	printf("numa_regions: self-move took %ld ms\n", now_ms() - t0);
	return 0;
}

/* Sleep until the deadline or a stop signal; 0 on timeout, the signal otherwise. */
static int wait_signal(const sigset_t *set, long deadline_ms)
{
	for (;;) {
		long left = deadline_ms - now_ms();
		struct timespec ts = { left / 1000, left % 1000 * 1000000 };
		int sig;

		if (left <= 0)
			return 0;
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno != EINTR)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct placement p[NREG];
	sigset_t go, stop_set;
	long t0, deadline;
	int ret = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	if (parse_args(argc, argv))
		return 2;
	/* Every signal is taken by sigtimedwait in the main thread; the touchers inherit the mask. */
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &go, NULL);
	sigprocmask(SIG_BLOCK, &stop_set, NULL);

	for (int i = 0; i < NREG; i++) {
		if (region_setup(&reg[i]))
			return 2;
		reg[i].touch_node = -2;
	}
	/* The threads exist (pinned, idle) before the pid is printed, so a mover that attaches to
	 * the threads listed in /proc/PID/task then sees every toucher. */
	for (int i = 0; i < NREG; i++)
		if (pthread_create(&reg[i].thread, NULL, toucher, &reg[i])) {
			fprintf(stderr, "numa_regions: cannot start a thread\n");
			return 2;
		}
	while (reg[REG_A].touch_node == -2 || reg[REG_B].touch_node == -2)
		usleep(1000);
	if (reg[REG_A].touch_node < 0 || reg[REG_B].touch_node < 0)
		return 2;
	printf("numa_regions: pid %d, %ld MiB x 2 bound to node %d, A on cpu %d (node %d), B on "
	       "cpu %d (node %d)\n",
	       (int)getpid(), env.size_mib, env.bind_node, env.cpu[REG_A], reg[REG_A].touch_node,
	       env.cpu[REG_B], reg[REG_B].touch_node);
	if (env.wait_go) {
		int sig;

		printf("numa_regions: waiting for SIGUSR1\n");
		sigaddset(&go, SIGTERM);
		sigaddset(&go, SIGINT);
		while ((sig = sigwaitinfo(&go, NULL)) < 0 && errno == EINTR)
			;
		if (sig != SIGUSR1)
			return 2;
	}
	t0 = now_ms();
	deadline = t0 + env.duration_ms;
	atomic_store(&started, 1);
	/* The first full pass places every page (on the bind node). */
	while ((atomic_load(&reg[REG_A].passes) < 1 || atomic_load(&reg[REG_B].passes) < 1) &&
	       now_ms() < deadline)
		usleep(1000);
	printf("numa_regions: first touch done after %ld ms\n", now_ms() - t0);
	if (env.self_move)
		ret = self_move();
	if (!ret)
		wait_signal(&stop_set, deadline);
	atomic_store(&stop, 1);
	for (int i = 0; i < NREG; i++)
		pthread_join(reg[i].thread, NULL);
	if (ret)
		return ret;
	printf("numa_regions: touched for %ld ms, %ld passes over A, %ld over B\n", now_ms() - t0,
	       atomic_load(&reg[REG_A].passes), atomic_load(&reg[REG_B].passes));

	for (int i = 0; i < NREG; i++)
		if (query(&reg[i], &p[i]))
			return 2;
	print_placement("RESULT", p);
	for (int i = 0; i < NREG; i++) {
		int e = env.expect[i];

		if (e < 0)
			continue;
		printf("CHECK %s node%d %ld/%ld >= %.2f: %s\n", reg_name[i], e, p[i].node[e],
		       reg[i].npages, env.min_frac, enough_on(&reg[i], &p[i], e) ? "pass" : "FAIL");
		if (!enough_on(&reg[i], &p[i], e))
			ret = 1;
	}
	return ret;
}
