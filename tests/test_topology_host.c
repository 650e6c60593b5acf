// SPDX-License-Identifier: MIT
/*
 * Live topology discovery (ibsp_topology__from_host): SLIT distances from
 * nodeN/distance and from hwloc, memory tiers from memory_tiering, free
 * memory through libnuma; and distances and tiers through a recording
 * (HEADER_IBSP_TOPOLOGY) that perf still reads without a word.
 *
 * The fake tree is a 3-node CXL-like host: node0 and node1 with CPUs, node2
 * CPU-less and far, in the DRAM tier 4 and dax-kmem tier 22 as Linux 6.1
 * names them. Sources: Linux 6.1 drivers/base/node.c (distance: one value per
 * online node, ascending), mm/memory-tiers.c; hwloc 2.9 topology-linux.c
 * (HWLOC_FSROOT; it needs nodeN/cpumap and cpuN/topology to accept a tree);
 * /work/shared/reference/sampling.md 5.3, 5.4, 6.1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "ibsp/topology.h"
#include "perf_abi.h"
#include "topology_build.h"
#include "topology_internal.h" /* ibsp_topology__distance_from_hwloc() */
#include "util.h"

struct file {
	const char *rel, *text;
};

static const struct file cxl_tree[] = {
	{ "devices/system/node/online", "0-2\n" },
	{ "devices/system/node/node0/cpulist", "0-1\n" },
	{ "devices/system/node/node0/cpumap", "3\n" },
	{ "devices/system/node/node0/meminfo",
	  "Node 0 MemTotal: 1048576 kB\nNode 0 MemFree: 524288 kB\n" },
	{ "devices/system/node/node0/distance", "10 21 30\n" },
	{ "devices/system/node/node1/cpulist", "2-3\n" },
	{ "devices/system/node/node1/cpumap", "c\n" },
	{ "devices/system/node/node1/meminfo",
	  "Node 1 MemTotal: 1048576 kB\nNode 1 MemFree: 786432 kB\n" },
	{ "devices/system/node/node1/distance", "21 10 30\n" },
	{ "devices/system/node/node2/cpulist", "\n" },
	{ "devices/system/node/node2/cpumap", "0\n" },
	{ "devices/system/node/node2/meminfo",
	  "Node 2 MemTotal: 4194304 kB\nNode 2 MemFree: 4194000 kB\n" },
	{ "devices/system/node/node2/distance", "30 30 10\n" },
	{ "devices/system/memory/block_size_bytes", "8000000\n" },
	{ "devices/system/cpu/cpu0/topology/thread_siblings", "1\n" },
	{ "devices/system/cpu/cpu1/topology/thread_siblings", "2\n" },
	{ "devices/system/cpu/cpu2/topology/thread_siblings", "4\n" },
	{ "devices/system/cpu/cpu3/topology/thread_siblings", "8\n" },
	{ "devices/virtual/memory_tiering/memory_tier4/nodelist", "0-1\n" },
	{ "devices/virtual/memory_tiering/memory_tier22/nodelist", "2\n" },
};

static const uint32_t cxl_distance[9] = { 10, 21, 30, 21, 10, 30, 30, 30, 10 };
static const int32_t cxl_tier[3] = { 4, 4, 22 };

static char root[256]; /* <tmp>/sys, the fake sysfs root; <tmp> is its HWLOC_FSROOT */

/* Write @text to root/@rel, creating the directories; NULL removes the file. */
static void put(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (!text) {
		cr_assert(!unlink(path), "unlink %s", path);
		return;
	}
	for (char *p = path + strlen(root); (p = strchr(p + 1, '/'));) {
		*p = '\0';
		cr_assert(!mkdir(path, 0755) || errno == EEXIST, "mkdir %s", path);
		*p = '/';
	}
	spit(path, text, strlen(text));
}

static void make_tree(void)
{
	snprintf(root, sizeof(root), "%s", tmp_path("sys"));
	cr_assert(!mkdir(root, 0755) || errno == EEXIST);
	for (size_t i = 0; i < sizeof(cxl_tree) / sizeof(cxl_tree[0]); i++)
		put(cxl_tree[i].rel, cxl_tree[i].text);
}

static void remove_tree(void)
{
	if (root[0])
		rm_tree(root);
}

