// SPDX-License-Identifier: MIT
/*
 * The oracles' pages: a growable open-addressing table (linear probing, no
 * deletion, held at or below 3/4 load), the hottest-first order, and the
 * placement rule of docs/evaluation.md: the top-tier node that serves most
 * of a page's accesses, the next best when that one is at its watermark.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oracle_pages.h"

#define FIRST_BITS 12 /* 4 Ki slots to start with */

static uint64_t slot_of(uint64_t key, uint32_t bits)
{
	return (key * 0x9E3779B97F4A7C15ULL) >> (64 - bits);
}

static struct ibsp_opage *probe(struct ibsp_opage *slots, uint64_t mask, uint32_t bits,
				uint64_t key)
{
	uint64_t i = slot_of(key, bits);

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & mask;
	return &slots[i];
}

static int rehash(struct ibsp_opage_table *t, uint32_t bits)
{
	uint64_t n = 1ULL << bits;
	struct ibsp_opage *slots = calloc(n, sizeof(*slots));
	uint32_t *counts = calloc(n * t->nr_acc, sizeof(*counts));

	if (!slots || !counts) {
		free(slots);
		free(counts);
		return -ENOMEM;
	}
	for (uint64_t i = 0; t->slots && i <= t->mask; i++) {
		struct ibsp_opage *p;

		if (!t->slots[i].key)
			continue;
		p = probe(slots, n - 1, bits, t->slots[i].key);
		*p = t->slots[i];
		memcpy(counts + (size_t)(p - slots) * t->nr_acc, t->counts + i * t->nr_acc,
		       t->nr_acc * sizeof(*counts));
	}
	free(t->slots);
	free(t->counts);
	t->slots = slots;
	t->counts = counts;
	t->mask = n - 1;
	t->bits = bits;
	return 0;
}

int ibsp_opage_table__init(struct ibsp_opage_table *t, uint32_t nr_acc)
{
	*t = (struct ibsp_opage_table){ .nr_acc = nr_acc ? nr_acc : 1 };
	return rehash(t, FIRST_BITS);
}

void ibsp_opage_table__fini(struct ibsp_opage_table *t)
{
	free(t->slots);
	free(t->counts);
	t->slots = NULL;
	t->counts = NULL;
}

struct ibsp_opage *ibsp_opage_table__get(struct ibsp_opage_table *t,
					 const struct ibsp_page_ref *ref)
{
	struct ibsp_opage *p;

	if ((t->count + 1) * 4 > (t->mask + 1) * 3 && rehash(t, t->bits + 1))
		return NULL;
	p = probe(t->slots, t->mask, t->bits, ref->key);
	if (!p->key) {
		p->key = ref->key;
		p->bytes = ref->bytes;
		p->node = (int8_t)ref->node.idx;
		p->placed[0] = p->placed[1] = (int8_t)ref->node.idx;
		t->count++;
	}
	return p;
}

struct ibsp_opage *ibsp_opage_table__find(const struct ibsp_opage_table *t, uint64_t key)
{
	struct ibsp_opage *p = probe(t->slots, t->mask, t->bits, key);

	return p->key ? p : NULL;
}

static int cmp_rank(const void *a, const void *b)
{
	const struct ibsp_opage_rank *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

void ibsp_opage_rank__sort(struct ibsp_opage_rank *r, uint64_t n)
{
	if (n > 1)
		qsort(r, n, sizeof(*r), cmp_rank);
}

uint64_t ibsp_opage__total(const struct ibsp_opage_table *t, const struct ibsp_opage *p)
{
	const uint32_t *count = ibsp_opage_table__counts(t, p);
	uint64_t total = 0;

	for (uint32_t s = 0; s < t->nr_acc; s++)
		total += count[s];
	return total;
}

int ibsp_oracle_rules__init(struct ibsp_oracle_rules *r, const struct ibsp_engine *e,
			    const struct ibsp_topology *topo)
{
	*r = (struct ibsp_oracle_rules){ .topo = topo, .nr_acc = ibsp_engine__nr_acc(e) };
	for (uint32_t s = 0; s < r->nr_acc; s++)
		r->acc_node[s] = ibsp_engine__acc_node(e, s).idx;
	r->wmark = calloc(ibsp_topology__nr_nodes(topo) ? ibsp_topology__nr_nodes(topo) : 1,
			  sizeof(*r->wmark));
	if (!r->wmark)
		return -ENOMEM;
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(topo); i++)
		r->wmark[i] = ibsp_engine__watermark_bytes(e, ibsp_node_idx((int)i));
	return 0;
}

void ibsp_oracle_rules__fini(struct ibsp_oracle_rules *r)
{
	free(r->wmark);
	r->wmark = NULL;
}

int ibsp_opage__choose(const struct ibsp_oracle_rules *r, const struct ibsp_opage_table *t,
		       const struct ibsp_opage *p, int from, uint64_t *free_bytes)
{
	const uint32_t *count = ibsp_opage_table__counts(t, p);
	bool tried[IBSP_MAX_ACC_NODES] = { 0 };

	for (uint32_t round = 0; round < r->nr_acc; round++) {
		int best = -1, idx;

		for (uint32_t s = 0; s < r->nr_acc; s++) {
			if (tried[s] || !count[s] ||
			    !ibsp_topology__is_top_tier(r->topo, ibsp_node_idx(r->acc_node[s])))
				continue;
			if (best < 0 || count[s] > count[best])
				best = (int)s;
		}
		if (best < 0)
			return from;
		tried[best] = true;
		idx = r->acc_node[best];
		if (idx == from)
			return from;
		if (!free_bytes)
			return idx;
		if (free_bytes[idx] < r->wmark[idx] + p->bytes)
			continue;
		free_bytes[idx] -= p->bytes;
		free_bytes[from] += p->bytes;
		return idx;
	}
	return from;
}
