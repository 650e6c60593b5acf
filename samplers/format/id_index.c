// SPDX-License-Identifier: MIT
/* Sample id -> event index: a table sorted by (id, event), searched in halves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "id_index.h"

static int cmp_entry(const void *a, const void *b)
{
	const struct ibsp_id_entry *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int ibsp_id_index__init(struct ibsp_id_index *ix, const struct ibsp_event_desc *events,
			uint32_t nr_events)
{
	size_t n = 0, k = 0;

	memset(ix, 0, sizeof(*ix));
	for (uint32_t i = 0; i < nr_events; i++)
		n += events[i].nr_ids;
	ix->ent = calloc(n ? n : 1, sizeof(*ix->ent));
	if (!ix->ent)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr_events; i++)
		for (uint32_t j = 0; j < events[i].nr_ids; j++)
			ix->ent[k++] = (struct ibsp_id_entry){ .id = events[i].ids[j], .idx = i };
	ix->nr = n;
	qsort(ix->ent, ix->nr, sizeof(*ix->ent), cmp_entry);
	return 0;
}

void ibsp_id_index__exit(struct ibsp_id_index *ix)
{
	free(ix->ent);
	memset(ix, 0, sizeof(*ix));
}

int ibsp_id_index__find(const struct ibsp_id_index *ix, uint64_t id, uint32_t *idx)
{
	size_t lo = 0, hi = ix->nr;

	/* The first entry not below @id: the lowest event index among equal ids. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->ent[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->nr || ix->ent[lo].id != id)
		return -ENOENT;
	*idx = ix->ent[lo].idx;
	return 0;
}