/* After each test: the tree, and tmp_path()'s directory when nothing else is left in it. */
static void cleanup(void)
{
	remove_tree();
	if (root[0]) {
		*strrchr(root, '/') = '\0';
		rmdir(root);
	}
	root[0] = '\0';
}

TestSuite(topology_host, .fini = cleanup);

static struct ibsp_node_idx ix(uint32_t i)
{
	return ibsp_node_idx((int)i);
}

static uint32_t dist(const struct ibsp_topology *t, uint32_t a, uint32_t b)
{
	return ibsp_topology__distance(t, ix(a), ix(b));
}

static void assert_matrix(const struct ibsp_topology *t, const uint32_t *want, const char *what)
{
	uint32_t nr = ibsp_topology__nr_nodes(t);

	cr_assert(ibsp_topology__has_distances(t), "%s: no distance matrix", what);
	for (uint32_t k = 0; k < nr * nr; k++)
		cr_assert_eq(dist(t, k / nr, k % nr), want[k],
			     "%s: distance[%u][%u] = %u, expected %u", what, k / nr, k % nr,
			     dist(t, k / nr, k % nr), want[k]);
}

Test(topology_host, cxl_distances_and_tiers)
{
	struct ibsp_topology *t = NULL, *s = NULL;

	make_tree();
	cr_assert_eq(ibsp_topology__from_host(root, &t), 0, "%s", log_captured());
	cr_assert_eq(ibsp_topology__nr_nodes(t), 3);
	assert_matrix(t, cxl_distance, "fake CXL host");
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(ibsp_topology__tier(t, ix(i)), cxl_tier[i], "node%u tier %d", i,
			     ibsp_topology__tier(t, ix(i)));
	cr_assert_eq(dist(t, 2, 0), 30);
	cr_assert_eq(dist(t, 0, 1), 21);
	/* a fake root: sizes from its meminfo, not the running host's (libnuma) */
	cr_assert_eq(ibsp_topology__mem_total_kb(t, ix(2)), 4194304);
	cr_assert_eq(ibsp_topology__mem_free_kb(t, ix(1)), 786432);
	/* no memoryM entries in this tree: a block map without blocks */
	cr_assert(ibsp_topology__has_block_map(t));
	cr_assert_eq(ibsp_topology__nr_ranges(t, ix(0)), 0);
	/* from_sysfs stays the plain reader */
	cr_assert_eq(ibsp_topology__from_sysfs(root, &s), 0);
	cr_assert_not(ibsp_topology__has_distances(s));
	cr_assert_eq(ibsp_topology__tier(s, ix(2)), -1);
	ibsp_topology__delete(t);
	ibsp_topology__delete(s);
}

/* online "0,2": the distance files hold one value per *online* node, indexed by position. */
Test(topology_host, sparse_node_ids_index_by_position)
{
	static const uint32_t want[4] = { 10, 30, 30, 10 };
	struct ibsp_topology *t = NULL;

	make_tree();
	put("devices/system/node/online", "0,2\n");
	put("devices/system/node/node0/distance", "10 30\n");
	put("devices/system/node/node2/distance", "30 10\n");
	cr_assert_eq(ibsp_topology__from_host(root, &t), 0, "%s", log_captured());
	cr_assert_eq(ibsp_topology__nr_nodes(t), 2);
	cr_assert_eq(ibsp_topology__node_id(t, ix(1)).id, 2);
	assert_matrix(t, want, "sparse");
	/* memory_tier4 lists node1, which is not online: ignored */
	cr_assert_eq(ibsp_topology__tier(t, ix(0)), 4);
	cr_assert_eq(ibsp_topology__tier(t, ix(1)), 22);
	ibsp_topology__delete(t);
}

Test(topology_host, no_tiering_dir_and_no_distance_files)
{
	struct ibsp_topology *t = NULL;
	char path[512];

	make_tree();
	put("devices/virtual/memory_tiering/memory_tier4/nodelist", NULL);
	put("devices/virtual/memory_tiering/memory_tier22/nodelist", NULL);
	for (int n = 0; n < 3; n++) {
		snprintf(path, sizeof(path), "devices/system/node/node%d/distance", n);
		put(path, NULL);
	}
	snprintf(path, sizeof(path), "%s/devices/virtual/memory_tiering", root);
	cr_assert_eq(rm_tree(path), 0);
	log_capture_start();
	cr_assert_eq(ibsp_topology__from_host(root, &t), 0, "%s", log_captured());
	cr_assert_not(ibsp_topology__has_distances(t));
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(ibsp_topology__tier(t, ix(i)), -1);
	snprintf(path, sizeof(path), "%s/devices/system/node/node0/distance: missing", root);
	cr_assert(strstr(log_captured(), path), "log: %s", log_captured());
	/* without a matrix, the defaults: 20 between CPU nodes, 30 to the CPU-less one */
	cr_assert_eq(dist(t, 0, 1), 20);
	cr_assert_eq(dist(t, 1, 2), 30);
	ibsp_topology__delete(t);
}

