// SPDX-License-Identifier: MIT
/*
 * The memory floor of the heat update (docs/performance.md, "Missed
 * targets"): what this machine takes to touch, for each sample of a
 * recording, the cache lines the heat table touches, and nothing else.
 *
 * The keys are the recording's pages (physical page numbers, or the
 * mapping's where a sample has no physical address), read once with the
 * library reader and not timed. Two layouts, each a bare model of its
 * table (no decay, no policy, no evidence: a counter per line touched):
 *
 *   split   the engine's (engine/core/heat.c): a 4-byte index slot (tag and
 *           position, linear probing, load 3/8 to 3/4), then a 32-byte entry
 *           in a dense array and the page owner's 4-byte word in a side array
 *           by position: three lines a sample
 *   inline  the entry in the index itself (32-byte slots, the same load): one
 *           line a sample; the layout step 3 of "Missed targets" weighs
 *
 * on huge pages (MADV_HUGEPAGE, as heat.c maps its arrays), each run
 * twice: without prefetching, and with the engine's pipeline of three
 * chunks of 64 samples (index slots prefetched two chunks ahead, entries
 * and owners one chunk ahead; for inline, the slots one chunk ahead).
 * The tables are filled before the timed passes, so a pass is the steady
 * state: updates, no inserts. The peer is the same passes over the
 * same keys folded onto PEER_PAGES pages, a table that fits in the L2.
 *
 * Usage: bench_floor RECORDING [RUNS]   (median of RUNS alternating passes)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ibsp/perf_file.h"

#define CHUNK	   64
#define PEER_PAGES 10007
#define HASH_MUL   0x9E3779B97F4A7C15ULL

struct entry { /* the engine's entry with two accessor nodes: 32 bytes */
	uint64_t key;
	uint32_t word[4];
	uint32_t heat[2];
};

_Static_assert(sizeof(struct entry) == 32, "the engine's entry size");

struct split {
	uint32_t *slots, mask, bits;
	struct entry *ent;
	uint32_t *owner;
	uint32_t count;
};

struct inl {
	struct entry *slots;
	uint32_t mask, bits;
};

/* Zeroed memory on huge pages where the kernel has them, as heat.c maps its arrays. */
static void *huge_zalloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t hash_of(uint64_t key, uint32_t bits)
{
	return (key * HASH_MUL) >> (64 - bits);
}

/* The index's size: the table's load between 3/8 and 3/4, as heat.c grows it. */
static uint32_t bits_for(uint64_t nr_keys)
{
	uint32_t bits = 4;

	while ((1ULL << bits) * 3 / 4 < nr_keys)
		bits++;
	return bits;
}

/* The split layout's position of @key (inserted when new): its tag is the hash's next bits. */
static uint32_t split_find(struct split *t, uint64_t key, int insert)
{
	uint64_t h = key * HASH_MUL, i = h >> (64 - t->bits);
	uint32_t tag = (uint32_t)(h >> 8) & 0xff000000u, v;

	while ((v = t->slots[i])) {
		if ((v & 0xff000000u) == tag && t->ent[(v & 0xffffffu) - 1].key == key)
			return (v & 0xffffffu) - 1;
		i = (i + 1) & t->mask;
	}
	if (!insert)
		return UINT32_MAX;
	t->ent[t->count].key = key;
	t->slots[i] = tag | (t->count + 1);
	return t->count++;
}

/* The position the first slot with @key's tag names (the engine's prefetch_entries()). */
static uint32_t split_peek(const struct split *t, uint64_t key)
{
	uint64_t h = key * HASH_MUL, i = h >> (64 - t->bits);
	uint32_t tag = (uint32_t)(h >> 8) & 0xff000000u, v;

	while ((v = t->slots[i]) && (v & 0xff000000u) != tag)
		i = (i + 1) & t->mask;
	return v ? (v & 0xffffffu) - 1 : 0;
}

static struct entry *inl_find(struct inl *t, uint64_t key, int insert)
{
	uint64_t i = hash_of(key, t->bits);

	while (t->slots[i].key) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		i = (i + 1) & t->mask;
	}
	if (!insert)
		return NULL;
	t->slots[i].key = key;
	return &t->slots[i];
}

