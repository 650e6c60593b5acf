/* SPDX-License-Identifier: MIT */
/* Small helpers shared inside the library. */
#ifndef IBSP_UTIL_H
#define IBSP_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "ibsp/topology.h"

#define IBSP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Copy caller options that start with `size_t sz` into a zeroed full struct
 * (libbpf's OPTS habit): a caller built against an older, smaller struct gets
 * the defaults (zero) for the fields it does not know. @src may be NULL.
 */
#define IBSP_OPTS_COPY(dst, src)                                                                  \
	do {                                                                                      \
		memset(&(dst), 0, sizeof(dst));                                                   \
		if (src)                                                                          \
			memcpy(&(dst), (src), (src)->sz < sizeof(dst) ? (src)->sz : sizeof(dst)); \
		(dst).sz = sizeof(dst);                                                           \
	} while (0)

/*
 * Grow the array *@p of *@cap elements of @size bytes to hold @need, doubling
 * from @first: 0, or -ENOMEM with the array untouched. For per-interval
 * scratch arrays that are reused, so growth is rare.
 */
static inline int ibsp_array_grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Read a small text file into @buf (NUL-terminated, trailing newline kept). Return length or -errno. */
int ibsp_read_file_str(const char *path, char *buf, size_t size);

/* Write all @n bytes at file offset @off, retrying short writes and EINTR. Return 0 or -errno. */
int ibsp_pwrite_all(int fd, const void *p, size_t n, uint64_t off);

/* Every number of a cpulist-syntax @list, in text order, in a malloc'd array. 0 or -errno. */
int ibsp_cpulist__to_array(const char *list, int **ids, uint32_t *nr);

#endif
