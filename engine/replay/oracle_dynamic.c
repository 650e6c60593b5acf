// SPDX-License-Identifier: MIT
/*
 * The dynamic hindsight oracle of `replay --evaluate` (`oracle-dynamic`):
 * in every interval, each page touched in it sits, for the whole interval,
 * on the top-tier node that serves most of that interval's accesses to it.
 * Pages are placed hottest first (by the interval's accesses) within each
 * node's free memory above its watermark: a full node passes the page to its
 * next-best node, or the page stays. There is no rate limit and no warm-up;
 * untouched pages stay where they are (at first, where the recording has
 * them). It bounds what a policy that moves pages as often as it likes
 * could reach by following the access pattern, capacity kept.
 *
 * One pass: an interval's resolved samples are buffered, counted per page,
 * the pages placed, then the samples scored against that placement.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"
#include "oracle_pages.h"
#include "util.h"

struct ibsp_oracle_dyn {
	struct ibsp_oracle_rules rules;
	struct ibsp_opage_table pages;
	uint64_t *free_bytes;	   /* per node index */
	uint32_t interval;	   /* closes so far + 1: the stamp of this interval's counts */
	struct ibsp_page_ref *buf; /* this interval's samples */
	size_t nr_buf, cap_buf;
	struct ibsp_opage_rank *touched; /* this interval's pages */
	size_t nr_touched, cap_touched;
	struct ibsp_oracle_moves moved;
};

struct ibsp_oracle_dyn *ibsp_oracle_dyn__new(const struct ibsp_engine *e,
					     const struct ibsp_topology *topo,
					     const uint64_t *free_bytes)
{
	struct ibsp_oracle_dyn *d = calloc(1, sizeof(*d));
	size_t n = ibsp_topology__nr_nodes(topo) ? ibsp_topology__nr_nodes(topo) : 1;

	if (!d)
		return NULL;
	d->interval = 1;
	d->free_bytes = calloc(n, sizeof(*d->free_bytes));
	if (!d->free_bytes || ibsp_oracle_rules__init(&d->rules, e, topo) ||
	    ibsp_opage_table__init(&d->pages, d->rules.nr_acc)) {
		ibsp_oracle_dyn__delete(d);
		return NULL;
	}
	memcpy(d->free_bytes, free_bytes, ibsp_topology__nr_nodes(topo) * sizeof(*d->free_bytes));
	return d;
}

void ibsp_oracle_dyn__delete(struct ibsp_oracle_dyn *d)
{
	if (!d)
		return;
	ibsp_opage_table__fini(&d->pages);
	ibsp_oracle_rules__fini(&d->rules);
	free(d->free_bytes);
	free(d->buf);
	free(d->touched);
	free(d);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	return ibsp_array_grow(p, cap, need, size, 4096);
}

int ibsp_oracle_dyn__add(struct ibsp_oracle_dyn *d, const struct ibsp_page_ref *refs, size_t nr)
{
	if (!nr)
		return 0; /* d->buf may still be NULL: NULL + 0 is undefined (found by tests/fuzz) */
	if (grow((void **)&d->buf, &d->cap_buf, d->nr_buf + nr, sizeof(*d->buf)))
		return -ENOMEM;
	memcpy(d->buf + d->nr_buf, refs, nr * sizeof(*refs));
	d->nr_buf += nr;
	return 0;
}

/* Count the buffered samples per page; list the pages they touch (by key: the table grows). */
static int count(struct ibsp_oracle_dyn *d)
{
	d->nr_touched = 0;
	for (size_t i = 0; i < d->nr_buf; i++) {
		const struct ibsp_page_ref *ref = &d->buf[i];
		struct ibsp_opage *p = ibsp_opage_table__get(&d->pages, ref);
		uint32_t *count;

		if (!p)
			return -ENOMEM;
		count = ibsp_opage_table__counts(&d->pages, p);
		if (p->stamp != d->interval) {
			if (grow((void **)&d->touched, &d->cap_touched, d->nr_touched + 1,
				 sizeof(*d->touched)))
				return -ENOMEM;
			memset(count, 0, d->pages.nr_acc * sizeof(*count));
			p->stamp = d->interval;
			d->touched[d->nr_touched++].key = p->key;
		}
		if (count[ref->acc] < UINT32_MAX)
			count[ref->acc]++;
	}
	return 0;
}

/* Place this interval's pages, hottest first; count the moves into @c. */
static void place(struct ibsp_oracle_dyn *d, struct ibsp_eval_counts *c)
{
	for (size_t i = 0; i < d->nr_touched; i++) {
		struct ibsp_opage_rank *r = &d->touched[i];

		r->p = ibsp_opage_table__find(&d->pages, r->key);
		r->total = ibsp_opage__total(&d->pages, r->p);
	}
	ibsp_opage_rank__sort(d->touched, d->nr_touched);
	for (size_t i = 0; i < d->nr_touched; i++) {
		struct ibsp_opage *p = d->touched[i].p;
		int dst = ibsp_opage__choose(&d->rules, &d->pages, p, p->node, d->free_bytes);

		if (dst == p->node)
			continue;
		p->node = (int8_t)dst;
		c->migrations++;
		c->migrated_bytes += p->bytes;
		d->moved.moves++;
		d->moved.bytes += p->bytes;
		d->moved.pages += !p->nr_moves;
		d->moved.twice += p->nr_moves == 1;
		if (p->nr_moves < UINT16_MAX)
			p->nr_moves++;
	}
}

int ibsp_oracle_dyn__close(struct ibsp_oracle_dyn *d, struct ibsp_eval_counts *c)
{
	int ret;

	if (!d->nr_buf)
		return 0;
	ret = count(d);
	if (ret)
		return ret;
	place(d, c);
	for (size_t i = 0; i < d->nr_buf; i++) {
		const struct ibsp_opage *p = ibsp_opage_table__find(&d->pages, d->buf[i].key);

		c->placed++;
		c->local += p->node == d->rules.acc_node[d->buf[i].acc];
	}
	d->nr_buf = 0;
	d->interval++;
	return 0;
}

void ibsp_oracle_dyn__moved(const struct ibsp_oracle_dyn *d, struct ibsp_oracle_moves *m)
{
	*m = d->moved;
}
