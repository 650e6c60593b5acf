// SPDX-License-Identifier: MIT
/*
 * The ordered-events queue (perf's ordered_events, Linux 6.1
 * tools/perf/util/ordered-events.c) driven directly: rounds that arrive
 * sorted or not, the delivery limit of each round (the previous round's
 * newest), ties in arrival order, and enough entries that the array grows
 * and drops delivered entries in place many times.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ordered_events.h"

/* Queue @n samples with times from @ts, each carrying its arrival number in pid. */
static void queue_n(struct ibsp_ordered_events *oe, const uint64_t *ts, size_t n, uint32_t *seq)
{
	for (size_t i = 0; i < n; i++) {
		struct ibsp_sample s = { .time_ns = ts[i], .pid = (*seq)++ };

		cr_assert_eq(ibsp_ordered_events__queue(oe, ts[i], &s), 0);
	}
}

/* Deliver what is ready into @out; return how many. */
static size_t drain(struct ibsp_ordered_events *oe, struct ibsp_sample *out)
{
	const struct ibsp_sample *s;
	size_t n = 0;

	while ((s = ibsp_ordered_events__next(oe)))
		out[n++] = *s;
	return n;
}

Test(ordered_events, rounds_deliver_up_to_the_previous_rounds_newest)
{
	struct ibsp_ordered_events oe;
	struct ibsp_sample out[16];
	static const uint64_t r1[] = { 10, 30, 20 }, r2[] = { 25, 40, 20 };
	uint32_t seq = 0;
	size_t n;

	ibsp_ordered_events__init(&oe, 1u << 20);
	queue_n(&oe, r1, 3, &seq);
	ibsp_ordered_events__round(&oe); /* next_flush was 0: nothing */
	cr_assert_eq(drain(&oe, out), 0);
	queue_n(&oe, r2, 3, &seq);
	ibsp_ordered_events__round(&oe); /* up to 30, r1's newest at the tail */
	n = drain(&oe, out);
	cr_assert_eq(n, 5, "%zu", n);
	static const uint64_t want_ts[] = { 10, 20, 20, 25, 30 };
	static const uint32_t want_seq[] = { 0, 2, 5, 3, 1 }; /* ties: arrival order */
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(out[i].time_ns, want_ts[i], "%zu", i);
		cr_assert_eq(out[i].pid, want_seq[i], "%zu", i);
	}
	cr_assert_eq(oe.nr_out_of_order, 0);
	ibsp_ordered_events__final(&oe);
	cr_assert_eq(drain(&oe, out), 1);
	cr_assert_eq(out[0].time_ns, 40);
	ibsp_ordered_events__exit(&oe);
}

/* 200 rounds of 700 entries, every third round shuffled: all come out, in order, once. */
Test(ordered_events, many_rounds_in_order_and_complete)
{
	enum { ROUNDS = 200, PER = 700 };
	struct ibsp_ordered_events oe;
	struct ibsp_sample *out = calloc(ROUNDS * PER, sizeof(*out));
	uint64_t ts[PER];
	uint32_t seq = 0;
	size_t got = 0;

	cr_assert_not_null(out);
	ibsp_ordered_events__init(&oe, 1u << 20);
	srand(7);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < PER; i++)
			ts[i] = 1000 + (uint64_t)r * PER + (uint64_t)i;
		for (int i = PER - 1; r % 3 == 2 && i > 0; i--) {
			int j = rand() % (i + 1);
			uint64_t t = ts[i];

			ts[i] = ts[j];
			ts[j] = t;
		}
		queue_n(&oe, ts, PER, &seq);
		ibsp_ordered_events__round(&oe);
		got += drain(&oe, out + got);
		/* Everything of two rounds back is out: perf's one-round delay. */
		cr_assert_geq(got, r >= 1 ? (size_t)(r - 1) * PER : 0, "round %d: %zu", r, got);
	}
	ibsp_ordered_events__final(&oe);
	got += drain(&oe, out + got);
	cr_assert_eq(got, (size_t)ROUNDS * PER);
	for (size_t i = 0; i < got; i++)
		cr_assert_eq(out[i].time_ns, 1000 + i, "at %zu: %llu", i,
			     (unsigned long long)out[i].time_ns);
	cr_assert_eq(oe.nr_out_of_order, 0);
	ibsp_ordered_events__exit(&oe);
	free(out);
}