Test(topology_host, malformed_files_name_the_file)
{
	static const struct {
		const char *rel, *text; /* text NULL: remove the file */
		int ret;
		const char *why;
	} rows[] = {
		{ "devices/system/node/node1/distance", "21 10\n", -EINVAL, "expected 3 values" },
		{ "devices/system/node/node1/distance", "21 10 30 40\n", -EINVAL, "'21 10 30 40'" },
		{ "devices/system/node/node1/distance", "21 x 30\n", -EINVAL,
		  "malformed distance" },
		{ "devices/system/node/node1/distance", "21 -10 30\n", -EINVAL, "malformed" },
		{ "devices/system/node/node1/distance", "21 10 30x\n", -EINVAL, "malformed" },
		{ "devices/system/node/node1/distance", "21 4294967296 30\n", -EINVAL,
		  "malformed" },
		{ "devices/system/node/node1/distance", "\n", -EINVAL, "expected 3 values" },
		{ "devices/system/node/node2/distance", NULL, -ENOENT, "cannot read" },
		{ "devices/virtual/memory_tiering/memory_tier22/nodelist", "2-\n", -EINVAL,
		  "malformed node list '2-'" },
		/* either file may be read first (readdir order): the message names the later one */
		{ "devices/virtual/memory_tiering/memory_tier22/nodelist", "1-2\n", -EINVAL,
		  "node 1 is in memory tiers " },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_topology *t = (struct ibsp_topology *)1;
		char path[512];

		make_tree();
		put(rows[i].rel, rows[i].text);
		log_capture_start();
		cr_assert_eq(ibsp_topology__from_host(root, &t), rows[i].ret, "row %zu", i);
		cr_assert_eq(t, (struct ibsp_topology *)1, "*out set on failure");
		snprintf(path, sizeof(path), "%s/%s", root, rows[i].rel);
		if (strstr(rows[i].why, "memory tiers"))
			*strstr(path, "memory_tier22") = '\0';
		cr_assert(strstr(log_captured(), path), "row %zu: log lacks '%s': %s", i, path,
			  log_captured());
		cr_assert(strstr(log_captured(), rows[i].why), "row %zu: log lacks '%s': %s", i,
			  rows[i].why, log_captured());
		remove_tree();
	}
}

/* hwloc's Linux backend on the fake tree: its matrix, mapped by os_index, is the sysfs one. */
Test(topology_host, hwloc_matrix_equals_sysfs_on_fake_tree)
{
	struct ibsp_topology *t = NULL, *two = NULL;
	char fsroot[256];

	make_tree();
	snprintf(fsroot, sizeof(fsroot), "%s", root);
	cr_assert_eq(setenv("HWLOC_FSROOT", dirname(fsroot), 1), 0);
	cr_assert_eq(setenv("HWLOC_COMPONENTS", "linux,-x86", 1), 0); /* not this CPU's CPUID */
	cr_assert_eq(ibsp_topology__from_sysfs(root, &t), 0);
	cr_assert_eq(ibsp_topology__distance_from_hwloc(t), 0, "%s", log_captured());
	assert_matrix(t, cxl_distance, "hwloc");
	/* a topology whose nodes are not hwloc's: no matrix, and it says why */
	put("devices/system/node/online", "0-1\n");
	cr_assert_eq(ibsp_topology__from_sysfs(root, &two), 0);
	put("devices/system/node/online", "0-2\n");
	log_capture_start();
	cr_assert_eq(ibsp_topology__distance_from_hwloc(two), -ENODATA);
	cr_assert_not(ibsp_topology__has_distances(two));
	cr_assert(strstr(log_captured(), "matrix of 3 NUMA nodes, sysfs has 2"), "log: %s",
		  log_captured());
	ibsp_topology__delete(t);
	ibsp_topology__delete(two);
}

