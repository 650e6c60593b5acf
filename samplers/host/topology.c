// SPDX-License-Identifier: MIT
/*
 * NUMA topology model and its discovery from sysfs. It lives with the
 * samplers because recording needs it first (the perf.data writer stores it);
 * the engine uses it downstream for physical address -> node resolution.
 *
 * Sources: Documentation/ABI/stable/sysfs-devices-node,
 * drivers/base/memory.c (block_size_bytes is hex without "0x").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_print.h"
#include "topology_build.h"
#include "topology_internal.h"
#include "util.h"

struct ibsp_topology *ibsp_topology__new(uint32_t nr_nodes)
{
	struct ibsp_topology *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (nr_nodes) {
		t->nodes = calloc(nr_nodes, sizeof(*t->nodes));
		if (!t->nodes) {
			free(t);
			return NULL;
		}
	}
	for (uint32_t i = 0; i < nr_nodes; i++)
		t->nodes[i].tier = -1;
	t->nr_nodes = nr_nodes;
	return t;
}

void ibsp_topology__delete(struct ibsp_topology *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nr_nodes; i++) {
		free(t->nodes[i].cpulist);
		free(t->nodes[i].ranges);
	}
	free(t->nodes);
	free(t->distance);
	free(t);
}

int ibsp_cpulist__parse(const char *list, int (*cb)(int cpu, void *ctx), void *ctx)
{
	const char *p = list;

	while (*p && *p != '\n') {
		char *end;
		long a, b;
		int ret;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtol(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtol(p, &end, 10);
			p = end;
		}
		/* No kernel has 2^16 CPUs; the bound keeps a hostile "0-2147483647" from walking 2^31. */
		if (a < 0 || b < a || b >= (long)IBSP_MAX_CPUS)
			return -EINVAL;
		for (long c = a; c <= b; c++) {
			ret = cb((int)c, ctx);
			if (ret)
				return ret;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

static int count_cb(int cpu, void *ctx)
{
	(void)cpu;
	(*(uint32_t *)ctx)++;
	return 0;
}

static struct ibsp_topo_node *node_at(struct ibsp_topology *t, struct ibsp_node_idx i)
{
	return i.idx >= 0 && (uint32_t)i.idx < t->nr_nodes ? &t->nodes[i.idx] : NULL;
}

static int node_set_cpulist(struct ibsp_topo_node *n, const char *list)
{
	size_t len = strcspn(list, "\n");
	uint32_t nr = 0;
	int ret;

	ret = ibsp_cpulist__parse(list, count_cb, &nr);
	if (ret)
		return ret;
	free(n->cpulist);
	n->cpulist = strndup(list, len);
	if (!n->cpulist)
		return -ENOMEM;
	n->nr_cpus = nr;
	n->top_tier = nr > 0; /* the default; ibsp_topology__set_top_tier() overrides */
	return 0;
}

int ibsp_topology__set_cpulist(struct ibsp_topology *t, struct ibsp_node_idx i, const char *list)
{
	struct ibsp_topo_node *n = node_at(t, i);

	return n ? node_set_cpulist(n, list) : -ENOENT;
}

static int node_add_range(struct ibsp_topo_node *n, uint64_t first, uint64_t nr)
{
	struct ibsp_block_range *r;

	if (!nr || first + nr < first)
		return -EINVAL;
	if (n->nr_ranges) {
		r = &n->ranges[n->nr_ranges - 1];
		if (first < r->first + r->nr)
			return -EINVAL; /* callers add blocks in ascending order */
		if (first == r->first + r->nr) {
			r->nr += nr;
			return 0;
		}
	}
	if (n->nr_ranges >= IBSP_TOPO_MAX_RANGES)
		return -E2BIG;
	/* capacity doubles at powers of two, so n additions cost O(n) */
	if (!(n->nr_ranges & (n->nr_ranges - 1))) {
		r = reallocarray(n->ranges, n->nr_ranges ? 2 * (size_t)n->nr_ranges : 1,
				 sizeof(*r));
		if (!r)
			return -ENOMEM;
		n->ranges = r;
	}
	n->ranges[n->nr_ranges++] = (struct ibsp_block_range){ .first = first, .nr = nr };
	return 0;
}

int ibsp_topology__add_range(struct ibsp_topology *t, struct ibsp_node_idx i, uint64_t first,
			     uint64_t nr)
{
	struct ibsp_topo_node *n = node_at(t, i);

	return n ? node_add_range(n, first, nr) : -ENOENT;
}

int ibsp_topology__add_node(struct ibsp_topology *t, struct ibsp_node_id id,
			    struct ibsp_node_idx *out)
{
	struct ibsp_topo_node *nn = reallocarray(t->nodes, t->nr_nodes + 1, sizeof(*t->nodes));
	struct ibsp_topo_node *n;

	if (!nn)
		return -ENOMEM;
	t->nodes = nn;
	n = &t->nodes[t->nr_nodes];
	*n = (struct ibsp_topo_node){ .node = id, .tier = -1 };
	if (node_set_cpulist(n, ""))
		return -ENOMEM;
	/* The distance matrix, if any, is for the old count; forget it. */
	free(t->distance);
	t->distance = NULL;
	*out = ibsp_node_idx((int)t->nr_nodes++);
	return 0;
}

int ibsp_topology__set_node_id(struct ibsp_topology *t, struct ibsp_node_idx i,
			       struct ibsp_node_id id)
{
	struct ibsp_topo_node *n = node_at(t, i);

	if (!n)
		return -ENOENT;
	n->node = id;
	return 0;
}

int ibsp_topology__set_mem_kb(struct ibsp_topology *t, struct ibsp_node_idx i, uint64_t total_kb,
			      uint64_t free_kb)
{
	struct ibsp_topo_node *n = node_at(t, i);

	if (!n)
		return -ENOENT;
	n->mem_total_kb = total_kb;
	n->mem_free_kb = free_kb;
	return 0;
}

int ibsp_topology__set_tier(struct ibsp_topology *t, struct ibsp_node_idx i, int32_t tier)
{
	struct ibsp_topo_node *n = node_at(t, i);

	if (!n)
		return -ENOENT;
	n->tier = tier;
	return 0;
}

void ibsp_topology__set_block_size(struct ibsp_topology *t, uint64_t bytes)
{
	t->block_size_bytes = bytes;
	t->has_block_map = bytes != 0;
}

int ibsp_topology__set_distances(struct ibsp_topology *t, const uint32_t *dist)
{
	size_t size = (size_t)t->nr_nodes * t->nr_nodes * sizeof(*dist);
	uint32_t *m = NULL;

	if (dist) {
		m = malloc(size ? size : 1);
		if (!m)
			return -ENOMEM;
		memcpy(m, dist, size);
	}
	free(t->distance);
	t->distance = m;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Blocks of one node: the memoryM entries of /sys/devices/system/node/nodeN. */
static int read_node_blocks(const char *dir, struct ibsp_topo_node *n)
{
	uint64_t *blocks = NULL, nr = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned long long m;
		char *end;

		if (strncmp(de->d_name, "memory", 6) || !isdigit((unsigned char)de->d_name[6]))
			continue;
		m = strtoull(de->d_name + 6, &end, 10);
		if (*end)
			continue;
		if (nr == cap) {
			uint64_t *nb;

			cap = cap ? cap * 2 : 64;
			nb = reallocarray(blocks, cap, sizeof(*blocks));
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			blocks = nb;
		}
		blocks[nr++] = m;
	}
	if (nr) /* a memory-less node has no blocks, and qsort(NULL, 0) is undefined */
		qsort(blocks, nr, sizeof(*blocks), cmp_u64);
	for (uint64_t i = 0; i < nr && !ret; i++)
		ret = node_add_range(n, blocks[i], 1);
out:
	closedir(d);
	free(blocks);
	return ret;
}

static int read_meminfo(const char *path, struct ibsp_topo_node *n)
{
	char line[256];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		int node;

		if (sscanf(line, "Node %d MemTotal: %llu kB", &node, &kb) == 2)
			n->mem_total_kb = kb;
		else if (sscanf(line, "Node %d MemFree: %llu kB", &node, &kb) == 2)
			n->mem_free_kb = kb;
	}
	fclose(f);
	return 0;
}

