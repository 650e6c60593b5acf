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
	size_t bytes;

	if (!t)
		return NULL;
	t->nr_acc = nr_acc;
	t->stride = (uint32_t)((sizeof(struct ibsp_near) + nr_acc * sizeof(uint16_t) + 7) & ~7UL);
	t->mask = (1U << NEAR_BITS) - 1;
	bytes = (size_t)t->stride << NEAR_BITS;
	t->slots = aligned_alloc(64, bytes);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	memset(t->slots, 0, bytes);
	return t;
}

void ibsp_near_table__delete(struct ibsp_near_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}