/* Every value of a sysfs distance line, as the test reads it itself. */
static uint32_t read_row(int node, uint32_t *row, uint32_t max)
{
	char path[128], line[4096];
	uint32_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", node);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	cr_assert(fgets(line, sizeof(line), f), "cannot read %s", path);
	fclose(f);
	for (char *p = strtok(line, " \n"); p && n < max; p = strtok(NULL, " \n"))
		row[n++] = (uint32_t)strtoul(p, NULL, 10);
	return n;
}

/* This host: from_host's matrix (hwloc, or sysfs for one node) equals the distance files. */
Test(topology_host, real_host_matches_sysfs)
{
	struct ibsp_topology *t = NULL, *h = NULL;
	char path[128], buf[256];
	int ret;

	if (access("/sys/devices/system/node/online", R_OK))
		cr_skip_test("no /sys/devices/system/node on this host");
	cr_assert_eq(ibsp_topology__from_host("/sys", &t), 0, "%s", log_captured());
	uint32_t nr_nodes = ibsp_topology__nr_nodes(t);

	cr_assert(ibsp_topology__has_distances(t), "the host has distance files, but no matrix");
	for (uint32_t a = 0; a < nr_nodes; a++) {
		uint32_t row[256];

		cr_assert_eq(read_row(ibsp_topology__node_id(t, ix(a)).id, row, 256), nr_nodes);
		for (uint32_t b = 0; b < nr_nodes; b++)
			cr_assert_eq(dist(t, a, b), row[b], "[%u][%u]", a, b);
	}
	if (nr_nodes == 1)
		cr_assert_eq(dist(t, 0, 0), 10);
	/* hwloc itself: one node gives no matrix (-ENODATA); several must equal sysfs */
	cr_assert_eq(ibsp_topology__from_sysfs("/sys", &h), 0);
	ret = ibsp_topology__distance_from_hwloc(h);
	if (nr_nodes > 1) {
		cr_assert_eq(ret, 0, "%s", log_captured());
		for (uint32_t k = 0; k < nr_nodes * nr_nodes; k++)
			cr_assert_eq(dist(h, k / nr_nodes, k % nr_nodes),
				     dist(t, k / nr_nodes, k % nr_nodes));
	} else {
		cr_assert(ret == -ENODATA || (ret == 0 && dist(h, 0, 0) == 10), "hwloc: %d", ret);
	}
	/* tiers: what memory_tiering says, node by node */
	for (uint32_t i = 0; i < nr_nodes; i++) {
		int id = ibsp_topology__node_id(t, ix(i)).id;
		int32_t want = -1;

		for (int tier = 0; tier < 64 && want < 0; tier++) {
			int *ids;
			uint32_t nr;

			snprintf(path, sizeof(path),
				 "/sys/devices/virtual/memory_tiering/memory_tier%d/nodelist",
				 tier);
			if (ibsp_read_file_str(path, buf, sizeof(buf)) < 0)
				continue;
			cr_assert_eq(ibsp_cpulist__to_array(buf, &ids, &nr), 0);
			for (uint32_t k = 0; k < nr; k++)
				if (ids[k] == id)
					want = tier;
			free(ids);
		}
		cr_assert_eq(ibsp_topology__tier(t, ix(i)), want, "node%d tier %d, sysfs %d", id,
			     ibsp_topology__tier(t, ix(i)), want);
	}
	ibsp_topology__delete(t);
	ibsp_topology__delete(h);
}

static uint64_t meminfo_kb(int node, const char *key)
{
	char path[128], line[256], name[32];
	unsigned long long kb = 0;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %d %31[^:]: %llu kB", &n, name, &kb) == 3 &&
		    !strcmp(name, key))
			break;
	fclose(f);
	cr_assert_gt(kb, 0, "%s: no %s", path, key);
	return kb;
}

