// SPDX-License-Identifier: MIT
/*
 * NUMA topology: cpulist parsing, discovery from a fake sysfs tree modelled on
 * a 3-node CXL host (two CPU nodes, one CPU-less memory node), the
 * paddr -> node and cpu -> node lookups at block boundaries, error paths, and
 * discovery from this host's real /sys.
 *
 * Sources: Linux 6.1 Documentation/ABI/stable/sysfs-devices-node,
 * drivers/base/node.c (cpulist, meminfo, memoryM links),
 * drivers/base/memory.c (block_size_bytes is hex without "0x"),
 * lib/bitmap.c bitmap_parselist (cpulist syntax);
 * /work/shared/reference/sampling.md section 5.3.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "ibsp/topology.h"

struct cpus {
	int nr;
	int cpu[64];
};

static int collect(int cpu, void *ctx)
{
	struct cpus *c = ctx;

	cr_assert_lt(c->nr, 64);
	c->cpu[c->nr++] = cpu;
	return 0;
}

static int stop_at_2(int cpu, void *ctx)
{
	(void)ctx;
	return cpu == 2 ? 42 : 0;
}

Test(topology, cpulist_parse)
{
	static const struct {
		const char *text;
		int ret, nr;
		int cpu[8];
	} rows[] = {
		{ "0-3,8,10-11", 0, 7, { 0, 1, 2, 3, 8, 10, 11 } },
		{ "0-3,8,10-11\n", 0, 7, { 0, 1, 2, 3, 8, 10, 11 } },
		{ "5", 0, 1, { 5 } },
		{ "7-7\n", 0, 1, { 7 } },
		{ "", 0, 0, { 0 } },
		{ "\n", 0, 0, { 0 } },
		{ "1-", -EINVAL, 0, { 0 } },
		{ "a", -EINVAL, 0, { 0 } },
		{ "3-1", -EINVAL, 0, { 0 } },
		{ "1,,2", -EINVAL, 0, { 0 } },
		{ "-1", -EINVAL, 0, { 0 } },
		{ "1-a", -EINVAL, 0, { 0 } },
		{ "1 2", -EINVAL, 0, { 0 } },
		{ " 1", -EINVAL, 0, { 0 } },
		{ "2147483648", -EINVAL, 0, { 0 } },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cpus c = { 0 };
		int ret = ibsp_cpulist__parse(rows[i].text, collect, &c);

		cr_assert_eq(ret, rows[i].ret, "'%s': %d", rows[i].text, ret);
		if (ret)
			continue;
		cr_assert_eq(c.nr, rows[i].nr, "'%s': %d cpus", rows[i].text, c.nr);
		for (int k = 0; k < c.nr; k++)
			cr_assert_eq(c.cpu[k], rows[i].cpu[k], "'%s' [%d]", rows[i].text, k);
	}
	/* A non-zero callback return stops the walk and is passed back. */
	cr_assert_eq(ibsp_cpulist__parse("0-3", stop_at_2, NULL), 42);
}

#define BLOCK 0x8000000ULL /* block_size_bytes "8000000": 128 MiB */

static char *root, *tmpdir;

static void put_file(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	spit(path, text, strlen(text));
}

