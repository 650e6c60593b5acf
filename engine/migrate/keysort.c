// SPDX-License-Identifier: MIT
/*
 * The drain's order: requests by (pid, destination node, vaddr), as small
 * keys that point back into the work buffer. Plans come in heat order, so
 * the input is random, and qsort() over the 80-byte requests (a comparator
 * call per step, then a permutation of the requests) was most of the
 * worker's own time.
 *
 * A drain holds few (pid, node) groups: with at most MAX_GROUPS of them,
 * each key gets one 64-bit rank (the group's rank above the page number:
 * user addresses fit 57 bits, so page numbers fit 45) and an LSD radix sort
 * orders them in a few passes (a pass whose digit is the same in every key
 * is skipped: a 64 MiB region varies in 14 bits). More groups than that take
 * a bottom-up merge sort on the full key.
 */
#include <string.h>

#include "migrate_internal.h"

#define RUN 16 /* insertion-sorted runs, then merges */

static inline bool key_lt(const struct ibsp_mig_key *a, const struct ibsp_mig_key *b)
{
	return a->group < b->group || (a->group == b->group && a->vaddr < b->vaddr);
}

static void insertion_sort(struct ibsp_mig_key *a, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct ibsp_mig_key x = a[i];
		uint32_t j = i;

		for (; j && key_lt(&x, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* Merge the sorted @a (@na keys) and @b (@nb) into @out; ties keep @a first. */
static void merge(const struct ibsp_mig_key *a, uint32_t na, const struct ibsp_mig_key *b,
		  uint32_t nb, struct ibsp_mig_key *out)
{
	uint32_t i = 0, j = 0, o = 0;

	while (i < na && j < nb)
		out[o++] = key_lt(&b[j], &a[i]) ? b[j++] : a[i++];
	memcpy(out + o, a + i, (na - i) * sizeof(*a));
	memcpy(out + o + na - i, b + j, (nb - j) * sizeof(*b));
}

static struct ibsp_mig_key *merge_sort(struct ibsp_mig_key *a, struct ibsp_mig_key *tmp, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += RUN)
		insertion_sort(a + i, n - i < RUN ? n - i : RUN);
	for (uint32_t w = RUN; w < n; w *= 2) {
		struct ibsp_mig_key *t;

		for (uint32_t i = 0; i < n; i += 2 * w) {
			uint32_t na = n - i < w ? n - i : w;
			uint32_t nb = n - i - na < w ? n - i - na : w;

			if (!nb || !key_lt(&a[i + na], &a[i + na - 1])) /* already in order */
				memcpy(tmp + i, a + i, (na + nb) * sizeof(*a));
			else
				merge(a + i, na, a + i + na, nb, tmp + i);
		}
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

#define MAX_GROUPS 64
#define RANK_SHIFT 45 /* page numbers of 57-bit user addresses */
#define DIGIT_BITS 11
#define DIGITS	   (1u << DIGIT_BITS)

/* The sorted distinct groups of @a, at most MAX_GROUPS. Return: how many, or -1 for more. */
static int distinct_groups(const struct ibsp_mig_key *a, uint32_t n, uint64_t *g)
{
	int ng = 0;

	for (uint32_t i = 0; i < n; i++) {
		int j = ng;

		if (ng && a[i].group == g[ng - 1])
			continue;
		while (j && g[j - 1] > a[i].group) /* insertion into the sorted list */
			j--;
		if (j && g[j - 1] == a[i].group)
			continue;
		if (ng == MAX_GROUPS)
			return -1;
		memmove(g + j + 1, g + j, (size_t)(ng - j) * sizeof(*g));
		g[j] = a[i].group;
		ng++;
	}
	return ng;
}

/* Give every key its rank: its group's place in @g, then its page number. Return: bits that vary. */
static uint64_t rank_keys(struct ibsp_mig_key *a, uint32_t n, const uint64_t *g, int ng)
{
	uint64_t first = 0, vary = 0;
	int r = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (g[r] != a[i].group) {
			int lo = 0, hi = ng - 1;

			while (lo < hi) { /* binary search: the group is there */
				int mid = (lo + hi) / 2;

				if (g[mid] < a[i].group)
					lo = mid + 1;
				else
					hi = mid;
			}
			r = lo;
		}
		a[i].rank = (uint64_t)r << RANK_SHIFT | a[i].vaddr >> 12;
		if (!i)
			first = a[i].rank;
		vary |= a[i].rank ^ first;
	}
	return vary;
}

/* One stable counting pass on the digit at @shift, from @a into @out. */
static void radix_pass(const struct ibsp_mig_key *a, struct ibsp_mig_key *out, uint32_t n,
		       int shift, uint32_t *count)
{
	uint32_t sum = 0;

	memset(count, 0, DIGITS * sizeof(*count));
	for (uint32_t i = 0; i < n; i++)
		count[a[i].rank >> shift & (DIGITS - 1)]++;
	for (uint32_t d = 0; d < DIGITS; d++) {
		uint32_t c = count[d];

		count[d] = sum;
		sum += c;
	}
	for (uint32_t i = 0; i < n; i++)
		out[count[a[i].rank >> shift & (DIGITS - 1)]++] = a[i];
}

struct ibsp_mig_key *ibsp_mig_keys__sort(struct ibsp_mig_key *a, struct ibsp_mig_key *tmp,
					 uint32_t n)
{
	uint64_t groups[MAX_GROUPS], vary;
	uint32_t count[DIGITS];
	int ng = distinct_groups(a, n, groups);

	if (ng < 0)
		return merge_sort(a, tmp, n);
	vary = rank_keys(a, n, groups, ng);
	for (int shift = 0; shift < 64; shift += DIGIT_BITS) {
		struct ibsp_mig_key *t;

		if (!(vary >> shift & (DIGITS - 1)))
			continue;
		radix_pass(a, tmp, n, shift, count);
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}