Test(topology_host, refresh_free_reads_the_host)
{
	struct ibsp_topology *t = NULL;

	if (access("/sys/devices/system/node/node0/meminfo", R_OK))
		cr_skip_test("no NUMA nodes in /sys on this host");
	cr_assert_eq(ibsp_topology__from_host("/sys", &t), 0, "%s", log_captured());
	uint32_t nr = ibsp_topology__nr_nodes(t);

	for (uint32_t i = 0; i < nr; i++) {
		uint64_t total_kb = ibsp_topology__mem_total_kb(t, ix(i));

		/* libnuma's total is MemTotal, which does not move */
		cr_assert_eq(total_kb, meminfo_kb(ibsp_topology__node_id(t, ix(i)).id, "MemTotal"));
		cr_assert_eq(ibsp_topology__set_mem_kb(t, ix(i), total_kb, 0), 0);
	}
	cr_assert_eq(ibsp_topology__refresh_free(t), 0, "%s", log_captured());
	for (uint32_t i = 0; i < nr; i++) {
		int id = ibsp_topology__node_id(t, ix(i)).id;
		uint64_t free_kb = ibsp_topology__mem_free_kb(t, ix(i));
		uint64_t total_kb = ibsp_topology__mem_total_kb(t, ix(i));
		uint64_t now = meminfo_kb(id, "MemFree");
		uint64_t diff = now > free_kb ? now - free_kb : free_kb - now;

		cr_assert(free_kb > 0 && free_kb <= total_kb, "node%d free %llu of %llu kB", id,
			  (unsigned long long)free_kb, (unsigned long long)total_kb);
		/* free memory moves between the two reads; not by an eighth of the node */
		cr_assert_lt(diff, total_kb / 8, "node%d: libnuma %llu kB, sysfs %llu kB", id,
			     (unsigned long long)free_kb, (unsigned long long)now);
	}
	/* a node this host does not have is an error naming it */
	cr_assert_eq(ibsp_topology__set_node_id(t, ix(nr - 1), ibsp_node_id(1000)), 0);
	log_capture_start();
	cr_assert_eq(ibsp_topology__refresh_free(t), -ENOENT);
	cr_assert(strstr(log_captured(), "node 1000: libnuma cannot read"), "log: %s",
		  log_captured());
	ibsp_topology__delete(t);
}

/* A page-fault recording of @t with one sample; perf warns about one without data. */
static void write_recording(const char *path, struct ibsp_topology *t)
{
	static uint64_t ids[] = { 1 };
	struct ibsp_recording_info info = { .hostname = "cxl-host", .arch = "x86_64", .topo = t };
	struct ibsp_event_desc ev = { 0 };
	struct ibsp_perf_writer *w;
	/* TID, TIME, ADDR, CPU 2, PHYS_ADDR */
	uint64_t rec[6] = { 0, 7 | 7ULL << 32, 1000, 0x7f0000001000ULL, 2, 0x40 };
	struct perf_event_header h = { .type = PERF_RECORD_SAMPLE, .size = sizeof(rec) };

	ev.attr.type = PERF_TYPE_SOFTWARE;
	ev.attr.config = PERF_COUNT_SW_PAGE_FAULTS;
	ev.attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |
			      PERF_SAMPLE_CPU | PERF_SAMPLE_PHYS_ADDR;
	ev.name = "page-faults";
	ev.nr_ids = 1;
	ev.ids = ids;
	memcpy(rec, &h, sizeof(h));
	cr_assert_eq(ibsp_perf_writer__open(path, &info, &ev, 1, &w), 0);
	cr_assert_eq(ibsp_perf_writer__write(w, (const struct perf_event_header *)rec), 0);
	cr_assert_eq(ibsp_perf_writer__close(w), 0);
}

/* perf script prints the sample with nothing on stderr; perf report shows the header quietly. */
static void perf_reads_quietly(const char *perf, const char *path)
{
	char cmd[1024], *out, *err;

	snprintf(cmd, sizeof(cmd), "%s script -i %s -F cpu,tid,addr", perf, path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf script: %s", err);
	cr_assert_str_empty(err, "perf script warned: %s", err);
	cr_assert(strstr(out, "7 [002]     7f0000001000"), "perf script: '%s'", out);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "%s report --header-only -I -i %s", perf, path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "perf report: %s", err);
	cr_assert_str_empty(err, "perf report warned: %s", err);
	cr_assert(strstr(out, "# node2 cpu list : -1\n"), "perf report: %s", out);
	free(out);
	free(err);
}

