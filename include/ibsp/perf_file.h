/* SPDX-License-Identifier: MIT */
/*
 * perf.data recordings: read (streamed, O(1) memory in the file size) and
 * write (ring-buffer records verbatim, with the host's feature sections).
 *
 * Format: tools/perf/Documentation/perf.data-file-format.txt and
 * tools/perf/util/header.c of Linux 6.1; see docs/perf-data.md.
 */
#ifndef IBSP_PERF_FILE_H
#define IBSP_PERF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/perf_event.h>

#include "ibsp/host.h"
#include "ibsp/sample.h"
#include "ibsp/sampler.h"
#include "ibsp/topology.h"

/**
 * struct ibsp_recording_info - what a recording says about its host
 *
 * The reader fills it from the feature sections; the writer writes it.
 * Strings are NULL when the feature is absent.
 */
struct ibsp_recording_info {
	char *hostname;	 /* HOSTNAME */
	char *osrelease; /* OSRELEASE */
	char *arch;	 /* ARCH, uname -m */
	char *cpuid;	 /* CPUID, "Vendor,family,model,stepping" */
	char *cpudesc;	 /* CPUDESC, the CPU model name */
	uint32_t nr_cmdline;
	char **cmdline;		/* CMDLINE */
	uint32_t nr_cpus_avail; /* NRCPUS: highest present CPU + 1 */
	uint32_t nr_cpus_online;
	uint64_t total_mem_kb; /* TOTAL_MEM */
	uint32_t nr_pmus;
	struct ibsp_pmu_mapping *pmus; /* PMU_MAPPINGS */
	struct ibsp_topology *topo;    /* NUMA_TOPOLOGY (+ MEM_TOPOLOGY block map) */
	uint64_t first_sample_ns;      /* SAMPLE_TIME */
	uint64_t last_sample_ns;
	bool has_sample_time;
	bool ibs_zen4; /* PMU_CAPS ibs_op zen4_ibs_extensions=1 */
	/* COMPRESSED (perf record -z): comp_type 1 is zstd; mmap_len bounds a record's output */
	uint32_t comp_type, comp_level, comp_mmap_len;
	uint64_t features[4]; /* the header's feature bitmap, as read or written */
};

/** ibsp_recording_info__from_host() - fill @info for the running host; @topo is taken over */
int ibsp_recording_info__from_host(struct ibsp_recording_info *info, struct ibsp_topology *topo,
				   int argc, char *const argv[]);

/** ibsp_recording_info__exit() - free what @info points to (not @info itself) */
void ibsp_recording_info__exit(struct ibsp_recording_info *info);

/** ibsp_recording_info__pmu_name() - the PMU name of perf type @type, or NULL */
const char *ibsp_recording_info__pmu_name(const struct ibsp_recording_info *info, uint32_t type);

/** struct ibsp_loss_stats - what the kernel says it dropped or throttled */
struct ibsp_loss_stats {
	uint64_t lost_records; /* PERF_RECORD_LOST records */
	uint64_t lost;	       /* records the kernel dropped (sum of their counts) */
	uint64_t lost_samples; /* sum of PERF_RECORD_LOST_SAMPLES counts */
	uint64_t throttle;     /* PERF_RECORD_THROTTLE records */
	uint64_t unthrottle;   /* PERF_RECORD_UNTHROTTLE records */
};

/** ibsp_loss_stats__count() - count @rec if it is one of the loss records; return 1 if so */
int ibsp_loss_stats__count(struct ibsp_loss_stats *st, const struct perf_event_header *rec);

/** struct ibsp_perf_stats - what a reader has seen so far */
struct ibsp_perf_stats {
	uint64_t nr_records;
	uint64_t nr_samples; /* PERF_RECORD_SAMPLE records */
	uint64_t nr_decoded; /* samples handed out as struct ibsp_sample */
	uint64_t nr_invalid; /* samples a decoder refused (invalid op, no address) */
	uint64_t nr_dropped[IBSP_DROP__MAX]; /* the same, by enum ibsp_drop_reason */
	struct ibsp_loss_stats loss;	     /* LOST, LOST_SAMPLES, THROTTLE records */
	uint64_t nr_rounds;		     /* PERF_RECORD_FINISHED_ROUND records */
	uint64_t nr_compressed;		     /* PERF_RECORD_COMPRESSED records (perf record -z) */
	uint64_t nr_out_of_order;	     /* samples older than an already flushed round */
	uint64_t nr_unlisted_id; /* samples whose id no attr lists, taken as the only sampler's */
	uint64_t *samples_per_event; /* [nr_events] */
	uint64_t *samples_per_cpu;   /* [nr_cpu_slots], indexed by CPU number */
	uint32_t nr_cpu_slots;
	uint64_t samples_no_cpu; /* samples without a CPU field */
};

