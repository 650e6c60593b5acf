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
#include "perf_features_internal.h"

/* The features this reader parses; the rest are skipped without reading them. */
#define PARSED_FEATURES                                                                        \
	((1ULL << HEADER_HOSTNAME) | (1ULL << HEADER_OSRELEASE) | (1ULL << HEADER_ARCH) |      \
	 (1ULL << HEADER_NRCPUS) | (1ULL << HEADER_CPUDESC) | (1ULL << HEADER_CPUID) |         \
	 (1ULL << HEADER_TOTAL_MEM) | (1ULL << HEADER_CMDLINE) | (1ULL << HEADER_EVENT_DESC) | \
	 (1ULL << HEADER_NUMA_TOPOLOGY) | (1ULL << HEADER_MEM_TOPOLOGY) |                      \
	 (1ULL << HEADER_PMU_MAPPINGS) | (1ULL << HEADER_SAMPLE_TIME) |                        \
	 (1ULL << HEADER_PMU_CAPS) | (1ULL << HEADER_COMPRESSED))

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

static int parse_pmu_mappings(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	uint32_t nr;
	int ret;

	if ((ret = ibsp_fcur__u32(c, "nr_pmus", &nr)) ||
	    (ret = ibsp_fcur__count(c, "nr_pmus", nr, 8)))
		return ret;
	/* A copy already read goes first, so its count never describes the new array
	 * (the pipe reader refuses a repeated feature record; this keeps a repeat
	 * that got by it from overrunning or leaking). */
	for (uint32_t i = 0; i < info->nr_pmus; i++)
		free(info->pmus[i].name);
	free(info->pmus);
	info->nr_pmus = 0;
	info->pmus = calloc(nr ? nr : 1, sizeof(*info->pmus));
	if (!info->pmus)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		if ((ret = ibsp_fcur__u32(c, "type", &info->pmus[i].type)) ||
		    (ret = ibsp_fcur__str(c, "name", &info->pmus[i].name)))
			return ret;
		info->nr_pmus = i + 1;
	}
	return 0;
}

static int parse_cmdline(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	uint32_t nr;
	int ret;

	if ((ret = ibsp_fcur__u32(c, "nr", &nr)) || (ret = ibsp_fcur__count(c, "nr", nr, 4)))
		return ret;
	for (uint32_t i = 0; i < info->nr_cmdline; i++) /* as for the PMU mappings */
		free(info->cmdline[i]);
	free(info->cmdline);
	info->nr_cmdline = 0;
	info->cmdline = calloc(nr ? nr : 1, sizeof(char *));
	if (!info->cmdline)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++) {
		if ((ret = ibsp_fcur__str(c, "arg", &info->cmdline[i])))
			return ret;
		info->nr_cmdline = i + 1;
	}
	return 0;
}

static int parse_pmu_caps(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	uint32_t nr_pmu;
	int ret;

	if ((ret = ibsp_fcur__u32(c, "nr_pmu", &nr_pmu)) ||
	    (ret = ibsp_fcur__count(c, "nr_pmu", nr_pmu, 8)))
		return ret;
	for (uint32_t i = 0; i < nr_pmu; i++) {
		uint32_t nr_caps;
		int zen4 = 0;
		char *pmu = NULL;

		if ((ret = ibsp_fcur__u32(c, "nr_caps", &nr_caps)) ||
		    (ret = ibsp_fcur__count(c, "nr_caps", nr_caps, 8)))
			return ret;
		for (uint32_t j = 0; j < nr_caps; j++) {
			char *name = NULL, *value = NULL;

			ret = ibsp_fcur__str(c, "cap name", &name);
			if (!ret)
				ret = ibsp_fcur__str(c, "cap value", &value);
			if (!ret && !strcmp(name, "zen4_ibs_extensions"))
				zen4 = atoi(value) != 0;
			free(name);
			free(value);
			if (ret)
				return ret;
		}
		if ((ret = ibsp_fcur__str(c, "pmu_name", &pmu)))
			return ret;
		if (!strcmp(pmu, "ibs_op") && zen4)
			info->ibs_zen4 = true;
		free(pmu);
	}
	return 0;
}

/* COMPRESSED: u32 version, type (1: zstd), level, ratio, mmap_len (perf's write_compressed()). */
static int parse_compressed(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	uint32_t version, ratio;
	int ret;

	if ((ret = ibsp_fcur__u32(c, "version", &version)) ||
	    (ret = ibsp_fcur__u32(c, "type", &info->comp_type)) ||
	    (ret = ibsp_fcur__u32(c, "level", &info->comp_level)) ||
	    (ret = ibsp_fcur__u32(c, "ratio", &ratio)) ||
	    (ret = ibsp_fcur__u32(c, "mmap_len", &info->comp_mmap_len)))
		return ret;
	if (info->comp_type > 1) /* 0: none */
		return ibsp_fcur__bad(c, "type",
				      "is not 1 (zstd), the only compression perf writes");
	return 0;
}