static void make_dir(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void make_dir(const char *fmt, ...)
{
	char rel[256], path[512], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	/* mkdir -p */
	for (p = path + strlen(root); (p = strchr(p, '/')); p++) {
		*p = '\0';
		cr_assert(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s: %s", path,
			  strerror(errno));
		*p = '/';
	}
	cr_assert(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* memoryM of nodeN: a symlink to ../../memory/memoryM as in sysfs, or an empty directory. */
static void add_block(int node, int m, int as_link)
{
	char link[512], target[64];

	make_dir("devices/system/memory/memory%d", m);
	if (!as_link) {
		make_dir("devices/system/node/node%d/memory%d", node, m);
		return;
	}
	snprintf(link, sizeof(link), "%s/devices/system/node/node%d/memory%d", root, node, m);
	snprintf(target, sizeof(target), "../../memory/memory%d", m);
	cr_assert_eq(symlink(target, link), 0, "symlink %s: %s", link, strerror(errno));
}

static const struct fake_node {
	int id;
	const char *cpulist;
	unsigned long long total_kb, free_kb;
	int first, nr, first2, nr2; /* memory blocks */
	int as_link;
} fake[] = {
	{ 0, "0-1\n", 1048576, 524288, 0, 8, 0, 0, 0 },
	{ 1, "2-3\n", 1048576, 786432, 8, 8, 0, 0, 1 },
	{ 2, "\n", 1048576, 1048000, 32, 8, 48, 2, 0 }, /* CXL: no CPUs, two ranges */
};

/* A fake sysfs root under the test's temp dir: a 3-node CXL-like host. */
static void make_fake_sysfs(void)
{
	root = (char *)tmp_path("sys");
	if (!tmpdir) {
		tmpdir = strdup(root);
		*strrchr(tmpdir, '/') = '\0';
	}
	make_dir("devices/system/node");
	put_file("devices/system/node/online", "0-2\n");
	put_file("devices/system/node/possible", "0-3\n");
	make_dir("devices/system/memory");
	put_file("devices/system/memory/block_size_bytes", "8000000\n");
	for (size_t i = 0; i < 3; i++) {
		const struct fake_node *f = &fake[i];
		char rel[128], text[256];

		make_dir("devices/system/node/node%d", f->id);
		snprintf(rel, sizeof(rel), "devices/system/node/node%d/cpulist", f->id);
		put_file(rel, f->cpulist);
		snprintf(rel, sizeof(rel), "devices/system/node/node%d/meminfo", f->id);
		snprintf(text, sizeof(text),
			 "Node %d MemTotal:        %llu kB\n"
			 "Node %d MemFree:         %llu kB\n"
			 "Node %d MemUsed:         %llu kB\n",
			 f->id, f->total_kb, f->id, f->free_kb, f->id, f->total_kb - f->free_kb);
		put_file(rel, text);
		for (int m = f->first; m < f->first + f->nr; m++)
			add_block(f->id, m, f->as_link);
		for (int m = f->first2; m < f->first2 + f->nr2; m++)
			add_block(f->id, m, f->as_link);
	}
	/* Entries that are not memory blocks. */
	make_dir("devices/system/node/node0/memory_failure");
	make_dir("devices/system/node/node0/memoryX");
}

static void remove_fake_sysfs(void)
{
	if (root)
		rm_tree(root);
	root = NULL;
}

/* After each test: the tree and tmp_path()'s directory around it. */
static void cleanup(void)
{
	remove_fake_sysfs();
	if (tmpdir)
		rmdir(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

TestSuite(topology, .fini = cleanup);

Test(topology, fake_cxl_host)
{
	struct ibsp_topology *t = NULL;

	make_fake_sysfs();
	cr_assert_eq(ibsp_topology__from_sysfs(root, &t), 0);
	cr_assert_eq(ibsp_topology__nr_nodes(t), 3);
	cr_assert_eq(ibsp_topology__block_size_bytes(t), BLOCK);
	cr_assert(ibsp_topology__has_block_map(t));
	for (uint32_t i = 0; i < 3; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);
		const char *cpulist = ibsp_topology__cpulist(t, n);
		const struct ibsp_block_range *ranges = ibsp_topology__ranges(t, n);
		uint32_t nr_ranges = ibsp_topology__nr_ranges(t, n);
		const struct fake_node *f = &fake[i];

		cr_assert_eq(ibsp_topology__node_id(t, n).id, f->id);
		cr_assert_eq(strncmp(cpulist, f->cpulist, strcspn(f->cpulist, "\n")), 0,
			     "node%d cpulist '%s'", f->id, cpulist);
		cr_assert_eq(strlen(cpulist), strcspn(f->cpulist, "\n"));
		cr_assert_eq(ibsp_topology__nr_cpus(t, n), f->id == 2 ? 0 : 2);
		cr_assert_eq(ibsp_topology__mem_total_kb(t, n), f->total_kb);
		cr_assert_eq(ibsp_topology__mem_free_kb(t, n), f->free_kb);
		cr_assert_eq(nr_ranges, f->nr2 ? 2 : 1, "node%d: %u ranges", f->id, nr_ranges);
		cr_assert(ranges[0].first == (uint64_t)f->first && ranges[0].nr == (uint64_t)f->nr,
			  "node%d range [%llu +%llu]", f->id, (unsigned long long)ranges[0].first,
			  (unsigned long long)ranges[0].nr);
		if (f->nr2)
			cr_assert(ranges[1].first == (uint64_t)f->first2 &&
				  ranges[1].nr == (uint64_t)f->nr2);
	}

	static const struct {
		uint64_t paddr;
		int node;
	} paddrs[] = {
		{ 0, 0 },
		{ BLOCK * 8 - 1, 0 },
		{ BLOCK * 8, 1 },
		{ BLOCK * 16 - 1, 1 },
		{ BLOCK * 16, -ENOENT },
		{ BLOCK * 32 - 1, -ENOENT },
		{ BLOCK * 32, 2 },
		{ BLOCK * 40 - 1, 2 },
		{ BLOCK * 40, -ENOENT },
		{ BLOCK * 48 + 4096, 2 },
		{ BLOCK * 50, -ENOENT },
		{ ~0ULL, -ENOENT },
	};
	for (size_t i = 0; i < sizeof(paddrs) / sizeof(paddrs[0]); i++)
		cr_assert_eq(ibsp_topology__node_of_paddr(t, paddrs[i].paddr).id, paddrs[i].node,
			     "paddr %#llx", (unsigned long long)paddrs[i].paddr);

	static const int cpus[][2] = { { 0, 0 },       { 1, 0 },       { 2, 1 },       { 3, 1 },
				       { 4, -ENOENT }, { 9, -ENOENT }, { -1, -ENOENT } };
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++)
		cr_assert_eq(ibsp_topology__node_of_cpu(t, cpus[i][0]).id, cpus[i][1], "cpu %d",
			     cpus[i][0]);
	ibsp_topology__delete(t);
}

Test(topology, sparse_node_ids)
{
	struct ibsp_topology *t = NULL;

	make_fake_sysfs();
	put_file("devices/system/node/online", "0,2\n");
	cr_assert_eq(ibsp_topology__from_sysfs(root, &t), 0);
	cr_assert_eq(ibsp_topology__nr_nodes(t), 2);
	cr_assert(ibsp_topology__node_id(t, ibsp_node_idx(0)).id == 0 &&
		  ibsp_topology__node_id(t, ibsp_node_idx(1)).id == 2);
	cr_assert_eq(ibsp_topology__node_of_paddr(t, BLOCK * 8).id, -ENOENT);
	cr_assert_eq(ibsp_topology__node_of_paddr(t, BLOCK * 33).id, 2);
	cr_assert_eq(ibsp_topology__node_of_cpu(t, 2).id, -ENOENT);
	ibsp_topology__delete(t);
}

Test(topology, no_block_map)
{
	static const char *const sizes[] = { NULL, "zz\n", "0\n" };

	make_fake_sysfs();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char path[512];
		struct ibsp_topology *t = NULL;

		snprintf(path, sizeof(path), "%s/devices/system/memory/block_size_bytes", root);
		if (sizes[i])
			put_file("devices/system/memory/block_size_bytes", sizes[i]);
		else
			cr_assert_eq(unlink(path), 0);
		log_capture_start();
		cr_assert_eq(ibsp_topology__from_sysfs(root, &t), 0, "size %s", sizes[i]);
		cr_assert_not(ibsp_topology__has_block_map(t));
		cr_assert_eq(ibsp_topology__nr_ranges(t, ibsp_node_idx(0)), 0);
		cr_assert_eq(ibsp_topology__node_of_paddr(t, 0).id, -ENODATA);
		cr_assert_eq(ibsp_topology__node_of_cpu(t, 3).id, 1);
		if (sizes[i])
			cr_assert(strstr(log_captured(), path), "log: %s", log_captured());
		ibsp_topology__delete(t);
	}
}

Test(topology, errors_name_the_path)
{
	static const struct {
		const char *rel, *text; /* text NULL: remove the file */
		int ret;
	} rows[] = {
		{ "devices/system/node/online", NULL, -ENOENT },
		{ "devices/system/node/online", "0-\n", -EINVAL },
		{ "devices/system/node/node1/cpulist", NULL, -ENOENT },
		{ "devices/system/node/node1/cpulist", "2-x\n", -EINVAL },
		{ "devices/system/node/node2/meminfo", NULL, -ENOENT },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_topology *t = (struct ibsp_topology *)1;
		char path[512];

		make_fake_sysfs();
		snprintf(path, sizeof(path), "%s/%s", root, rows[i].rel);
		if (rows[i].text)
			put_file(rows[i].rel, rows[i].text);
		else
			cr_assert_eq(unlink(path), 0);
		log_capture_start();
		cr_assert_eq(ibsp_topology__from_sysfs(root, &t), rows[i].ret, "%s", rows[i].rel);
		cr_assert_eq(t, (struct ibsp_topology *)1, "*out set on failure");
		cr_assert(strstr(log_captured(), path), "%s: log '%s'", rows[i].rel,
			  log_captured());
		remove_fake_sysfs();
	}
}

/* First line of a sysfs file (whose st_size and ftell() are not its length). */
static char *read_text(const char *path)
{
	char *s = calloc(1, 4096);
	FILE *f = fopen(path, "r");

	cr_assert(s && f, "cannot open %s", path);
	cr_assert(fgets(s, 4096, f) || feof(f), "cannot read %s", path);
	fclose(f);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static int count_cpu(int cpu, void *ctx)
{
	(void)cpu;
	(*(uint32_t *)ctx)++;
	return 0;
}

/* This host: compare with what /sys says directly. */
Test(topology, real_sysfs)
{
	const char *online_path = "/sys/devices/system/node/online";
	struct ibsp_topology *t = NULL;
	struct cpus online = { 0 };
	char *online_text, *cpulist;
	uint32_t nr_cpus = 0;
	const struct ibsp_node_idx n0 = ibsp_node_idx(0);

	if (access(online_path, R_OK))
		cr_skip_test("no %s on this host", online_path);
	online_text = read_text(online_path);
	cr_assert_eq(ibsp_cpulist__parse(online_text, collect, &online), 0);
	cr_assert_eq(ibsp_topology__from_sysfs("/sys", &t), 0, "%s", log_captured());
	cr_assert_eq(ibsp_topology__nr_nodes(t), (uint32_t)online.nr);
	for (int i = 0; i < online.nr; i++)
		cr_assert_eq(ibsp_topology__node_id(t, ibsp_node_idx(i)).id, online.cpu[i]);

	cpulist = read_text("/sys/devices/system/node/node0/cpulist");
	cr_assert_str_eq(ibsp_topology__cpulist(t, n0), cpulist);
	cr_assert_eq(ibsp_cpulist__parse(cpulist, count_cpu, &nr_cpus), 0);
	cr_assert_eq(ibsp_topology__nr_cpus(t, n0), nr_cpus);
	cr_assert_gt(ibsp_topology__mem_total_kb(t, n0), 0);
	cr_assert_eq(ibsp_topology__node_of_cpu(t, 0).id, 0);
	if (ibsp_topology__has_block_map(t) && ibsp_topology__nr_ranges(t, n0)) {
		uint64_t first =
		    ibsp_topology__ranges(t, n0)[0].first * ibsp_topology__block_size_bytes(t);

		cr_assert_eq(ibsp_topology__node_of_paddr(t, first).id, 0);
	}
	free(online_text);
	free(cpulist);
	ibsp_topology__delete(t);
}

/*
 * The 3-node CXL-like topology written into a recording: perf's own header
 * decoder shows the same nodes (node2 CPU-less), memory and block lists.
 */
Test(topology, fake_cxl_host_recorded_and_read_by_perf, .fini = cleanup)
{
	static uint64_t ids[] = { 1 };
	struct ibsp_recording_info info = { .hostname = "cxl-host", .arch = "x86_64" };
	struct ibsp_event_desc ev = { 0 };
	const char *perf = perf_path(), *path = tmp_path("cxl.data");
	struct ibsp_perf_writer *w;
	struct ibsp_perf_reader *r;
	struct ibsp_topology *t;
	char cmd[1024], *out, *err;

	make_fake_sysfs();
	cr_assert_eq(ibsp_topology__from_sysfs(root, &t), 0);
	info.topo = t;
	ev.attr.type = PERF_TYPE_SOFTWARE;
	ev.attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev.attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |
			      PERF_SAMPLE_CPU | PERF_SAMPLE_PHYS_ADDR;
	ev.name = "page-faults";
	ev.nr_ids = 1;
	ev.ids = ids;
	cr_assert_eq(ibsp_perf_writer__open(path, &info, &ev, 1, &w), 0);
	{
		/*
		 * one sample (perf warns about a recording without data): TID, TIME, ADDR,
		 * CPU 2 (node1), PHYS_ADDR in block 33 (the CPU-less node2)
		 */
		uint64_t rec[6] = {
			0, 7 | 7ULL << 32, 1000, 0x7f0000001000ULL, 2, 33 * BLOCK + 0x40
		};
		struct perf_event_header h = { .type = PERF_RECORD_SAMPLE, .size = sizeof(rec) };

		memcpy(rec, &h, sizeof(h));
		cr_assert_eq(ibsp_perf_writer__write(w, (const struct perf_event_header *)rec), 0);
	}
	cr_assert_eq(ibsp_perf_writer__close(w), 0);

	/* our reader: the same topology, and physical addresses resolve to node2 offline */
	cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), 0);
	const struct ibsp_topology *rt = ibsp_perf_reader__info(r)->topo;

	cr_assert_eq(ibsp_topology__nr_nodes(rt), 3);
	cr_assert_eq(ibsp_topology__node_of_paddr(rt, 32 * BLOCK).id, 2);
	cr_assert_eq(ibsp_topology__node_of_paddr(rt, 49 * BLOCK + 5).id, 2);
	cr_assert_eq(ibsp_topology__node_of_paddr(rt, 9 * BLOCK).id, 1);
	ibsp_perf_reader__close(r);
	/* dump resolves the page to node2 and the accessing CPU to node1, offline */
	snprintf(cmd, sizeof(cmd), IBSP_CLI " dump %s", path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "dump: %s", err);
	cr_assert(strstr(out, "\"node\":2,\"cpu_node\":1,"), "dump: %s", out);
	free(out);
	free(err);
	if (!perf) {
		ibsp_topology__delete(t);
		remove(path);
		cr_skip_test("perf is not installed (apt-get install linux-perf)");
	}
	snprintf(cmd, sizeof(cmd), "%s report --header-only -I -i %s", perf, path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf report: %s", err);
	cr_assert_str_empty(err, "perf report warned: %s", err);
	check_topology_vs_perf_header(t, out);
	cr_assert(strstr(out, "# node2 cpu list : -1\n"), "CPU-less node2 as perf shows it: %s",
		  out);
	ibsp_topology__delete(t);
	remove(path);
	free(out);
	free(err);
}
