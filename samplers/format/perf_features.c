// SPDX-License-Identifier: MIT
/*
 * perf.data feature sections: parsing (writing: perf_features_write.c).
 *
 * Payload layouts: Linux 6.1 tools/perf/util/header.c (write_* / process_*),
 * summarized in docs/perf-data.md. Strings are { u32 len; char s[len]; }
 * with len counting the NUL and padding to 64 bytes (NAME_ALIGN).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_print.h"
#include "perf_abi.h"
#include "perf_features.h"
#include "util.h"

/* The features this reader parses; the rest are skipped without reading them. */
#define PARSED_FEATURES                                                                        \
	((1ULL << HEADER_HOSTNAME) | (1ULL << HEADER_OSRELEASE) | (1ULL << HEADER_ARCH) |      \
	 (1ULL << HEADER_NRCPUS) | (1ULL << HEADER_CPUDESC) | (1ULL << HEADER_CPUID) |         \
	 (1ULL << HEADER_TOTAL_MEM) | (1ULL << HEADER_CMDLINE) | (1ULL << HEADER_EVENT_DESC) | \
	 (1ULL << HEADER_NUMA_TOPOLOGY) | (1ULL << HEADER_MEM_TOPOLOGY) |                      \
	 (1ULL << HEADER_PMU_MAPPINGS) | (1ULL << HEADER_SAMPLE_TIME) | (1ULL << HEADER_PMU_CAPS))

/* A single section may not claim more than this; real ones are kilobytes. */
#define FEAT_MAX_BYTES (256u << 20)

static const char *const feat_names[HEADER_LAST_FEATURE] = {
	[HEADER_TRACING_DATA] = "TRACING_DATA",
	[HEADER_BUILD_ID] = "BUILD_ID",
	[HEADER_HOSTNAME] = "HOSTNAME",
	[HEADER_OSRELEASE] = "OSRELEASE",
	[HEADER_VERSION] = "VERSION",
	[HEADER_ARCH] = "ARCH",
	[HEADER_NRCPUS] = "NRCPUS",
	[HEADER_CPUDESC] = "CPUDESC",
	[HEADER_CPUID] = "CPUID",
	[HEADER_TOTAL_MEM] = "TOTAL_MEM",
	[HEADER_CMDLINE] = "CMDLINE",
	[HEADER_EVENT_DESC] = "EVENT_DESC",
	[HEADER_CPU_TOPOLOGY] = "CPU_TOPOLOGY",
	[HEADER_NUMA_TOPOLOGY] = "NUMA_TOPOLOGY",
	[HEADER_BRANCH_STACK] = "BRANCH_STACK",
	[HEADER_PMU_MAPPINGS] = "PMU_MAPPINGS",
	[HEADER_GROUP_DESC] = "GROUP_DESC",
	[HEADER_AUXTRACE] = "AUXTRACE",
	[HEADER_STAT] = "STAT",
	[HEADER_CACHE] = "CACHE",
	[HEADER_SAMPLE_TIME] = "SAMPLE_TIME",
	[HEADER_MEM_TOPOLOGY] = "MEM_TOPOLOGY",
	[HEADER_CLOCKID] = "CLOCKID",
	[HEADER_DIR_FORMAT] = "DIR_FORMAT",
	[HEADER_BPF_PROG_INFO] = "BPF_PROG_INFO",
	[HEADER_BPF_BTF] = "BPF_BTF",
	[HEADER_COMPRESSED] = "COMPRESSED",
	[HEADER_CPU_PMU_CAPS] = "CPU_PMU_CAPS",
	[HEADER_CLOCK_DATA] = "CLOCK_DATA",
	[HEADER_HYBRID_TOPOLOGY] = "HYBRID_TOPOLOGY",
	[HEADER_PMU_CAPS] = "PMU_CAPS",
};

/* Whether this reader parses feature @bit (the rest are skipped, as perf does). */
static bool feature_parsed(unsigned int bit)
{
	return (bit < HEADER_LAST_FEATURE && (PARSED_FEATURES & (1ULL << bit))) ||
	       bit == HEADER_IBSP_TOPOLOGY;
}

