/* SPDX-License-Identifier: MIT */
/*
 * The hindsight oracles of replay --evaluate: the static ones (one count
 * pass, two placements: engine/replay/oracle.c) and the dynamic one
 * (engine/replay/oracle_dynamic.c). See docs/evaluation.md.
 */
#ifndef IBSP_ORACLE_H
#define IBSP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/replay.h"

struct ibsp_engine;
struct ibsp_oracle;
struct ibsp_oracle_dyn;

/* What each oracle moved, for the result's row. */
struct ibsp_oracle_moves {
	uint64_t bytes, moves, pages, twice;
};

/*
 * @s's samples resolved with @e's tables into @refs (room for @nr), keeping
 * those that add heat and have a known page node. Return: how many.
 */
size_t ibsp_oracle__resolve(const struct ibsp_engine *e, const struct ibsp_sample *s, size_t nr,
			    struct ibsp_page_ref *refs);

/* The static oracles, with @e's capacity rules, on @topo. */
struct ibsp_oracle *ibsp_oracle__new(const struct ibsp_engine *e, const struct ibsp_topology *topo);
void ibsp_oracle__delete(struct ibsp_oracle *o);
/* Pass 1: count every page's accesses per accessor node. */
int ibsp_oracle__count(struct ibsp_oracle *o, const struct ibsp_page_ref *refs, size_t nr);
/* Place every page once, hottest first: without a capacity limit, and within @free_bytes
 * (per node index, updated). */
int ibsp_oracle__place(struct ibsp_oracle *o, uint64_t *free_bytes);
/* Pass 2: add the local/placed accesses of @refs to @c[0] (unbounded) and @c[1] (capacity). */
void ibsp_oracle__score(const struct ibsp_oracle *o, const struct ibsp_page_ref *refs, size_t nr,
			struct ibsp_eval_counts c[2]);
/*
 * Policy row @k (< IBSP_ORACLE_POLICIES) planned a move of the page @key:
 * count it against that page (a page the oracles never saw is not counted).
 */
void ibsp_oracle__note_move(struct ibsp_oracle *o, uint32_t k, uint64_t key);
/*
 * The pages policy row @k moved more than once that are shared over the
 * whole recording: no accessor node made @min_share_bp of their samples.
 */
uint64_t ibsp_oracle__shared_moved_twice(const struct ibsp_oracle *o, uint32_t k,
					 uint32_t min_share_bp);
/* What placement @capacity (0: unbounded, 1: within capacity) moved. */
void ibsp_oracle__moved(const struct ibsp_oracle *o, int capacity, struct ibsp_oracle_moves *m);

/* The dynamic oracle; every node starts with @free_bytes (per node index, copied). */
struct ibsp_oracle_dyn *ibsp_oracle_dyn__new(const struct ibsp_engine *e,
					     const struct ibsp_topology *topo,
					     const uint64_t *free_bytes);
void ibsp_oracle_dyn__delete(struct ibsp_oracle_dyn *d);
/* Buffer this interval's @refs. */
int ibsp_oracle_dyn__add(struct ibsp_oracle_dyn *d, const struct ibsp_page_ref *refs, size_t nr);
/* End of the interval: place its pages, score its accesses into @c (moves too), forget them. */
int ibsp_oracle_dyn__close(struct ibsp_oracle_dyn *d, struct ibsp_eval_counts *c);
void ibsp_oracle_dyn__moved(const struct ibsp_oracle_dyn *d, struct ibsp_oracle_moves *m);

#endif