static void split_update(struct split *t, uint32_t pos, uint64_t n)
{
	t->ent[pos].heat[n & 1] += 16;
	t->owner[pos] += 1;
}

static double split_pass(struct split *t, const uint64_t *keys, uint64_t nr, int prefetch)
{
	double t0 = cpu_s();

	if (!prefetch) {
		for (uint64_t n = 0; n < nr; n++)
			split_update(t, split_find(t, keys[n], 0), n);
		return cpu_s() - t0;
	}
	/* Chunk k + 2: index slots; chunk k + 1: entries and owners; chunk k: updates. */
	for (uint64_t k = 0; k * CHUNK < nr + 2 * CHUNK; k++) {
		uint64_t a = k * CHUNK, b = (k - 1) * CHUNK, c = (k - 2) * CHUNK;

		for (uint64_t n = a; k * CHUNK < nr && n < a + CHUNK && n < nr; n++)
			__builtin_prefetch(&t->slots[hash_of(keys[n], t->bits)]);
		for (uint64_t n = b; k >= 1 && n < b + CHUNK && n < nr; n++) {
			uint32_t pos = split_peek(t, keys[n]);

			__builtin_prefetch(&t->ent[pos]);
			__builtin_prefetch(&t->owner[pos]);
		}
		for (uint64_t n = c; k >= 2 && n < c + CHUNK && n < nr; n++)
			split_update(t, split_find(t, keys[n], 0), n);
	}
	return cpu_s() - t0;
}

static double inl_pass(struct inl *t, const uint64_t *keys, uint64_t nr, int prefetch)
{
	double t0 = cpu_s();

	if (!prefetch) {
		for (uint64_t n = 0; n < nr; n++)
			inl_find(t, keys[n], 0)->heat[n & 1] += 16;
		return cpu_s() - t0;
	}
	for (uint64_t k = 0; k * CHUNK < nr + CHUNK; k++) {
		uint64_t a = k * CHUNK, b = (k - 1) * CHUNK;

		for (uint64_t n = a; k * CHUNK < nr && n < a + CHUNK && n < nr; n++)
			__builtin_prefetch(&t->slots[hash_of(keys[n], t->bits)]);
		for (uint64_t n = b; k >= 1 && n < b + CHUNK && n < nr; n++)
			inl_find(t, keys[n], 0)->heat[n & 1] += 16;
	}
	return cpu_s() - t0;
}

