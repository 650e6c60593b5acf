/* SPDX-License-Identifier: MIT */
/* The perf.data reader's state, shared by perf_reader{,_attrs,_records}.c. */
#ifndef IBSP_PERF_READER_INTERNAL_H
#define IBSP_PERF_READER_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "ibsp/perf_file.h"
#include "id_index.h"
#include "ordered_events.h"
#include "perf_abi.h"
#include "perf_sample.h"

#define DEFAULT_WINDOW	  (1ULL << 20)
#define MIN_WINDOW	  (256ULL << 10) /* > 2 x the largest record (u16 size) */
#define MAX_IDS		  (1u << 22)	 /* 4 Mi: far above CPUs x threads x events */
#define DEFAULT_MAX_QUEUE (1u << 20)

struct ibsp_perf_reader {
	char *path;
	int fd;
	uint64_t file_size;
	int pipe;	  /* pipe-mode perf.data (perf record -o -) saved to a file */
	int unterminated; /* data.size 0, no features: the writer stopped (a cut last record ends it) */
	size_t page;
	struct perf_file_header hdr;
	struct ibsp_recording_info info;
	struct ibsp_decode_ctx dctx;

	uint32_t nr_events;
	struct ibsp_event_desc *events;
	struct ibsp_sample_layout *layouts; /* per event: the fixed places of its sample fields */
	struct ibsp_id_index ids;	    /* sample id -> event */
	size_t nr_ids;			    /* ids of all events so far (at most MAX_IDS) */
	int sample_id_pos;		    /* u64 index of the id in a sample, -1 if none */
	int only_sampler;   /* the one event that is not perf's dummy, or -1 (find_event()) */
	int trailer_id_pos; /* u64 index of the id counted from a record's end, -1 if none */

	struct ibsp_perf_stats stats;

	/* data section and window */
	uint64_t data_off, data_end, pos;
	uint64_t window;
	uint8_t *win;
	uint64_t win_off, win_len;

	/* ordered events */
	int ordered;
	int include_invalid;
	int quiet; /* no warnings (opts.quiet) */
	struct ibsp_ordered_events oe;
	uint64_t seq;
	int at_end;
	int err;		/* sticky: a malformed record ends the stream */
	struct ibsp_sample imm; /* a sample perf delivers without queueing (no timestamp) */
	int have_imm;
	uint64_t bounce[(UINT16_MAX + 1) / 8]; /* a record not 8-aligned in the file, copied */
	/* perf record -z: the records decompressed from the COMPRESSED record at unz_off */
	struct ibsp_unzstd *unz;
	uint64_t unz_off;
};

/* @p, the record at it copied to r->bounce when it is not 8-aligned (its size read safely). */
static inline const struct perf_event_header *ibsp_perf_reader__aligned(struct ibsp_perf_reader *r,
									const void *p)
{
	struct perf_event_header hh;

	if (!((uintptr_t)p % 8))
		return p;
	memcpy(&hh, p, sizeof(hh));
	memcpy(r->bounce, p, hh.size);
	return (const void *)r->bounce;
}

/* Read the attrs (file mode) or the leading HEADER_ATTR/FEATURE records (pipe mode). */
int ibsp_perf_reader__read_attrs(struct ibsp_perf_reader *r);

/* Name every event and pick its decoder. */
void ibsp_perf_reader__name_and_route(struct ibsp_perf_reader *r);

/*
 * The next record: from the file, or from the COMPRESSED record being read
 * (then @off is that record's offset, which messages name). 1, 0 at the end,
 * or a negative errno.
 */
int ibsp_perf_reader__next_any(struct ibsp_perf_reader *r, const struct perf_event_header **h,
			       uint64_t *off);

#endif
