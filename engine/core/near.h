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
 * The table is direct-mapped (NEAR_BITS slots of one cache line at most):
 * a neighbourhood that collides replaces the one there, whose counts are
 * then lost; the prior is only absent then, as it is for a page without a
 * mapping or a 2 MiB page (its own neighbourhood).
 */
#ifndef IBSP_ENGINE_NEAR_H
#define IBSP_ENGINE_NEAR_H

#include "engine_internal.h"

#define NEAR_SHIFT   16 /* a neighbourhood: 64 KiB, 16 pages of 4 KiB */
#define NEAR_BITS    13 /* 8 Ki neighbourhoods: 128 KiB with up to 3 accessor nodes */
#define NEAR_ONE     16 /* a sample's count (4 fraction bits survive decay, as the heat's) */
#define NEAR_MIN     4	/* samples from the other pages before the neighbours are told */
#define NEAR_VALID   (1ULL << 63)
#define NEAR_OWN_MIN 4 /* a page elsewhere counts from 4 samples of its own leader's, */
#define NEAR_OWN_DIV 8 /* 7 in 8 of its heat */

/* One neighbourhood: its key (0: empty), the table's aging passes its counts include. */
struct ibsp_near {
	uint64_t key;
	uint8_t aged;
	uint8_t pad;
	uint16_t cnt[]; /* [nr_acc] decayed samples per accessor slot, NEAR_ONE units */
};

struct ibsp_near_table {
	char *slots;
	uint32_t stride; /* bytes per slot */
	uint32_t mask;
	uint32_t nr_acc;
};

struct ibsp_near_table *ibsp_near_table__new(uint32_t nr_acc);
void ibsp_near_table__delete(struct ibsp_near_table *t);

/* The neighbourhood key of (@pid, @vaddr): a user address of a 4 KiB page (see resolve()). */
static inline uint64_t ibsp_near__key(uint32_t pid, uint64_t vaddr)
{
	return NEAR_VALID | (uint64_t)pid << 31 | vaddr >> NEAR_SHIFT;
}

static inline struct ibsp_near *ibsp_near_table__slot(const struct ibsp_near_table *t, uint64_t key)
{
	uint64_t h = (key * 0x9e3779b97f4a7c15ULL) >> 40;

	return (struct ibsp_near *)(t->slots + (h & t->mask) * t->stride);
}

/* Apply the aging passes @n has missed (@aged: the heat table's count, @shift its decay). */
static inline void ibsp_near__catch_up(struct ibsp_near *n, uint32_t nr_acc, uint32_t aged,
				       uint32_t shift)
{
	uint8_t gap = (uint8_t)(aged - n->aged);

	if (!gap)
		return;
	for (uint32_t s = 0; s < nr_acc; s++) {
		uint32_t c = n->cnt[s];

		for (uint32_t k = 0; k < gap && c; k++)
			c = ibsp_heat_decay_once(c, shift);
		n->cnt[s] = (uint16_t)c;
	}
	n->aged = (uint8_t)aged;
}

/* Count a sample of accessor slot @slot in the neighbourhood @key; return it. */
static inline struct ibsp_near *ibsp_near_table__add(struct ibsp_near_table *t,
						     const struct ibsp_heat_table *ht, uint64_t key,
						     int slot)
{
	struct ibsp_near *n = ibsp_near_table__slot(t, key);
	uint32_t c;

	if (n->key != key) {
		n->key = key;
		n->aged = (uint8_t)ht->aged;
		memset(n->cnt, 0, t->nr_acc * sizeof(n->cnt[0]));
	} else {
		ibsp_near__catch_up(n, t->nr_acc, ht->aged, ht->shift);
	}
	c = n->cnt[slot] + NEAR_ONE;
	n->cnt[slot] = c > UINT16_MAX ? UINT16_MAX : (uint16_t)c;
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
