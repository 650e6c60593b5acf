// SPDX-License-Identifier: MIT
/*
 * The neighbourhoods' table (near.h): its allocation, the slot a newcomer
 * takes and the table's growth. Counting and reading are inline, on the
 * per-sample path.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "near.h"

_Static_assert(IBSP_HEAT_ONE % NEAR_ONE == 0, "a page's heat converts to neighbourhood counts");
_Static_assert(1U << NEAR_BITS == IBSP_NEAR_START_SLOTS, "the slots the stats report at first");

/* 1 << @bits zeroed slots, in sets of one cache line with up to 3 accessor nodes. */
static char *slots_new(const struct ibsp_near_table *t, uint32_t bits)
{
	return ibsp_zalloc_lines((size_t)1 << (bits + t->stride_shift));
}

struct ibsp_near_table *ibsp_near_table__new(uint32_t nr_acc)
{
	struct ibsp_near_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nr_acc = nr_acc;
	t->bits = NEAR_BITS;
	t->mask = (1U << NEAR_BITS) / NEAR_WAYS - 1; /* sets */
	t->stride_shift = 4;
	while ((1U << t->stride_shift) <
	       offsetof(struct ibsp_near, cnt) + nr_acc * sizeof(uint16_t))
		t->stride_shift++;
	t->slots = slots_new(t, NEAR_BITS);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

struct ibsp_near *ibsp_near_table__take(struct ibsp_near_table *t, const struct ibsp_heat_table *ht,
					struct ibsp_near *set, uint64_t key)
{
	uint32_t least = UINT32_MAX, victim = 0;
	struct ibsp_near *n;

	for (uint32_t w = 0; w < NEAR_WAYS; w++) {
		n = ibsp_near__way(t, set, w);
		ibsp_near__catch_up(n, t->nr_acc, ht->aged, ht->shift);
		victim = n->weight < least ? w : victim;
		least = n->weight < least ? n->weight : least;
	}
	t->replaced += least != 0;
	n = ibsp_near__way(t, set, victim);
	memset(n, 0, (size_t)1 << t->stride_shift);
	n->key = key;
	n->aged = (uint8_t)ht->aged;
	return n;
}

/*
 * Doubling the sets splits each one in two by one more bit of the key's
 * hash: every neighbourhood of an old set finds a free slot in its new one.
 */
static int grow(struct ibsp_near_table *t)
{
	uint32_t stride = 1U << t->stride_shift, old_slots = 1U << t->bits;
	char *slots = slots_new(t, t->bits + 1);
	char *old = t->slots;

	if (!slots)
		return -1;
	t->slots = slots;
	t->bits++;
	t->mask = t->mask * 2 + 1;
	for (uint32_t i = 0; i < old_slots; i++) {
		const struct ibsp_near *n = (const struct ibsp_near *)(old + (size_t)i * stride);
		struct ibsp_near *set;
		uint32_t w = 0;

		if (!n->key)
			continue;
		set = ibsp_near_table__set(t, n->key);
		while (w < NEAR_WAYS - 1 && ibsp_near__way(t, set, w)->key)
			w++; /* from one old set: NEAR_WAYS at most */
		memcpy(ibsp_near__way(t, set, w), n, stride);
	}
	free(old);
	return 0;
}

uint32_t ibsp_near_table__tick(struct ibsp_near_table *t, bool hopeful)
{
	bool missing = t->missed * 8 > t->asked;

	/* As many doublings as bring the replaced to a quarter of the slots, at once. */
	while (hopeful && missing && t->bits < NEAR_BITS_MAX && t->replaced * 4 > 1ULL << t->bits) {
		if (grow(t))
			break; /* without memory, the table only stays as it is */
	}
	t->replaced = t->asked = t->missed = 0;
	return 1U << t->bits;
}

void ibsp_near_table__delete(struct ibsp_near_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}
