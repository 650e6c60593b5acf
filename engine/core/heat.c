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
 * engine's interval scan then trims the table back to 7/8 of its bound,
 * coldest first (engine/core/tick.c), so inserts rarely need to evict.
 *
 * The moved map remembers where moved pages went, keyed like the heat table
 * (simulation) or by (pid, virtual page) (live, where the PFN changes with
 * the move), so the ping-pong guard and the simulated placement survive
 * eviction. Its records also count the distinct pages moved, and those
 * moved more than once, into the engine's stats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define EVICT_WINDOW 16

uint64_t ibsp_heat_table__slots_for(uint64_t max_entries)
{
	uint64_t need = max_entries + max_entries / 3 + 1, slots = 16;

	while (slots < need)
		slots <<= 1;
	return slots;
}

struct ibsp_heat_table *ibsp_heat_table__new(uint64_t max_entries)
{
	uint64_t slots = ibsp_heat_table__slots_for(max_entries);
	struct ibsp_heat_table *t;

	if (max_entries < 1 || slots > (1ULL << 32)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	/* calloc: untouched slots stay on the shared zero page until used. */
	t->slots = calloc(slots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->mask = slots - 1;
	t->bits = (uint32_t)__builtin_ctzll(slots);
	t->max = max_entries;
	return t;
}

void ibsp_heat_table__delete(struct ibsp_heat_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

int ibsp_heat_table__grow(struct ibsp_heat_table *t)
{
	uint64_t n = (t->mask + 1) * 2;
	struct ibsp_heat_entry *slots = calloc(n, sizeof(*slots));
	uint32_t bits = t->bits + 1;

	if (!slots)
		return -ENOMEM;
	for (uint64_t i = 0; i <= t->mask; i++) {
		uint64_t j;

		if (!t->slots[i].key)
			continue;
		for (j = ibsp_heat_hash(t->slots[i].key, bits); slots[j].key; j = (j + 1) & (n - 1))
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

struct ibsp_heat_entry *ibsp_heat_table__find(struct ibsp_heat_table *t, uint64_t key)
{
	uint64_t i = ibsp_heat_hash(key, t->bits);

	for (;;) {
		struct ibsp_heat_entry *e = &t->slots[i];

		if (e->key == key)
			return e;
		if (!e->key)
			return NULL;
		i = (i + 1) & t->mask;
	}
}

static uint64_t entry_heat(const struct ibsp_heat_entry *e)
{
	uint64_t sum = 0;

	for (int i = 0; i < IBSP_MAX_ACC_NODES; i++)
		sum += e->heat[i];
	return sum;
}

void ibsp_heat_table__del(struct ibsp_heat_table *t, struct ibsp_heat_entry *victim)
{
	uint64_t i = (uint64_t)(victim - t->slots), j = i;

	if (victim->key & KEY_VIRT)
		t->nr_virt--;

	for (;;) {
		uint64_t home;

		j = (j + 1) & t->mask;
		if (!t->slots[j].key)
			break;
		home = ibsp_heat_hash(t->slots[j].key, t->bits);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->count--;
}

static void evict_near(struct ibsp_heat_table *t, uint64_t home)
{
	struct ibsp_heat_entry *victim = NULL;
	uint64_t best = UINT64_MAX;

	for (uint64_t k = 0; k < EVICT_WINDOW || !victim; k++) {
		struct ibsp_heat_entry *e = &t->slots[(home + k) & t->mask];
		uint64_t h;

		if (!e->key)
			continue;
		h = entry_heat(e);
		if (h < best) {
			best = h;
			victim = e;
		}
	}
	ibsp_heat_table__del(t, victim);
	t->evictions++;
}

struct ibsp_heat_entry *ibsp_heat_table__get(struct ibsp_heat_table *t, uint64_t key, bool *is_new)
{
	uint64_t home = ibsp_heat_hash(key, t->bits), i = home;

	for (;;) {
		struct ibsp_heat_entry *e = &t->slots[i];

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
	if (key & KEY_VIRT)
		t->nr_virt++;
	*is_new = true;
	return &t->slots[i];
}

static struct ibsp_moved_rec *moved_slot(struct ibsp_moved_rec *slots, uint64_t mask, uint32_t bits,
					 uint64_t key)
{
	uint64_t i = ibsp_heat_hash(key, bits);

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & mask;
	return &slots[i];
}

static int moved_grow(struct ibsp_moved_map *m)
{
	uint32_t bits = m->bits ? m->bits + 1 : 10;
	uint64_t n = 1ULL << bits;
	struct ibsp_moved_rec *slots = calloc(n, sizeof(*slots));

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

int ibsp_moved_map__put(struct ibsp_moved_map *m, const struct ibsp_moved_rec *rec)
{
	struct ibsp_moved_rec *r;

	if ((m->count + 1) * 4 > (m->slots ? m->mask + 1 : 0) * 3) {
		int ret = moved_grow(m);

		if (ret)
			return ret;
	}
	r = moved_slot(m->slots, m->mask, m->bits, rec->key);
	if (m->st) {
		/* A record per moved page: its first put is its first move. */
		m->st->pages_moved += !r->key && rec->nr_moves;
		m->st->moved_twice += rec->nr_moves > 1 && (!r->key || r->nr_moves < 2);
	}
	if (!r->key)
		m->count++;
	*r = *rec;
	return 0;
}

const struct ibsp_moved_rec *ibsp_moved_map__find(const struct ibsp_moved_map *m, uint64_t key)
{
	const struct ibsp_moved_rec *r;

	if (!m->slots)
		return NULL;
	r = moved_slot(m->slots, m->mask, m->bits, key);
	return r->key ? r : NULL;
}

struct ibsp_moved_map *ibsp_moved_map__new(void)
{
	return calloc(1, sizeof(struct ibsp_moved_map));
}

void ibsp_moved_map__delete(struct ibsp_moved_map *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}