static int parse_event_desc(struct ibsp_fcur *c, struct ibsp_event_desc *ev, uint32_t nr_events)
{
	uint32_t nr, attr_sz;
	int ret;

	if ((ret = ibsp_fcur__u32(c, "nr_events", &nr)) ||
	    (ret = ibsp_fcur__u32(c, "attr_size", &attr_sz)))
		return ret;
	if (attr_sz < PERF_ATTR_SIZE_VER0)
		return ibsp_fcur__bad(c, "attr_size", "is smaller than the first perf_event_attr");
	if ((ret = ibsp_fcur__count(c, "nr_events", nr, (size_t)attr_sz + 8)))
		return ret;
	for (uint32_t i = 0; i < nr; i++) {
		const uint8_t *attr;
		uint32_t nr_ids;
		uint64_t first_id = 0;
		char *name = NULL;
		const uint8_t *ids;

		if ((ret = ibsp_fcur__take(c, "attr", attr_sz, &attr)) ||
		    (ret = ibsp_fcur__u32(c, "nr_ids", &nr_ids)) ||
		    (ret = ibsp_fcur__str(c, "name", &name)))
			return ret;
		if ((ret = ibsp_fcur__count(c, "nr_ids", nr_ids, 8)) ||
		    (ret = ibsp_fcur__take(c, "ids", (size_t)nr_ids * 8, &ids))) {
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

/* A CPU count of NRCPUS, checked against IBSP_MAX_CPUS: `dump` sizes its CPU -> node map by it. */
static int nr_cpus_field(struct ibsp_fcur *c, const char *field, uint32_t *v)
{
	char why[96];
	int ret = ibsp_fcur__u32(c, field, v);

	if (ret || *v <= IBSP_MAX_CPUS)
		return ret;
	c->pos -= 4; /* the message names the field's own offset */
	snprintf(why, sizeof(why), "= %u is more CPUs than a kernel has (at most %u)", *v,
		 IBSP_MAX_CPUS);
	return ibsp_fcur__bad(c, field, why);
}

/*
 * NRCPUS: { u32 nr_cpus_avail; u32 nr_cpus_online; }. Both are bounded: a
 * hostile nr_cpus_avail of 3.7e9 had `dump` allocate (and fill) 15 GB for its
 * CPU -> node map (found by the info fuzz target).
 */
static int parse_nrcpus(struct ibsp_fcur *c, struct ibsp_recording_info *info)
{
	uint32_t avail, online;
	int ret;

	if ((ret = nr_cpus_field(c, "nr_cpus_avail", &avail)) ||
	    (ret = nr_cpus_field(c, "nr_cpus_online", &online)))
		return ret;
	info->nr_cpus_avail = avail;
	info->nr_cpus_online = online;
	return 0;
}

/* A string feature; a copy already read is freed (as for the arrays above). */
static int str_feature(struct ibsp_fcur *c, const char *field, char **dst)
{
	char *s = NULL;
	int ret = ibsp_fcur__str(c, field, &s);

	if (!ret) {
		free(*dst);
		*dst = s;
	}
	return ret;
}

static int parse_one(struct ibsp_fcur *c, unsigned int bit, struct ibsp_recording_info *info,
		     struct ibsp_event_desc *ev, uint32_t nr_events)
{
	int ret;

	switch (bit) {
	case HEADER_HOSTNAME:
		return str_feature(c, "hostname", &info->hostname);
	case HEADER_OSRELEASE:
		return str_feature(c, "osrelease", &info->osrelease);
	case HEADER_ARCH:
		return str_feature(c, "arch", &info->arch);
	case HEADER_CPUID:
		return str_feature(c, "cpuid", &info->cpuid);
	case HEADER_CPUDESC:
		return str_feature(c, "cpudesc", &info->cpudesc);
	case HEADER_NRCPUS:
		return parse_nrcpus(c, info);
	case HEADER_TOTAL_MEM:
		return ibsp_fcur__u64(c, "total_mem", &info->total_mem_kb);
	case HEADER_CMDLINE:
		return parse_cmdline(c, info);
	case HEADER_EVENT_DESC:
		return parse_event_desc(c, ev, nr_events);
	case HEADER_NUMA_TOPOLOGY:
		return ibsp_feature_parse_numa(c, info);
	case HEADER_MEM_TOPOLOGY:
		return ibsp_feature_parse_mem_topology(c, info);
	case HEADER_PMU_MAPPINGS:
		return parse_pmu_mappings(c, info);
	case HEADER_SAMPLE_TIME:
		if ((ret = ibsp_fcur__u64(c, "first_sample_time", &info->first_sample_ns)) ||
		    (ret = ibsp_fcur__u64(c, "last_sample_time", &info->last_sample_ns)))
			return ret;
		info->has_sample_time = true;
		return 0;
	case HEADER_PMU_CAPS:
		return parse_pmu_caps(c, info);
	case HEADER_COMPRESSED:
		return parse_compressed(c, info);
	case HEADER_IBSP_TOPOLOGY:
		return ibsp_feature_parse_ibsp_topology(c, info);
	default:
		return 0; /* not needed: skipped */
	}
}

int ibsp_feature_parse_payload(const char *path, unsigned int bit, const uint8_t *buf, size_t len,
			       uint64_t file_off, struct ibsp_recording_info *info,
			       struct ibsp_event_desc *ev, uint32_t nr_events)
{
	struct ibsp_fcur c = { .p = buf, .len = len, .path = path, .file_off = file_off };

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
		struct ibsp_fcur c = { .path = path, .feat = ibsp_feature_name(bits[i]) };
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