const char *ibsp_feature_name(unsigned int bit)
{
	if (bit == HEADER_IBSP_TOPOLOGY)
		return "IBSP_TOPOLOGY";
	if (bit < HEADER_LAST_FEATURE && feat_names[bit])
		return feat_names[bit];
	return "unknown";
}

/* ---- reading ---------------------------------------------------------------------------- */

struct fcur {
	const uint8_t *p;
	size_t pos, len;
	const char *path;
	const char *feat;
	uint64_t file_off; /* file offset of p[0] */
};

static int fbad(struct fcur *c, const char *field, const char *why)
{
	pr_err("%s: offset %#" PRIx64 ": feature %s: field '%s' %s (section size %zu)\n", c->path,
	       c->file_off + c->pos, c->feat, field, why, c->len);
	return -EINVAL;
}

static int f_take(struct fcur *c, const char *field, size_t n, const uint8_t **out)
{
	if (n > c->len - c->pos)
		return fbad(c, field, "runs past the end of the section");
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

static int f_u32(struct fcur *c, const char *field, uint32_t *v)
{
	const uint8_t *p;
	int ret = f_take(c, field, 4, &p);

	if (!ret)
		memcpy(v, p, 4);
	return ret;
}

static int f_u64(struct fcur *c, const char *field, uint64_t *v)
{
	const uint8_t *p;
	int ret = f_take(c, field, 8, &p);

	if (!ret)
		memcpy(v, p, 8);
	return ret;
}

static int f_str(struct fcur *c, const char *field, char **out)
{
	const uint8_t *p;
	uint32_t len;
	int ret;

	if ((ret = f_u32(c, field, &len)) || (ret = f_take(c, field, len, &p)))
		return ret;
	*out = strndup((const char *)p, len);
	return *out ? 0 : -ENOMEM;
}

/* A count of items of at least @min_each bytes each must fit in what is left. */
static int f_count(struct fcur *c, const char *field, uint64_t nr, size_t min_each)
{
	if (nr > (c->len - c->pos) / min_each)
		return fbad(c, field, "count is larger than the section can hold");
	return 0;
}

static struct ibsp_topo_node *topo_find(struct ibsp_topology *t, int id)
{
	for (uint32_t i = 0; i < t->nr_nodes; i++)
		if (t->nodes[i].node.id == id)
			return &t->nodes[i];
	return NULL;
}

static int parse_numa(struct fcur *c, struct ibsp_recording_info *info)
{
	struct ibsp_topology *t;
	uint32_t nr;
	int ret;

	if ((ret = f_u32(c, "nr_nodes", &nr)) || (ret = f_count(c, "nr_nodes", nr, 24)))
		return ret;
	t = ibsp_topology__new(nr);
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_topo_node *n = &t->nodes[i];
		uint32_t id;
		char *list = NULL;

		if ((ret = f_u32(c, "node", &id)) ||
		    (ret = f_u64(c, "mem_total", &n->mem_total_kb)) ||
		    (ret = f_u64(c, "mem_free", &n->mem_free_kb)) ||
		    (ret = f_str(c, "cpulist", &list)))
			goto err;
		if (id > INT32_MAX) {
			free(list);
			ret = fbad(c, "node", "is not a valid node id");
			goto err;
		}
		n->node.id = (int)id;
		ret = ibsp_topo_node__set_cpulist(n, list);
		free(list);
		if (ret) {
			ret = fbad(c, "cpulist", "is not a CPU list");
			goto err;
		}
	}
	/* MEM_TOPOLOGY (bit 22) is parsed after this one (bit 14) and fills the block map. */
	ibsp_topology__delete(info->topo);
	info->topo = t;
	return 0;
err:
	ibsp_topology__delete(t);
	return ret;
}