struct ibsp_perf_reader;

/** struct ibsp_perf_reader_opts - reader options; start with sz = sizeof(opts) */
struct ibsp_perf_reader_opts {
	size_t sz;
	bool unordered;	       /* hand samples out in file order, not perf's time order */
	uint32_t max_queue;    /* bound on the reorder queue (entries); 0 = default */
	uint64_t window_bytes; /* size of the read window (a buffer); 0 = default (256 KiB) */
	bool include_invalid;  /* also hand out samples a decoder refused (their drop is set) */
	bool quiet;	       /* no warnings: a second pass over a file another reader warned of */
	/*
	 * Leave the data source unset (src IBSP_SRC_UNKNOWN, no IBSP_S_REMOTE) where a
	 * decoder would work it out of the sampler's own registers (IBS-op): for a
	 * consumer that never reads it, as the engine does not (replay).
	 */
	bool no_source;
	/* new fields go here, at the end: callers' sz tells which they know */
};

/**
 * ibsp_perf_reader__open() - open a perf.data file and read its header,
 * attrs and feature sections
 * @path: the file
 * @opts: NULL for the defaults
 * @out: receives the reader
 *
 * Samples are handed out in the order `perf script` prints them (perf's
 * ordered-events rounds), unless @opts asks for file order.
 *
 * Return: 0, or a negative errno; the reason, naming the file, offset and
 * field, is logged at IBSP_LOG_ERROR.
 */
int ibsp_perf_reader__open(const char *path, const struct ibsp_perf_reader_opts *opts,
			   struct ibsp_perf_reader **out);

/** ibsp_perf_reader__close() - free the reader; NULL is accepted */
void ibsp_perf_reader__close(struct ibsp_perf_reader *r);

const struct ibsp_recording_info *ibsp_perf_reader__info(const struct ibsp_perf_reader *r);
uint32_t ibsp_perf_reader__nr_events(const struct ibsp_perf_reader *r);
const struct ibsp_event_desc *ibsp_perf_reader__event(const struct ibsp_perf_reader *r,
						      uint32_t idx);
const struct ibsp_perf_stats *ibsp_perf_reader__stats(const struct ibsp_perf_reader *r);
/** ibsp_perf_reader__data_range() - file offset and size of the data section */
void ibsp_perf_reader__data_range(const struct ibsp_perf_reader *r, uint64_t *offset,
				  uint64_t *size);

/** ibsp_perf_reader__pos() - file offset of the next record to read (for progress) */
uint64_t ibsp_perf_reader__pos(const struct ibsp_perf_reader *r);

/**
 * ibsp_perf_reader__read() - decode the next samples
 * @buf: room for @cap samples
 *
 * Return: the number of samples stored (> 0), 0 at the end of the data, or a
 * negative errno on malformed input (logged with file, offset and field).
 */
int ibsp_perf_reader__read(struct ibsp_perf_reader *r, struct ibsp_sample *buf, size_t cap);

/**
 * ibsp_perf_reader__read_in_place() - the next samples, where the reader holds them
 * @out: receives the address of the first; they stay valid until the next read of
 *       @r (by either function)
 * @cap: at most this many
 *
 * The samples ibsp_perf_reader__read() would copy out, in the same order, without
 * the copy: a run of those ready to deliver (an ordered-events round, up to @cap),
 * or one at a time where each is delivered at once (file order, `unordered`).
 *
 * Return: as ibsp_perf_reader__read().
 */
int ibsp_perf_reader__read_in_place(struct ibsp_perf_reader *r, const struct ibsp_sample **out,
				    size_t cap);

