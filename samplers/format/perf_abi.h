/* SPDX-License-Identifier: MIT */
/*
 * The parts of the perf.data ABI that <linux/perf_event.h> does not carry:
 * the file header, feature bits and perf's user record types.
 * Source: Linux 6.1 tools/perf/util/header.h, tools/lib/perf/include/perf/event.h,
 * tools/perf/Documentation/perf.data-file-format.txt.
 */
#ifndef IBSP_PERF_ABI_H
#define IBSP_PERF_ABI_H

#include <stdint.h>

#define PERF_MAGIC2    0x32454c4946524550ULL /* "PERFILE2" read as a little-endian u64 */
#define PERF_MAGIC2_SW 0x50455246494c4532ULL /* the same, written by an opposite-endian host */
#define PERF_MAGIC1    0x454c494646524550ULL /* "PERFFILE", the legacy v1 format */

struct perf_file_section {
	uint64_t offset;
	uint64_t size;
};

struct perf_file_header {
	uint64_t magic;
	uint64_t size; /* sizeof(struct perf_file_header) = 104 */
	uint64_t attr_size;
	struct perf_file_section attrs;
	struct perf_file_section data;
	struct perf_file_section event_types; /* ignored */
	uint64_t adds_features[4];
};

_Static_assert(sizeof(struct perf_file_header) == 104, "perf_file_header is 104 bytes");

struct perf_pipe_file_header {
	uint64_t magic;
	uint64_t size; /* 16 */
};

/* Feature bits of adds_features (enum in tools/perf/util/header.h). */
enum {
	HEADER_TRACING_DATA = 1,
	HEADER_BUILD_ID = 2,
	HEADER_HOSTNAME = 3,
	HEADER_OSRELEASE = 4,
	HEADER_VERSION = 5,
	HEADER_ARCH = 6,
	HEADER_NRCPUS = 7,
	HEADER_CPUDESC = 8,
	HEADER_CPUID = 9,
	HEADER_TOTAL_MEM = 10,
	HEADER_CMDLINE = 11,
	HEADER_EVENT_DESC = 12,
	HEADER_CPU_TOPOLOGY = 13,
	HEADER_NUMA_TOPOLOGY = 14,
	HEADER_BRANCH_STACK = 15,
	HEADER_PMU_MAPPINGS = 16,
	HEADER_GROUP_DESC = 17,
	HEADER_AUXTRACE = 18,
	HEADER_STAT = 19,
	HEADER_CACHE = 20,
	HEADER_SAMPLE_TIME = 21,
	HEADER_MEM_TOPOLOGY = 22,
	HEADER_CLOCKID = 23,
	HEADER_DIR_FORMAT = 24,
	HEADER_BPF_PROG_INFO = 25,
	HEADER_BPF_BTF = 26,
	HEADER_COMPRESSED = 27,
	HEADER_CPU_PMU_CAPS = 28,
	HEADER_CLOCK_DATA = 29,
	HEADER_HYBRID_TOPOLOGY = 30,
	HEADER_PMU_CAPS = 31,
	HEADER_LAST_FEATURE = 32,
	HEADER_FEAT_BITS = 256,
};

/*
 * Our private feature: SLIT distances and memory tiers, for which perf.data has
 * no feature (payload: docs/perf-data.md). perf 6.1 sizes the feature index by
 * every set bit of the 256 but processes only bits below HEADER_LAST_FEATURE,
 * in ascending order (tools/perf/util/header.c perf_header__process_sections),
 * so this section's index entry comes last and perf never reads it. Bit 192
 * (word 3) stays clear of the features perf adds one at a time (32 in 6.1).
 * Written in file mode only: perf warns about unknown features in pipe mode.
 */
enum { HEADER_IBSP_TOPOLOGY = 192 };

/* HEADER_IBSP_TOPOLOGY payload version and flags. */
#define IBSP_TOPO_FEAT_VERSION	    1u
#define IBSP_TOPO_FEAT_HAS_DISTANCE (1u << 0) /* the nr*nr distance matrix follows the tiers */

/* perf's own (user) record types, >= PERF_RECORD_USER_TYPE_START. */
enum {
	PERF_RECORD_USER_TYPE_START = 64,
	PERF_RECORD_HEADER_ATTR = 64,
	PERF_RECORD_HEADER_EVENT_TYPE = 65,
	PERF_RECORD_HEADER_TRACING_DATA = 66,
	PERF_RECORD_HEADER_BUILD_ID = 67,
	PERF_RECORD_FINISHED_ROUND = 68,
	PERF_RECORD_ID_INDEX = 69,
	PERF_RECORD_AUXTRACE_INFO = 70,
	PERF_RECORD_AUXTRACE = 71,
	PERF_RECORD_AUXTRACE_ERROR = 72,
	PERF_RECORD_THREAD_MAP = 73,
	PERF_RECORD_CPU_MAP = 74,
	PERF_RECORD_STAT_CONFIG = 75,
	PERF_RECORD_STAT = 76,
	PERF_RECORD_STAT_ROUND = 77,
	PERF_RECORD_EVENT_UPDATE = 78,
	PERF_RECORD_TIME_CONV = 79,
	PERF_RECORD_HEADER_FEATURE = 80,
	PERF_RECORD_COMPRESSED = 81,
	PERF_RECORD_FINISHED_INIT = 82,
	PERF_RECORD_COMPRESSED2 = 83, /* perf 6.15: { header; u64 data_size; data; padding to 8 } */
	PERF_RECORD_HEADER_MAX
};

/* Strings in feature sections are padded to this (NAME_ALIGN in header.c). */
#define PERF_NAME_ALIGN 64

/* The attr size we write: PERF_ATTR_SIZE_VER7, the largest perf 6.1 accepts. */
#define IBSP_WRITE_ATTR_SIZE 128

#endif
