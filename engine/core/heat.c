// SPDX-License-Identifier: MIT
/*
 * The heat table: a fixed-size open-addressing hash table of struct
 * heat_entry (linear probing, Knuth's backward-shift deletion, so there are
 * no tombstones and lookups stay short). Occupancy is held at or below 3/4
 * of the slots: expected probes are ~2.5 for a hit and ~8.5 for a miss.
 *
 * When the table is full, an insert evicts the coldest entry among the 16
 * slots that follow the new key's home slot (sampled eviction): an exact
 * global minimum would need an ordered index updated on every sample. The
 * policy's interval scan then trims the table back to 15/16 of its bound,
 * coldest first (policy/policy.c), so inserts rarely need to evict.
 *
 * The moved map remembers where moved pages went, keyed like the heat table
 * (simulation) or by (pid, virtual page) (live, where the PFN changes with
 * the move), so the ping-pong guard and the simulated placement survive
 * eviction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define EVICT_WINDOW 16

uint64_t heat_table__slots_for(uint64_t max_entries)
{
	uint64_t need = max_entries + max_entries / 3 + 1, slots = 16;

	while (slots < need)
		slots <<= 1;
	return slots;
}

int heat_table__init(struct heat_table *t, uint64_t max_entries)
{
	uint64_t slots = heat_table__slots_for(max_entries);

	memset(t, 0, sizeof(*t));
	if (max_entries < 1 || slots > (1ULL << 32))
		return -EINVAL;
	/* calloc: untouched slots stay on the shared zero page until used. */
	t->slots = calloc(slots, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = slots - 1;
	t->bits = (uint32_t)__builtin_ctzll(slots);
	t->max = max_entries;
	return 0;
}

void heat_table__exit(struct heat_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

int heat_table__grow(struct heat_table *t)
{
	uint64_t n = (t->mask + 1) * 2;
	struct heat_entry *slots = calloc(n, sizeof(*slots));
	uint32_t bits = t->bits + 1;

	if (!slots)
		return -ENOMEM;
	for (uint64_t i = 0; i <= t->mask; i++) {
		uint64_t j;

		if (!t->slots[i].key)
			continue;
		for (j = heat_hash(t->slots[i].key, bits); slots[j].key; j = (j + 1) & (n - 1))
			;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->mask = n - 1;
	t->bits = bits;
	t->max *= 2;
	return 0;
}

struct heat_entry *heat_table__find(struct heat_table *t, uint64_t key)
{
	uint64_t i = heat_hash(key, t->bits);

	for (;;) {
		struct heat_entry *e = &t->slots[i];

		if (e->key == key)
			return e;
		if (!e->key)
			return NULL;
		i = (i + 1) & t->mask;
	}
}

static uint64_t entry_heat(const struct heat_entry *e)
{
	uint64_t sum = 0;

	for (int i = 0; i < IBSP_MAX_ACC_NODES; i++)
		sum += e->heat[i];
	return sum;
}

void heat_table__del(struct heat_table *t, struct heat_entry *victim)
{
	uint64_t i = (uint64_t)(victim - t->slots), j = i;

	for (;;) {
		uint64_t home;

		j = (j + 1) & t->mask;
		if (!t->slots[j].key)
			break;
		home = heat_hash(t->slots[j].key, t->bits);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->count--;
}

static void evict_near(struct heat_table *t, uint64_t home)
{
	struct heat_entry *victim = NULL;
	uint64_t best = UINT64_MAX;

	for (uint64_t k = 0; k < EVICT_WINDOW || !victim; k++) {
		struct heat_entry *e = &t->slots[(home + k) & t->mask];
		uint64_t h;

		if (!e->key)
			continue;
		h = entry_heat(e);
		if (h < best) {
			best = h;
			victim = e;
		}
	}
	heat_table__del(t, victim);
	t->evictions++;
}

struct heat_entry *heat_table__get(struct heat_table *t, uint64_t key, bool *is_new)
{
	uint64_t home = heat_hash(key, t->bits), i = home;

	for (;;) {
		struct heat_entry *e = &t->slots[i];

		if (e->key == key) {
			*is_new = false;
			return e;
		}
		if (!e->key)
			break;
		i = (i + 1) & t->mask;
	}
	if (t->count >= t->max) {
		evict_near(t, home);
		/* The deletion may have shifted entries: probe again. */
		for (i = home; t->slots[i].key; i = (i + 1) & t->mask)
			;
	}
	t->slots[i].key = key;
	t->count++;
	*is_new = true;
	return &t->slots[i];
}

static struct moved_rec *moved_slot(struct moved_rec *slots, uint64_t mask, uint32_t bits,
				    uint64_t key)
{
	uint64_t i = heat_hash(key, bits);

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & mask;
	return &slots[i];
}

static int moved_grow(struct moved_map *m)
{
	uint32_t bits = m->bits ? m->bits + 1 : 10;
	uint64_t n = 1ULL << bits;
	struct moved_rec *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint64_t i = 0; m->slots && i <= m->mask; i++) {
		if (m->slots[i].key)
			*moved_slot(slots, n - 1, bits, m->slots[i].key) = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->mask = n - 1;
	m->bits = bits;
	return 0;
}

int moved_map__put(struct moved_map *m, const struct moved_rec *rec)
{
	struct moved_rec *r;

	if ((m->count + 1) * 4 > (m->slots ? m->mask + 1 : 0) * 3) {
		int ret = moved_grow(m);

		if (ret)
			return ret;
	}
	r = moved_slot(m->slots, m->mask, m->bits, rec->key);
	if (!r->key)
		m->count++;
	*r = *rec;
	return 0;
}

const struct moved_rec *moved_map__find(const struct moved_map *m, uint64_t key)
{
	const struct moved_rec *r;

	if (!m->slots)
		return NULL;
	r = moved_slot(m->slots, m->mask, m->bits, key);
	return r->key ? r : NULL;
}

void moved_map__exit(struct moved_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
