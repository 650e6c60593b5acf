// SPDX-License-Identifier: MIT
/*
 * The topology features: NUMA_TOPOLOGY (nodes, memory, CPUs), MEM_TOPOLOGY
 * (which memory blocks belong to which node) and our IBSP_TOPOLOGY
 * (distances and memory tiers; docs/perf-data.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf_abi.h"
#include "perf_features_internal.h"
#include "topology_build.h"

int ibsp_feature_parse_numa(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	struct ibsp_topology *t;
	uint32_t nr;
	int ret;

	/*
	 * One topology per recording: a second NUMA_TOPOLOGY (a pipe stream can
	 * repeat a feature record), or one after MEM_TOPOLOGY, would drop the
	 * memory-block map and leave every sample without a node.
	 */
	if (info->topo)
		return ibsp_fcur__bad(c, "nr_nodes",
				      "repeats the topology (NUMA_TOPOLOGY or MEM_TOPOLOGY came "
				      "before)");
	if ((ret = ibsp_fcur__u32(c, "nr_nodes", &nr)) ||
	    (ret = ibsp_fcur__count(c, "nr_nodes", nr, 24)))
		return ret;
	t = ibsp_topology__new(nr);
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx idx = ibsp_node_idx((int)i);
		uint64_t total_kb, free_kb;
		uint32_t id;
		char *list = NULL;

		if ((ret = ibsp_fcur__u32(c, "node", &id)) ||
		    (ret = ibsp_fcur__u64(c, "mem_total", &total_kb)) ||
		    (ret = ibsp_fcur__u64(c, "mem_free", &free_kb)) ||
		    (ret = ibsp_fcur__str(c, "cpulist", &list)))
			goto err;
		if (id > INT32_MAX) {
			free(list);
			ret = ibsp_fcur__bad(c, "node", "is not a valid node id");
			goto err;
		}
		ibsp_topology__set_node_id(t, idx, ibsp_node_id((int)id));
		ibsp_topology__set_mem_kb(t, idx, total_kb, free_kb);
		ret = ibsp_topology__set_cpulist(t, idx, list);
		free(list);
		if (ret) {
			ret = ibsp_fcur__bad(c, "cpulist", "is not a CPU list");
			goto err;
		}
	}
	/* MEM_TOPOLOGY (bit 22) is parsed after this one (bit 14) and fills the block map. */
	info->topo = t;
	return 0;
err:
	ibsp_topology__delete(t);
	return ret;
}

/* The node of id @id, added CPU-less when NUMA_TOPOLOGY did not list it (memory-only). */
static int node_or_new(struct ibsp_topology *t, struct ibsp_node_id id, struct ibsp_node_idx *idx)
{
	*idx = ibsp_topology__index_of(t, id);
	return ibsp_node_idx__valid(*idx) ? 0 : ibsp_topology__add_node(t, id, idx);
}

/* The set bits of a node's block bitmap (@words u64s, @nbits valid) as block ranges. */
static int add_block_bits(struct ibsp_fcur *c, struct ibsp_topology *t, struct ibsp_node_idx n,
			  const uint8_t *bm, uint64_t words, uint64_t nbits)
{
	/* Walk runs of set bits a word at a time: zero words cost nothing. */
	for (uint64_t wi = 0; wi < words; wi++) {
		uint64_t w;

		memcpy(&w, bm + wi * 8, 8);
		if (wi == words - 1 && nbits % 64)
			w &= (1ULL << (nbits % 64)) - 1; /* bits past nbits are padding */
		while (w) {
			unsigned int lo = (unsigned int)__builtin_ctzll(w);
			uint64_t rest = ~(w >> lo);
			unsigned int run = rest ? (unsigned int)__builtin_ctzll(rest) : 64 - lo;
			int ret = ibsp_topology__add_range(t, n, wi * 64 + lo, run);

			if (ret == -E2BIG)
				return ibsp_fcur__bad(c, "bitmap",
						      "has more memory ranges than a host can");
			if (ret)
				return ret == -EINVAL
					   ? ibsp_fcur__bad(c, "bitmap", "repeats a block")
					   : ret;
			w = run + lo >= 64 ? 0 : w & ~(((1ULL << run) - 1) << lo);
		}
	}
	return 0;
}

int ibsp_feature_parse_mem_topology(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	uint64_t version, bsize, nr;
	struct ibsp_topology *t = info->topo;
	int ret;

	if ((ret = ibsp_fcur__u64(c, "version", &version)) ||
	    (ret = ibsp_fcur__u64(c, "block_size", &bsize)) ||
	    (ret = ibsp_fcur__u64(c, "nr_nodes", &nr)) ||
	    (ret = ibsp_fcur__count(c, "nr_nodes", nr, 24)))
		return ret;
	if (version != 1)
		return ibsp_fcur__bad(c, "version", "is not 1");
	if (!bsize)
		return ibsp_fcur__bad(c, "block_size", "is 0");
	if (!t) {
		t = ibsp_topology__new(0);
		if (!t)
			return -ENOMEM;
		info->topo = t;
	}
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t node, nbits, nbits2, words;
		struct ibsp_node_idx n;
		const uint8_t *bm;

		if ((ret = ibsp_fcur__u64(c, "node", &node)) ||
		    (ret = ibsp_fcur__u64(c, "size", &nbits)) ||
		    (ret = ibsp_fcur__u64(c, "bitmap size", &nbits2)))
			return ret;
		if (nbits2 != nbits)
			return ibsp_fcur__bad(c, "bitmap size", "disagrees with the node's size");
		if (node > INT32_MAX)
			return ibsp_fcur__bad(c, "node", "is not a valid node id");
		words = nbits / 64 + !!(nbits % 64); /* (nbits + 63) / 64 wraps for huge nbits */
		if ((ret = ibsp_fcur__count(c, "bitmap", words, 8)) ||
		    (ret = ibsp_fcur__take(c, "bitmap", (size_t)words * 8, &bm)))
			return ret;
		if ((ret = node_or_new(t, ibsp_node_id((int)node), &n)) ||
		    (ret = add_block_bits(c, t, n, bm, words, nbits)))
			return ret;
	}
	ibsp_topology__set_block_size(t, bsize);
	return 0;
}