static int parse_mem_topology(struct fcur *c, struct ibsp_recording_info *info)
{
	uint64_t version, bsize, nr;
	struct ibsp_topology *t = info->topo;
	int ret;

	if ((ret = f_u64(c, "version", &version)) || (ret = f_u64(c, "block_size", &bsize)) ||
	    (ret = f_u64(c, "nr_nodes", &nr)) || (ret = f_count(c, "nr_nodes", nr, 24)))
		return ret;
	if (version != 1)
		return fbad(c, "version", "is not 1");
	if (!bsize)
		return fbad(c, "block_size", "is 0");
	if (!t) {
		t = ibsp_topology__new(0);
		if (!t)
			return -ENOMEM;
		info->topo = t;
	}
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t node, nbits, nbits2, words;
		struct ibsp_topo_node *n;
		const uint8_t *bm;

		if ((ret = f_u64(c, "node", &node)) || (ret = f_u64(c, "size", &nbits)) ||
		    (ret = f_u64(c, "bitmap size", &nbits2)))
			return ret;
		if (nbits2 != nbits)
			return fbad(c, "bitmap size", "disagrees with the node's size");
		if (node > INT32_MAX)
			return fbad(c, "node", "is not a valid node id");
		words = nbits / 64 + !!(nbits % 64); /* (nbits + 63) / 64 wraps for huge nbits */
		if ((ret = f_count(c, "bitmap", words, 8)) ||
		    (ret = f_take(c, "bitmap", (size_t)words * 8, &bm)))
			return ret;
		n = topo_find(t, (int)node);
		if (!n) {
			/* A memory-only node NUMA_TOPOLOGY did not list: add it, CPU-less. */
			struct ibsp_topo_node *nn =
			    reallocarray(t->nodes, t->nr_nodes + 1, sizeof(*t->nodes));

			if (!nn)
				return -ENOMEM;
			t->nodes = nn;
			n = &t->nodes[t->nr_nodes++];
			memset(n, 0, sizeof(*n));
			n->node.id = (int)node;
			if ((ret = ibsp_topo_node__set_cpulist(n, "")))
				return ret;
		}
		/* Walk runs of set bits a word at a time: zero words cost nothing. */
		for (uint64_t wi = 0; wi < words; wi++) {
			uint64_t w;

			memcpy(&w, bm + wi * 8, 8);
			if (wi == words - 1 && nbits % 64)
				w &= (1ULL << (nbits % 64)) - 1; /* bits past nbits are padding */
			while (w) {
				unsigned int lo = (unsigned int)__builtin_ctzll(w);
				uint64_t rest = ~(w >> lo);
				unsigned int run =
				    rest ? (unsigned int)__builtin_ctzll(rest) : 64 - lo;

				ret = ibsp_topo_node__add_range(n, wi * 64 + lo, run);
				if (ret == -E2BIG)
					return fbad(c, "bitmap",
						    "has more memory ranges than a host can");
				if (ret)
					return ret == -EINVAL ? fbad(c, "bitmap", "repeats a block")
							      : ret;
				w = run + lo >= 64 ? 0 : w & ~(((1ULL << run) - 1) << lo);
			}
		}
	}
	t->block_size_bytes = bsize;
	t->has_block_map = true;
	return 0;
}

/*
 * HEADER_IBSP_TOPOLOGY: { u32 version; u32 nr_nodes; u32 flags; u32 node[nr];
 * s32 tier[nr]; u32 distance[nr * nr] if flags has HAS_DISTANCE }. It comes
 * after NUMA_TOPOLOGY (bit 192 > 14) and must list the same nodes in order.
 */
