// SPDX-License-Identifier: MIT
/*
 * A replay's threads: the fan-out pool (engine/replay/fanout.c) runs every
 * task once, on more than one thread, and passes on the first failure in
 * task order; and a replay, plain or evaluating, read ahead or not, gives the
 * same result whatever its threads.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fanout.h"
#include "helpers.h"
#include "ibsp/policies.h"
#include "ibsp/replay.h"

#define MAX_TASKS 16

struct tally {
	unsigned int runs[MAX_TASKS]; /* each task's runs: each index is one task's alone */
	pthread_t who[MAX_TASKS];
	atomic_uint started;
	int fail[MAX_TASKS]; /* what each task returns */
};

/* A task that waits (up to 50 ms) for a second one to start, so that two threads run. */
static int count_task(void *arg, unsigned int i)
{
	struct tally *t = arg;
	struct timespec ts = { 0, 100000 };

	t->runs[i]++;
	t->who[i] = pthread_self();
	atomic_fetch_add(&t->started, 1);
	for (int k = 0; k < 500 && atomic_load(&t->started) < 2; k++)
		nanosleep(&ts, NULL);
	return t->fail[i];
}

Test(fanout, every_task_once_per_round_on_several_threads)
{
	struct ibsp_fanout *f = ibsp_fanout__new(4, MAX_TASKS);
	struct tally t = { 0 };
	unsigned int rounds = 0, expect[MAX_TASKS] = { 0 };
	bool two_threads = false;

	cr_assert_not_null(f);
	for (unsigned int r = 0; r < 200; r++) {
		unsigned int nr = 1 + r % MAX_TASKS;

		atomic_store(&t.started, 0);
		cr_assert_eq(ibsp_fanout__run(f, count_task, &t, nr), 0);
		rounds++;
		for (unsigned int i = 0; i < nr; i++) {
			expect[i]++;
			two_threads |= i && !pthread_equal(t.who[i], t.who[0]);
		}
		for (unsigned int i = 0; i < MAX_TASKS; i++)
			cr_assert_eq(t.runs[i], expect[i], "round %u: task %u ran %u times, not %u",
				     r, i, t.runs[i], expect[i]);
	}
	cr_expect(two_threads, "in %u rounds no task ran off the caller's thread", rounds);
	ibsp_fanout__delete(f);
}

Test(fanout, the_first_failure_in_task_order)
{
	struct ibsp_fanout *f = ibsp_fanout__new(3, MAX_TASKS);
	struct tally t = { .fail = { [3] = -EIO, [5] = -ENOMEM } };

	cr_assert_not_null(f);
	cr_expect_eq(ibsp_fanout__run(f, count_task, &t, 8), -EIO);
	for (unsigned int i = 0; i < 8; i++)
		cr_expect_eq(t.runs[i], 1, "task %u ran %u times", i, t.runs[i]);
	cr_expect_eq(ibsp_fanout__run(f, count_task, &t, 5), -EIO, "task 5 is not in a round of 5");
	cr_expect_eq(ibsp_fanout__run(f, count_task, &t, 3), 0);
	/* In turn, without a pool: the same answer. */
	cr_expect_eq(ibsp_fanout__run(NULL, count_task, &t, 8), -EIO);
	cr_expect_eq(ibsp_fanout__run(f, count_task, &t, MAX_TASKS + 1), -EINVAL,
		     "more tasks than the pool was made for");
	ibsp_fanout__delete(f);
}

/* What a replay reports, interval by interval: a digest of every interval's counts. */
struct trace {
	uint64_t hash;
	uint64_t intervals;
	uint64_t decisions;
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ULL;
}

static int on_interval(void *ctx, const struct ibsp_replay_interval *iv)
{
	struct trace *tr = ctx;

	tr->intervals++;
	mix(&tr->hash, &iv->samples, sizeof(iv->samples));
	mix(&tr->hash, &iv->planned, sizeof(iv->planned));
	mix(&tr->hash, iv->eval, iv->nr_eval * sizeof(iv->eval[0]));
	return 0;
}

static int on_decision(void *ctx, const struct ibsp_replay_decision *d)
{
	const struct ibsp_migration *m = d->m;
	struct trace *tr = ctx;

	tr->decisions++;
	mix(&tr->hash, &m->key, sizeof(m->key));
	mix(&tr->hash, &m->dst_idx, sizeof(m->dst_idx));
	return 0;
}

