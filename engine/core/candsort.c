// SPDX-License-Identifier: MIT
/*
 * The order of a tick's candidates (hottest first, then by key) and of its
 * demotable pages (coldest first, the longest idle, then by key), in place
 * and without a copy: a candidate is one 64-bit word (cand_make() in
 * tick_internal.h), its entry's position and its pick, and what it is
 * ordered by is read from the entry.
 *
 * The order is a list of fields, each a 64-bit value of the entry (~total
 * for "hottest first"). While ordered, a candidate's position takes only the
 * bits the table needs, and the rest of the word is scratch (43 bits for a
 * million pages): one pass over the entries finds, per field, the highest
 * bit where the candidates differ; a second writes there the differing bits
 * of the first field, then of the next, as many as fit; a plain sort of the
 * words orders them by all of those at once, and each run of equal scratch
 * (none, when the key fit whole) is ordered the same way by what is left.
 * Keys are unique, so the order is total: the same as a comparison sort by
 * the fields would give. Candidates come in the dense array's order, so the
 * passes read the entries nearly in memory order.
 */
#include "tick_internal.h"

#define PREFETCH 8

static uint64_t field_of(const struct ibsp_engine *e, const struct ibsp_heat_entry *he,
			 enum ibsp_cand_field f)
{
	switch (f) {
	case CAND_HOTTEST: /* the most worth (tick_internal.h's cand_worth()) */
		return ~cand_worth(he, entry_total(he, e->nr_acc));
	case CAND_COLDEST:
		return entry_total(he, e->nr_acc);
	case CAND_LONGEST_IDLE:
		return UINT8_MAX - he->idle;
	case CAND_PID:
		return he->pid;
	case CAND_VADDR:
		return ibsp_heat_table__vaddr(e->ht, he);
	case CAND_KEY:
	default:
		return he->key;
	}
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

/*
 * By bits [@lo, @hi) only, in place (an American flag sort: a digit of 8
 * bits at a time from the top, each word swapped into its bucket); words
 * equal in those bits end up together, in no set order. Digits where the
 * words do not differ are skipped; small ranges get a comparison sort.
 */
#define RADIX_BITS 8
#define RADIX_MIN  256

static void radix_sort(uint64_t *a, uint64_t n, unsigned int hi, unsigned int lo)
{
	uint64_t head[1 << RADIX_BITS] = { 0 }, end[1 << RADIX_BITS], diff = 0;
	unsigned int sh, nb;

	if (n < RADIX_MIN) {
		sort_words(a, n, 2 * (64 - (unsigned int)__builtin_clzll(n | 1)));
		return;
	}
	for (uint64_t i = 1; i < n; i++)
		diff |= a[i] ^ a[0];
	diff &= (hi < 64 ? (1ULL << hi) - 1 : UINT64_MAX) & ~((1ULL << lo) - 1);
	if (!diff)
		return;
	hi = 64 - (unsigned int)__builtin_clzll(diff);
	sh = hi - lo < RADIX_BITS ? lo : hi - RADIX_BITS;
	nb = 1U << (hi - sh);
	for (uint64_t i = 0; i < n; i++)
		head[a[i] >> sh & (nb - 1)]++;
	for (uint64_t b = 0, sum = 0; b < nb; b++) {
		uint64_t c = head[b];

		head[b] = sum;
		end[b] = sum += c;
	}
	for (unsigned int b = 0; b < nb; b++) {
		while (head[b] < end[b]) {
			uint64_t x = a[head[b]];
			unsigned int k = x >> sh & (nb - 1);

			while (k != b) { /* x goes to bucket k; what was there moves on */
				uint64_t y = a[head[k]];

				a[head[k]++] = x;
				x = y;
				k = x >> sh & (nb - 1);
			}
			a[head[b]++] = x;
		}
	}
	for (uint64_t b = 0, from = 0; b < nb; from = end[b++]) {
		if (end[b] - from > 1)
			radix_sort(a + from, end[b] - from, sh, lo);
	}
}

void ibsp_sort_u64(uint64_t *a, uint64_t n)
{
	sort_words(a, n, 2 * (64 - (unsigned int)__builtin_clzll(n | 1)));
}

/*
 * While ordered, a candidate is repacked so the scratch is as wide as the
 * table allows: its position in the low @pos_bits bits, its pick in the next
 * bit, the scratch above (63 - @pos_bits bits: 43 for a million pages).
 */
struct cand_sort {
	const struct ibsp_engine *e;
	unsigned int pos_bits; /* positions are below 1 << pos_bits */
	unsigned int shift;    /* the scratch's lowest bit: pos_bits + 1 */
	uint64_t pos_mask;     /* (1 << pos_bits) - 1 */
};

#define MAX_FIELDS 3

static const struct ibsp_heat_entry *packed_entry(const struct cand_sort *s, const uint64_t *a,
						  uint64_t i, uint64_t n)
{
	if (i + PREFETCH < n)
		__builtin_prefetch(
		    ibsp_heat_table__at(s->e->ht, (uint32_t)(a[i + PREFETCH] & s->pos_mask)));
	return ibsp_heat_table__at(s->e->ht, (uint32_t)(a[i] & s->pos_mask));
}

/* The bits of one field that the scratch holds: [@low, @top] of field @k. */
struct field_bits {
	unsigned int k, top, low;
};

/*
 * Which bits of @f[0, @nr) go into the scratch: each field's bits from the
 * highest that differs among the candidates (@diff) down, the fields in
 * turn, until the scratch is full. Return how many fields have bits there;
 * what is left to order runs of equal scratch by: the fields from *@next,
 * the first of them by its bits below *@below.
 */
static unsigned int plan_bits(const struct cand_sort *s, const uint64_t *diff, unsigned int nr,
			      struct field_bits *fb, unsigned int *next, unsigned int *below)
{
	unsigned int room = 64 - s->shift, used = 0, k;

