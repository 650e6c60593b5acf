// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <glob.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "ibsp/log.h"
#include "topology_build.h"
#include "util.h"

static char logbuf[16384];
static size_t loglen;

static void capture(enum ibsp_log_level level, const char *fmt, va_list ap)
{
	int n;

	(void)level;
	if (loglen >= sizeof(logbuf) - 1)
		return;
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	if (n > 0)
		loglen +=
		    (size_t)n < sizeof(logbuf) - loglen ? (size_t)n : sizeof(logbuf) - loglen - 1;
}

void log_capture_start(void)
{
	loglen = 0;
	logbuf[0] = '\0';
	ibsp_set_print(capture);
}

const char *log_captured(void)
{
	return logbuf;
}

uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	cr_assert(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	cr_assert(p);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return p;
}

void spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f, "cannot create %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/*
 * Each test process makes its own directory, /tmp/ibsp-test-RUN-XXXXXX, RUN
 * being the pid of the Criterion runner that forked it (passed down in
 * IBSP_TEST_RUN by the PRE_ALL hook). The runner removes its directories
 * when every test passed, and keeps them when one failed, for a look.
 */
#define TMP_PREFIX "/tmp/ibsp-test-"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char pid[24];

	(void)set;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("IBSP_TEST_RUN", pid, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char pattern[64];
	glob_t g;

	if (stats->tests_failed || stats->tests_crashed)
		return;
	snprintf(pattern, sizeof(pattern), TMP_PREFIX "%ld-*", (long)getpid());
	if (glob(pattern, GLOB_NOSORT, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		(void)rm_tree(g.gl_pathv[i]);
	globfree(&g);
}

const char *tmp_path(const char *name)
{
	static char dir[256];
	static char paths[256][320]; /* no allocation: nothing for LeakSanitizer to report */
	static unsigned int used;

	if (!dir[0]) {
		const char *run = getenv("IBSP_TEST_RUN");

		snprintf(dir, sizeof(dir), TMP_PREFIX "%s-XXXXXX", run ? run : "0");
		cr_assert(mkdtemp(dir));
	}
	/* a ring: a path stays valid for the next 255 calls */
	used = (used + 1) % 256;
	snprintf(paths[used], sizeof(paths[used]), "%s/%s", dir, name);
	return paths[used];
}

size_t read_all_samples(const char *path, struct ibsp_sample **out, int *err)
{
	struct ibsp_perf_reader *r;
	size_t n = 0, cap = 1024;
	struct ibsp_sample *s = malloc(cap * sizeof(*s));
	int ret;

	*err = ibsp_perf_reader__open(path, NULL, &r);
	if (*err) {
		*out = s;
		return 0;
	}
	for (;;) {
		if (n == cap) {
			cap *= 2;
			s = realloc(s, cap * sizeof(*s));
		}
		ret = ibsp_perf_reader__read(r, s + n, cap - n);
		if (ret <= 0)
			break;
		n += (size_t)ret;
	}
	*err = ret < 0 ? ret : 0;
	ibsp_perf_reader__close(r);
	*out = s;
	return n;
}

size_t parse_perf_tuples(const char *text, struct tuple **out)
{
	size_t n = 0, cap = 64;
	struct tuple *t = malloc(cap * sizeof(*t));
	const char *p = text;

	while (*p) {
		unsigned int tid;
		int cpu;
		unsigned long long a, ph;
		const char *nl = strchr(p, '\n');

		if (sscanf(p, " %u [%d] %llx %llx", &tid, &cpu, &a, &ph) == 4) {
			if (n == cap) {
				cap *= 2;
				t = realloc(t, cap * sizeof(*t));
			}
			t[n++] = (struct tuple){ .cpu = cpu, .tid = tid, .addr = a, .phys = ph };
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	*out = t;
	return n;
}

size_t samples_to_tuples(const struct ibsp_sample *s, size_t n, struct tuple **out)
{
	struct tuple *t = calloc(n ? n : 1, sizeof(*t));

	for (size_t i = 0; i < n; i++) {
		t[i].cpu = s[i].cpu;
		t[i].tid = s[i].tid;
		t[i].addr = (s[i].flags & IBSP_S_VADDR_VALID) ? s[i].vaddr : 0;
		t[i].phys = (s[i].flags & IBSP_S_PADDR_VALID) ? s[i].paddr : 0;
	}
	*out = t;
	return n;
}

const char *perf_path(void)
{
	static const char *const cands[] = { "/usr/bin/perf", "/usr/local/bin/perf" };
	char out[64];

	/* Act as a machine without perf (tests/check-skips.py's forced-skip check). */
	if (getenv("IBSP_TEST_NO_PERF"))
		return NULL;
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		struct stat st;

		if (stat(cands[i], &st) == 0) {
			/* Debian's /usr/bin/perf is a wrapper that fails without a matching perf_X.Y. */
			snprintf(out, sizeof(out), "%s --version >/dev/null 2>&1", cands[i]);
			if (system(out) == 0)
				return cands[i];
		}
	}
	return NULL;
}

void skip_part(const char *fmt, ...)
{
	const char *log = getenv("IBSP_SKIP_LOG");
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Not cr_log_warn(): a warning makes Criterion exit non-zero. */
	fprintf(stderr, "[SKIP] %s::%s (partly): %s\n", criterion_current_test->category,
		criterion_current_test->name, why);
	if (log) {
		FILE *f = fopen(log, "a");

		cr_assert(f, "IBSP_SKIP_LOG %s: %s", log, strerror(errno));
		/* One line, written whole: tests run in parallel processes. */
		fprintf(f, "%s::%s # SKIP %s\n", criterion_current_test->category,
			criterion_current_test->name, why);
		fclose(f);
	}
}

bool perf_open_refused(const char *err)
{
	static const int refusals[] = { EACCES, EPERM, ENOENT };
	const char *p = err ? strstr(err, "cannot open") : NULL;

	if (!p)
		return false;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const char *why = strerror(refusals[i]);
		const char *at = strstr(p, why);

		/* the message's errno text ends the line (or a hint follows it after " (") */
		if (at &&
		    (at[strlen(why)] == '\n' || at[strlen(why)] == 0 || at[strlen(why)] == ' '))
			return true;
	}
	return false;
}

void die_with_test(void)
{
	pid_t parent = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
}

static char *read_fd_all(FILE *f)
{
	size_t len = 0, cap = 4096;
	char *b = malloc(cap);
	size_t n;

	while ((n = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			b = realloc(b, cap);
		}
	}
	b[len] = 0;
	return b;
}

size_t json_lines(char *out, json_t **lines, size_t cap)
{
	size_t n = 0;

	for (char *save = NULL, *l = strtok_r(out, "\n", &save); l && n < cap;
	     l = strtok_r(NULL, "\n", &save)) {
		json_error_t e;

		lines[n] = json_loads(l, 0, &e);
		cr_assert(lines[n], "line %zu is not JSON (%s): %s", n, e.text, l);
		n++;
	}
	return n;
}

int run_cmd(const char *cmd, char **out, char **err)
{
	char errpath[512], full[4096];
	FILE *p;
	int st;

	snprintf(errpath, sizeof(errpath), "%s", tmp_path("cmd.stderr"));
	snprintf(full, sizeof(full), "%s 2>%s", cmd, errpath);
	p = popen(full, "r");
	cr_assert(p, "popen %s", cmd);
	*out = read_fd_all(p);
	st = pclose(p);
	if (err) {
		size_t len;

		*err = (char *)slurp(errpath, &len);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Compare our topology with the lines perf report --header-only -I prints. */
void check_topology_vs_perf_header(const struct ibsp_topology *t, const char *hdr)
{
	uint32_t seen_nodes = 0;
	const char *p;

	cr_assert(t, "no topology read");
	uint32_t nr = ibsp_topology__nr_nodes(t);

	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);
		int id = ibsp_topology__node_id(t, n).id;
		char want[256];

		snprintf(want, sizeof(want),
			 "# node%d meminfo  : total = %llu kB, free = %llu kB\n", id,
			 (unsigned long long)ibsp_topology__mem_total_kb(t, n),
			 (unsigned long long)ibsp_topology__mem_free_kb(t, n));
		cr_assert(strstr(hdr, want), "perf header lacks '%s'", want);
		snprintf(want, sizeof(want), "# node%d cpu list : %s\n", id,
			 ibsp_topology__nr_cpus(t, n) ? ibsp_topology__cpulist(t, n) : "-1");
		cr_assert(strstr(hdr, want), "perf header lacks '%s'", want);
	}
	for (p = hdr; (p = strstr(p, " meminfo  : total")); p++)
		seen_nodes++;
	cr_assert_eq(seen_nodes, nr, "perf shows %u nodes, we read %u", seen_nodes, nr);
	if (ibsp_topology__has_block_map(t)) {
		char want[128];

		snprintf(want, sizeof(want), "# memory nodes (nr %u, block size %#llx):\n", nr,
			 (unsigned long long)ibsp_topology__block_size_bytes(t));
		cr_assert(strstr(hdr, want), "perf header lacks '%s'", want);
		for (uint32_t i = 0; i < nr; i++) {
			struct ibsp_node_idx n = ibsp_node_idx((int)i);
			const struct ibsp_block_range *ranges = ibsp_topology__ranges(t, n);
			char list[1024] = "", *q;
			size_t used = 0;

			for (uint32_t k = 0; k < ibsp_topology__nr_ranges(t, n); k++) {
				const struct ibsp_block_range *r = &ranges[k];

				if (r->nr == 1)
					used += (size_t)snprintf(list + used, sizeof(list) - used,
								 "%s%llu", k ? "," : "",
								 (unsigned long long)r->first);
				else
					used += (size_t)snprintf(
					    list + used, sizeof(list) - used, "%s%llu-%llu",
					    k ? "," : "", (unsigned long long)r->first,
					    (unsigned long long)(r->first + r->nr - 1));
			}
			char line[sizeof(list) + 8];

			cr_assert_lt(used, sizeof(list), "block list too long for the test");
			/* perf prints "#  N [SIZE]: blocks" */
			snprintf(line, sizeof(line), "]: %s\n", list);
			q = strstr(hdr, line);
			cr_assert(q, "perf header lacks the block list '%s' of node %d", list,
				  ibsp_topology__node_id(t, n).id);
		}
	}
}

struct ibsp_topology *make_topo(uint32_t nr, const char *const *cpus, const uint32_t *mem_gib,
				const uint32_t *free_gib, const uint32_t *dist)
{
	struct ibsp_topology *t = ibsp_topology__new(nr);
	uint64_t block = 0;

	cr_assert(t);
	ibsp_topology__set_block_size(t, 1ULL << 30);
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		cr_assert_eq(ibsp_topology__set_node_id(t, n, ibsp_node_id((int)i)), 0);
		cr_assert_eq(ibsp_topology__set_cpulist(t, n, cpus[i]), 0);
		cr_assert_eq(ibsp_topology__set_mem_kb(t, n, (uint64_t)mem_gib[i] << 20,
						       (uint64_t)free_gib[i] << 20),
			     0);
		cr_assert_eq(ibsp_topology__add_range(t, n, block, mem_gib[i]), 0);
		block += mem_gib[i];
	}
	if (dist)
		cr_assert_eq(ibsp_topology__set_distances(t, dist), 0);
	return t;
}

uint64_t topo_node_base(const struct ibsp_topology *t, int node)
{
	struct ibsp_node_idx i = ibsp_topology__index_of(t, ibsp_node_id(node));

	cr_assert_geq(i.idx, 0);
	return ibsp_topology__ranges(t, i)[0].first * ibsp_topology__block_size_bytes(t);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int rm_tree(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