static int parse_ibsp_topology(struct fcur *c, struct ibsp_recording_info *info)
{
	struct ibsp_topology *t = info->topo;
	uint32_t version, nr, flags, *dist = NULL;
	int32_t *tier = NULL;
	uint64_t need;
	char why[160];
	int ret;

	if ((ret = f_u32(c, "version", &version)))
		return ret;
	if (version != IBSP_TOPO_FEAT_VERSION)
		return fbad(c, "version", "is not 1");
	if ((ret = f_u32(c, "nr_nodes", &nr)))
		return ret;
	if (!t)
		return fbad(c, "nr_nodes", "comes without a NUMA_TOPOLOGY feature before it");
	if (nr != t->nr_nodes) {
		snprintf(why, sizeof(why), "is %u; NUMA_TOPOLOGY has %u nodes", nr, t->nr_nodes);
		return fbad(c, "nr_nodes", why);
	}
	if ((ret = f_u32(c, "flags", &flags)))
		return ret;
	if (flags & ~IBSP_TOPO_FEAT_HAS_DISTANCE)
		return fbad(c, "flags", "has unknown bits");
	/* nr is bounded by NUMA_TOPOLOGY's section size, so nr * nr * 4 cannot wrap. */
	need = (uint64_t)nr * 8 + (flags & IBSP_TOPO_FEAT_HAS_DISTANCE ? (uint64_t)nr * nr * 4 : 0);
	if (need != c->len - c->pos) {
		snprintf(why, sizeof(why),
			 "and flags need %" PRIu64 " more bytes, the section has %zu", need,
			 c->len - c->pos);
		return fbad(c, "nr_nodes", why);
	}
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t id;

		if ((ret = f_u32(c, "node", &id)))
			return ret;
		if (id != (uint32_t)t->nodes[i].node.id) {
			snprintf(why, sizeof(why),
				 "is %u; NUMA_TOPOLOGY has node %d at position %u", id,
				 t->nodes[i].node.id, i);
			return fbad(c, "node", why);
		}
	}
	tier = calloc(nr ? nr : 1, sizeof(*tier));
	if (!tier)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		if ((ret = f_u32(c, "tier", (uint32_t *)&tier[i])))
			goto out;
		if (tier[i] < -1) {
			ret = fbad(c, "tier", "is below -1 (unknown)");
			goto out;
		}
	}
	if (flags & IBSP_TOPO_FEAT_HAS_DISTANCE) {
		const uint8_t *p;

		dist = malloc(nr ? (size_t)nr * nr * 4 : 1);
		if (!dist) {
			ret = -ENOMEM;
			goto out;
		}
		if ((ret = f_take(c, "distance", (size_t)nr * nr * 4, &p)))
			goto out;
		memcpy(dist, p, (size_t)nr * nr * 4);
		free(t->distance);
		t->distance = dist;
		dist = NULL;
	}
	for (uint32_t i = 0; i < nr; i++)
		t->nodes[i].tier = tier[i];
out:
	free(tier);
	free(dist);
	return ret;
}

static int parse_pmu_mappings(struct fcur *c, struct ibsp_recording_info *info)
{
	uint32_t nr;
	int ret;

	if ((ret = f_u32(c, "nr_pmus", &nr)) || (ret = f_count(c, "nr_pmus", nr, 8)))
		return ret;
	info->pmus = calloc(nr ? nr : 1, sizeof(*info->pmus));
	if (!info->pmus)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		if ((ret = f_u32(c, "type", &info->pmus[i].type)) ||
		    (ret = f_str(c, "name", &info->pmus[i].name)))
			return ret;
		info->nr_pmus = i + 1;
	}
	return 0;
}

static int parse_cmdline(struct fcur *c, struct ibsp_recording_info *info)
{
	uint32_t nr;
	int ret;

	if ((ret = f_u32(c, "nr", &nr)) || (ret = f_count(c, "nr", nr, 4)))
		return ret;
	info->cmdline = calloc(nr ? nr : 1, sizeof(char *));
	if (!info->cmdline)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		if ((ret = f_str(c, "arg", &info->cmdline[i])))
			return ret;
		info->nr_cmdline = i + 1;
	}
	return 0;
}

static int parse_pmu_caps(struct fcur *c, struct ibsp_recording_info *info)
{
	uint32_t nr_pmu;
	int ret;

	if ((ret = f_u32(c, "nr_pmu", &nr_pmu)) || (ret = f_count(c, "nr_pmu", nr_pmu, 8)))
		return ret;
	for (uint32_t i = 0; i < nr_pmu; i++) {
		uint32_t nr_caps;
		int zen4 = 0;
		char *pmu = NULL;

		if ((ret = f_u32(c, "nr_caps", &nr_caps)) ||
		    (ret = f_count(c, "nr_caps", nr_caps, 8)))
			return ret;
		for (uint32_t j = 0; j < nr_caps; j++) {
			char *name = NULL, *value = NULL;

			ret = f_str(c, "cap name", &name);
			if (!ret)
				ret = f_str(c, "cap value", &value);
			if (!ret && !strcmp(name, "zen4_ibs_extensions"))
				zen4 = atoi(value) != 0;
			free(name);
			free(value);
			if (ret)
				return ret;
		}
		if ((ret = f_str(c, "pmu_name", &pmu)))
			return ret;
		if (!strcmp(pmu, "ibs_op") && zen4)
			info->ibs_zen4 = true;
		free(pmu);
	}
	return 0;
}

