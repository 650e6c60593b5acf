// SPDX-License-Identifier: MIT
/*
 * The static hindsight oracles of `replay --evaluate`: from a first pass
 * over the whole recording they know every page's accesses per accessor
 * node, and place each page, once, on the top-tier node that serves most of
 * them, hottest pages first. `oracle` ignores capacity: it is the best
 * static placement there is. `oracle-capacity` keeps every destination at
 * its watermark, the engine's rule (a full node passes the page to its
 * next-best node): the best static placement the engine may reach. A
 * policy that follows phase changes can beat both on recordings that have
 * them (docs/evaluation.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/engine.h"
#include "oracle.h"
#include "oracle_pages.h"

enum { UNBOUNDED, CAPACITY, NR_PLACEMENTS };

struct ibsp_oracle {
	struct ibsp_oracle_rules rules;
	struct ibsp_opage_table pages;
	struct ibsp_oracle_moves moved[NR_PLACEMENTS];
};

size_t ibsp_oracle__resolve(const struct ibsp_engine *e, const struct ibsp_sample *s, size_t nr,
			    struct ibsp_page_ref *refs)
{
	size_t n = 0;

	for (size_t i = 0; i < nr; i++) {
		if (!ibsp_engine__resolve(e, &s[i], &refs[n]) && ibsp_node_idx__valid(refs[n].node))
			n++;
	}
	return n;
}

struct ibsp_oracle *ibsp_oracle__new(const struct ibsp_engine *e, const struct ibsp_topology *topo)
{
	struct ibsp_oracle *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	if (ibsp_oracle_rules__init(&o->rules, e, topo) ||
	    ibsp_opage_table__init(&o->pages, o->rules.nr_acc)) {
		ibsp_oracle__delete(o);
		return NULL;
	}
	return o;
}

void ibsp_oracle__delete(struct ibsp_oracle *o)
{
	if (!o)
		return;
	ibsp_opage_table__fini(&o->pages);
	ibsp_oracle_rules__fini(&o->rules);
	free(o);
}

int ibsp_oracle__count(struct ibsp_oracle *o, const struct ibsp_page_ref *refs, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		struct ibsp_opage *p = ibsp_opage_table__get(&o->pages, &refs[i]);
		uint32_t *count;

		if (!p)
			return -ENOMEM;
		count = ibsp_opage_table__counts(&o->pages, p);
		if (count[refs[i].acc] < UINT32_MAX)
			count[refs[i].acc]++;
	}
	return 0;
}

/* Place @p by placement @k (NULL @free_bytes: unbounded) and count the move. */
static void place(struct ibsp_oracle *o, struct ibsp_opage *p, int k, uint64_t *free_bytes)
{
	int dst = ibsp_opage__choose(&o->rules, &o->pages, p, p->node, free_bytes);

	p->placed[k] = (int8_t)dst;
	if (dst == p->node)
		return;
	o->moved[k].bytes += p->bytes;
	o->moved[k].moves++;
	o->moved[k].pages++;
}

int ibsp_oracle__place(struct ibsp_oracle *o, uint64_t *free_bytes)
{
	const struct ibsp_opage_table *t = &o->pages;
	struct ibsp_opage_rank *r = malloc((t->count ? t->count : 1) * sizeof(*r));
	uint64_t n = 0;

	if (!r)
		return -ENOMEM;
	for (uint64_t i = 0; i <= t->mask; i++) {
		struct ibsp_opage *p = &t->slots[i];

		if (p->key)
			r[n++] = (struct ibsp_opage_rank){ .total = ibsp_opage__total(t, p),
							   .key = p->key,
							   .p = p };
	}
	ibsp_opage_rank__sort(r, n);
	for (uint64_t i = 0; i < n; i++) {
		place(o, r[i].p, UNBOUNDED, NULL);
		place(o, r[i].p, CAPACITY, free_bytes);
	}
	free(r);
	return 0;
}

void ibsp_oracle__score(const struct ibsp_oracle *o, const struct ibsp_page_ref *refs, size_t nr,
			struct ibsp_eval_counts c[2])
{
	for (size_t i = 0; i < nr; i++) {
		const struct ibsp_opage *p = ibsp_opage_table__find(&o->pages, refs[i].key);
		int acc = o->rules.acc_node[refs[i].acc];

		if (!p)
			continue;
		for (int k = 0; k < NR_PLACEMENTS; k++) {
			c[k].placed++;
			c[k].local += p->placed[k] == acc;
		}
	}
}

void ibsp_oracle__note_move(struct ibsp_oracle *o, uint32_t k, uint64_t key)
{
	struct ibsp_opage *p;

	if (k >= IBSP_ORACLE_POLICIES || !(p = ibsp_opage_table__find(&o->pages, key)))
		return;
	if (p->policy_moves[k] < UINT8_MAX)
		p->policy_moves[k]++;
}

uint64_t ibsp_oracle__shared_moved_twice(const struct ibsp_oracle *o, uint32_t k,
					 uint32_t min_share_bp)
{
	uint64_t n = 0;

	if (k >= IBSP_ORACLE_POLICIES)
		return 0;
	for (uint64_t i = 0; i <= o->pages.mask; i++) {
		const struct ibsp_opage *p = &o->pages.slots[i];
		const uint32_t *count = ibsp_opage_table__counts(&o->pages, p);
		uint64_t total, top = 0;

		if (!p->key || p->policy_moves[k] < 2)
			continue;
		total = ibsp_opage__total(&o->pages, p);
		for (uint32_t s = 0; s < o->rules.nr_acc; s++)
			top = count[s] > top ? count[s] : top;
		n += top * 10000 < total * min_share_bp;
	}
	return n;
}

void ibsp_oracle__moved(const struct ibsp_oracle *o, int capacity, struct ibsp_oracle_moves *m)
{
	*m = o->moved[capacity ? CAPACITY : UNBOUNDED];
}
