/* SPDX-License-Identifier: MIT */
/*
 * The records of a recording made with `perf record -z`: the data section
 * holds PERF_RECORD_COMPRESSED records whose payloads, in file order, are one
 * zstd stream (perf flushes it at the end of each record, and one record of
 * the stream may begin in one payload and end in the next). Decompressed,
 * the stream is an ordinary sequence of records.
 */
#ifndef IBSP_PERF_UNZSTD_H
#define IBSP_PERF_UNZSTD_H

#include <stddef.h>
#include <stdint.h>

#include <linux/perf_event.h>

#include "perf_abi.h"

/* The most one payload may decompress to, with a record left over: a bound against bombs. */
#define IBSP_UNZSTD_MAX_BYTES (64u << 20)

struct ibsp_unzstd {
	void *ds;	  /* ZSTD_DStream */
	uint8_t *buf;	  /* decompressed bytes; malloc'd, so a record at 0 is 8-aligned */
	size_t cap;	  /* bytes buf holds */
	size_t len;	  /* bytes in buf */
	size_t pos;	  /* the next record starts here */
	uint64_t in, out; /* compressed and decompressed bytes so far */
};

/* A stream; @cap: the first buffer size (the COMPRESSED feature's mmap_len, or 0). 0 or -ENOMEM. */
int ibsp_unzstd__init(struct ibsp_unzstd *z, size_t cap);
void ibsp_unzstd__exit(struct ibsp_unzstd *z);

/*
 * Decompress one payload after the bytes of a record left over from the last.
 * Return 0, -ENOMEM, or -EINVAL with *@why: the zstd error, or an output above
 * IBSP_UNZSTD_MAX_BYTES.
 */
int ibsp_unzstd__feed(struct ibsp_unzstd *z, const void *src, size_t len, const char **why);

/*
 * The next whole record decompressed: 1 and *@h (not 8-aligned when a record
 * before it had a size that is no multiple of 8); 0 when none is whole (a
 * part waits for the next payload); -EINVAL with *@why when its size field is
 * smaller than the header. *@at: its offset in the decompressed stream.
 */
int ibsp_unzstd__next(struct ibsp_unzstd *z, const struct perf_event_header **h, uint64_t *at,
		      const char **why);

/* Bytes of a record that is not whole yet (at the end of the data: a cut stream). */
static inline size_t ibsp_unzstd__left(const struct ibsp_unzstd *z)
{
	return z->len - z->pos;
}

#endif
