// SPDX-License-Identifier: MIT
/*
 * Live topology discovery: ibsp_topology__from_sysfs() plus what the policy
 * needs on top of it, the SLIT distance matrix, the kernel's memory tiers and
 * current free memory. hwloc and libnuma stay in this file.
 *
 * Sources: Linux 6.1 drivers/base/node.c (nodeN/distance: one value per
 * online node in ascending node order), mm/memory-tiers.c
 * (memory_tierN/nodelist, N = abstract distance >> 7); hwloc 2.9
 * hwloc/distances.h; numactl 2.0.16 libnuma.c (numa_node_size64() parses
 * nodeN/meminfo, in bytes); /work/shared/reference/sampling.md 5.3, 5.4, 6.1.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_print.h"
#include "topology_internal.h"
#include "util.h"

int ibsp_topology__distance_from_hwloc(struct ibsp_topology *t)
{
	struct hwloc_distances_s *d = NULL;
	hwloc_topology_t ht;
	uint32_t *m = NULL, *idx = NULL;
	unsigned int nr = 1;
	int ret = -ENODATA;

	if (hwloc_topology_init(&ht))
		return -ENOMEM;
	/* Only distances are wanted: skip the memory attributes and CPU kinds. */
	hwloc_topology_set_flags(ht,
				 HWLOC_TOPOLOGY_FLAG_NO_MEMATTRS | HWLOC_TOPOLOGY_FLAG_NO_CPUKINDS);
	if (hwloc_topology_load(ht)) {
		ret = errno ? -errno : -EIO;
		pr_warn("hwloc: cannot load the topology: %s\n", strerror(-ret));
		goto out;
	}
	/* hwloc records no matrix for a single node; the caller falls back to sysfs. */
	if (hwloc_distances_get_by_type(ht, HWLOC_OBJ_NUMANODE, &nr, &d, 0, 0) || !nr)
		goto out;
	if (d->nbobjs != t->nr_nodes) {
		pr_warn("hwloc: distance matrix of %u NUMA nodes, sysfs has %u online; using "
			"sysfs\n",
			d->nbobjs, t->nr_nodes);
		goto out;
	}
	m = calloc((size_t)t->nr_nodes * t->nr_nodes, sizeof(*m));
	idx = calloc(t->nr_nodes, sizeof(*idx));
	if (!m || !idx) {
		ret = -ENOMEM;
		goto out;
	}
	/* d->objs is not in os_index order: map each object to our node index. */
	for (unsigned int i = 0; i < d->nbobjs; i++) {
		struct ibsp_node_idx k =
		    ibsp_topology__index_of(t, ibsp_node_id((int)d->objs[i]->os_index));

		if (!ibsp_node_idx__valid(k)) {
			pr_warn("hwloc: NUMA node %u is not online in sysfs; using sysfs\n",
				d->objs[i]->os_index);
			goto out;
		}
		idx[i] = (uint32_t)k.idx;
	}
	for (unsigned int i = 0; i < d->nbobjs; i++) {
		for (unsigned int j = 0; j < d->nbobjs; j++) {
			hwloc_uint64_t v = d->values[i * d->nbobjs + j];

			if (v > UINT32_MAX) {
				pr_warn("hwloc: distance %llu between nodes %u and %u is not a "
					"SLIT value; using sysfs\n",
					(unsigned long long)v, d->objs[i]->os_index,
					d->objs[j]->os_index);
				goto out;
			}
			m[idx[i] * t->nr_nodes + idx[j]] = (uint32_t)v;
		}
	}
	free(t->distance);
	t->distance = m;
	m = NULL;
	ret = 0;
out:
	free(m);
	free(idx);
	if (d)
		hwloc_distances_release(ht, d);
	hwloc_topology_destroy(ht);
	return ret;
}

/*
 * nodeN/distance of every node: nr_nodes decimal values each, in the order of
 * the online list, which is the order of t->nodes. A missing file leaves the
 * matrix unknown (old kernels without NUMA); a malformed one is an error.
 */
static int read_sysfs_distances(const char *root, struct ibsp_topology *t)
{
	size_t size = (size_t)t->nr_nodes * 12 + 64;
	char path[PATH_MAX], *buf = malloc(size);
	uint32_t *m = calloc((size_t)t->nr_nodes * t->nr_nodes, sizeof(*m));
	int ret = 0;

	if (!buf || !m) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t a = 0; a < t->nr_nodes; a++) {
		const char *p = buf;
		uint32_t b = 0;

		snprintf(path, sizeof(path), "%s/devices/system/node/node%d/distance", root,
			 t->nodes[a].node.id);
		ret = ibsp_read_file_str(path, buf, size);
		if (ret == -ENOENT && a == 0) {
			pr_warn("%s: missing; no distance matrix\n", path);
			ret = 0;
			goto out;
		}
		if (ret < 0) {
			pr_err("%s: cannot read: %s\n", path, strerror(-ret));
			goto out;
		}
		for (;;) {
			unsigned long v;
			char *end;

			while (*p == ' ')
				p++;
			if (!*p || *p == '\n')
				break;
			if (!isdigit((unsigned char)*p) || b == t->nr_nodes)
				goto bad;
			errno = 0;
			v = strtoul(p, &end, 10);
			if (errno || v > UINT32_MAX || (*end && *end != ' ' && *end != '\n'))
				goto bad;
			m[a * t->nr_nodes + b++] = (uint32_t)v;
			p = end;
		}
		if (b != t->nr_nodes)
			goto bad;
	}
	free(t->distance);
	t->distance = m;
	m = NULL;
	ret = 0;
	goto out;