static int parse_event_desc(struct fcur *c, struct ibsp_event_desc *ev, uint32_t nr_events)
{
	uint32_t nr, attr_sz;
	int ret;

	if ((ret = f_u32(c, "nr_events", &nr)) || (ret = f_u32(c, "attr_size", &attr_sz)))
		return ret;
	if (attr_sz < PERF_ATTR_SIZE_VER0)
		return fbad(c, "attr_size", "is smaller than the first perf_event_attr");
	if ((ret = f_count(c, "nr_events", nr, (size_t)attr_sz + 8)))
		return ret;
	for (uint32_t i = 0; i < nr; i++) {
		const uint8_t *attr;
		uint32_t nr_ids;
		uint64_t first_id = 0;
		char *name = NULL;
		const uint8_t *ids;

		if ((ret = f_take(c, "attr", attr_sz, &attr)) ||
		    (ret = f_u32(c, "nr_ids", &nr_ids)) || (ret = f_str(c, "name", &name)))
			return ret;
		if ((ret = f_count(c, "nr_ids", nr_ids, 8)) ||
		    (ret = f_take(c, "ids", (size_t)nr_ids * 8, &ids))) {
			free(name);
			return ret;
		}
		if (nr_ids)
			memcpy(&first_id, ids, 8);
		/* Match by first id as perf does; fall back to the position. */
		struct ibsp_event_desc *match = NULL;

		for (uint32_t e = 0; nr_ids && e < nr_events && !match; e++)
			for (uint32_t k = 0; k < ev[e].nr_ids && !match; k++)
				if (ev[e].ids[k] == first_id)
					match = &ev[e];
		if (!match && i < nr_events)
			match = &ev[i];
		if (match) {
			free(match->name);
			match->name = name;
		} else {
			free(name);
		}
	}
	return 0;
}

static int parse_one(struct fcur *c, unsigned int bit, struct ibsp_recording_info *info,
		     struct ibsp_event_desc *ev, uint32_t nr_events)
{
	uint32_t a, b;
	int ret;

	switch (bit) {
	case HEADER_HOSTNAME:
		return f_str(c, "hostname", &info->hostname);
	case HEADER_OSRELEASE:
		return f_str(c, "osrelease", &info->osrelease);
	case HEADER_ARCH:
		return f_str(c, "arch", &info->arch);
	case HEADER_CPUID:
		return f_str(c, "cpuid", &info->cpuid);
	case HEADER_CPUDESC:
		return f_str(c, "cpudesc", &info->cpudesc);
	case HEADER_NRCPUS:
		if ((ret = f_u32(c, "nr_cpus_avail", &a)) || (ret = f_u32(c, "nr_cpus_online", &b)))
			return ret;
		info->nr_cpus_avail = a;
		info->nr_cpus_online = b;
		return 0;
	case HEADER_TOTAL_MEM:
		return f_u64(c, "total_mem", &info->total_mem_kb);
	case HEADER_CMDLINE:
		return parse_cmdline(c, info);
	case HEADER_EVENT_DESC:
		return parse_event_desc(c, ev, nr_events);
	case HEADER_NUMA_TOPOLOGY:
		return parse_numa(c, info);
	case HEADER_MEM_TOPOLOGY:
		return parse_mem_topology(c, info);
	case HEADER_PMU_MAPPINGS:
		return parse_pmu_mappings(c, info);
	case HEADER_SAMPLE_TIME:
		if ((ret = f_u64(c, "first_sample_time", &info->first_sample_ns)) ||
		    (ret = f_u64(c, "last_sample_time", &info->last_sample_ns)))
			return ret;
		info->has_sample_time = true;
		return 0;
	case HEADER_PMU_CAPS:
		return parse_pmu_caps(c, info);
	case HEADER_IBSP_TOPOLOGY:
		return parse_ibsp_topology(c, info);
	default:
		return 0; /* not needed: skipped */
	}
}

