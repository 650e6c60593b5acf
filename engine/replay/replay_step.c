// SPDX-License-Identifier: MIT
/*
 * A replay's steps (replay_internal.h): a batch of samples through every
 * engine and the oracles, and the close of each interval its samples' times
 * pass. With --evaluate's threads, each is fanned out, a task per engine and
 * one for the oracles (fanout.h), and joined before the next step.
 */
#include <string.h>

#include "replay_internal.h"

/* Task @k of a batch: engine k's updates; the last, with the oracles, theirs. */
static int feed_task(void *arg, unsigned int k)
{
	struct run *run = arg;
	size_t m;

	if (k < run->nr_eng) {
		ibsp_engine__add(run->eng[k], run->job_s, run->job_n);
		return 0;
	}
	/* Resolution reads engine 0's host map only, which its updates leave alone. */
	m = ibsp_oracle__resolve(run->eng[0], run->job_s, run->job_n, run->refs);
	ibsp_oracle__score(run->oracle, run->refs, m, &run->iv.eval[run->oracle_row]);
	return ibsp_oracle_dyn__add(run->dyn, run->refs, m);
}

static int feed(struct run *run, const struct ibsp_sample *s, size_t n)
{
	if (!n)
		return 0;
	run->iv.samples += n;
	run->dirty = true;
	run->job_s = s;
	run->job_n = n;
	return ibsp_fanout__run(n >= FANOUT_MIN_SAMPLES ? run->pool : NULL, feed_task, run,
				run->nr_eng + !!run->oracle);
}

/* The nodes engine @k moved pages into with @plan: still at or above their watermark? */
static void check_watermarks(struct run *run, uint32_t k, const struct ibsp_migration *plan, long n)
{
	struct ibsp_replay_result *res = run->res;
	uint32_t nr_nodes = res->nr_nodes;

	memset(run->dst_seen, 0, nr_nodes);
	for (long i = 0; i < n; i++) {
		if (plan[i].dst_idx.idx >= 0 && (uint32_t)plan[i].dst_idx.idx < nr_nodes)
			run->dst_seen[plan[i].dst_idx.idx] = 1;
	}
	for (uint32_t i = 0; i < nr_nodes; i++) {
		struct ibsp_node_idx x = ibsp_node_idx((int)i);
		uint64_t free_b, wmark;
		int64_t room;

		if (!run->dst_seen[i])
			continue;
		free_b = ibsp_engine__free_bytes(run->eng[k], x);
		wmark = ibsp_engine__watermark_bytes(run->eng[k], x);
		/* Both are byte counts far below 2^62; clamped so the difference cannot wrap. */
		free_b = free_b < (1ULL << 62) ? free_b : 1ULL << 62;
		wmark = wmark < (1ULL << 62) ? wmark : 1ULL << 62;
		room = (int64_t)free_b - (int64_t)wmark;
		res->eval_below_watermark[k] += room < 0;
		if (room < res->eval_min_headroom[k])
			res->eval_min_headroom[k] = room;
	}
}

/* Task @k of a tick: engine k's; the last, with the dynamic oracle, its interval's close. */
static int tick_task(void *arg, unsigned int k)
{
	struct run *run = arg;

	if (k < run->nr_eng) {
		run->tick_n[k] = ibsp_engine__tick(run->eng[k], run->boundary, &run->tick_plan[k]);
		return run->tick_n[k] < 0 ? (int)run->tick_n[k] : 0;
	}
	return ibsp_oracle_dyn__close(run->dyn,
				      &run->iv.eval[run->oracle_row + IBSP_ORACLE_DYNAMIC]);
}

/* The threads for a tick, where the engines track enough pages to be worth it. */
static struct ibsp_fanout *tick_pool(const struct run *run)
{
	uint64_t pages = 0;

	for (uint32_t k = 0; run->pool && k < run->nr_eng; k++)
		pages += ibsp_engine__stats(run->eng[k])->pages_tracked;
	return pages >= FANOUT_MIN_PAGES ? run->pool : NULL;
}

