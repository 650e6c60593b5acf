// SPDX-License-Identifier: MIT
/*
 * perf's ordered-events queue, Linux 6.1 tools/perf/util/ordered-events.c:
 *  - queue_event(): max_timestamp follows the records appended at the tail
 *    (and is reset by the first record into an empty queue);
 *  - FINISHED_ROUND (OE_FLUSH__ROUND): deliver everything with time <=
 *    next_flush, in time order with ties in arrival order, then
 *    next_flush = max_timestamp (next_flush 0 delivers nothing);
 *  - end of data (OE_FLUSH__FINAL): deliver everything.
 * A sorted array replaces perf's list: records arrive nearly sorted per round.
 * The samples are an array of their own beside it, so that those ready are
 * contiguous and a reader hands them out where they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ordered_events.h"

void ibsp_ordered_events__init(struct ibsp_ordered_events *oe, uint32_t max_queue)
{
	memset(oe, 0, sizeof(*oe));
	oe->max_queue = max_queue;
}

void ibsp_ordered_events__exit(struct ibsp_ordered_events *oe)
{
	free(oe->q);
	free(oe->smp);
	free(oe->tmp);
	oe->q = NULL;
	oe->smp = NULL;
	oe->tmp = NULL;
}

/* Double the arrays; entries stay at their indices. 0 or -ENOMEM. */
static int grow(struct ibsp_ordered_events *oe)
{
	size_t cap = oe->cap ? oe->cap * 2 : 1024;
	struct ibsp_ordered_event *q;
	struct ibsp_sample *smp;

	if (cap > UINT32_MAX) /* flush() sorts with 32-bit indices */
		return -ENOMEM;
	q = reallocarray(oe->q, cap, sizeof(*q));
	if (!q)
		return -ENOMEM;
	oe->q = q;
	smp = aligned_alloc(64, cap * sizeof(*smp));
	if (!smp)
		return -ENOMEM;
	if (oe->len)
		memcpy(smp, oe->smp, oe->len * sizeof(*smp));
	free(oe->smp);
	oe->smp = smp;
	oe->cap = cap;
	return 0;
}

struct ibsp_sample *ibsp_ordered_events__reserve_any(struct ibsp_ordered_events *oe, uint64_t ts)
{
	struct ibsp_ordered_event *e;

	if (oe->head == oe->len) /* all delivered: start over at the front */
		oe->head = oe->len = oe->ready = 0;
	if (oe->len == oe->cap && oe->head && oe->len - oe->head <= oe->cap / 4) {
		/*
		 * Drop what was delivered, keep the rest, when the rest is at most a
		 * quarter of the array: a sample is then moved a third of a time on
		 * average. Past a quarter the array grows instead (at most four times
		 * the queue); at half, the rounds of perf record -a (a round queued
		 * while the one before waits) moved every sample once.
		 */
		memmove(oe->q, oe->q + oe->head, (oe->len - oe->head) * sizeof(*oe->q));
		memmove(oe->smp, oe->smp + oe->head, (oe->len - oe->head) * sizeof(*oe->smp));
		oe->len -= oe->head;
		oe->ready -= oe->head;
		oe->unsorted_at -= oe->unsorted ? oe->head : 0;
		oe->head = 0;
	}
	if (oe->len == oe->cap && grow(oe))
		return NULL;
	if (ts < oe->last_flush)
		oe->nr_out_of_order++;
	if (oe->len == oe->head || ts >= oe->tail_ts) {
		oe->max_timestamp = ts;
		oe->tail_ts = ts;
	} else if (!oe->unsorted) {
		oe->unsorted = 1; /* (ts, seq) no longer ascend from head to len */
		oe->unsorted_at = oe->len;
	}
	e = &oe->q[oe->len];
	e->ts = ts;
	e->seq = oe->seq++;
	e->is_sample = 1;
	return &oe->smp[oe->len++];
}

void ibsp_ordered_events__not_sample(struct ibsp_ordered_events *oe)
{
	oe->q[oe->len - 1].is_sample = 0;
}