/* The recording's keys, in perf's order; *@nr how many. */
static uint64_t *read_keys(const char *path, uint64_t *nr)
{
	struct ibsp_perf_reader *r;
	struct ibsp_sample buf[4096];
	uint64_t cap = 1 << 20, n = 0, *keys = malloc(cap * sizeof(*keys));
	int got;

	if (!keys || ibsp_perf_reader__open(path, NULL, &r)) {
		free(keys);
		return NULL;
	}
	while ((got = ibsp_perf_reader__read(r, buf, 4096)) > 0) {
		for (int i = 0; i < got; i++) {
			const struct ibsp_sample *s = &buf[i];
			uint64_t key;

			if (s->flags & IBSP_S_PADDR_VALID)
				key = 1ULL << 62 | s->paddr >> 12;
			else if (s->flags & IBSP_S_VADDR_VALID)
				key = 1ULL << 63 | (uint64_t)s->pid << 36 | s->vaddr >> 12;
			else
				continue;
			if (n == cap) {
				uint64_t *p = realloc(keys, 2 * cap * sizeof(*keys));

				if (!p) {
					got = -1;
					break;
				}
				keys = p;
				cap *= 2;
			}
			keys[n++] = key;
		}
	}
	ibsp_perf_reader__close(r);
	if (got < 0) {
		fprintf(stderr, "bench_floor: %s: the samples cannot be read\n", path);
		free(keys);
		return NULL;
	}
	*nr = n;
	return keys;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One table set: fill both layouts with @keys, then time RUNS alternating passes of each. */
static int run_set(const char *what, const uint64_t *keys, uint64_t nr, int runs)
{
	struct split s = { 0 };
	struct inl in = { 0 };
	double t[4][64];
	const char *name[4] = { "split, no prefetch", "split, 3-chunk pipeline",
				"inline, no prefetch", "inline, 2-chunk pipeline" };
	uint64_t distinct, cap;

	/* Sized for every sample a new page at first; the real count is known after the fill. */
	s.bits = bits_for(nr);
	s.mask = (1U << s.bits) - 1;
	cap = nr < (1U << 24) - 2 ? nr : (1U << 24) - 2;
	s.slots = huge_zalloc(((size_t)s.mask + 1) * sizeof(*s.slots));
	s.ent = huge_zalloc(cap * sizeof(*s.ent));
	s.owner = huge_zalloc(cap * sizeof(*s.owner));
	if (!s.slots || !s.ent || !s.owner) {
		fprintf(stderr, "bench_floor: %s: no memory for the tables\n", what);
		return -1;
	}
	for (uint64_t n = 0; n < nr && s.count < cap; n++)
		split_find(&s, keys[n], 1);
	distinct = s.count;
	if (distinct == cap && cap < nr) { /* positions are 24 bits: the rest would not fit */
		fprintf(stderr,
			"bench_floor: %s: %" PRIu64 " pages or more, over the model's %" PRIu64
			"\n",
			what, distinct, cap);
		return -1;
	}
	/* Now at the engine's load (3/8 to 3/4 of the index) for the pages really there. */
	munmap(s.slots, ((size_t)s.mask + 1) * sizeof(*s.slots));
	s.bits = bits_for(distinct);
	s.mask = (1U << s.bits) - 1;
	s.slots = huge_zalloc(((size_t)s.mask + 1) * sizeof(*s.slots));
	s.count = 0;
	in.bits = s.bits;
	in.mask = s.mask;
	in.slots = huge_zalloc(((size_t)in.mask + 1) * sizeof(*in.slots));
	if (!s.slots || !in.slots) {
		fprintf(stderr, "bench_floor: %s: no memory for the tables\n", what);
		return -1;
	}
	for (uint64_t n = 0; n < nr; n++) {
		split_find(&s, keys[n], 1);
		inl_find(&in, keys[n], 1);
	}
	for (int r = 0; r < runs; r++) {
		t[0][r] = split_pass(&s, keys, nr, 0);
		t[1][r] = split_pass(&s, keys, nr, 1);
		t[2][r] = inl_pass(&in, keys, nr, 0);
		t[3][r] = inl_pass(&in, keys, nr, 1);
	}
	printf("%s: %" PRIu64 " samples over %" PRIu64 " pages; index %u slots (%.0f%% full), "
	       "split %.1f MB, inline %.1f MB\n",
	       what, nr, distinct, s.mask + 1, 100.0 * (double)distinct / (s.mask + 1),
	       ((double)(s.mask + 1) * 4 + (double)distinct * 36) / 1e6,
	       (double)(in.mask + 1) * 32 / 1e6);
	for (int v = 0; v < 4; v++) {
		qsort(t[v], (size_t)runs, sizeof(double), cmp_double);
		printf("  %-26s %6.1f ns a sample (median of %d; min %.1f, max %.1f)\n", name[v],
		       t[v][runs / 2] / (double)nr * 1e9, runs, t[v][0] / (double)nr * 1e9,
		       t[v][runs - 1] / (double)nr * 1e9);
	}
	munmap(s.slots, ((size_t)s.mask + 1) * sizeof(*s.slots));
	munmap(s.ent, cap * sizeof(*s.ent));
	munmap(s.owner, cap * sizeof(*s.owner));
	munmap(in.slots, ((size_t)in.mask + 1) * sizeof(*in.slots));
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	uint64_t nr, *keys, *folded;

	if (argc < 2 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: %s RECORDING [RUNS (1-64, default 5)]\n", argv[0]);
		return 2;
	}
	keys = read_keys(argv[1], &nr);
	if (!keys)
		return 1;
	if (!nr) {
		fprintf(stderr, "bench_floor: %s: no sample with an address\n", argv[1]);
		return 1;
	}
	folded = malloc(nr * sizeof(*folded));
	if (!folded)
		return 1;
	for (uint64_t n = 0; n < nr; n++)
		folded[n] = 1ULL << 62 | (keys[n] * HASH_MUL >> 20) % PEER_PAGES;
	if (run_set("recording", keys, nr, runs) || run_set("peer (folded)", folded, nr, runs))
		return 1;
	free(keys);
	free(folded);
	return 0;
}
