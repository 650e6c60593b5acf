/* SPDX-License-Identifier: MIT */
/* The hindsight oracle of replay --evaluate (engine/replay/oracle.c). */
#ifndef IBSP_ORACLE_H
#define IBSP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/replay.h"

struct ibsp_engine;
struct ibsp_oracle;

/* An oracle that resolves samples with @e's tables and capacity rules, on @topo. */
struct ibsp_oracle *ibsp_oracle__new(const struct ibsp_engine *e, const struct ibsp_topology *topo);
void ibsp_oracle__delete(struct ibsp_oracle *o);
/* Pass 1: count every page's accesses per accessor node. */
int ibsp_oracle__count(struct ibsp_oracle *o, const struct ibsp_sample *s, size_t nr);
/* Place every page once, hottest first, within @free_bytes (per node index, updated). */
int ibsp_oracle__place(struct ibsp_oracle *o, uint64_t *free_bytes);
/* Pass 2: add @s's local/placed accesses under the oracle's placement to @c. */
void ibsp_oracle__score(const struct ibsp_oracle *o, const struct ibsp_sample *s, size_t nr,
			struct ibsp_eval_counts *c);
/* Bytes and pages the placement moved. */
void ibsp_oracle__moved(const struct ibsp_oracle *o, uint64_t *bytes, uint64_t *pages);

#endif
