/* SPDX-License-Identifier: MIT */
/*
 * NUMA topology: nodes, their CPUs, their memory and which memory blocks
 * (physical address ranges) belong to which node. It comes from the host's
 * sysfs or from a recording's NUMA_TOPOLOGY and MEM_TOPOLOGY features, so a
 * recording can resolve physical address -> node offline.
 */
#ifndef IBSP_TOPOLOGY_H
#define IBSP_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

/** struct ibsp_node_id - a Linux NUMA node id, kept apart from array indices */
struct ibsp_node_id {
	int id;
};

/** struct ibsp_block_range - @nr memory blocks starting at block index @first */
struct ibsp_block_range {
	uint64_t first;
	uint64_t nr;
};

/** struct ibsp_topo_node - one NUMA node */
struct ibsp_topo_node {
	struct ibsp_node_id node;
	uint64_t mem_total_kb; /* MemTotal of the node, kB */
	uint64_t mem_free_kb;  /* MemFree of the node at discovery/recording time, kB */
	char *cpulist;	       /* kernel cpulist syntax ("0-3,8"); "" for a CPU-less node */
	uint32_t nr_cpus;      /* number of CPUs in @cpulist */
	uint32_t nr_ranges;    /* entries in @ranges, sorted by first block */
	struct ibsp_block_range *ranges;
	int32_t tier;  /* kernel memory tier (N of memory_tierN, lower is faster); -1 unknown */
	bool top_tier; /* a promotion destination; see ibsp_topology__set_top_tier() */
};

/** struct ibsp_topology - all NUMA nodes of a host, sorted by node id */
struct ibsp_topology {
	uint32_t nr_nodes;
	struct ibsp_topo_node *nodes;
	uint64_t block_size_bytes; /* memory block size; 0 when the block map is unknown */
	bool has_block_map;	   /* the nodes' @ranges are filled */
	/*
	 * SLIT distances by node *index* (position in @nodes, not node id):
	 * distance[a * nr_nodes + b]. NULL when unknown; use
	 * ibsp_topology__distance(), which falls back to defaults.
	 */
	uint32_t *distance;
};

/**
 * ibsp_topology__from_sysfs() - read the topology of the running host
 * @sysfs_root: "/sys" normally; tests point it at a fake tree
 * @out: receives the new topology
 *
 * Return: 0, or a negative errno (the failing path is logged).
 */
int ibsp_topology__from_sysfs(const char *sysfs_root, struct ibsp_topology **out);

/**
 * ibsp_topology__from_host() - read the running host's topology for the live policy
 * @sysfs_root: "/sys" for the running host; tests point it at a fake tree
 * @out: receives the new topology
 *
 * ibsp_topology__from_sysfs(), plus:
 *  - the SLIT distance matrix: from hwloc when @sysfs_root is "/sys" (hwloc
 *    records none for a single node), otherwise or then from the nodeN/distance
 *    files (one value per online node, in the order of the online list);
 *  - each node's memory tier from devices/virtual/memory_tiering/memory_tierN/
 *    nodelist (tier N) when that directory exists; -1 otherwise;
 *  - total and free memory per node through libnuma for the running host.
 *
 * Return: 0, or a negative errno; a malformed distance line or tier node list
 * is -EINVAL, logged naming the file.
 */
int ibsp_topology__from_host(const char *sysfs_root, struct ibsp_topology **out);

/**
 * ibsp_topology__refresh_free() - re-read every node's free memory (libnuma)
 * @topo: the running host's topology, from ibsp_topology__from_host("/sys")
 *
 * For the live policy's capacity check before it promotes: mem_free_kb from
 * discovery time goes stale. Only meaningful for the running host: libnuma
 * reads the host's own nodes, whatever a recording's topology says.
 *
 * Return: 0, -ENOSYS without NUMA support, or -ENOENT for a node the host
 * does not have (logged, naming the node).
 */
int ibsp_topology__refresh_free(struct ibsp_topology *topo);

/** ibsp_topology__new() - an empty topology with room for @nr_nodes nodes; NULL+errno on failure */
struct ibsp_topology *ibsp_topology__new(uint32_t nr_nodes);

/** ibsp_topology__delete() - free a topology; NULL is accepted */
void ibsp_topology__delete(struct ibsp_topology *topo);

/**
 * ibsp_topology__node_of_paddr() - the node that holds physical address @paddr
 *
 * Return: the node id, or -ENOENT when no block covers @paddr, or -ENODATA
 * when the topology has no block map.
 */
int ibsp_topology__node_of_paddr(const struct ibsp_topology *topo, uint64_t paddr);

/**
 * ibsp_topology__node_of_cpu() - the node whose cpulist holds @cpu
 *
 * Return: the node id, or -ENOENT.
 */
int ibsp_topology__node_of_cpu(const struct ibsp_topology *topo, int cpu);

/**
 * ibsp_topology__cpu_node_map() - a CPU -> node array for CPUs 0..@nr_cpus-1
 * @out: receives a malloc'd array; -1 for a CPU no node lists
 *
 * For per-sample lookups: ibsp_topology__node_of_cpu() parses cpulists.
 *
 * Return: 0 or -ENOMEM.
 */
int ibsp_topology__cpu_node_map(const struct ibsp_topology *topo, uint32_t nr_cpus, int **out);

/**
 * ibsp_topology__index_of() - position of node @node_id in @topo->nodes
 *
 * Return: the index, or -ENOENT.
 */
int ibsp_topology__index_of(const struct ibsp_topology *topo, int node_id);

/**
 * ibsp_topology__distance() - SLIT distance between the nodes at indices @a and @b
 *
 * Without a distance matrix (perf's own recordings carry none) it returns
 * 10 for a == b, 20 between two nodes that both have CPUs, and 30 when one
 * of them is CPU-less (the values QEMU and most firmware use).
 */
uint32_t ibsp_topology__distance(const struct ibsp_topology *topo, uint32_t a, uint32_t b);

/**
 * ibsp_topology__set_top_tier() - choose the promotion destinations
 * @nodelist: node list syntax ("0-1,3"), or NULL for the default: every
 *            node that has CPUs. Memory tiers are not used for the default:
 *            Linux 6.1 puts CPU-less CXL RAM in the DRAM tier.
 *
 * Return: 0, or -EINVAL when @nodelist is malformed, names a node @topo does
 * not have, or leaves no top-tier node (logged, naming the node).
 */
int ibsp_topology__set_top_tier(struct ibsp_topology *topo, const char *nodelist);

/**
 * ibsp_cpulist__parse() - parse kernel cpulist syntax ("0-3,8,10-11")
 * @list: the text; "" or "\n" is an empty list
 * @cb: called once per CPU in ascending text order; a non-zero return stops the walk
 *
 * Return: 0, the callback's non-zero value, or -EINVAL on malformed text.
 */
int ibsp_cpulist__parse(const char *list, int (*cb)(int cpu, void *ctx), void *ctx);

#endif /* IBSP_TOPOLOGY_H */
