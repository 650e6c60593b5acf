// SPDX-License-Identifier: MIT
/*
 * The hindsight oracle of `replay --evaluate`: from a first pass over the
 * whole recording it knows every page's accesses per accessor node, and
 * places each page, once, on the top-tier node that serves most of them.
 * Hottest pages go first, within each node's free memory above its
 * watermark (a full node passes the page to its next-best node). This is
 * the best *static* placement; a policy that follows phase changes can beat
 * it on recordings that have them (docs/evaluation.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "oracle.h"

struct oracle {
	const struct ibsp_engine *e; /* resolution tables and capacity */
	struct heat_table t;	     /* heat[] = raw counts; node = recorded; prev_node = placed */
	uint64_t moved_bytes;
	uint64_t moved_pages;
};

struct oracle *oracle__new(const struct ibsp_engine *e)
{
	struct oracle *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->e = e;
	if (heat_table__init(&o->t, 1 << 16)) {
		free(o);
		return NULL;
	}
	return o;
}

void oracle__delete(struct oracle *o)
{
	if (!o)
		return;
	heat_table__exit(&o->t);
	free(o);
}

int oracle__count(struct oracle *o, const struct ibsp_sample *s, size_t nr)
{
	for (size_t i = 0; i < nr; i++, s++) {
		struct heat_entry *he;
		int node, slot;
		uint64_t key;
		bool is_new;

		if (ibsp_engine__resolve(o->e, s, &key, &node, &slot) || node < 0)
			continue;
		if (o->t.count >= o->t.max && heat_table__grow(&o->t))
			return -ENOMEM;
		he = heat_table__get(&o->t, key, &is_new);
		if (is_new) {
			he->node = (int8_t)node;
			he->prev_node = (int8_t)node;
		}
		if (he->heat[slot] < UINT32_MAX)
			he->heat[slot]++;
	}
	return 0;
}

struct rank {
	uint64_t total;
	uint64_t key;
	uint32_t idx;
};

static int cmp_rank(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

int oracle__place(struct oracle *o, uint64_t *free_bytes)
{
	const struct ibsp_engine *e = o->e;
	const struct ibsp_topology *topo = e->topo;
	struct rank *r = malloc((o->t.count ? o->t.count : 1) * sizeof(*r));
	uint64_t n = 0;

	if (!r)
		return -ENOMEM;
	for (uint64_t i = 0; i <= o->t.mask; i++) {
		const struct heat_entry *he = &o->t.slots[i];
		uint64_t total = 0;

		if (!he->key)
			continue;
		for (uint32_t s = 0; s < e->nr_acc; s++)
			total += he->heat[s];
		r[n++] = (struct rank){ .total = total, .key = he->key, .idx = (uint32_t)i };
	}
	qsort(r, n, sizeof(*r), cmp_rank);
	for (uint64_t i = 0; i < n; i++) {
		struct heat_entry *he = &o->t.slots[r[i].idx];
		uint32_t bytes = he->key & KEY_HUGE ? 1U << PAGE_SHIFT_2M : 1U << PAGE_SHIFT_4K;
		bool tried[IBSP_MAX_ACC_NODES] = { 0 };

		/* Accessor nodes by their count, best first; the first with room wins. */
		for (uint32_t round = 0; round < e->nr_acc; round++) {
			int best = -1, idx;
			uint64_t wmark;

			for (uint32_t s = 0; s < e->nr_acc; s++) {
				if (tried[s] || !he->heat[s] ||
				    !topo->nodes[e->acc_node[s]].top_tier)
					continue;
				if (best < 0 || he->heat[s] > he->heat[best])
					best = (int)s;
			}
			if (best < 0)
				break;
			tried[best] = true;
			idx = e->acc_node[best];
			if (idx == he->node) {
				he->prev_node = (int8_t)idx;
				break;
			}
			wmark = e->total_bytes[idx] / 10000 * e->opts.watermark_bp;
			if (free_bytes[idx] < wmark + bytes)
				continue;
			free_bytes[idx] -= bytes;
			free_bytes[he->node] += bytes;
			he->prev_node = (int8_t)idx;
			o->moved_bytes += bytes;
			o->moved_pages++;
			break;
		}
	}
	free(r);
	return 0;
}

void oracle__score(const struct oracle *o, const struct ibsp_sample *s, size_t nr,
		   struct ibsp_eval_counts *c)
{
	for (size_t i = 0; i < nr; i++, s++) {
		const struct heat_entry *he;
		int node, slot;
		uint64_t key;

		if (ibsp_engine__resolve(o->e, s, &key, &node, &slot) || node < 0)
			continue;
		he = heat_table__find((struct heat_table *)&o->t, key);
		if (!he)
			continue;
		c->placed++;
		c->local += he->prev_node == o->e->acc_node[slot];
	}
}

void oracle__moved(const struct oracle *o, uint64_t *bytes, uint64_t *pages)
{
	*bytes = o->moved_bytes;
	*pages = o->moved_pages;
}
