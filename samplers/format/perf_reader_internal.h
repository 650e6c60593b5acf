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

/*
 * 256 KiB: the copy a window costs stays in the L2 until it is decoded (1 MiB
 * until 2026-12-01: 0.67 -> 0.64 s of CPU replaying 10 M samples over 10 k
 * pages, no change over 1 M pages, 4x the preads at ~1 a ms).
 */
#define DEFAULT_WINDOW	  (256ULL << 10)
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

/*
 * The record at file offset @o when it is whole in the window and ends inside
 * the data section (nearly every record), its header in *@hh; NULL for
 * anything else (a record cut off, a bad size, a window to refill).
 */
static inline const uint8_t *ibsp_perf_reader__in_window(const struct ibsp_perf_reader *r,
							 uint64_t o, struct perf_event_header *hh)
{
	uint64_t end = r->win_off + r->win_len;
	const uint8_t *p;

	if (o < r->win_off || o >= r->data_end || o + sizeof(*hh) > end)
		return NULL;
	p = r->win + (o - r->win_off);
	memcpy(hh, p, sizeof(*hh));
	if (hh->size < sizeof(*hh) || hh->size > r->data_end - o || hh->size > end - o)
		return NULL;
	return p;
}

/* Hand out the record at @p (file offset @off) and move past it. Return: 1. */
static inline int ibsp_perf_reader__take(struct ibsp_perf_reader *r, const uint8_t *p, uint64_t off,
					 const struct perf_event_header **rec, uint64_t *offset)
{
	const struct perf_event_header *h = ibsp_perf_reader__aligned(r, p);

	r->pos = off + h->size;
	r->stats.nr_records++;
	*rec = h;
	if (offset)
		*offset = off;
	return 1;
}

/*
 * The next record in the common case, inline: no COMPRESSED record open, the
 * next one whole in the window and not itself COMPRESSED. 1 with *@h and *@off
 * set; 0 for anything else, which ibsp_perf_reader__next_any() then reads (or
 * refuses, with its message).
 */
static inline int ibsp_perf_reader__take_in_window(struct ibsp_perf_reader *r,
						   const struct perf_event_header **h,
						   uint64_t *off)
{
	struct perf_event_header hh;
	const uint8_t *p = r->unz ? NULL : ibsp_perf_reader__in_window(r, r->pos, &hh);

	if (!p || hh.type == PERF_RECORD_COMPRESSED || hh.type == PERF_RECORD_COMPRESSED2)
		return 0;
	return ibsp_perf_reader__take(r, p, r->pos, h, off);
}

#endif
