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

/*
 * A node is named two ways, and the compiler keeps them apart (as libperf's
 * struct perf_cpu keeps a CPU number apart from a map index): a node *id* is
 * Linux's (node2, move_pages' nodes[]); a node *index* is its position in a
 * topology, which the engine's per-node arrays use. Convert with
 * ibsp_topology__index_of() and ibsp_topology__node_id(), once, where a value
 * enters or leaves: ids at the edges (the kernel, files, the user), indices
 * inside.
 */

/** struct ibsp_node_id - a Linux NUMA node id; negative: none (a negative errno) */
struct ibsp_node_id {
	int id;
};

/** struct ibsp_node_idx - a node's position in a topology; negative: none */
struct ibsp_node_idx {
	int idx;
};

static inline struct ibsp_node_id ibsp_node_id(int id)
{
	return (struct ibsp_node_id){ .id = id };
}

static inline struct ibsp_node_idx ibsp_node_idx(int idx)
{
	return (struct ibsp_node_idx){ .idx = idx };
}

/* "No node": a decision without a destination, a page of unknown node. */
#define IBSP_NODE_IDX_NONE ((struct ibsp_node_idx){ .idx = -1 })

static inline bool ibsp_node_idx__valid(struct ibsp_node_idx i)
{
	return i.idx >= 0;
}

static inline bool ibsp_node_idx__eq(struct ibsp_node_idx a, struct ibsp_node_idx b)
{
	return a.idx == b.idx;
}

/** struct ibsp_block_range - @nr memory blocks starting at block index @first */
struct ibsp_block_range {
	uint64_t first;
	uint64_t nr;
};

/*
 * struct ibsp_topology - all NUMA nodes of a host, sorted by node id. Its
 * layout is private to samplers/host; read it with the accessors below and
 * build one with samplers/host/topology_build.h.
 */
struct ibsp_topology;

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

/** ibsp_topology__delete() - free a topology; NULL is accepted */
void ibsp_topology__delete(struct ibsp_topology *topo);

/** ibsp_topology__nr_nodes() - number of nodes; indices run from 0 to this - 1 */
uint32_t ibsp_topology__nr_nodes(const struct ibsp_topology *topo);

/** ibsp_topology__node_id() - the id of the node at index @i; -ENOENT out of range */
struct ibsp_node_id ibsp_topology__node_id(const struct ibsp_topology *topo,
					   struct ibsp_node_idx i);

/**
 * ibsp_topology__index_of() - the index of node @id
 *
 * Return: the index, or -ENOENT (in .idx) when @topo has no node @id.
 */
struct ibsp_node_idx ibsp_topology__index_of(const struct ibsp_topology *topo,
					     struct ibsp_node_id id);

/*
 * What a topology knows of the node at index @i. Out of range, each says
 * "nothing": 0, "", NULL, -1 or false.
 */

/** ibsp_topology__cpulist() - its CPUs in kernel cpulist syntax ("0-3,8"); "" when CPU-less */
const char *ibsp_topology__cpulist(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__nr_cpus() - number of CPUs in its cpulist */
uint32_t ibsp_topology__nr_cpus(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__mem_total_kb() - its MemTotal, kB */
uint64_t ibsp_topology__mem_total_kb(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__mem_free_kb() - its MemFree at discovery, recording or last refresh, kB */
uint64_t ibsp_topology__mem_free_kb(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__tier() - its kernel memory tier (N of memory_tierN, lower is faster); -1 unknown */
int32_t ibsp_topology__tier(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__is_top_tier() - a promotion destination? See ibsp_topology__set_top_tier() */
bool ibsp_topology__is_top_tier(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__nr_ranges() - entries of ibsp_topology__ranges() */
uint32_t ibsp_topology__nr_ranges(const struct ibsp_topology *topo, struct ibsp_node_idx i);

/** ibsp_topology__ranges() - its memory blocks, sorted by first block and disjoint */
const struct ibsp_block_range *ibsp_topology__ranges(const struct ibsp_topology *topo,
						     struct ibsp_node_idx i);

/** ibsp_topology__has_block_map() - the nodes' memory block ranges are known */
bool ibsp_topology__has_block_map(const struct ibsp_topology *topo);

/** ibsp_topology__block_size_bytes() - the memory block size; 0 when unknown */
uint64_t ibsp_topology__block_size_bytes(const struct ibsp_topology *topo);

/**
 * ibsp_topology__has_distances() - the SLIT distance matrix is known (from the
 * host or the recording); without it ibsp_topology__distance() gives defaults
 */
bool ibsp_topology__has_distances(const struct ibsp_topology *topo);

/**
 * ibsp_topology__distance() - SLIT distance between the nodes at indices @a and @b
 *
 * Without a distance matrix (perf's own recordings carry none) it returns
 * 10 for a == b, 20 between two nodes that both have CPUs, and 30 when one
 * of them is CPU-less (the values QEMU and most firmware use). UINT32_MAX
 * for an index out of range.
 */
uint32_t ibsp_topology__distance(const struct ibsp_topology *topo, struct ibsp_node_idx a,
				 struct ibsp_node_idx b);

/**
 * ibsp_topology__node_of_paddr() - the node that holds physical address @paddr
 *
 * Return: the node id, or (in .id) -ENOENT when no block covers @paddr, or
 * -ENODATA when the topology has no block map.
 */
struct ibsp_node_id ibsp_topology__node_of_paddr(const struct ibsp_topology *topo, uint64_t paddr);

/**
 * ibsp_topology__node_of_cpu() - the node whose cpulist holds @cpu
 *
 * Return: the node id, or -ENOENT (in .id).
 */
struct ibsp_node_id ibsp_topology__node_of_cpu(const struct ibsp_topology *topo, int cpu);

/**
 * ibsp_topology__cpu_node_map() - a CPU -> node id array for CPUs 0..@nr_cpus-1
 * @out: receives a malloc'd array; id -1 for a CPU no node lists
 *
 * For per-sample lookups: ibsp_topology__node_of_cpu() parses cpulists.
 *
 * Return: 0 or -ENOMEM.
 */
int ibsp_topology__cpu_node_map(const struct ibsp_topology *topo, uint32_t nr_cpus,
				struct ibsp_node_id **out);

/**
 * ibsp_topology__set_top_tier() - choose the promotion destinations
 * @nodelist: node list syntax ("0-1,3"), or NULL for the default: every
 *            node that has CPUs. Memory tiers are not used for the default:
 *            Linux 6.1 puts CPU-less CXL RAM in the DRAM tier.
 *
 * Return: 0; -EDOM when @nodelist is malformed, names a node @topo does not
 * have, or is empty (the caller's option is wrong); -EINVAL when no node of
 * @topo has CPUs (the topology is unusable). Logged, naming the node.
 */
int ibsp_topology__set_top_tier(struct ibsp_topology *topo, const char *nodelist);

/*
 * CPU numbers are below this (Linux's NR_CPUS is at most 8192): a cpulist, a
 * recording's NRCPUS feature or a sample's CPU beyond it is malformed.
 */
#define IBSP_MAX_CPUS (1u << 16)

/**
 * ibsp_cpulist__parse() - parse kernel cpulist syntax ("0-3,8,10-11")
 * @list: the text; "" or "\n" is an empty list
 * @cb: called once per CPU in ascending text order; a non-zero return stops the walk
 *
 * Return: 0, the callback's non-zero value, or -EINVAL on malformed text
 * (also a CPU number of IBSP_MAX_CPUS or more).
 */
int ibsp_cpulist__parse(const char *list, int (*cb)(int cpu, void *ctx), void *ctx);

#endif /* IBSP_TOPOLOGY_H */
