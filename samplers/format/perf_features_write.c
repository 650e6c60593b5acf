// SPDX-License-Identifier: MIT
/*
 * perf.data feature sections: writing. Payload layouts as Linux 6.1
 * tools/perf/util/header.c writes them (write_*); perf_features.c reads them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "perf_abi.h"
#include "perf_features.h"
#include "util.h"

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void w_put(struct wbuf *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void w_u32(struct wbuf *b, uint32_t v)
{
	w_put(b, &v, 4);
}

static void w_u64(struct wbuf *b, uint64_t v)
{
	w_put(b, &v, 8);
}

static void w_str(struct wbuf *b, const char *s)
{
	static const uint8_t zeros[PERF_NAME_ALIGN];
	size_t n = strlen(s) + 1;
	size_t len = (n + PERF_NAME_ALIGN - 1) / PERF_NAME_ALIGN * PERF_NAME_ALIGN;

	w_u32(b, (uint32_t)len);
	w_put(b, s, n - 1);
	w_put(b, zeros, len - (n - 1));
}

static void build_numa(struct wbuf *b, const struct ibsp_topology *t)
{
	uint32_t nr = ibsp_topology__nr_nodes(t);

	w_u32(b, nr);
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		w_u32(b, (uint32_t)ibsp_topology__node_id(t, n).id);
		w_u64(b, ibsp_topology__mem_total_kb(t, n));
		w_u64(b, ibsp_topology__mem_free_kb(t, n));
		w_str(b, ibsp_topology__cpulist(t, n));
	}
}

static void build_mem_topology(struct wbuf *b, const struct ibsp_topology *t)
{
	uint32_t nr = ibsp_topology__nr_nodes(t);

	w_u64(b, 1);
	w_u64(b, ibsp_topology__block_size_bytes(t));
	w_u64(b, nr);
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);
		const struct ibsp_block_range *ranges = ibsp_topology__ranges(t, n);
		uint32_t nr_ranges = ibsp_topology__nr_ranges(t, n);
		uint64_t nbits = 0, words;

		if (nr_ranges) {
			const struct ibsp_block_range *last = &ranges[nr_ranges - 1];

			nbits = last->first + last->nr;
		}
		words = (nbits + 63) / 64;
		w_u64(b, (uint64_t)ibsp_topology__node_id(t, n).id);
		w_u64(b, nbits);
		w_u64(b, nbits);
		/* ranges are sorted and disjoint: one pass over them fills the words in order */
		uint64_t word = 0, wi = 0;

		for (uint32_t r = 0; r < nr_ranges; r++) {
			for (uint64_t bit = ranges[r].first; bit < ranges[r].first + ranges[r].nr;
			     bit++) {
				for (; wi < bit / 64; wi++, word = 0)
					w_u64(b, word);
				word |= 1ULL << (bit % 64);
			}
		}
		for (; wi < words; wi++, word = 0)
			w_u64(b, word);
	}
}

static void build_event_desc(struct wbuf *b, const struct ibsp_event_desc *ev, uint32_t nr)
{
	w_u32(b, nr);
	w_u32(b, IBSP_WRITE_ATTR_SIZE);
	for (uint32_t i = 0; i < nr; i++) {
		struct perf_event_attr a = ev[i].attr;

		a.size = IBSP_WRITE_ATTR_SIZE;
		w_put(b, &a, IBSP_WRITE_ATTR_SIZE);
		w_u32(b, ev[i].nr_ids);
		w_str(b, ev[i].name ? ev[i].name : "unknown");
		for (uint32_t k = 0; k < ev[i].nr_ids; k++)
			w_u64(b, ev[i].ids[k]);
	}
}

