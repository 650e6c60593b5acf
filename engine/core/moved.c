// SPDX-License-Identifier: MIT
/*
 * The moved map remembers where moved pages went, so the ping-pong guard
 * and the simulated placement survive eviction. Live, it is keyed by (pid,
 * virtual page), as the PFN changes with the move, and takes a record at
 * every move; its records count the distinct pages moved, and those moved
 * more than once, into the engine's stats. In simulation it is keyed like
 * the heat table, and a moved page's entry holds the same history while it
 * is tracked: the record is written when the entry leaves the table
 * (t->spill, heat.c), so the map holds only evicted moved pages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine_internal.h"

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

/*
 * The age (in intervals before @now) from which records are forgotten: the
 * largest power of two, at least m->keep, that half the records or more
 * have reached (m->keep itself when only it qualifies), so that at least half
 * go; 0 when fewer than half are m->keep old (then none is forgotten, and
 * the map grows instead).
 */
static uint64_t moved_cutoff(const struct ibsp_moved_map *m, uint32_t now)
{
	uint64_t older[33] = { 0 }; /* [b]: records at least 2^b old; [from]: at least keep */
	uint32_t from = 0;

	while (from < 32 && (1ULL << from) < m->keep)
		from++;
	for (uint64_t i = 0; i <= m->mask; i++) {
		uint32_t age = now - m->slots[i].last_move;

		if (!m->slots[i].key || age < m->keep)
			continue;
		for (uint32_t b = from; b < 33 && (b == from || age >= 1ULL << b); b++)
			older[b]++;
	}
	for (int b = 32; b >= (int)from; b--) {
		if (2 * older[b] >= m->count)
			return b == (int)from ? (m->keep ? m->keep : 1) : 1ULL << b;
	}
	return 0;
}

/* Forget the records at least @cutoff intervals older than @now; rehash the rest in place. */
static int moved_forget(struct ibsp_moved_map *m, uint32_t now, uint64_t cutoff)
{
	struct ibsp_moved_rec *slots = calloc(m->mask + 1, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint64_t i = 0; i <= m->mask; i++) {
		if (!m->slots[i].key)
			continue;
		if ((uint32_t)(now - m->slots[i].last_move) >= cutoff) {
			m->count--;
			m->forgotten++;
			continue;
		}
		*moved_slot(slots, m->mask, m->bits, m->slots[i].key) = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	return 0;
}

int ibsp_moved_map__put(struct ibsp_moved_map *m, const struct ibsp_moved_rec *rec)
{
	struct ibsp_moved_rec *r;

	if (m->cap && m->count >= m->cap && !ibsp_moved_map__find(m, rec->key)) {
		uint64_t cutoff = moved_cutoff(m, rec->last_move);

		if (cutoff) {
			int ret = moved_forget(m, rec->last_move, cutoff);

			if (ret)
				return ret;
		}
	}
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

uint64_t ibsp_moved_map__bytes(const struct ibsp_moved_map *m)
{
	return m->slots ? (m->mask + 1) * sizeof(*m->slots) : 0;
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