bad:
	buf[strcspn(buf, "\n")] = '\0';
	pr_err("%s: malformed distance line '%s': expected %u values, one per online node\n", path,
	       buf, t->nr_nodes);
	ret = -EINVAL;
out:
	free(buf);
	free(m);
	return ret;
}

struct tier_mark {
	struct ibsp_topology *t;
	int32_t tier;
	int dup;	  /* a node already in another tier, or -1 */
	int32_t dup_tier; /* that other tier */
};

static int tier_mark_cb(int node, void *ctx)
{
	struct tier_mark *tm = ctx;
	struct ibsp_node_idx k = ibsp_topology__index_of(tm->t, ibsp_node_id(node));
	struct ibsp_topo_node *n;

	if (!ibsp_node_idx__valid(k))
		return 0; /* not online: tiers list memory nodes, which are */
	n = &tm->t->nodes[k.idx];
	if (n->tier >= 0) {
		tm->dup = node;
		tm->dup_tier = n->tier;
		return 1;
	}
	n->tier = tm->tier;
	return 0;
}

/* memory_tierN/nodelist under <root>/devices/virtual/memory_tiering, when it exists. */
static int read_memory_tiers(const char *root, struct ibsp_topology *t)
{
	char dir[PATH_MAX - 512], path[PATH_MAX], buf[4096];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/devices/virtual/memory_tiering", root);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0; /* no tiering: kernel before 6.1 or without NUMA */
		ret = -errno;
		pr_err("%s: cannot list: %s\n", dir, strerror(-ret));
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		struct tier_mark tm = { .t = t, .dup = -1 };
		unsigned long n;
		char *end;

		if (strncmp(de->d_name, "memory_tier", 11) ||
		    !isdigit((unsigned char)de->d_name[11]))
			continue;
		n = strtoul(de->d_name + 11, &end, 10);
		if (*end || n > INT32_MAX)
			continue;
		tm.tier = (int32_t)n;
		snprintf(path, sizeof(path), "%s/%s/nodelist", dir, de->d_name);
		ret = ibsp_read_file_str(path, buf, sizeof(buf));
		if (ret < 0) {
			pr_err("%s: cannot read: %s\n", path, strerror(-ret));
			break;
		}
		ret = ibsp_cpulist__parse(buf, tier_mark_cb, &tm);
		if (ret == 1) {
			pr_err("%s: node %d is in memory tiers %d and %d\n", path, tm.dup,
			       tm.dup_tier, tm.tier);
			ret = -EINVAL;
		} else if (ret) {
			buf[strcspn(buf, "\n")] = '\0';
			pr_err("%s: malformed node list '%s'\n", path, buf);
			ret = -EINVAL;
		}
	}
	closedir(d);
	return ret;
}

/* libnuma is usable: the kernel has NUMA and libnuma's view is this host's. */
static bool numa_usable(void)
{
	return numa_available() >= 0;
}

static int node_size_libnuma(const struct ibsp_topo_node *n, uint64_t *total_kb, uint64_t *free_kb)
{
	long long free_bytes = 0, total = numa_node_size64(n->node.id, &free_bytes);

	if (total < 0 || free_bytes < 0) {
		pr_err("node %d: libnuma cannot read its memory size (numa_node_size64)\n",
		       n->node.id);
		return -ENOENT;
	}
	*total_kb = (uint64_t)total / 1024;
	*free_kb = (uint64_t)free_bytes / 1024;
	return 0;
}

int ibsp_topology__refresh_free(struct ibsp_topology *t)
{
	if (!numa_usable()) {
		pr_err("libnuma: NUMA is not available on this host; cannot refresh free memory\n");
		return -ENOSYS;
	}
	for (uint32_t i = 0; i < t->nr_nodes; i++) {
		uint64_t total_kb, free_kb;
		int ret = node_size_libnuma(&t->nodes[i], &total_kb, &free_kb);

		if (ret)
			return ret;
		t->nodes[i].mem_free_kb = free_kb;
	}
	return 0;
}

int ibsp_topology__from_host(const char *root, struct ibsp_topology **out)
{
	bool real = !strcmp(root, "/sys");
	struct ibsp_topology *t = NULL;
	int ret;

	ret = ibsp_topology__from_sysfs(root, &t);
	if (ret)
		return ret;
	ret = real ? ibsp_topology__distance_from_hwloc(t) : -ENODATA;
	if (ret == -ENOMEM)
		goto err;
	if (ret) {
		ret = read_sysfs_distances(root, t);
		if (ret)
			goto err;
	}
	ret = read_memory_tiers(root, t);
	if (ret)
		goto err;
	/* libnuma reads the same meminfo files; it is the host's view the policy uses later. */
	for (uint32_t i = 0; real && numa_usable() && i < t->nr_nodes; i++) {
		ret = node_size_libnuma(&t->nodes[i], &t->nodes[i].mem_total_kb,
					&t->nodes[i].mem_free_kb);
		if (ret)
			goto err;
	}
	*out = t;
	return 0;
err:
	ibsp_topology__delete(t);
	return ret;
}
