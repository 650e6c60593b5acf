// SPDX-License-Identifier: MIT
/*
 * The order of a tick's candidates (hottest first, then by key) and of its
 * demotable pages (coldest first, the longest idle, then by key), in place
 * and without a copy: a candidate is one 64-bit word (cand_make() in
 * tick_internal.h), its entry's position and its pick, and what it is
 * ordered by is read from the entry.
 *
 * The order is a list of fields, each a 64-bit value of the entry (~total
 * for "hottest first"). The top 31 bits of a candidate are free: a pass
 * writes there the 31 bits of the first field that differ among the
 * candidates (the highest bit where any differs, and the 30 below it), a
 * plain sort of the 64-bit words then orders them by those bits, and each
 * run of equal bits is ordered the same way by the bits below, then by the
 * next field. Keys are unique, so the order is total: the same as a
 * comparison sort by the fields would give. Candidates come in the dense
 * array's order, so the first pass reads the entries nearly in memory order;
 * ties (pages of equal heat are common) read only their own entries.
 */
#include "tick_internal.h"

#define PREFIX_SHIFT 33
#define PREFIX_BITS  31
#define LOW_MASK     ((1ULL << PREFIX_SHIFT) - 1)
#define PREFETCH     8

static uint64_t field_of(const struct ibsp_engine *e, const struct ibsp_heat_entry *he,
			 enum ibsp_cand_field f)
{
	switch (f) {
	case CAND_HOTTEST:
		return ~entry_total(he, e->nr_acc);
	case CAND_COLDEST:
		return entry_total(he, e->nr_acc);
	case CAND_LONGEST_IDLE:
		return UINT8_MAX - he->idle;
	case CAND_PID:
		return he->pid;
	case CAND_VADDR:
		return he->vaddr;
	case CAND_KEY:
	default:
		return he->key;
	}
}

static const struct ibsp_heat_entry *entry_of(const struct ibsp_engine *e, const uint64_t *a,
					      uint64_t i, uint64_t n)
{
	if (i + PREFETCH < n)
		__builtin_prefetch(ibsp_heat_table__at(e->ht, cand_pos(a[i + PREFETCH])));
	return ibsp_heat_table__at(e->ht, cand_pos(a[i]));
}

static void insertion_sort(uint64_t *a, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		uint64_t x = a[i], j = i;

		for (; j && x < a[j - 1]; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

static void sift_down(uint64_t *a, uint64_t root, uint64_t n)
{
	uint64_t x = a[root];

	for (uint64_t c; (c = 2 * root + 1) < n; root = c) {
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[c] <= x)
			break;
		a[root] = a[c];
	}
	a[root] = x;
}

static void heap_sort(uint64_t *a, uint64_t n)
{
	for (uint64_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (uint64_t i = n; i-- > 1;) {
		uint64_t x = a[0];

		a[0] = a[i];
		a[i] = x;
		sift_down(a, 0, i);
	}
}

static uint64_t median3(uint64_t x, uint64_t y, uint64_t z)
{
	if (x > y) {
		uint64_t t = x;

		x = y;
		y = t;
	}
	return z < x ? x : z > y ? y : z;
}

/* Ascending, in place: quicksort, heapsort past @depth levels, insertion sort below 16. */
static void sort_words(uint64_t *a, uint64_t n, unsigned int depth)
{
	while (n > 16) {
		uint64_t p = median3(a[0], a[n / 2], a[n - 1]), i = 0, j = n - 1;

		if (!depth--) {
			heap_sort(a, n);
			return;
		}
		for (;; i++, j--) { /* Hoare's partition */
			uint64_t t;

			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i >= j)
				break;
			t = a[i];
			a[i] = a[j];
			a[j] = t;
		}
		/* [0, j] <= p <= [j + 1, n): recurse into the smaller part. */
		if (j + 1 < n - j - 1) {
			sort_words(a, j + 1, depth);
			a += j + 1;
			n -= j + 1;
		} else {
			sort_words(a + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	insertion_sort(a, n);
}

void ibsp_sort_u64(uint64_t *a, uint64_t n)
{
	sort_words(a, n, 2 * (64 - (unsigned int)__builtin_clzll(n | 1)));
}

/*
 * Order @a[0, @n), whose fields before @f[0] are equal, by the fields
 * @f[0, @nr_f), the first of them only by its bits below @below (64: all).
 */
static void order(const struct ibsp_engine *e, uint64_t *a, uint64_t n,
		  const enum ibsp_cand_field *f, unsigned int nr_f, unsigned int below)
{
	uint64_t first, diff = 0, keep = below >= 64 ? UINT64_MAX : (1ULL << below) - 1;
	unsigned int top, low;

	if (n < 2 || !nr_f)
		return;
	first = field_of(e, entry_of(e, a, 0, n), *f) & keep;
	for (uint64_t i = 1; i < n; i++)
		diff |= (field_of(e, entry_of(e, a, i, n), *f) & keep) ^ first;
	if (!diff) {
		order(e, a, n, f + 1, nr_f - 1, 64);
		return;
	}
	top = 63 - (unsigned int)__builtin_clzll(diff);
	low = top >= PREFIX_BITS - 1 ? top - (PREFIX_BITS - 1) : 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v =
		    (field_of(e, entry_of(e, a, i, n), *f) >> low) & ((1ULL << PREFIX_BITS) - 1);

		a[i] = (a[i] & LOW_MASK) | v << PREFIX_SHIFT;
	}
	ibsp_sort_u64(a, n);
	/* Runs of equal bits: by the bits below them, or (none left) by the next field. */
	for (uint64_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j] >> PREFIX_SHIFT == a[i] >> PREFIX_SHIFT; j++)
			;
		if (low)
			order(e, a + i, j - i, f, nr_f, low);
		else
			order(e, a + i, j - i, f + 1, nr_f - 1, 64);
	}
}

void ibsp_engine__sort_cands(const struct ibsp_engine *e, uint64_t *c, uint64_t n,
			     const enum ibsp_cand_field *fields, unsigned int nr_fields)
{
	order(e, c, n, fields, nr_fields, 64);
	/* The prefix bits are scratch: clear them, so a candidate reads the same after. */
	for (uint64_t i = 0; i < n; i++)
		c[i] &= LOW_MASK;
}
