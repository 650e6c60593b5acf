// SPDX-License-Identifier: MIT
/*
 * The hindsight oracle of `replay --evaluate`: from a first pass over the
 * whole recording it knows every page's accesses per accessor node, and
 * places each page, once, on the top-tier node that serves most of them.
 * Hottest pages go first, within each node's free memory above its
 * watermark (a full node passes the page to its next-best node). This is
 * the best *static* placement; a policy that follows phase changes can beat
 * it on recordings that have them (docs/evaluation.md).
 *
 * Pages are keyed as the engine keys them (ibsp_engine__resolve()), in a
 * growable open-addressing table of their own: nothing is ever evicted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/engine.h"
#include "oracle.h"

#define FIRST_BITS 17 /* 128 Ki slots to start with */

/* One page: its counts, where it was recorded and where the oracle puts it. */
struct opage {
	uint64_t key; /* the engine's page key; 0 = empty slot */
	uint32_t count[IBSP_MAX_ACC_NODES];
	uint32_t bytes;
	int8_t node;   /* node index, as recorded */
	int8_t placed; /* node index, as placed */
};

struct ibsp_oracle {
	const struct ibsp_engine *e; /* resolution tables */
	const struct ibsp_topology *topo;
	uint32_t nr_acc;
	struct ibsp_node_idx acc_node[IBSP_MAX_ACC_NODES]; /* accessor slot -> node */
	uint64_t *wmark; /* per node index: what a destination keeps free */
	struct opage *slots;
	uint64_t mask, count;
	uint32_t bits;
	uint64_t moved_bytes;
	uint64_t moved_pages;
};

static uint64_t slot_of(uint64_t key, uint32_t bits)
{
	return (key * 0x9E3779B97F4A7C15ULL) >> (64 - bits);
}

static struct opage *probe(struct opage *slots, uint64_t mask, uint32_t bits, uint64_t key)
{
	uint64_t i = slot_of(key, bits);

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & mask;
	return &slots[i];
}

static int rehash(struct ibsp_oracle *o, uint32_t bits)
{
	uint64_t n = 1ULL << bits;
	struct opage *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint64_t i = 0; o->slots && i <= o->mask; i++) {
		if (o->slots[i].key)
			*probe(slots, n - 1, bits, o->slots[i].key) = o->slots[i];
	}
	free(o->slots);
	o->slots = slots;
	o->mask = n - 1;
	o->bits = bits;
	return 0;
}

struct ibsp_oracle *ibsp_oracle__new(const struct ibsp_engine *e, const struct ibsp_topology *topo)
{
	struct ibsp_oracle *o = calloc(1, sizeof(*o));
	uint32_t nr_nodes;

	if (!o)
		return NULL;
	o->e = e;
	o->topo = topo;
	o->nr_acc = ibsp_engine__nr_acc(e);
	for (uint32_t s = 0; s < o->nr_acc; s++)
		o->acc_node[s] = ibsp_engine__acc_node(e, s);
	nr_nodes = ibsp_topology__nr_nodes(topo);
	o->wmark = calloc(nr_nodes ? nr_nodes : 1, sizeof(*o->wmark));
	if (!o->wmark || rehash(o, FIRST_BITS)) {
		ibsp_oracle__delete(o);
		return NULL;
	}
	for (uint32_t i = 0; i < nr_nodes; i++)
		o->wmark[i] = ibsp_engine__watermark_bytes(e, ibsp_node_idx((int)i));
	return o;
}

void ibsp_oracle__delete(struct ibsp_oracle *o)
{
	if (!o)
		return;
	free(o->slots);
	free(o->wmark);
	free(o);
}

int ibsp_oracle__count(struct ibsp_oracle *o, const struct ibsp_sample *s, size_t nr)
{
	for (size_t i = 0; i < nr; i++, s++) {
		struct ibsp_page_ref ref;
		struct opage *p;

		if (ibsp_engine__resolve(o->e, s, &ref) || !ibsp_node_idx__valid(ref.node))
			continue;
		if ((o->count + 1) * 4 > (o->mask + 1) * 3 && rehash(o, o->bits + 1))
			return -ENOMEM;
		p = probe(o->slots, o->mask, o->bits, ref.key);
		if (!p->key) {
			p->key = ref.key;
			p->bytes = ref.bytes;
			p->node = (int8_t)ref.node.idx;
			p->placed = (int8_t)ref.node.idx;
			o->count++;
		}
		if (p->count[ref.acc] < UINT32_MAX)
			p->count[ref.acc]++;
	}
	return 0;
}

struct rank {
	uint64_t total;
	uint64_t key;
	uint64_t idx;
};

static int cmp_rank(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* Accessor nodes of @p by their count, best first; the first with room takes it. */
static void place_one(struct ibsp_oracle *o, struct opage *p, uint64_t *free_bytes)
{
	bool tried[IBSP_MAX_ACC_NODES] = { 0 };

	for (uint32_t round = 0; round < o->nr_acc; round++) {
		int best = -1, idx;

		for (uint32_t s = 0; s < o->nr_acc; s++) {
			if (tried[s] || !p->count[s] ||
			    !ibsp_topology__is_top_tier(o->topo, o->acc_node[s]))
				continue;
			if (best < 0 || p->count[s] > p->count[best])
				best = (int)s;
		}
		if (best < 0)
			return;
		tried[best] = true;
		idx = o->acc_node[best].idx;
		if (idx == p->node) {
			p->placed = (int8_t)idx;
			return;
		}
		if (free_bytes[idx] < o->wmark[idx] + p->bytes)
			continue;
		free_bytes[idx] -= p->bytes;
		free_bytes[p->node] += p->bytes;
		p->placed = (int8_t)idx;
		o->moved_bytes += p->bytes;
		o->moved_pages++;
		return;
	}
}

int ibsp_oracle__place(struct ibsp_oracle *o, uint64_t *free_bytes)
{
	struct rank *r = malloc((o->count ? o->count : 1) * sizeof(*r));
	uint64_t n = 0;

	if (!r)
		return -ENOMEM;
	for (uint64_t i = 0; i <= o->mask; i++) {
		const struct opage *p = &o->slots[i];
		uint64_t total = 0;

		if (!p->key)
			continue;
		for (uint32_t s = 0; s < o->nr_acc; s++)
			total += p->count[s];
		r[n++] = (struct rank){ .total = total, .key = p->key, .idx = i };
	}
	qsort(r, n, sizeof(*r), cmp_rank);
	for (uint64_t i = 0; i < n; i++)
		place_one(o, &o->slots[r[i].idx], free_bytes);
	free(r);
	return 0;
}

void ibsp_oracle__score(const struct ibsp_oracle *o, const struct ibsp_sample *s, size_t nr,
			struct ibsp_eval_counts *c)
{
	for (size_t i = 0; i < nr; i++, s++) {
		const struct opage *p;
		struct ibsp_page_ref ref;

		if (ibsp_engine__resolve(o->e, s, &ref) || !ibsp_node_idx__valid(ref.node))
			continue;
		p = probe(o->slots, o->mask, o->bits, ref.key);
		if (!p->key)
			continue;
		c->placed++;
		c->local += p->placed == o->acc_node[ref.acc].idx;
	}
}

void ibsp_oracle__moved(const struct ibsp_oracle *o, uint64_t *bytes, uint64_t *pages)
{
	*bytes = o->moved_bytes;
	*pages = o->moved_pages;
}
