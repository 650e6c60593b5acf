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
	t->queue = malloc(sizeof(*t->queue) << THREAD_BITS);
	if (!t->slots || !t->queue) {
		ibsp_thread_table__delete(t);
		return NULL;
	}
	return t;
}

/* Once an interval: tell each thread's home from its samples since, where it has enough. */
void ibsp_thread_table__tick(struct ibsp_thread_table *t)
{
	uint32_t kept = 0;

	for (uint32_t q = 0; q < t->nr_queued; q++) {
		struct ibsp_thread *th = ibsp_thread_table__at(t, t->queue[q]);
		uint32_t total = 0, best = 0;
		int home = -1;

		for (uint32_t s = 0; s < t->nr_acc; s++) {
			total += th->cnt[s];
			if (th->cnt[s] > best) {
				best = th->cnt[s];
				home = (int)s;
			}
		}
		if (total <
		    THREAD_HOME_MIN) { /* too few yet: they add up over the next intervals */
			t->queue[kept++] = t->queue[q];
			continue;
		}
		th->queued = 0;
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
	t->nr_queued = kept;
}

void ibsp_thread_table__delete(struct ibsp_thread_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->queue);
	free(t);
}
