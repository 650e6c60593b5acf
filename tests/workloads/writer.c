// SPDX-License-Identifier: MIT
/*
 * The live guest scenarios' workload (docs/guest-test.md, tests/guest/live.sh):
 * one process (or two sharing one mapping) that keeps rewriting its memory
 * from one CPU, or holds it idle, and reports where its pages are.
 *
 * Its region is bound to --bind-node (mbind MPOL_BIND), populated, then
 * written page by page, pass after pass, from the CPU it is pinned to
 * (taskset -p moves it: it is single-threaded). Signals:
 *   SIGUSR1  print a PLACE line: where every page is now (move_pages with
 *            nodes = NULL) and the pages written per second since the last
 *   SIGUSR2  --idle: write every page once more (then a TOUCHED line), then idle
 *            again; --wait-go: start writing (a GO line)
 *   SIGTERM  print the last PLACE line and a DONE line, exit 0
 * Lines (line-buffered, one write each):
 *   WRITER label pid=P cpu=C pages=N bound=B
 *   PLACE label pid=P pages=N node0=.. node1=.. node2=.. other=.. err=.. moved1=.. moved2=..
 *         rate=R cpu=C
 *   (moved1/moved2: pages seen on another node than at the previous PLACE, at
 *   least once / at least twice since the start: ask often enough to see each move)
 *   DONE label pid=P written=W seconds=S rate=R
 *
 * Built static, without sanitizers: it runs in the guest's initramfs. Raw
 * syscalls for mbind and move_pages, so it needs no libnuma.
 * Exit status: 0, or 2 for a usage or setup error.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND_MODE 2
#define MAX_NODES      8

static struct {
	long size_mib;
	int bind_node;
	int cpu;
	int fork_cpu; /* --shared-fork: the second process's CPU; -1: none */
	int idle;
	int wait_go;   /* idle until SIGUSR2, then a writer */
	int fill_node; /* --fill-node: size from that node's free memory */
	long leave_mib;
	long duration_ms;
	const char *label;
} opt = { 64, 2, 0, -1, 0, 0, -1, 0, 600000, "W" };

static char *base;
static long npages, page_size;
static void **pages;
static int *status;
static signed char *last_node; /* per page: where the previous PLACE saw it; -1 unknown */
static unsigned char *changes; /* per page: node changes seen between PLACE lines */
static volatile sig_atomic_t want_place, want_touch, want_stop;
static long written, written_at_place;
static double t_start, t_place;
static char label[32];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_place = 1;
	else if (sig == SIGUSR2)
		want_touch = 1;
	else
		want_stop = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: writer [--size-mib N] [--bind-node N] [--cpu N] [--shared-fork CPU]\n"
		"              [--idle | --wait-go] [--fill-node N --leave-mib M]\n"
		"              [--duration-ms N] [--label L]\n");
	return 2;
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--idle") || !strcmp(o, "--wait-go")) {
			*(o[2] == 'i' ? &opt.idle : &opt.wait_go) = 1;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(o, "--size-mib"))
			opt.size_mib = atol(v);
		else if (!strcmp(o, "--bind-node"))
			opt.bind_node = atoi(v);
		else if (!strcmp(o, "--cpu"))
			opt.cpu = atoi(v);
		else if (!strcmp(o, "--shared-fork"))
			opt.fork_cpu = atoi(v);
		else if (!strcmp(o, "--fill-node"))
			opt.fill_node = atoi(v);
		else if (!strcmp(o, "--leave-mib"))
			opt.leave_mib = atol(v);
		else if (!strcmp(o, "--duration-ms"))
			opt.duration_ms = atol(v);
		else if (!strcmp(o, "--label"))
			opt.label = v;
		else
			return -1;
	}
	return opt.size_mib > 0 && opt.bind_node >= 0 && opt.bind_node < MAX_NODES ? 0 : -1;
}