/* IBSP_TOPOLOGY's node ids must be NUMA_TOPOLOGY's, in its order. */
static int check_node_ids(struct ibsp_fcur *c, const struct ibsp_topology *t, uint32_t nr)
{
	char why[160];
	int ret;

	for (uint32_t i = 0; i < nr; i++) {
		uint32_t id;
		int want = ibsp_topology__node_id(t, ibsp_node_idx((int)i)).id;

		if ((ret = ibsp_fcur__u32(c, "node", &id)))
			return ret;
		if (id != (uint32_t)want) {
			snprintf(why, sizeof(why),
				 "is %u; NUMA_TOPOLOGY has node %d at position %u", id, want, i);
			return ibsp_fcur__bad(c, "node", why);
		}
	}
	return 0;
}

/* The header of IBSP_TOPOLOGY: version, nr_nodes (NUMA_TOPOLOGY's) and flags. */
static int read_ibsp_topo_header(struct ibsp_fcur *c, const struct ibsp_topology *t,
				 uint32_t *flags)
{
	uint32_t version, nr;
	uint64_t need;
	char why[160];
	int ret;

	if ((ret = ibsp_fcur__u32(c, "version", &version)))
		return ret;
	if (version != IBSP_TOPO_FEAT_VERSION)
		return ibsp_fcur__bad(c, "version", "is not 1");
	if ((ret = ibsp_fcur__u32(c, "nr_nodes", &nr)))
		return ret;
	if (!t)
		return ibsp_fcur__bad(c, "nr_nodes",
				      "comes without a NUMA_TOPOLOGY feature before it");
	if (nr != ibsp_topology__nr_nodes(t)) {
		snprintf(why, sizeof(why), "is %u; NUMA_TOPOLOGY has %u nodes", nr,
			 ibsp_topology__nr_nodes(t));
		return ibsp_fcur__bad(c, "nr_nodes", why);
	}
	if ((ret = ibsp_fcur__u32(c, "flags", flags)))
		return ret;
	if (*flags & ~IBSP_TOPO_FEAT_HAS_DISTANCE)
		return ibsp_fcur__bad(c, "flags", "has unknown bits");
	/* nr is bounded by NUMA_TOPOLOGY's section size, so nr * nr * 4 cannot wrap. */
	need =
	    (uint64_t)nr * 8 + (*flags & IBSP_TOPO_FEAT_HAS_DISTANCE ? (uint64_t)nr * nr * 4 : 0);
	if (need != c->len - c->pos) {
		snprintf(why, sizeof(why),
			 "and flags need %" PRIu64 " more bytes, the section has %zu", need,
			 c->len - c->pos);
		return ibsp_fcur__bad(c, "nr_nodes", why);
	}
	return 0;
}

static int read_tiers(struct ibsp_fcur *c, int32_t *tier, uint32_t nr)
{
	int ret;

	for (uint32_t i = 0; i < nr; i++) {
		if ((ret = ibsp_fcur__u32(c, "tier", (uint32_t *)&tier[i])))
			return ret;
		if (tier[i] < -1)
			return ibsp_fcur__bad(c, "tier", "is below -1 (unknown)");
	}
	return 0;
}

/* The nr x nr distance matrix into @t. */
static int read_distances(struct ibsp_fcur *c, struct ibsp_topology *t, uint32_t nr)
{
	uint32_t *dist = malloc(nr ? (size_t)nr * nr * 4 : 1);
	const uint8_t *p;
	int ret;

	if (!dist)
		return -ENOMEM;
	ret = ibsp_fcur__take(c, "distance", (size_t)nr * nr * 4, &p);
	if (!ret) {
		memcpy(dist, p, (size_t)nr * nr * 4); /* the section need not be aligned */
		ret = ibsp_topology__set_distances(t, dist);
	}
	free(dist);
	return ret;
}

/*
 * HEADER_IBSP_TOPOLOGY: { u32 version; u32 nr_nodes; u32 flags; u32 node[nr];
 * s32 tier[nr]; u32 distance[nr * nr] if flags has HAS_DISTANCE }. It comes
 * after NUMA_TOPOLOGY (bit 192 > 14) and must list the same nodes in order.
 */
int ibsp_feature_parse_ibsp_topology(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	struct ibsp_topology *t = info->topo;
	uint32_t flags, nr;
	int32_t *tier;
	int ret;

	if ((ret = read_ibsp_topo_header(c, t, &flags)))
		return ret;
	nr = ibsp_topology__nr_nodes(t);
	if ((ret = check_node_ids(c, t, nr)))
		return ret;
	tier = calloc(nr ? nr : 1, sizeof(*tier));
	if (!tier)
		return -ENOMEM;
	ret = read_tiers(c, tier, nr);
	if (!ret && (flags & IBSP_TOPO_FEAT_HAS_DISTANCE))
		ret = read_distances(c, t, nr);
	for (uint32_t i = 0; !ret && i < nr; i++)
		ibsp_topology__set_tier(t, ibsp_node_idx((int)i), tier[i]);
	free(tier);
	return ret;
}