	*below = 64;
	for (k = 0; k < nr && room; k++) {
		unsigned int top, width;

		if (!diff[k])
			continue; /* the same in every candidate: it orders nothing */
		top = 63 - (unsigned int)__builtin_clzll(diff[k]);
		width = top + 1 < room ? top + 1 : room;
		fb[used++] = (struct field_bits){ .k = k, .top = top, .low = top + 1 - width };
		room -= width;
		if (top + 1 > width) {
			*next = k; /* cut: its bits below low are left */
			*below = top + 1 - width;
			return used;
		}
	}
	*next = k;
	return used;
}

/*
 * Order @a[0, @n), whose fields before @f[0] are equal, by the fields
 * @f[0, @nr_f), the first of them only by its bits below @below (64: all):
 * the differing bits of as many fields as the scratch holds go there, one
 * sort of the words orders by them, and each run of equal scratch is ordered
 * the same way by what is left (none when the key fit whole).
 */
static void order(const struct cand_sort *s, uint64_t *a, uint64_t n, const enum ibsp_cand_field *f,
		  unsigned int nr_f, unsigned int below)
{
	uint64_t first[MAX_FIELDS], diff[MAX_FIELDS] = { 0 }, keep[MAX_FIELDS];
	unsigned int nr = nr_f < MAX_FIELDS ? nr_f : MAX_FIELDS, used, next, low, bits = 0;
	struct field_bits fb[MAX_FIELDS];
	const struct ibsp_heat_entry *he;

	if (n < 2 || !nr_f)
		return;
	for (unsigned int k = 0; k < nr; k++)
		keep[k] = k || below >= 64 ? UINT64_MAX : (1ULL << below) - 1;
	he = packed_entry(s, a, 0, n);
	for (unsigned int k = 0; k < nr; k++)
		first[k] = field_of(s->e, he, f[k]) & keep[k];
	for (uint64_t i = 1; i < n; i++) {
		he = packed_entry(s, a, i, n);
		for (unsigned int k = 0; k < nr; k++)
			diff[k] |= (field_of(s->e, he, f[k]) & keep[k]) ^ first[k];
	}
	used = plan_bits(s, diff, nr, fb, &next, &low);
	if (!used) {
		order(s, a, n, f + next, nr_f - next, 64);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = 0;

		he = packed_entry(s, a, i, n);
		for (unsigned int u = 0; u < used; u++) {
			unsigned int width = fb[u].top - fb[u].low + 1;

			v = v << width |
			    ((field_of(s->e, he, f[fb[u].k]) & keep[fb[u].k]) >> fb[u].low &
			     (UINT64_MAX >> (64 - width)));
		}
		a[i] = (a[i] & ((1ULL << s->shift) - 1)) | v << s->shift;
	}
	for (unsigned int u = 0; u < used; u++)
		bits += fb[u].top - fb[u].low + 1;
	radix_sort(a, n, s->shift + bits, s->shift);
	/* Runs of equal scratch: by the cut field's bits below, or by the fields after. */
	for (uint64_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && a[j] >> s->shift == a[i] >> s->shift; j++)
			;
		if (j - i > 1)
			order(s, a + i, j - i, f + next, nr_f - next, low);
	}
}

void ibsp_engine__sort_cands(const struct ibsp_engine *e, uint64_t *c, uint64_t n,
			     const enum ibsp_cand_field *fields, unsigned int nr_fields)
{
	struct cand_sort s = { .e = e };

	if (n < 2)
		return;
	s.pos_bits = 64 - (unsigned int)__builtin_clzll(e->ht->count | 1);
	s.shift = s.pos_bits + 1;
	s.pos_mask = (1ULL << s.pos_bits) - 1;
	for (uint64_t i = 0; i < n; i++)
		c[i] = cand_pos(c[i]) | (c[i] & CAND_FOLLOW) >> 32 << s.pos_bits;
	order(&s, c, n, fields, nr_fields, 64);
	/* Back to cand_make()'s layout: the scratch is dropped. */
	for (uint64_t i = 0; i < n; i++)
		c[i] = (c[i] & s.pos_mask) | (c[i] >> s.pos_bits & 1) << 32;
}