/* MemFree of node @n, MiB; -1 if unreadable. */
static long node_free_mib(int n)
{
	char path[96], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", n);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p)
			kb = atol(p + 8);
	}
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int setup(void)
{
	size_t len;
	unsigned long mask = 1UL << opt.bind_node;

	if (opt.fill_node >= 0) {
		long free_mib = node_free_mib(opt.fill_node);

		if (free_mib < 0 || free_mib - opt.leave_mib < 8) {
			fprintf(stderr, "writer: node %d has %ld MiB free, leaving %ld\n",
				opt.fill_node, free_mib, opt.leave_mib);
			return -1;
		}
		opt.size_mib = free_mib - opt.leave_mib;
		opt.bind_node = opt.fill_node;
		mask = 1UL << opt.bind_node;
	}
	len = (size_t)opt.size_mib << 20;
	npages = (long)(len / (size_t)page_size);
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    (opt.fork_cpu >= 0 ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	pages = calloc((size_t)npages, sizeof(*pages));
	status = calloc((size_t)npages, sizeof(*status));
	last_node = malloc((size_t)npages);
	changes = calloc((size_t)npages, 1);
	if (base == MAP_FAILED || !pages || !status || !last_node || !changes)
		return -1;
	memset(last_node, -1, (size_t)npages);
	for (long i = 0; i < npages; i++)
		pages[i] = base + i * page_size;
	madvise(base, len, MADV_NOHUGEPAGE); /* 4K pages: placement counted per page */
	if (syscall(SYS_mbind, base, len, MPOL_BIND_MODE, &mask, (unsigned long)MAX_NODES + 1,
		    0UL)) {
		fprintf(stderr, "writer: mbind to node %d: %s\n", opt.bind_node, strerror(errno));
		return -1;
	}
	for (long i = 0; i < npages; i++) /* populate on the bound node */
		base[i * page_size] = 1;
	return 0;
}

static int current_cpu(void)
{
	unsigned int cpu = 0;

	syscall(SYS_getcpu, &cpu, NULL, NULL);
	return (int)cpu;
}

/* Count the pages seen on another node than at the last PLACE: moved1/moved2 (once, twice+). */
static void count_changes(long *moved1, long *moved2)
{
	for (long i = 0; i < npages; i++) {
		int s = status[i];

		if (s < 0 || s >= MAX_NODES)
			continue;
		if (last_node[i] >= 0 && last_node[i] != s && changes[i] < 255)
			changes[i]++;
		last_node[i] = (signed char)s;
		*moved1 += changes[i] >= 1;
		*moved2 += changes[i] >= 2;
	}
}

static void place(void)
{
	long node[MAX_NODES] = { 0 }, other = 0, err = 0, moved1 = 0, moved2 = 0;
	double t = now_s();
	char line[512];
	int n;

	if (syscall(SYS_move_pages, 0, (unsigned long)npages, pages, NULL, status, 0)) {
		err = npages;
	} else {
		for (long i = 0; i < npages; i++) {
			if (status[i] < 0)
				err++;
			else if (status[i] < MAX_NODES)
				node[status[i]]++;
			else
				other++;
		}
		count_changes(&moved1, &moved2);
	}
	n = snprintf(line, sizeof(line), "PLACE %s pid=%d pages=%ld", label, (int)getpid(), npages);
	for (int i = 0; i < 3; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " node%d=%ld", i, node[i]);
	snprintf(line + n, sizeof(line) - (size_t)n,
		 " other=%ld err=%ld moved1=%ld moved2=%ld rate=%.0f cpu=%d\n", other, err, moved1,
		 moved2, (double)(written - written_at_place) / (t - t_place), current_cpu());
	fputs(line, stdout);
	written_at_place = written;
	t_place = t;
}

/* Write every page once; a signal makes it stop early (0 then, 1 done). */
static int one_pass(unsigned int pass)
{
	for (long i = 0; i < npages; i++) {
		base[i * page_size + (long)(pass % 64) * 64]++;
		written++;
		if ((i & 255) == 255 && (want_place || want_stop))
			return 0;
	}
	return 1;
}

static void run(void)
{
	double deadline = t_start + (double)opt.duration_ms / 1000;
	sigset_t none;
	unsigned int pass = 0;

	sigemptyset(&none);
	while (!want_stop && now_s() < deadline) {
		if (want_place) {
			want_place = 0;
			place();
		}
		if (opt.wait_go && want_touch) { /* go: from now on a writer */
			want_touch = 0;
			opt.wait_go = opt.idle = 0;
			sigprocmask(SIG_SETMASK, &none, NULL);
			printf("GO %s pid=%d\n", label, (int)getpid());
		} else if (opt.idle && want_touch) {
			want_touch = 0;
			one_pass(pass++);
			printf("TOUCHED %s pid=%d pages=%ld\n", label, (int)getpid(), npages);
		} else if (opt.idle) {
			struct timespec tick = { 0, 100000000 };

			ppoll(NULL, 0, &tick, &none); /* signals are blocked outside it */
		} else {
			one_pass(pass++);
		}
	}
	place();
	printf("DONE %s pid=%d written=%ld seconds=%.2f rate=%.0f\n", label, (int)getpid(), written,
	       now_s() - t_start, (double)written / (now_s() - t_start));
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;
	int cpu;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	if (parse(argc, argv))
		return usage();
	/* Idle processes take their signals in sigsuspend only; writers between pages. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTERM);
	opt.idle |= opt.wait_go;
	if (opt.idle)
		sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (pin(opt.cpu) || setup()) {
		fprintf(stderr, "writer: setup failed\n");
		return 2;
	}
	snprintf(label, sizeof(label), "%s", opt.label);
	cpu = opt.cpu;
	if (opt.fork_cpu >= 0) {
		pid_t kid = fork();

		if (kid < 0)
			return 2;
		if (kid == 0) {
			snprintf(label, sizeof(label), "%s2", opt.label);
			cpu = opt.fork_cpu;
			pin(cpu);
		}
	}
	printf("WRITER %s pid=%d cpu=%d pages=%ld bound=%d\n", label, (int)getpid(), cpu, npages,
	       opt.bind_node);
	t_start = t_place = now_s();
	run();
	return 0;
}