/**
 * ibsp_perf_reader__next_record() - the next raw record, in file order
 * @rec: receives a pointer valid until the next call
 * @offset: receives its file offset (may be NULL)
 *
 * Do not mix with ibsp_perf_reader__read() on one reader. The records of a
 * perf record -z file come as they are in it, COMPRESSED (or COMPRESSED2);
 * ibsp_perf_reader__read() is the one that decompresses them.
 *
 * Return: 1 with a record, 0 at the end, or a negative errno.
 */
int ibsp_perf_reader__next_record(struct ibsp_perf_reader *r, const struct perf_event_header **rec,
				  uint64_t *offset);

struct ibsp_perf_writer;

/**
 * ibsp_perf_writer__open() - create a perf.data file
 * @path: the file; it is created or truncated (never through a symbolic
 *        link). "-": stdout, in pipe mode (as perf record -o -): written in
 *        order, the sink of ibsp_perf_writer__set_sink() unused
 * @info: host facts written as feature sections (copied)
 * @events: the events; their ids must already be known (copied)
 *
 * Return: 0 or a negative errno (logged).
 */
int ibsp_perf_writer__open(const char *path, const struct ibsp_recording_info *info,
			   const struct ibsp_event_desc *events, uint32_t nr_events,
			   struct ibsp_perf_writer **out);

/**
 * ibsp_perf_writer__open_as() - ibsp_perf_writer__open(), with @name (NULL:
 * @path) for the file in every message: the user's path when @path is a
 * temporary file that is renamed into place
 */
int ibsp_perf_writer__open_as(const char *path, const char *name,
			      const struct ibsp_recording_info *info,
			      const struct ibsp_event_desc *events, uint32_t nr_events,
			      struct ibsp_perf_writer **out);

/** ibsp_perf_writer__write() - append one ring-buffer record verbatim (rec->size bytes) */
int ibsp_perf_writer__write(struct ibsp_perf_writer *w, const struct perf_event_header *rec);

/**
 * ibsp_perf_writer__finish_round() - append PERF_RECORD_FINISHED_ROUND (all earlier
 * records may be sorted) and write the buffered records to the file
 */
int ibsp_perf_writer__finish_round(struct ibsp_perf_writer *w);

/**
 * typedef ibsp_write_sink_fn - where the writer's data buffers go instead of pwrite()
 *
 * Called with a buffer that is reused on return: a sink that writes later
 * (io_uring) copies it. Return 0 or a negative errno (the writer then fails).
 */
typedef int (*ibsp_write_sink_fn)(void *ctx, int fd, const void *buf, size_t len, uint64_t off);

/**
 * ibsp_perf_writer__set_sink() - send data buffers to @fn (NULL: back to pwrite)
 *
 * The header and the feature sections are written by close, synchronously:
 * set the sink back to NULL, and wait for the sink's writes, before closing.
 */
void ibsp_perf_writer__set_sink(struct ibsp_perf_writer *w, ibsp_write_sink_fn fn, void *ctx);

/** ibsp_perf_writer__bytes() - bytes of records written so far */
uint64_t ibsp_perf_writer__bytes(const struct ibsp_perf_writer *w);

/**
 * ibsp_perf_writer__close() - write the feature sections and the final
 * header, close the file and free @w (also on error); NULL is accepted
 *
 * Return: 0 or a negative errno (logged).
 */
int ibsp_perf_writer__close(struct ibsp_perf_writer *w);

/**
 * typedef ibsp_record_fn - receives one record (ring-buffer layout, rec->size bytes)
 *
 * Return: 0 to go on, or an error that stops the caller and is returned by it.
 */
typedef int (*ibsp_record_fn)(const struct perf_event_header *rec, void *ctx);

/**
 * ibsp_synthesize_comms() - PERF_RECORD_COMM records for running tasks
 * @pid: one process (its threads), or -1 for every task in /proc
 * @attr: the first event's attr (its sample_id trailer layout is used)
 * @id: the sample id to put in the trailer
 *
 * The kernel reports only execs that happen while recording; these name
 * the tasks that were already running, for perf script and perf report.
 *
 * Return: 0, or @fn's error, or a negative errno.
 */
int ibsp_synthesize_comms(pid_t pid, const struct perf_event_attr *attr, uint64_t id,
			  ibsp_record_fn fn, void *ctx);

#endif /* IBSP_PERF_FILE_H */
