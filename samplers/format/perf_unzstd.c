// SPDX-License-Identifier: MIT
/* perf record -z: the zstd stream of the COMPRESSED records, through libzstd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "perf_unzstd.h"

int ibsp_unzstd__init(struct ibsp_unzstd *z, size_t cap)
{
	memset(z, 0, sizeof(*z));
	if (cap < (1u << 20))
		cap = 1u << 20;
	if (cap > IBSP_UNZSTD_MAX_BYTES)
		cap = IBSP_UNZSTD_MAX_BYTES;
	z->ds = ZSTD_createDStream();
	z->buf = malloc(cap);
	if (!z->ds || !z->buf || ZSTD_isError(ZSTD_initDStream(z->ds))) {
		ibsp_unzstd__exit(z);
		return -ENOMEM;
	}
	z->cap = cap;
	return 0;
}

void ibsp_unzstd__exit(struct ibsp_unzstd *z)
{
	if (z->ds)
		ZSTD_freeDStream(z->ds);
	free(z->buf);
	memset(z, 0, sizeof(*z));
}

/* Room for more output: double the buffer, up to the bound. */
static int grow(struct ibsp_unzstd *z, const char **why)
{
	size_t cap = z->cap * 2;
	uint8_t *p;

	if (z->cap >= IBSP_UNZSTD_MAX_BYTES) {
		*why = "decompresses to more than 64 MiB (with the part of a record before it)";
		return -EINVAL;
	}
	if (cap > IBSP_UNZSTD_MAX_BYTES)
		cap = IBSP_UNZSTD_MAX_BYTES;
	p = realloc(z->buf, cap);
	if (!p)
		return -ENOMEM;
	z->buf = p;
	z->cap = cap;
	return 0;
}

int ibsp_unzstd__feed(struct ibsp_unzstd *z, const void *src, size_t len, const char **why)
{
	ZSTD_inBuffer in = { src, len, 0 };

	/* The part of a record left over goes first, at an aligned start. */
	memmove(z->buf, z->buf + z->pos, z->len - z->pos);
	z->len -= z->pos;
	z->pos = 0;
	/* Until zstd has taken all of the input and written less than it had room for. */
	for (;;) {
		ZSTD_outBuffer out;
		size_t ret;
		int err;

		if (z->len == z->cap && (err = grow(z, why)))
			return err;
		out = (ZSTD_outBuffer){ z->buf, z->cap, z->len };
		ret = ZSTD_decompressStream(z->ds, &out, &in);
		if (ZSTD_isError(ret)) {
			*why = ZSTD_getErrorName(ret);
			return -EINVAL;
		}
		z->len = out.pos;
		if (in.pos == in.size && out.pos < out.size)
			break; /* nothing is held back for want of room */
	}
	z->in += len;
	return 0;
}

int ibsp_unzstd__next(struct ibsp_unzstd *z, const struct perf_event_header **h, uint64_t *at,
		      const char **why)
{
	struct perf_event_header hh;

	*at = z->out;
	if (z->len - z->pos < sizeof(hh))
		return 0;
	memcpy(&hh, z->buf + z->pos, sizeof(hh));
	if (hh.size < sizeof(hh)) {
		*why = "is smaller than the header";
		return -EINVAL;
	}
	if (hh.size > z->len - z->pos)
		return 0;
	*h = (const void *)(z->buf + z->pos);
	z->pos += hh.size;
	z->out += hh.size;
	return 1;
}