static void replay(const char *path, bool evaluate, unsigned int threads,
		   struct ibsp_replay_result *res, struct trace *tr)
{
	struct ibsp_replay_opts o = { .sz = sizeof(o), .evaluate = evaluate, .threads = threads };

	memset(tr, 0, sizeof(*tr));
	tr->hash = 0xcbf29ce484222325ULL;
	o.engine.sz = sizeof(o.engine);
	o.on_interval = on_interval;
	o.on_decision = on_decision;
	o.ctx = tr;
	cr_assert_eq(ibsp_policy__find("locality", &o.engine.policy), 0);
	cr_assert_eq(ibsp_replay__run(path, &o, res), 0, "threads %u: %s", threads, log_captured());
}

/*
 * 12 k pages (more than a tick fans out for) and 300 k samples (36 MB: read
 * ahead) of a 4-socket CXL host: every batch and every tick goes to the
 * threads.
 */
static const char *fan_recording(void)
{
	static char path[400];
	char cmd[1024], *out, *err;

	if (path[0])
		return path;
	snprintf(path, sizeof(path), "%s", tmp_path("fan.data"));
	snprintf(cmd, sizeof(cmd),
		 "%s -o %s --topology 4s-2cxl --pattern private:50,shared:20,phase:20,zipf:10 "
		 "--pages 12000 --samples 300000 --duration-ms 20000 --initial mixed --seed 11",
		 IBSP_GEN, path);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "%s: %s", cmd, err);
	free(out);
	free(err);
	return path;
}

Test(fanout, replay_evaluate_is_the_same_with_any_threads)
{
	const char *path = fan_recording();
	struct ibsp_replay_result one, res;
	struct trace t1, tr;

	replay(path, true, 1, &one, &t1);
	cr_assert_gt(t1.decisions, 100, "a replay that moves little tests little: %" PRIu64,
		     t1.decisions);
	cr_assert_gt(one.st.pages_tracked, 4096);
	for (unsigned int threads = 2; threads <= 6; threads += 2) {
		replay(path, true, threads, &res, &tr);
		cr_expect_eq(tr.intervals, t1.intervals, "threads %u", threads);
		cr_expect_eq(tr.decisions, t1.decisions, "threads %u", threads);
		cr_expect_eq(tr.hash, t1.hash, "threads %u: the intervals or decisions differ",
			     threads);
		cr_expect_eq(res.nr_eval, one.nr_eval);
		cr_expect_eq(memcmp(res.eval, one.eval, sizeof(res.eval)), 0, "threads %u",
			     threads);
		cr_expect_eq(memcmp(res.eval_pages_moved, one.eval_pages_moved,
				    sizeof(res.eval_pages_moved)),
			     0, "threads %u", threads);
		cr_expect_eq(memcmp(res.moves_pages, one.moves_pages,
				    (size_t)one.nr_nodes * one.nr_nodes * sizeof(uint64_t)),
			     0, "threads %u", threads);
		cr_expect_eq(res.st.planned, one.st.planned, "threads %u", threads);
		ibsp_replay_result__free(&res);
	}
	ibsp_replay_result__free(&one);
}

/* A plain replay: read ahead on a thread of its own from two, in place on one. */
Test(fanout, plain_replay_is_the_same_read_ahead)
{
	const char *path = fan_recording();
	struct ibsp_replay_result one, res;
	struct trace t1, tr;

	replay(path, false, 1, &one, &t1);
	cr_assert_gt(t1.decisions, 100);
	cr_assert_eq(one.samples, 300000);
	replay(path, false, 2, &res, &tr);
	cr_expect_eq(res.samples, one.samples);
	cr_expect_eq(tr.intervals, t1.intervals);
	cr_expect_eq(tr.decisions, t1.decisions);
	cr_expect_eq(tr.hash, t1.hash, "the intervals or decisions differ");
	cr_expect_eq(memcmp(&res.st, &one.st, sizeof(res.st)), 0, "the engine's counters differ");
	cr_expect_eq(res.reader.nr_samples, one.reader.nr_samples);
	ibsp_replay_result__free(&res);
	ibsp_replay_result__free(&one);
}