struct list_collect {
	int *ids;
	uint32_t nr;
};

static int collect_cb(int id, void *ctx)
{
	struct list_collect *c = ctx;
	int *n = reallocarray(c->ids, c->nr + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	c->ids = n;
	c->ids[c->nr++] = id;
	return 0;
}

int ibsp_cpulist__to_array(const char *list, int **ids, uint32_t *nr)
{
	struct list_collect c = { 0 };
	int ret = ibsp_cpulist__parse(list, collect_cb, &c);

	if (ret) {
		free(c.ids);
		return ret;
	}
	*ids = c.ids;
	*nr = c.nr;
	return 0;
}

int ibsp_topology__from_sysfs(const char *root, struct ibsp_topology **out)
{
	struct list_collect nodes = { 0 };
	struct ibsp_topology *t = NULL;
	char path[PATH_MAX], buf[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/devices/system/node/online", root);
	ret = ibsp_read_file_str(path, buf, sizeof(buf));
	if (ret < 0) {
		pr_err("%s: cannot read: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = ibsp_cpulist__to_array(buf, &nodes.ids, &nodes.nr);
	if (ret) {
		pr_err("%s: malformed node list '%s'\n", path, buf);
		goto err;
	}
	t = ibsp_topology__new(nodes.nr);
	if (!t) {
		ret = -ENOMEM;
		goto err;
	}

	snprintf(path, sizeof(path), "%s/devices/system/memory/block_size_bytes", root);
	if (ibsp_read_file_str(path, buf, sizeof(buf)) >= 0) {
		char *end;

		t->block_size_bytes = strtoull(buf, &end, 16);
		t->has_block_map = t->block_size_bytes && (*end == '\n' || !*end);
		if (!t->has_block_map)
			pr_warn("%s: malformed block size '%s'; no physical address map\n", path,
				buf);
	}

	for (uint32_t i = 0; i < nodes.nr; i++) {
		struct ibsp_topo_node *n = &t->nodes[i];
		char dir[PATH_MAX - 32];

		n->node.id = nodes.ids[i];
		snprintf(dir, sizeof(dir), "%s/devices/system/node/node%d", root, n->node.id);
		snprintf(path, sizeof(path), "%s/cpulist", dir);
		ret = ibsp_read_file_str(path, buf, sizeof(buf));
		if (ret < 0) {
			pr_err("%s: cannot read: %s\n", path, strerror(-ret));
			goto err;
		}
		ret = node_set_cpulist(n, buf);
		if (ret) {
			pr_err("%s: malformed cpulist '%s'\n", path, buf);
			goto err;
		}
		snprintf(path, sizeof(path), "%s/meminfo", dir);
		ret = read_meminfo(path, n);
		if (ret) {
			pr_err("%s: cannot read: %s\n", path, strerror(-ret));
			goto err;
		}
		if (t->has_block_map) {
			ret = read_node_blocks(dir, n);
			if (ret) {
				pr_err("%s: cannot list memory blocks: %s\n", dir, strerror(-ret));
				goto err;
			}
		}
	}
	free(nodes.ids);
	*out = t;
	return 0;
err:
	free(nodes.ids);
	ibsp_topology__delete(t);
	return ret < 0 ? ret : -EINVAL;
}