/*
 * Non-sample entries (records that only order, invalid samples) take their
 * place in the order but are never delivered; the ready samples come as one
 * contiguous run, sorted, also after a round that arrived out of order.
 */
Test(ordered_events, ready_samples_come_as_one_run)
{
	struct ibsp_ordered_events oe;
	static const uint64_t ts[] = { 50, 10, 40, 20, 30, 60, 15, 70 };
	const struct ibsp_sample *run;
	uint32_t seq = 0;
	size_t n;

	ibsp_ordered_events__init(&oe, 1u << 20);
	for (size_t i = 0; i < 8; i++) {
		if (i % 3 == 1) { /* 10, 30 and 70: no sample */
			cr_assert_eq(ibsp_ordered_events__queue(&oe, ts[i], NULL), 0);
			seq++;
		} else {
			queue_n(&oe, &ts[i], 1, &seq);
		}
	}
	ibsp_ordered_events__final(&oe);
	n = ibsp_ordered_events__next_run(&oe, &run, 3);
	cr_assert_eq(n, 3, "up to the cap");
	static const uint64_t want_ts[] = { 15, 20, 40, 50, 60 };
	static const uint32_t want_seq[] = { 6, 3, 2, 0, 5 };
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(run[i].time_ns, want_ts[i], "%zu", i);
		cr_assert_eq(run[i].pid, want_seq[i], "%zu", i);
	}
	n = ibsp_ordered_events__next_run(&oe, &run, 100);
	cr_assert_eq(n, 2, "the rest, with no entry that holds no sample");
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(run[i].time_ns, want_ts[3 + i], "%zu", i);
		cr_assert_eq(run[i].pid, want_seq[3 + i], "%zu", i);
	}
	cr_assert_eq(ibsp_ordered_events__next_run(&oe, &run, 100), 0);
	cr_assert_null(ibsp_ordered_events__next(&oe));
	ibsp_ordered_events__exit(&oe);
}

static int by_time_then_arrival(const void *a, const void *b)
{
	const struct ibsp_sample *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * Rounds as perf record -a writes them: one ascending run per CPU's ring,
 * the runs one after the other, times from a small range so that many tie.
 * The merge of runs (sort_queue()) must give the order of a plain sort by
 * (time, arrival), also while samples are taken out a few at a time between
 * rounds (the array then drops delivered entries and grows under the sort).
 */
Test(ordered_events, per_cpu_runs_merge_into_time_then_arrival_order)
{
	enum { ROUNDS = 60, CPUS_MAX = 37, RUN_MAX = 90 };
	struct ibsp_ordered_events oe;
	size_t cap = (size_t)ROUNDS * CPUS_MAX * RUN_MAX, got = 0, queued = 0;
	struct ibsp_sample *out = calloc(cap, sizeof(*out)), *want = calloc(cap, sizeof(*want));
	uint32_t seq = 0;

	cr_assert(out && want);
	ibsp_ordered_events__init(&oe, 1u << 24);
	srand(11);
	for (int r = 0; r < ROUNDS; r++) {
		int cpus = 1 + rand() % CPUS_MAX;

		for (int c = 0; c < cpus; c++) {
			uint64_t t = 1000 * (uint64_t)(r + 1);
			int len = rand() % RUN_MAX;

			for (int i = 0; i < len; i++) {
				t += (uint64_t)(rand() % 3); /* 0: a tie with the one before */
				want[queued] = (struct ibsp_sample){ .time_ns = t, .pid = seq };
				queue_n(&oe, &t, 1, &seq);
				queued++;
			}
		}
		ibsp_ordered_events__round(&oe);
		for (int k = 0; k < 1 + r % 4; k++) { /* a few runs out, not all */
			const struct ibsp_sample *run;
			size_t n =
			    ibsp_ordered_events__next_run(&oe, &run, 1 + (size_t)(rand() % 200));

			memcpy(out + got, run, n * sizeof(*run));
			got += n;
		}
	}
	ibsp_ordered_events__final(&oe);
	got += drain(&oe, out + got);
	cr_assert_eq(got, queued);
	qsort(want, queued, sizeof(*want), by_time_then_arrival);
	for (size_t i = 0; i < got; i++) {
		cr_assert_eq(out[i].time_ns, want[i].time_ns, "at %zu", i);
		cr_assert_eq(out[i].pid, want[i].pid, "at %zu", i);
	}
	cr_assert_eq(oe.nr_out_of_order, 0);
	ibsp_ordered_events__exit(&oe);
	free(out);
	free(want);
}
