/* SPDX-License-Identifier: MIT */
/* The hindsight oracle of replay --evaluate (engine/oracle.c). */
#ifndef IBSP_ORACLE_H
#define IBSP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/replay.h"

struct ibsp_engine;
struct oracle;

/* An oracle that resolves samples with @e's tables and capacity rules. */
struct oracle *oracle__new(const struct ibsp_engine *e);
void oracle__delete(struct oracle *o);
/* Pass 1: count every page's accesses per accessor node. */
int oracle__count(struct oracle *o, const struct ibsp_sample *s, size_t nr);
/* Place every page once, hottest first, within @free_bytes (per node index, updated). */
int oracle__place(struct oracle *o, uint64_t *free_bytes);
/* Pass 2: add @s's local/placed accesses under the oracle's placement to @c. */
void oracle__score(const struct oracle *o, const struct ibsp_sample *s, size_t nr,
		   struct ibsp_eval_counts *c);
/* Bytes and pages the placement moved. */
void oracle__moved(const struct oracle *o, uint64_t *bytes, uint64_t *pages);

#endif
