/* SPDX-License-Identifier: MIT */
/*
 * What a page's neighbours say about it: the samples of each 64 KiB range of
 * a process's address space (a neighbourhood), per accessor node, decayed
 * like the heat. Programs lay out what one thread uses together (a thread's
 * stack, its arena, its slice of an array under first touch), so the pages
 * of a neighbourhood tend to share their users; where they do not (objects
 * of many threads interleaved), the engine sees it and does not listen.
 *
 * The engine measures how far the neighbours can be believed on this host
 * (ibsp_engine__note_near()): of the samples from home of the pages whose
 * home is clear (on a top-tier node, those that had shown themselves private
 * there, stay >= NOISE_STAY; elsewhere, those whose heat is 7/8 one node's,
 * NEAR_OWN_MIN samples or more, from that node), the share whose neighbours,
 * the page itself left out, lead clearly to that home. Counting pages still
 * in slow memory lets it be told before the first promotions have settled.
 * While that agreement holds 7 times in 8 (view.near_agrees: the neighbours
 * are then wrong no more often than a sample is where the noise is low,
 * IBSP_LOW_NOISE_DIV), a page's first decision reads them as one more sample
 * from their leader (pg->near; locality's leads_clearly() and
 * first_move_leave()).
 *
 * The table is set-associative: NEAR_BITS slots in sets of NEAR_WAYS (one
 * cache line with up to three accessor nodes), a neighbourhood in any slot
 * of the set its key hashes to. One that finds its set full replaces the
 * slot of fewest samples, decayed, so a working set larger than the table
 * keeps the neighbourhoods that are sampled most, with all their counts,
 * and a newcomer takes the place of the last newcomer; the prior is absent
 * for the neighbourhoods left out, as it is for a page without a mapping or
 * a 2 MiB page (its own neighbourhood). It starts at 8 Ki slots (512 MiB of
 * address space) and doubles at a tick, up to 32 Ki, where more
 * neighbourhoods with samples were replaced in the interval than a quarter
 * of its slots and first decisions missed theirs, unless the pages are
 * known not to agree with their neighbours (ibsp_near_table__tick()).
 * Direct-mapped and fixed, as it was until 2026-12-02, a neighbourhood that
 * collided replaced the one there: past 8 Ki neighbourhoods sampled in an
 * interval most samples reset one, and the agreement read low
 * (docs/policy.md, "At scale").
 */
#ifndef IBSP_ENGINE_NEAR_H
#define IBSP_ENGINE_NEAR_H

#include "engine_internal.h"

#define NEAR_SHIFT    16 /* a neighbourhood: 64 KiB, 16 pages of 4 KiB */
#define NEAR_BITS     13 /* 8 Ki neighbourhoods: 128 KiB with up to 3 accessor nodes */
#define NEAR_WAYS     4	 /* slots a set: 64 bytes with up to 3 accessor nodes */
#define NEAR_BITS_MAX 15 /* grown (ibsp_near_table__tick()) up to 32 Ki: 512 KiB */
#define NEAR_ONE      16 /* a sample's count (4 fraction bits survive decay, as the heat's) */
#define NEAR_MIN      4	 /* samples from the other pages before the neighbours are told */
#define NEAR_VALID    (1ULL << 63)
#define NEAR_OWN_MIN  4 /* a page elsewhere counts from 4 samples of its own leader's, */
#define NEAR_OWN_DIV  8 /* 7 in 8 of its heat */

/*
 * One neighbourhood: its key (0: empty), the table's aging passes its counts
 * include, and its weight: its samples, decayed, as the counts (their sum
 * over NEAR_ONE, saturating): the set's slot of least weight is the one a
 * newcomer takes.
 */
struct ibsp_near {
	uint64_t key;
	uint8_t aged;
	uint8_t weight;
	uint16_t cnt[]; /* [nr_acc] decayed samples per accessor slot, NEAR_ONE units */
};

struct ibsp_near_table {
	char *slots;
	uint32_t
	    stride_shift; /* a slot: 1 << stride_shift bytes (16 with up to 3 accessor nodes) */
	uint32_t mask;	  /* sets - 1 */
	uint32_t nr_acc;
	uint32_t bits;	   /* 1 << bits slots */
	uint64_t replaced; /* since the last tick: neighbourhoods with samples that left */
	uint64_t asked;	   /* in the last tick's decisions: first decisions that asked, */
	uint64_t missed;   /* and of those, the ones whose neighbourhood was not there */
};

struct ibsp_near_table *ibsp_near_table__new(uint32_t nr_acc);
void ibsp_near_table__delete(struct ibsp_near_table *t);

/*
 * After a tick's decisions: while the neighbours may help (@hopeful: they
 * are believed, or their agreement is not known yet), over an eighth of the
 * first decisions that asked found no neighbourhood, and more
 * neighbourhoods with samples were replaced since the last tick than a
 * quarter of the slots, double the table (up to NEAR_BITS_MAX); every
 * neighbourhood keeps its counts. Where the pages are known not to agree
 * with their neighbours (objects of many threads interleaved), or no first
 * decision misses them (a host whose pages are all where their users are,
 * a working set the table holds), the table stays as it is: a larger one
 * would cost memory and misses for nothing. Return the slots (unchanged
 * without memory).
 */
uint32_t ibsp_near_table__tick(struct ibsp_near_table *t, bool hopeful);