int ibsp_ordered_events__queue(struct ibsp_ordered_events *oe, uint64_t ts,
			       const struct ibsp_sample *s)
{
	struct ibsp_sample *q = ibsp_ordered_events__reserve(oe, ts);

	if (!q)
		return -ENOMEM;
	if (s)
		*q = *s;
	else
		ibsp_ordered_events__not_sample(oe);
	return 0;
}

/* The queue's order: by time, ties in arrival order (seq). */
static inline int before(const struct ibsp_ordered_event *x, const struct ibsp_ordered_event *y)
{
	return x->ts < y->ts || (x->ts == y->ts && x->seq < y->seq);
}

static int cmp_entry(const void *a, const void *b)
{
	return before(a, b) ? -1 : before(b, a);
}

/* Merge the ascending runs @a[0, @na) and @b[0, @nb) into @out. */
static void merge_runs(const struct ibsp_ordered_event *a, size_t na,
		       const struct ibsp_ordered_event *b, size_t nb,
		       struct ibsp_ordered_event *out)
{
	size_t i = 0, j = 0;

	if (!na || !nb || !before(b, a + na - 1)) { /* already in order: one copy */
		memcpy(out, a, na * sizeof(*a));
		memcpy(out + na, b, nb * sizeof(*b));
		return;
	}
	while (i < na && j < nb)
		*out++ = before(b + j, a + i) ? b[j++] : a[i++];
	memcpy(out, a + i, (na - i) * sizeof(*a));
	memcpy(out + (na - i), b + j, (nb - j) * sizeof(*b));
}

/* The end of the ascending run of @e[0, @n) that starts at @from. */
static size_t run_end(const struct ibsp_ordered_event *e, size_t n, size_t from)
{
	size_t i = from + 1;

	while (i < n && !before(e + i, e + i - 1))
		i++;
	return i;
}

/*
 * Sort @e[0, @n) by (ts, seq) through @tmp (n entries): a natural merge
 * sort. A round of perf record -a is one ascending run per CPU's ring,
 * written one after the other, so each pass merges neighbouring runs and
 * log2(runs) passes sort it: a qsort() of the round (glibc's merge sort with
 * an indirect compare) took ~1 000 instructions a sample on such a file.
 * Keys are unique (seq), so the result is the one order any sort gives.
 * Return: where the sorted entries are, @e or @tmp.
 */
static struct ibsp_ordered_event *merge_sort(struct ibsp_ordered_event *e,
					     struct ibsp_ordered_event *tmp, size_t n)
{
	for (;;) {
		struct ibsp_ordered_event *t;
		size_t a = 0, runs = 0;

		while (a < n) {
			size_t b = run_end(e, n, a), c = b < n ? run_end(e, n, b) : n;

			merge_runs(e + a, b - a, e + b, c - b, tmp + a);
			runs++;
			a = c;
		}
		if (runs <= 1)
			return tmp;
		t = e;
		e = tmp;
		tmp = t;
	}
}

/*
 * Merge the ascending runs @q[0, @na) and @b[0, @nb) into @q[0, @na + @nb),
 * from the back: each write lands at or past the entry of @q it reads.
 */
static void merge_back(struct ibsp_ordered_event *q, size_t na, const struct ibsp_ordered_event *b,
		       size_t nb)
{
	size_t i = na, j = nb, w = na + nb;

	while (i && j)
		q[--w] = before(b + j - 1, q + i - 1) ? q[--i] : b[--j];
	memcpy(q, b, j * sizeof(*b)); /* what is left of @b; what is left of @q is in place */
}

/*
 * Sort the queue [head, len) by (ts, seq), each sample moved with its entry.
 * What came before the first entry out of order, [head, unsorted_at), is in
 * order already (most of it the rounds before, not yet delivered): the rest
 * is sorted on its own, then merged with it once.
 */
