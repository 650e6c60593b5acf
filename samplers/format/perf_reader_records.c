// SPDX-License-Identifier: MIT
/*
 * The perf.data reader's records, in file order: each one checked against the
 * data section and read through a sliding mmap window, so memory stays O(1)
 * in the file size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "log_print.h"
#include "perf_reader_internal.h"

/* Make [off, off+len) readable through the window; return a pointer to it. */
static const uint8_t *window_get(struct ibsp_perf_reader *r, uint64_t off, size_t len)
{
	if (!r->win || off < r->win_off || off + len > r->win_off + r->win_len) {
		uint64_t start = off / r->page * r->page;
		uint64_t wlen = r->window;

		if (r->win)
			munmap(r->win, r->win_len);
		r->win = NULL;
		if (start + wlen > r->file_size)
			wlen = r->file_size - start;
		void *p = mmap(NULL, wlen, PROT_READ, MAP_PRIVATE, r->fd, (off_t)start);

		if (p == MAP_FAILED)
			return NULL;
		madvise(p, wlen, MADV_SEQUENTIAL);
		r->win = p;
		r->win_off = start;
		r->win_len = wlen;
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
	const struct perf_event_header *h;
	struct perf_event_header hh;
	const uint8_t *p;
	uint64_t off = r->pos;

	if (off >= r->data_end)
		return 0;
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
	if (r->data_end - off < sizeof(*h)) {
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
	if ((uintptr_t)p % 8) {
		memcpy(r->bounce, p, hh.size);
		p = (const uint8_t *)r->bounce;
	}
	h = (const void *)p;
	r->pos = off + h->size;
	r->stats.nr_records++;
	*rec = h;
	if (offset)
		*offset = off;
	return 1;
}
