/* SPDX-License-Identifier: MIT */
/*
 * What the hindsight oracles share (engine/replay/oracle_pages.c): a
 * growable table of pages keyed as the engine keys them (nothing is ever
 * evicted), the order pages are placed in, and the choice of a page's node.
 */
#ifndef IBSP_ORACLE_PAGES_H
#define IBSP_ORACLE_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "ibsp/engine.h"

/* The policy engines whose moves the static table counts (replay's first rows). */
#define IBSP_ORACLE_POLICIES 4

/*
 * One page: where it is. Its accesses per accessor slot sit in the table's
 * @counts (ibsp_opage_table__counts()), nr_acc of them a page, so a host
 * with two sockets pays for two.
 */
struct ibsp_opage {
	uint64_t key; /* the engine's page key; 0 = empty slot */
	uint32_t bytes;
	uint32_t stamp;	   /* dynamic: the interval @count belongs to */
	int8_t node;	   /* node index: as recorded (static), now (dynamic) */
	int8_t placed[2];  /* static: node index placed without, within capacity */
	uint16_t nr_moves; /* dynamic: moves so far */
	uint8_t policy_moves[IBSP_ORACLE_POLICIES]; /* static: each policy engine's moves (sat.) */
};

struct ibsp_opage_table {
	struct ibsp_opage *slots;
	uint32_t *counts; /* [slot * nr_acc + accessor slot] */
	uint64_t mask, count;
	uint32_t bits;
	uint32_t nr_acc;
};

/* @p's accesses per accessor slot (t->nr_acc of them). */
static inline uint32_t *ibsp_opage_table__counts(const struct ibsp_opage_table *t,
						 const struct ibsp_opage *p)
{
	return t->counts + (size_t)(p - t->slots) * t->nr_acc;
}

/* The resolution and capacity rules every oracle places by. */
struct ibsp_oracle_rules {
	const struct ibsp_topology *topo;
	uint32_t nr_acc;
	int acc_node[IBSP_MAX_ACC_NODES]; /* accessor slot -> node index */
	uint64_t *wmark;		  /* per node index: what a destination keeps free */
};

/* A page to place: its accesses, then its key for a deterministic order. */
struct ibsp_opage_rank {
	uint64_t total;
	uint64_t key;
	struct ibsp_opage *p;
};

int ibsp_oracle_rules__init(struct ibsp_oracle_rules *r, const struct ibsp_engine *e,
			    const struct ibsp_topology *topo);
void ibsp_oracle_rules__fini(struct ibsp_oracle_rules *r);

int ibsp_opage_table__init(struct ibsp_opage_table *t, uint32_t nr_acc);
void ibsp_opage_table__fini(struct ibsp_opage_table *t);
/* The page of @ref, inserted (counts zero, node as @ref has it) when new; NULL: no memory. */
struct ibsp_opage *ibsp_opage_table__get(struct ibsp_opage_table *t,
					 const struct ibsp_page_ref *ref);
/* The page for @key, or NULL. */
struct ibsp_opage *ibsp_opage_table__find(const struct ibsp_opage_table *t, uint64_t key);

/* Sort @r (@n pages, totals filled in) hottest first, ties by key. */
void ibsp_opage_rank__sort(struct ibsp_opage_rank *r, uint64_t n);
/* The sum of @p's counts. */
uint64_t ibsp_opage__total(const struct ibsp_opage_table *t, const struct ibsp_opage *p);

/*
 * Where @p (of @t), now on node index @from, goes: the top-tier node that serves
 * most of its counted accesses; when that node is at its watermark (in
 * @free_bytes, per node index; NULL: capacity is no limit) the next best,
 * and so on; @from when none has room or @from is the best with room.
 * A move is charged to @free_bytes.
 */
int ibsp_opage__choose(const struct ibsp_oracle_rules *r, const struct ibsp_opage_table *t,
		       const struct ibsp_opage *p, int from, uint64_t *free_bytes);

#endif