/* Distances and tiers (docs/perf-data.md); 0 when neither is known. */
static int build_ibsp_topology(struct wbuf *b, const struct ibsp_topology *t)
{
	uint32_t nr = ibsp_topology__nr_nodes(t);
	bool dist = ibsp_topology__has_distances(t), any_tier = false;

	for (uint32_t i = 0; i < nr; i++)
		any_tier |= ibsp_topology__tier(t, ibsp_node_idx((int)i)) >= 0;
	if (!dist && !any_tier)
		return 0;
	w_u32(b, IBSP_TOPO_FEAT_VERSION);
	w_u32(b, nr);
	w_u32(b, dist ? IBSP_TOPO_FEAT_HAS_DISTANCE : 0);
	for (uint32_t i = 0; i < nr; i++)
		w_u32(b, (uint32_t)ibsp_topology__node_id(t, ibsp_node_idx((int)i)).id);
	for (uint32_t i = 0; i < nr; i++)
		w_u32(b, (uint32_t)ibsp_topology__tier(t, ibsp_node_idx((int)i)));
	for (uint32_t a = 0; dist && a < nr; a++) {
		for (uint32_t k = 0; k < nr; k++)
			w_u32(b, ibsp_topology__distance(t, ibsp_node_idx((int)a),
							 ibsp_node_idx((int)k)));
	}
	return 1;
}

/* A string feature: written when @str is known. */
static int build_string(struct wbuf *b, const char *str)
{
	if (!str)
		return 0;
	w_str(b, str);
	return 1;
}

static int build_cmdline(struct wbuf *b, const struct ibsp_recording_info *info)
{
	if (!info->nr_cmdline)
		return 0;
	w_u32(b, info->nr_cmdline);
	for (uint32_t i = 0; i < info->nr_cmdline; i++)
		w_str(b, info->cmdline[i]);
	return 1;
}

static int build_pmu_mappings(struct wbuf *b, const struct ibsp_recording_info *info)
{
	if (!info->nr_pmus)
		return 0;
	w_u32(b, info->nr_pmus);
	for (uint32_t i = 0; i < info->nr_pmus; i++) {
		w_u32(b, info->pmus[i].type);
		w_str(b, info->pmus[i].name);
	}
	return 1;
}

/* PMU_CAPS: only ibs_op's zen4_ibs_extensions=1, the one capability the decoder reads. */
static int build_pmu_caps(struct wbuf *b, const struct ibsp_recording_info *info)
{
	if (!info->ibs_zen4)
		return 0;
	w_u32(b, 1);
	w_u32(b, 1);
	w_str(b, "zen4_ibs_extensions");
	w_str(b, "1");
	w_str(b, "ibs_op");
	return 1;
}

/* The features of numbers: NRCPUS, TOTAL_MEM, SAMPLE_TIME; written when known. */
static int build_numbers(struct wbuf *b, unsigned int bit, const struct ibsp_recording_info *info)
{
	switch (bit) {
	case HEADER_NRCPUS:
		if (!info->nr_cpus_avail)
			return 0;
		w_u32(b, info->nr_cpus_avail);
		w_u32(b, info->nr_cpus_online);
		return 1;
	case HEADER_TOTAL_MEM:
		if (!info->total_mem_kb)
			return 0;
		w_u64(b, info->total_mem_kb);
		return 1;
	case HEADER_SAMPLE_TIME:
		if (!info->has_sample_time)
			return 0;
		w_u64(b, info->first_sample_ns);
		w_u64(b, info->last_sample_ns);
		return 1;
	default:
		return 0;
	}
}

/* Build the payload of feature @bit; returns 1 if the feature is written, 0 if skipped. */
static int build_one(struct wbuf *b, unsigned int bit, const struct ibsp_recording_info *info,
		     const struct ibsp_event_desc *ev, uint32_t nr_events)
{
	const struct ibsp_topology *topo = info->topo;

	switch (bit) {
	case HEADER_HOSTNAME:
		/* Always written: perf uses it to detect a u32-swapped feature bitmap. */
		return build_string(b, info->hostname ? info->hostname : "");
	case HEADER_OSRELEASE:
		return build_string(b, info->osrelease);
	case HEADER_ARCH:
		return build_string(b, info->arch);
	case HEADER_CPUDESC:
		return build_string(b, info->cpudesc);
	case HEADER_CPUID:
		return build_string(b, info->cpuid);
	case HEADER_CMDLINE:
		return build_cmdline(b, info);
	case HEADER_EVENT_DESC:
		build_event_desc(b, ev, nr_events);
		return 1;
	case HEADER_NUMA_TOPOLOGY:
		if (!topo)
			return 0;
		build_numa(b, topo);
		return 1;
	case HEADER_PMU_MAPPINGS:
		return build_pmu_mappings(b, info);
	case HEADER_MEM_TOPOLOGY:
		if (!topo || !ibsp_topology__has_block_map(topo))
			return 0;
		build_mem_topology(b, topo);
		return 1;
	case HEADER_PMU_CAPS:
		return build_pmu_caps(b, info);
	case HEADER_IBSP_TOPOLOGY:
		return topo ? build_ibsp_topology(b, topo) : 0;
	default:
		return build_numbers(b, bit, info);
	}
}

