// SPDX-License-Identifier: MIT
/*
 * The perf.data reader's records, in file order: each one checked against the
 * data section and read through a sliding window, so memory stays O(1)
 * in the file size; those of perf record -z decompressed as they come.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "log_print.h"
#include "perf_reader_internal.h"
#include "perf_unzstd.h"

/* Fill the window from @start, up to its size or the end of the file. */
static int window_fill(struct ibsp_perf_reader *r, uint64_t start)
{
	uint64_t want = r->file_size - start < r->window ? r->file_size - start : r->window;
	uint64_t got = 0;

	/* No larger than the file: a small recording gets a small buffer. */
	if (!r->win && !(r->win = malloc(r->file_size < r->window ? r->file_size : r->window)))
		return -1;
	r->win_len = 0;
	while (got < want) {
		ssize_t n = pread(r->fd, r->win + got, want - got, (off_t)(start + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO; /* the file shrank under us */
			return -1;
		}
		got += (uint64_t)n;
	}
	r->win_off = start;
	r->win_len = want;
	return 0;
}

/*
 * Make [off, off+len) readable through the window; return a pointer to it.
 * The window is a buffer read with pread(), refilled from @off rounded down
 * to 8 bytes, so a record is aligned in it as it is in the file. A reused
 * buffer costs one copy; an mmap window cost a page fault per 16 pages, an
 * munmap per window and a TLB miss per page (8-9% of a replay's CPU).
 */
static const uint8_t *window_get(struct ibsp_perf_reader *r, uint64_t off, size_t len)
{
	if (!r->win_len || off < r->win_off || off + len > r->win_off + r->win_len) {
		if (window_fill(r, off & ~7ULL))
			return NULL;
		if (off + len > r->win_off + r->win_len) {
			errno = EIO;
			return NULL;
		}
	}
	return r->win + (off - r->win_off);
}

/* An unterminated file whose record at @off is cut off by the end of the file? */
static bool cut_at_end(struct ibsp_perf_reader *r, uint64_t off)
{
	struct perf_event_header hh;
	const uint8_t *p;

	if (!r->unterminated)
		return false;
	if (r->data_end - off < sizeof(hh))
		return true;
	p = window_get(r, off, sizeof(hh));
	if (!p)
		return false;
	memcpy(&hh, p, sizeof(hh));
	return hh.size >= sizeof(hh) && hh.size > r->data_end - off;
}

int ibsp_perf_reader__next_record(struct ibsp_perf_reader *r, const struct perf_event_header **rec,
				  uint64_t *offset)
{
	struct perf_event_header hh;
	const uint8_t *p;
	uint64_t off = r->pos;

	if (off >= r->data_end)
		return 0;
	/* Nearly every record; anything else takes the checks below. */
	if ((p = ibsp_perf_reader__in_window(r, off, &hh)))
		return ibsp_perf_reader__take(r, p, off, rec, offset);
	if (cut_at_end(r, off)) {
		/* a writer stopped by a full disk or a kill: every whole record before is good */
		if (!r->quiet)
			pr_warn("%s: offset %#" PRIx64
				": the last record is cut off by the end of the "
				"file (%" PRIu64 " bytes); reading stops there\n",
				r->path, off, r->data_end - off);
		r->pos = r->data_end;
		return 0;
	}
	if (r->data_end - off < sizeof(hh)) {
		pr_err("%s: offset %#" PRIx64 ": record header truncated (%" PRIu64
		       " bytes left in the data section)\n",
		       r->path, off, r->data_end - off);
		return -EINVAL;
	}
	p = window_get(r, off, sizeof(hh));
	if (!p)
		return -errno;
	/* Records need not be 8-aligned (perf record -z, or a hostile data.offset): copy them. */
	memcpy(&hh, p, sizeof(hh));
	if (hh.size < sizeof(hh)) {
		pr_err("%s: offset %#" PRIx64 ": record type %u: field 'size' = %u is smaller than "
		       "the header\n",
		       r->path, off, hh.type, hh.size);
		return -EINVAL;
	}
	if (hh.size > r->data_end - off) {
		pr_err("%s: offset %#" PRIx64
		       ": record type %u: field 'size' = %u runs past the end "
		       "of the data section (%" PRIu64 " bytes left)\n",
		       r->path, off, hh.type, hh.size, r->data_end - off);
		return -EINVAL;
	}
	p = window_get(r, off, hh.size);
	if (!p)
		return -errno;
	return ibsp_perf_reader__take(r, p, off, rec, offset);
}

/*
 * Decompress the COMPRESSED (or COMPRESSED2) record @h at @off (perf record -z)
 * after what is left of the last.
 */
static int open_compressed(struct ibsp_perf_reader *r, const struct perf_event_header *h,
			   uint64_t off)
{
	const char *why = NULL;
	const void *data;
	uint64_t len;
	int ret;

	if (!r->unz) {
		r->unz = calloc(1, sizeof(*r->unz));
		if (!r->unz || ibsp_unzstd__init(r->unz, r->info.comp_mmap_len)) {
			free(r->unz);
			r->unz = NULL;
			return -ENOMEM;
		}
	}
	r->stats.nr_compressed++;
	r->unz_off = off;
	if (h->type == PERF_RECORD_COMPRESSED) {
		data = h + 1;
		len = h->size - sizeof(*h);
	} else { /* COMPRESSED2: the data's size, then the data, padded to 8 bytes */
		if (h->size < sizeof(*h) + 8) {
			pr_err("%s: offset %#" PRIx64 ": COMPRESSED2 record of %u bytes: too short "
			       "for its field 'data_size'\n",
			       r->path, off, h->size);
			return -EINVAL;
		}
		memcpy(&len, h + 1, 8);
		data = (const uint8_t *)(h + 1) + 8;
		if (len > h->size - sizeof(*h) - 8) {
			pr_err("%s: offset %#" PRIx64 ": COMPRESSED2 record of %u bytes: field "
			       "'data_size' = %" PRIu64 " runs past its end\n",
			       r->path, off, h->size, len);
			return -EINVAL;
		}
	}
	ret = ibsp_unzstd__feed(r->unz, data, (size_t)len, &why);
	if (ret == -EINVAL)
		pr_err("%s: offset %#" PRIx64
		       ": COMPRESSED record of %u bytes: its zstd data: %s\n",
		       r->path, off, h->size, why);
	return ret;
}

/*
 * The next record: from the file, or from the COMPRESSED record being read
 * (then @off is that record's offset, which messages name). 1, 0 at the end,
 * or a negative errno.
 */
int ibsp_perf_reader__next_any(struct ibsp_perf_reader *r, const struct perf_event_header **h,
			       uint64_t *off)
{
	for (;;) {
		const char *why = NULL;
		uint64_t at;
		int ret = r->unz ? ibsp_unzstd__next(r->unz, h, &at, &why) : 0;

		if (ret < 0) {
			pr_err("%s: offset %#" PRIx64 ": byte %" PRIu64 " of the records "
			       "decompressed from the COMPRESSED records: field 'size' %s\n",
			       r->path, r->unz_off, at, why);
			return ret;
		}
		if (ret) {
			/* after a record whose size is no multiple of 8, it is not aligned */
			*h = ibsp_perf_reader__aligned(r, *h);
			r->stats.nr_records++;
			*off = r->unz_off;
			return 1;
		}
		ret = ibsp_perf_reader__next_record(r, h, off);
		if (ret == 0 && r->unz && ibsp_unzstd__left(r->unz) && !r->quiet)
			pr_warn(
			    "%s: the data ends inside a record decompressed from the COMPRESSED "
			    "record at offset %#" PRIx64
			    " (%zu bytes of it); reading stops there\n",
			    r->path, r->unz_off, ibsp_unzstd__left(r->unz));
		if (ret <= 0 ||
		    ((*h)->type != PERF_RECORD_COMPRESSED && (*h)->type != PERF_RECORD_COMPRESSED2))
			return ret;
		r->stats.nr_records--; /* counted as the records it holds */
		if ((ret = open_compressed(r, *h, *off)))
			return ret;
	}
}