int ibsp_feature_parse_payload(const char *path, unsigned int bit, const uint8_t *buf, size_t len,
			       uint64_t file_off, struct ibsp_recording_info *info,
			       struct ibsp_event_desc *ev, uint32_t nr_events)
{
	struct fcur c = { .p = buf, .len = len, .path = path, .file_off = file_off };

	if (!feature_parsed(bit))
		return 0; /* perf skips unknown features too */
	if (len > FEAT_MAX_BYTES) {
		pr_err("%s: offset %#" PRIx64 ": feature %s: size %zu is absurd\n", path, file_off,
		       ibsp_feature_name(bit), len);
		return -EINVAL;
	}
	c.feat = ibsp_feature_name(bit);
	return parse_one(&c, bit, info, ev, nr_events);
}

int ibsp_features_parse(const char *path, int fd, uint64_t file_size,
			const struct perf_file_header *hdr, struct ibsp_recording_info *info,
			struct ibsp_event_desc *ev, uint32_t nr_events)
{
	struct perf_file_section sec[HEADER_FEAT_BITS];
	unsigned int bits[HEADER_FEAT_BITS];
	uint64_t idx_off = hdr->data.offset + hdr->data.size;
	unsigned int nr = 0;
	int ret = 0;

	memcpy(info->features, hdr->adds_features, sizeof(info->features));
	for (unsigned int b = 0; b < HEADER_FEAT_BITS; b++)
		if (hdr->adds_features[b / 64] & (1ULL << (b % 64)))
			bits[nr++] = b;
	if (!nr)
		return 0;
	if (idx_off > file_size || (uint64_t)nr * sizeof(sec[0]) > file_size - idx_off) {
		pr_err("%s: offset %#" PRIx64 ": feature index of %u sections runs past the end of "
		       "the file (size %" PRIu64 ")\n",
		       path, idx_off, nr, file_size);
		return -EINVAL;
	}
	if (pread(fd, sec, nr * sizeof(sec[0]), (off_t)idx_off) != (ssize_t)(nr * sizeof(sec[0]))) {
		pr_err("%s: offset %#" PRIx64 ": cannot read the feature index\n", path, idx_off);
		return -EIO;
	}
	for (unsigned int i = 0; i < nr && !ret; i++) {
		const struct perf_file_section *s = &sec[i];
		uint64_t ioff = idx_off + i * sizeof(sec[0]);
		struct fcur c = { .path = path, .feat = ibsp_feature_name(bits[i]) };
		uint8_t *buf;

		if (bits[i] >= HEADER_LAST_FEATURE && bits[i] != HEADER_IBSP_TOPOLOGY)
			continue; /* perf skips unknown bits too */
		if (s->offset > file_size || s->size > file_size - s->offset ||
		    s->size > FEAT_MAX_BYTES) {
			pr_err("%s: offset %#" PRIx64 ": feature %s: section {offset %#" PRIx64
			       ", size %" PRIu64 "} lies outside the file (size %" PRIu64 ")\n",
			       path, ioff, c.feat, s->offset, s->size, file_size);
			return -EINVAL;
		}
		if (!feature_parsed(bits[i]))
			continue; /* not needed: skipped without reading */
		buf = malloc(s->size ? s->size : 1);
		if (!buf)
			return -ENOMEM;
		if (pread(fd, buf, s->size, (off_t)s->offset) != (ssize_t)s->size) {
			pr_err("%s: offset %#" PRIx64 ": feature %s: short read\n", path, s->offset,
			       c.feat);
			free(buf);
			return -EIO;
		}
		ret = ibsp_feature_parse_payload(path, bits[i], buf, s->size, s->offset, info, ev,
						 nr_events);
		free(buf);
	}
	return ret;
}