static void sort_queue(struct ibsp_ordered_events *oe)
{
	size_t n_old = oe->unsorted_at - oe->head, n_new = oe->len - oe->unsorted_at;
	struct ibsp_ordered_event *q = oe->q + oe->head;

	for (size_t i = oe->head; i < oe->len; i++)
		oe->q[i].pos = (uint32_t)i;
	if (n_new > oe->tmp_cap) {
		struct ibsp_ordered_event *t = reallocarray(oe->tmp, oe->cap, sizeof(*t));

		if (t) {
			oe->tmp = t;
			oe->tmp_cap = oe->cap;
		}
	}
	if (n_new <= oe->tmp_cap) {
		const struct ibsp_ordered_event *sorted = merge_sort(q + n_old, oe->tmp, n_new);

		if (sorted != oe->tmp)
			memcpy(oe->tmp, sorted, n_new * sizeof(*q));
		merge_back(q, n_old, oe->tmp, n_new);
	} else { /* no memory for the merge: sort in place */
		qsort(q, n_old + n_new, sizeof(*q), cmp_entry);
	}
	/* The samples follow, a cycle of the permutation at a time: smp[j] = old smp[q[j].pos]. */
	for (size_t i = oe->head; i < oe->len; i++) {
		struct ibsp_sample first;
		size_t j = i;

		if (oe->q[i].pos == i)
			continue;
		first = oe->smp[i];
		for (;;) {
			size_t from = oe->q[j].pos;

			oe->q[j].pos = (uint32_t)j;
			if (from == i) {
				oe->smp[j] = first;
				break;
			}
			oe->smp[j] = oe->smp[from];
			j = from;
		}
	}
}

/* The ready samples moved up over the ready non-samples: [head, ready) holds samples only. */
static void drop_non_samples(struct ibsp_ordered_events *oe)
{
	size_t w = oe->ready;

	for (size_t i = oe->ready; i-- > oe->head;) {
		if (!oe->q[i].is_sample)
			continue;
		if (--w != i) {
			oe->q[w] = oe->q[i];
			oe->smp[w] = oe->smp[i];
		}
	}
	oe->head = w;
}

/* Ready every queued entry with ts <= limit (perf's do_flush). */
static void flush(struct ibsp_ordered_events *oe, uint64_t limit)
{
	size_t i, non_samples = 0;

	/* The queue is [head, len): delivered entries before it are dropped by the next queue(). */
	oe->ready = oe->head;
	if (!limit || oe->head == oe->len)
		return;
	/* Most rounds arrive sorted (one CPU's ring, or a sorted writer): queue() noted any that did not. */
	if (oe->unsorted)
		sort_queue(oe);
	oe->unsorted = 0;
	for (i = oe->head; i < oe->len && oe->q[i].ts <= limit; i++)
		non_samples += !oe->q[i].is_sample;
	oe->ready = i;
	if (i > oe->head)
		oe->last_flush = oe->q[i - 1].ts;
	if (non_samples)
		drop_non_samples(oe);
}

void ibsp_ordered_events__round(struct ibsp_ordered_events *oe)
{
	flush(oe, oe->next_flush);
	oe->next_flush = oe->max_timestamp;
}

void ibsp_ordered_events__final(struct ibsp_ordered_events *oe)
{
	flush(oe, UINT64_MAX);
}

void ibsp_ordered_events__bound(struct ibsp_ordered_events *oe)
{
	uint64_t first = UINT64_MAX;

	/*
	 * Modelled on perf's OE_FLUSH__HALF. perf script's queue is unbounded by
	 * default, so past max_queue entries in one round our order may differ.
	 */
	if (ibsp_ordered_events__has_ready(oe) || oe->len - oe->head < oe->max_queue)
		return;
	for (size_t i = oe->head; i < oe->len; i++)
		first = oe->q[i].ts < first ? oe->q[i].ts : first;
	flush(oe, first + (oe->tail_ts - first) / 2);
}

size_t ibsp_ordered_events__next_run(struct ibsp_ordered_events *oe, const struct ibsp_sample **run,
				     size_t cap)
{
	size_t n = oe->ready - oe->head;

	if (n > cap)
		n = cap;
	*run = oe->smp + oe->head;
	oe->head += n;
	return n;
}

const struct ibsp_sample *ibsp_ordered_events__next(struct ibsp_ordered_events *oe)
{
	const struct ibsp_sample *s;

	return ibsp_ordered_events__next_run(oe, &s, 1) ? s : NULL;
}