int ibsp_replay__tick(struct run *run)
{
	struct ibsp_replay_result *res = run->res;
	struct ibsp_replay_interval *iv = &run->iv;
	int ret = 0;

	iv->end_ns = run->boundary;
	iv->start_ns = run->boundary - run->interval_ns;
	ret = ibsp_fanout__run(tick_pool(run), tick_task, run, run->nr_eng + !!run->dyn);
	if (ret)
		return ret;
	for (uint32_t k = 0; k < run->nr_eng; k++) {
		const struct ibsp_engine_stats *st = ibsp_engine__stats(run->eng[k]);
		const struct ibsp_migration *plan = run->tick_plan[k];
		long n = run->tick_n[k];

		if (run->dst_seen)
			check_watermarks(run, k, plan, n);
		for (long i = 0; run->oracle && i < n; i++)
			ibsp_oracle__note_move(run->oracle, k, plan[i].key);
		if (k == 0) {
			iv->planned = n;
			iv->planned_bytes = st->interval_planned_bytes;
			iv->budget_bytes = st->interval_budget_bytes;
			iv->threshold = st->threshold;
			for (long i = 0; i < n; i++) {
				int s = plan[i].src_idx.idx, d = plan[i].dst_idx.idx;

				res->moves_pages[s * res->nr_nodes + d]++;
				res->moves_bytes[s * res->nr_nodes + d] += plan[i].bytes;
				if (!ret && run->o->on_decision) {
					struct ibsp_replay_decision dec = {
						.m = &plan[i],
						.time_ns = run->boundary,
						.heat = ibsp_engine__plan_heat(run->eng[0], i),
						.nr_acc = res->nr_acc,
					};

					ret = run->o->on_decision(run->o->ctx, &dec);
				}
			}
		}
		if (run->nr_eng + !!run->oracle > 1) {
			iv->eval[k].local = st->local_accesses - run->prev[k].local_accesses;
			iv->eval[k].placed = st->placed_accesses - run->prev[k].placed_accesses;
			iv->eval[k].migrated_bytes = st->planned_bytes - run->prev[k].planned_bytes;
			iv->eval[k].migrations = st->planned - run->prev[k].planned;
		}
		run->prev[k] = *st;
	}
	iv->nr_eval = res->nr_eval;
	for (uint32_t k = 0; k < res->nr_eval; k++) {
		res->eval[k].local += iv->eval[k].local;
		res->eval[k].placed += iv->eval[k].placed;
		res->eval[k].migrated_bytes += iv->eval[k].migrated_bytes;
		res->eval[k].migrations += iv->eval[k].migrations;
	}
	if (!ret && run->o->on_interval)
		ret = run->o->on_interval(run->o->ctx, iv);
	res->intervals++;
	memset(iv, 0, sizeof(*iv));
	iv->index = res->intervals;
	run->boundary += run->interval_ns;
	run->dirty = false;
	return ret;
}

/* Run the intervals that end at or before @t. */
static int close_intervals(struct run *run, uint64_t t)
{
	int ret;

	if ((t - run->boundary) / run->interval_ns > MAX_GAP_INTERVALS) {
		uint64_t skip;

		for (int i = 0; i < GAP_TICKS; i++) {
			ret = ibsp_replay__tick(run);
			if (ret)
				return ret;
		}
		skip = (t - run->boundary) / run->interval_ns;
		run->boundary += skip * run->interval_ns;
		run->res->idle_intervals += skip;
		run->res->intervals += skip;
		run->iv.index = run->res->intervals;
	}
	while (t >= run->boundary) {
		ret = ibsp_replay__tick(run);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A time within two intervals of 2^64 would wrap the interval boundary, and
 * the replay would then tick ~2^64 / interval times (a hostile recording with
 * one sample at 18446744073708798864 ns; tests/regress/time-near-2to64.data,
 * found by tests/fuzz): such samples count in the last interval there is.
 */
static uint64_t clamp_time(const struct run *run, uint64_t t)
{
	uint64_t last = UINT64_MAX - 2 * run->interval_ns;

	return t > last ? last : t;
}

int ibsp_replay__batch(struct run *run, const struct ibsp_sample *buf, size_t n)
{
	struct ibsp_replay_result *res = run->res;
	size_t start = 0;
	int ret;

	for (size_t i = 0; i < n; i++) {
		uint64_t t = clamp_time(run, buf[i].time_ns);

		if (!(buf[i].flags & IBSP_S_TIME_VALID))
			continue;
		if (!run->started) {
			run->started = true;
			res->first_ns = t;
			run->boundary = t + run->interval_ns;
		}
		if (t >= run->boundary) {
			ret = feed(run, buf + start, i - start);
			start = i;
			if (!ret)
				ret = close_intervals(run, t);
			if (ret) { /* stopped (a signal) or failed: count what was fed */
				res->samples += (uint64_t)i;
				return ret;
			}
		}
		res->last_ns = t;
	}
	res->samples += (uint64_t)n;
	return feed(run, buf + start, n - start);
}