/* ibs-promote info, text and --json, shows the recording's distances and tiers. */
static void info_shows(const char *path, bool distance, bool tiers)
{
	char cmd[1024], *out, *err;
	json_t *j, *d, *nodes;

	snprintf(cmd, sizeof(cmd), IBSP_CLI " info %s", path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "info: %s", err);
	cr_assert(strstr(out, distance ? "  node distances:\n  node    0    1    2\n"
					 "     0   10   21   30\n     1   21   10   30\n"
					 "     2   30   30   10\n"
				       : "  node distances: not recorded\n"),
		  "info: %s", out);
	/* 4194304 kB total, 4194000 kB free (the JSON has them exactly) */
	cr_assert_eq(!!strstr(out, "  node 2: cpus none (CPU-less), memory 4 GiB total, "
				   "4.0 GiB free, memory tier 22\n"),
		     tiers, "info: %s", out);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), IBSP_CLI " info --json %s", path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "info --json: %s", err);
	j = json_loads(out, 0, NULL);
	cr_assert(j, "info --json: %s", out);
	d = json_object_get(j, "distance");
	nodes = json_object_get(j, "nodes");
	cr_assert_eq(json_array_size(nodes), 3);
	cr_assert_eq(json_is_null(d), !distance, "distance: %s", out);
	for (size_t a = 0; distance && a < 3; a++)
		for (size_t b = 0; b < 3; b++)
			cr_assert_eq(json_integer_value(json_array_get(json_array_get(d, a), b)),
				     cxl_distance[a * 3 + b]);
	for (size_t k = 0; k < 3; k++) {
		json_t *tier = json_object_get(json_array_get(nodes, k), "tier");

		cr_assert(tier, "node %zu has no tier field", k);
		if (tiers)
			cr_assert_eq(json_integer_value(tier), cxl_tier[k]);
		else
			cr_assert(json_is_null(tier));
	}
	json_decref(j);
	free(out);
	free(err);
}

/* Distances and tiers, both, tiers only, or neither: what goes in comes out. */
Test(topology_host, recording_round_trip_and_perf_reads_it)
{
	static const struct {
		const char *name;
		bool distance, tiers;
	} rows[] = {
		{ "both.data", true, true },
		{ "tiers.data", false, true },
		{ "distance.data", true, false },
		{ "neither.data", false, false },
	};

	const char *perf = perf_path();

	make_tree();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *path = tmp_path(rows[i].name);
		const struct ibsp_topology *got;
		struct ibsp_topology *t = NULL;
		struct ibsp_perf_reader *r;
		bool want_bit = rows[i].distance || rows[i].tiers;

		cr_assert_eq(ibsp_topology__from_host(root, &t), 0, "%s", log_captured());
		if (!rows[i].distance)
			cr_assert_eq(ibsp_topology__set_distances(t, NULL), 0);
		for (uint32_t k = 0; !rows[i].tiers && k < ibsp_topology__nr_nodes(t); k++)
			cr_assert_eq(ibsp_topology__set_tier(t, ix(k), -1), 0);
		write_recording(path, t);
		cr_assert_eq(ibsp_perf_reader__open(path, NULL, &r), 0, "%s", log_captured());
		got = ibsp_perf_reader__info(r)->topo;
		cr_assert_eq(!!(ibsp_perf_reader__info(r)->features[HEADER_IBSP_TOPOLOGY / 64] &
				(1ULL << (HEADER_IBSP_TOPOLOGY % 64))),
			     want_bit, "%s: feature bit", rows[i].name);
		cr_assert_eq(ibsp_topology__nr_nodes(got), 3);
		if (rows[i].distance)
			assert_matrix(got, cxl_distance, rows[i].name);
		else
			cr_assert_not(ibsp_topology__has_distances(got), "%s", rows[i].name);
		for (uint32_t k = 0; k < 3; k++)
			cr_assert_eq(ibsp_topology__tier(got, ix(k)),
				     rows[i].tiers ? cxl_tier[k] : -1, "%s: node%u", rows[i].name,
				     k);
		ibsp_perf_reader__close(r);
		ibsp_topology__delete(t);
		info_shows(path, rows[i].distance, rows[i].tiers);
		/* Without perf, the other checks of every row still run. */
		if (perf)
			perf_reads_quietly(perf, path);
		remove(path);
	}
	if (!perf)
		skip_part("perf is not installed (apt-get install linux-perf): perf script and "
			  "perf report were not run on the recordings");
}