/* The neighbourhood key of (@pid, @vaddr): a user address of a 4 KiB page (see resolve()). */
static inline uint64_t ibsp_near__key(uint32_t pid, uint64_t vaddr)
{
	return NEAR_VALID | (uint64_t)pid << 31 | vaddr >> NEAR_SHIFT;
}

/* The first slot of @key's set (NEAR_WAYS slots from it). */
static inline struct ibsp_near *ibsp_near_table__set(const struct ibsp_near_table *t, uint64_t key)
{
	uint64_t h = (key * 0x9e3779b97f4a7c15ULL) >> 40;

	return (struct ibsp_near *)(t->slots + ((h & t->mask) * NEAR_WAYS << t->stride_shift));
}

static inline struct ibsp_near *ibsp_near__way(const struct ibsp_near_table *t,
					       struct ibsp_near *set, uint32_t w)
{
	return (struct ibsp_near *)((char *)set + ((size_t)w << t->stride_shift));
}

/*
 * The way of @set that holds @key, or NEAR_WAYS: every way compared, without
 * a branch on which (on the per-sample path, most neighbourhoods of a large
 * working set are not in the table, and the way that holds one is any).
 */
static inline uint32_t ibsp_near__way_of(const struct ibsp_near_table *t, struct ibsp_near *set,
					 uint64_t key)
{
	uint32_t way = 0;

	/* Keys are distinct within a set: at most one way matches. */
	for (uint32_t w = 0; w < NEAR_WAYS; w++)
		way |= (uint32_t)(ibsp_near__way(t, set, w)->key == key) << w;
	return way ? (uint32_t)__builtin_ctz(way) : NEAR_WAYS;
}

/* The neighbourhood @key, or NULL when the table does not hold it. */
static inline struct ibsp_near *ibsp_near_table__find(const struct ibsp_near_table *t, uint64_t key)
{
	struct ibsp_near *set = ibsp_near_table__set(t, key);
	uint32_t w = ibsp_near__way_of(t, set, key);

	return w < NEAR_WAYS ? ibsp_near__way(t, set, w) : NULL;
}

/* Apply the aging passes @n has missed (@aged: the heat table's count, @shift its decay). */
static inline void ibsp_near__catch_up(struct ibsp_near *n, uint32_t nr_acc, uint32_t aged,
				       uint32_t shift)
{
	uint8_t gap = (uint8_t)(aged - n->aged);
	uint32_t total = 0;

	if (!gap)
		return;
	for (uint32_t s = 0; s < nr_acc; s++) {
		uint32_t c = n->cnt[s];

		/* Until a pass changes nothing (0, or below 1 << shift), as the heat's. */
		for (uint32_t k = 0; k < gap; k++) {
			uint32_t d = ibsp_heat_decay_once(c, shift);

			if (d == c)
				break;
			c = d;
		}
		n->cnt[s] = (uint16_t)c;
		total += c;
	}
	n->aged = (uint8_t)aged;
	total /= NEAR_ONE;
	n->weight = total < UINT8_MAX ? (uint8_t)total : UINT8_MAX;
}

/*
 * The slot of @set that the neighbourhood @key, not in the table, takes: the
 * one of least weight, decayed (an empty one has none; the first of them on
 * a tie), its counts reset. Its neighbourhood leaves; one with a sample's
 * weight is counted. Out of line: the per-sample path stays small.
 */
struct ibsp_near *ibsp_near_table__take(struct ibsp_near_table *t, const struct ibsp_heat_table *ht,
					struct ibsp_near *set, uint64_t key);

/*
 * Count a sample of accessor slot @slot in the neighbourhood @key, of the set
 * @set (ibsp_near_table__set(), told as the slots are prefetched); return it.
 */
static inline struct ibsp_near *ibsp_near_table__add(struct ibsp_near_table *t,
						     const struct ibsp_heat_table *ht,
						     struct ibsp_near *set, uint64_t key, int slot)
{
	uint32_t w = ibsp_near__way_of(t, set, key), c;
	struct ibsp_near *n;

	if (w == NEAR_WAYS) {
		n = ibsp_near_table__take(t, ht, set, key);
	} else {
		n = ibsp_near__way(t, set, w);
		ibsp_near__catch_up(n, t->nr_acc, ht->aged, ht->shift);
	}
	c = n->cnt[slot] + NEAR_ONE;
	n->cnt[slot] = c > UINT16_MAX ? UINT16_MAX : (uint16_t)c;
	n->weight += n->weight < UINT8_MAX;
	return n;
}

/*
 * The accessor slot that the samples of @n's pages other than @he lead
 * clearly (NEAR_MIN samples or more, and two thirds of them), or -1. @he's
 * own samples are its heat, decayed as the counts are.
 */
static inline int ibsp_near__leader(const struct ibsp_near *n, const struct ibsp_heat_entry *he,
				    uint32_t nr_acc)
{
	uint32_t total = 0, best = 0;
	int lead = -1;

	for (uint32_t s = 0; s < nr_acc; s++) {
		uint32_t own = he->heat[s] / (IBSP_HEAT_ONE / NEAR_ONE), c = n->cnt[s];

		c = c > own ? c - own : 0;
		total += c;
		if (c > best) {
			best = c;
			lead = (int)s;
		}
	}
	return best >= NEAR_MIN * NEAR_ONE && 3 * best >= 2 * total ? lead : -1;
}

#endif /* IBSP_ENGINE_NEAR_H */
