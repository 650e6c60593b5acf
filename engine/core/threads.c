// SPDX-License-Identifier: MIT
/*
 * The threads' table (threads.h): its allocation, and the homes told at each
 * tick. Counting and reading are inline, on the per-sample path.
 */
#include <stdlib.h>
#include <string.h>

#include "threads.h"

struct ibsp_thread_table *ibsp_thread_table__new(uint32_t nr_acc)
{
	struct ibsp_thread_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nr_acc = nr_acc;
	t->mask = (1U << THREAD_BITS) - 1;
	t->slots =
	    ibsp_count_slots__new(sizeof(struct ibsp_thread), nr_acc, THREAD_BITS, &t->stride);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

/* Once an interval: tell each thread's home from its samples since, where it has enough. */
void ibsp_thread_table__tick(struct ibsp_thread_table *t)
{
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct ibsp_thread *th = (struct ibsp_thread *)(t->slots + (size_t)i * t->stride);
		uint32_t total = 0, best = 0;
		int home = -1;

		if (!th->tid)
			continue;
		for (uint32_t s = 0; s < t->nr_acc; s++) {
			total += th->cnt[s];
			if (th->cnt[s] > best) {
				best = th->cnt[s];
				home = (int)s;
			}
		}
		if (total < THREAD_HOME_MIN)
			continue; /* too few yet: they add up over the next intervals */
		if ((uint64_t)best * THREAD_HOME_DIV >= (uint64_t)total * (THREAD_HOME_DIV - 1) &&
		    home != th->home) {
			if (th->home >= 0) {
				th->prev = th->home;
				t->moves++;
			}
			th->home = (int8_t)home;
		}
		memset(th->cnt, 0, t->nr_acc * sizeof(th->cnt[0]));
	}
}

void ibsp_thread_table__delete(struct ibsp_thread_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}