/* The features we write, in ascending bit order (the order of a file's index). */
static const unsigned int order[] = {
	HEADER_HOSTNAME,     HEADER_OSRELEASE,	   HEADER_ARCH,		 HEADER_NRCPUS,
	HEADER_CPUDESC,	     HEADER_CPUID,	   HEADER_TOTAL_MEM,	 HEADER_CMDLINE,
	HEADER_EVENT_DESC,   HEADER_NUMA_TOPOLOGY, HEADER_PMU_MAPPINGS,	 HEADER_SAMPLE_TIME,
	HEADER_MEM_TOPOLOGY, HEADER_PMU_CAPS,	   HEADER_IBSP_TOPOLOGY,
};

int ibsp_features_write_records(const struct ibsp_recording_info *info,
				const struct ibsp_event_desc *ev, uint32_t nr_events,
				int (*emit)(const void *rec, size_t len, void *ctx), void *ctx)
{
	int ret = 0;

	for (unsigned int i = 0; i < IBSP_ARRAY_SIZE(order) && !ret; i++) {
		struct perf_event_header h = { .type = PERF_RECORD_HEADER_FEATURE };
		struct wbuf b = { 0 };
		uint64_t feat = order[i];

		w_put(&b, &h, sizeof(h));
		w_u64(&b, feat);
		/* SAMPLE_TIME is known only at the end, which a pipe never goes back to */
		if (order[i] != HEADER_SAMPLE_TIME &&
		    build_one(&b, order[i], info, ev, nr_events)) {
			ret = b.err;
			if (!ret && b.len > UINT16_MAX) /* header.size is 16 bits */
				ret = -E2BIG;
			if (!ret) {
				h.size = (uint16_t)b.len;
				memcpy(b.p, &h, sizeof(h));
				ret = emit(b.p, b.len, ctx);
			}
		}
		free(b.p);
	}
	return ret;
}

int ibsp_features_write(int fd, uint64_t idx_off, const struct ibsp_recording_info *info,
			const struct ibsp_event_desc *ev, uint32_t nr_events, uint64_t features[4])
{
	struct perf_file_section sec[IBSP_ARRAY_SIZE(order)];
	struct wbuf payload = { 0 };
	unsigned int nr = 0;
	uint64_t off;
	int ret;

	memset(features, 0, 4 * sizeof(uint64_t));
	/* The index must list sections in ascending bit order; order[] is ascending. */
	for (unsigned int i = 0; i < IBSP_ARRAY_SIZE(order); i++) {
		size_t start = payload.len;

		if (build_one(&payload, order[i], info, ev, nr_events)) {
			sec[nr].offset = start; /* relative for now */
			sec[nr].size = payload.len - start;
			nr++;
			features[order[i] / 64] |= 1ULL << (order[i] % 64);
		}
	}
	if (payload.err) {
		free(payload.p);
		return payload.err;
	}
	off = idx_off + nr * sizeof(sec[0]);
	for (unsigned int i = 0; i < nr; i++)
		sec[i].offset += off;
	ret = ibsp_pwrite_all(fd, sec, nr * sizeof(sec[0]), idx_off);
	if (!ret)
		ret = ibsp_pwrite_all(fd, payload.p, payload.len, off);
	free(payload.p);
	return ret;
}
