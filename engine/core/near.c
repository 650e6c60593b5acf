// SPDX-License-Identifier: MIT
/*
 * The neighbourhoods' table (near.h): its allocation. Counting and reading
 * are inline, on the per-sample path.
 */
#include <stdlib.h>
#include <string.h>

#include "near.h"

_Static_assert(IBSP_HEAT_ONE % NEAR_ONE == 0, "a page's heat converts to neighbourhood counts");

struct ibsp_near_table *ibsp_near_table__new(uint32_t nr_acc)
{
	struct ibsp_near_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nr_acc = nr_acc;
	t->mask = (1U << NEAR_BITS) - 1;
	t->slots = ibsp_count_slots__new(sizeof(struct ibsp_near), nr_acc, NEAR_BITS, &t->stride);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void ibsp_near_table__delete(struct ibsp_near_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}
