/* SPDX-License-Identifier: MIT */
/*
 * Sample id -> event: which of a recording's (or a live session's) events a
 * record's id belongs to. One sorted table and a binary search, for the file
 * reader and the live decoder alike.
 */
#ifndef IBSP_ID_INDEX_H
#define IBSP_ID_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/sampler.h"

struct ibsp_id_entry {
	uint64_t id;
	uint32_t idx; /* index of the event in the array the table was built from */
};

/** struct ibsp_id_index - every id of every event, sorted by id, then event */
struct ibsp_id_index {
	struct ibsp_id_entry *ent;
	size_t nr;
};

/** ibsp_id_index__init() - index the ids of @events; 0 or -ENOMEM */
int ibsp_id_index__init(struct ibsp_id_index *ix, const struct ibsp_event_desc *events,
			uint32_t nr_events);

/** ibsp_id_index__exit() - free the table (not @ix itself) */
void ibsp_id_index__exit(struct ibsp_id_index *ix);

/**
 * ibsp_id_index__find() - the event of @id
 *
 * When events share an id, the first of them. Return: 0 with @idx set, or -ENOENT.
 */
int ibsp_id_index__find(const struct ibsp_id_index *ix, uint64_t id, uint32_t *idx);

#endif
