// SPDX-License-Identifier: MIT
/*
 * Replay: a recording's samples, in perf's time order, drive one engine per
 * policy in simulate mode. Interval boundaries follow the recording's clock
 * (first sample + k * interval_ms), so a replay is deterministic and as
 * fast as the reader. With evaluate, a first unordered pass feeds the
 * static hindsight oracles, and the main pass scores every policy's
 * placement, the oracles' and the dynamic oracle's, which places each
 * interval's pages when the interval closes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ibsp/policies.h"
#include "ibsp/replay.h"
#include "log_print.h"
#include "fanout.h"
#include "oracle.h"
#include "replay_events.h"
#include "util.h"

#define BATCH		  16384
#define MAX_GAP_INTERVALS 1000 /* longer gaps are collapsed */
#define GAP_TICKS	  64   /* enough to decay any heat to 0 */

struct run {
	const struct ibsp_replay_opts *o;
	struct ibsp_replay_result *res;
	const struct ibsp_topology *topo;
	uint32_t nr_eng;
	struct ibsp_engine *eng[IBSP_EVAL_MAX];
	struct ibsp_oracle *oracle;
	struct ibsp_oracle_dyn *dyn;
	uint32_t oracle_row;	    /* the first oracle row; IBSP_EVAL_MAX if none */
	struct ibsp_page_ref *refs; /* a batch's samples, resolved for the oracles */
	struct ibsp_replay_interval iv;
	struct ibsp_engine_stats prev[IBSP_EVAL_MAX];
	uint8_t *dst_seen; /* [nr_nodes]: a node received pages this tick (check_watermarks()) */
	uint64_t interval_ns, boundary;
	bool started, dirty;
	bool *keep; /* [nr_keep]: the events whose samples are replayed; NULL: all */
	uint32_t nr_keep;
	/* With evaluate: the threads, and what their tasks share (feed_task(), tick_task()). */
	struct ibsp_fanout *pool;
	const struct ibsp_sample *job_s;
	size_t job_n;
	long tick_n[IBSP_EVAL_MAX];
	const struct ibsp_migration *tick_plan[IBSP_EVAL_MAX];
};

/* Below these a batch or a tick is not worth waking the other threads for. */
#define FANOUT_MIN_SAMPLES 256
#define FANOUT_MIN_PAGES   4096

/* The same policy: the same operations, and the same argument if it takes one. */
static bool same_policy(const struct ibsp_policy *a, const struct ibsp_policy *b)
{
	return a->ops == b->ops && (!a->ops || !a->ops->parse || a->arg == b->arg);
}

static int add_engine(struct run *run, const struct ibsp_policy *policy)
{
	struct ibsp_engine_opts eo = run->o->engine;
	struct ibsp_engine *e;
	char name[32];

	eo.sz = sizeof(eo);
	eo.policy = *policy;
	eo.simulate = true;
	eo.resolver = NULL;
	for (uint32_t i = 0; i < run->nr_eng; i++) {
		if (same_policy(&ibsp_engine__opts(run->eng[i])->policy, &eo.policy))
			return 0;
	}
	e = ibsp_engine__new(run->topo, &eo);
	if (!e)
		return -errno;
	ibsp_policy__name(&eo.policy, name, sizeof(name));
	snprintf(run->res->eval_name[run->nr_eng], sizeof(run->res->eval_name[0]), "%s", name);
	run->eng[run->nr_eng++] = e;
	return 0;
}

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

static int tick(struct run *run)
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
				if (!ret && run->o->on_decision)
					ret = run->o->on_decision(run->o->ctx, &plan[i]);
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
			ret = tick(run);
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
		ret = tick(run);
		if (ret)
			return ret;
	}
	return 0;
}

/* The unordered reader is the oracles' second pass: the first reader gave the warnings. */
static int open_reader(const char *path, bool unordered, struct ibsp_perf_reader **r)
{
	struct ibsp_perf_reader_opts ro = { .sz = sizeof(ro),
					    .unordered = unordered,
					    .quiet = unordered };

	return ibsp_perf_reader__open(path, &ro, r);
}

/* The oracles' first pass: count, place the static oracles; start the dynamic one. */
static int oracle_pass(struct run *run, const char *path, struct ibsp_sample *buf)
{
	struct ibsp_perf_reader *r;
	uint64_t *free_bytes;
	uint32_t nr_nodes;
	int ret;
	long n;

	ret = open_reader(path, true, &r);
	if (ret)
		return ret;
	while ((n = ibsp_perf_reader__read(r, buf, BATCH)) > 0) {
		size_t m = ibsp_oracle__resolve(
		    run->eng[0], buf,
		    ibsp_replay__keep_events(run->keep, run->nr_keep, buf, (size_t)n), run->refs);

		ret = ibsp_oracle__count(run->oracle, run->refs, m);
		if (ret)
			break;
	}
	ibsp_perf_reader__close(r);
	if (n < 0)
		return (int)n;
	if (ret)
		return ret;
	nr_nodes = ibsp_topology__nr_nodes(run->topo);
	free_bytes = malloc((nr_nodes + 1) * sizeof(*free_bytes));
	if (!free_bytes)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr_nodes; i++)
		free_bytes[i] = ibsp_topology__mem_free_kb(run->topo, ibsp_node_idx((int)i)) << 10;
	run->dyn = ibsp_oracle_dyn__new(run->eng[0], run->topo, free_bytes);
	ret = run->dyn ? ibsp_oracle__place(run->oracle, free_bytes) : -ENOMEM;
	free(free_bytes);
	return ret;
}

static const char *const oracle_names[IBSP_ORACLE__MAX] = {
	[IBSP_ORACLE_STATIC] = "oracle",
	[IBSP_ORACLE_CAPACITY] = "oracle-capacity",
	[IBSP_ORACLE_DYNAMIC] = "oracle-dynamic",
};

static uint32_t nr_cpu_nodes(const struct ibsp_topology *topo)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(topo); i++)
		n += ibsp_topology__nr_cpus(topo, ibsp_node_idx((int)i)) > 0;
	return n;
}

/* The threads of an evaluation: o->threads, or one per online CPU; at most one per task. */
static void start_pool(struct run *run)
{
	unsigned int tasks = run->nr_eng + 1, n = run->o->threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!n)
		n = cpus > 0 ? (unsigned int)cpus : 1;
	if (n > tasks)
		n = tasks;
	if (n < 2)
		return;
	run->pool = ibsp_fanout__new(n, tasks);
	if (!run->pool)
		pr_warn("replay: no threads for the evaluation (%s): its engines run in turn\n",
			strerror(errno));
}

static int setup(struct run *run, const char *path, struct ibsp_topology *topo)
{
	const struct ibsp_replay_opts *o = run->o;
	struct ibsp_replay_result *res = run->res;
	int ret;

	ret = ibsp_topology__set_top_tier(topo, o->top_tier);
	if (ret)
		return ret;
	uint32_t nr = ibsp_topology__nr_nodes(topo);

	res->has_block_map = ibsp_topology__has_block_map(topo);
	if (!res->has_block_map)
		pr_warn("%s: no MEM_TOPOLOGY (memory-block map): no physical address has a node\n",
			path);
	res->nr_nodes = nr;
	res->node_ids = calloc(nr, sizeof(int));
	res->moves_pages = calloc((size_t)nr * nr, sizeof(uint64_t));
	res->moves_bytes = calloc((size_t)nr * nr, sizeof(uint64_t));
	if (!res->node_ids || !res->moves_pages || !res->moves_bytes)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr; i++)
		res->node_ids[i] = ibsp_topology__node_id(topo, ibsp_node_idx((int)i)).id;

	ret = add_engine(run, &o->engine.policy);
	if (ret)
		return ret;
	res->opts = *ibsp_engine__opts(run->eng[0]);
	res->opts.resolver = NULL;
	res->nr_acc = ibsp_engine__nr_acc(run->eng[0]);
	for (uint32_t s = 0; s < res->nr_acc; s++)
		res->acc_node_ids[s] =
		    ibsp_topology__node_id(topo, ibsp_engine__acc_node(run->eng[0], s)).id;
	if (!o->evaluate)
		return 0;
	if ((ret = add_engine(run, &(struct ibsp_policy){ &ibsp_policy_last_accessor, -1 })) ||
	    (ret = add_engine(
		 run, &(struct ibsp_policy){ &ibsp_policy_fixed_node, o->baseline_fixed_node })) ||
	    (ret = add_engine(run, &(struct ibsp_policy){ &ibsp_policy_none, -1 })))
		return ret;
	run->oracle = ibsp_oracle__new(run->eng[0], run->topo);
	run->refs = malloc(BATCH * sizeof(*run->refs));
	run->dst_seen = malloc(nr ? nr : 1);
	if (!run->oracle || !run->refs || !run->dst_seen)
		return -ENOMEM;
	for (uint32_t k = 0; k < IBSP_EVAL_MAX; k++)
		res->eval_min_headroom[k] = INT64_MAX;
	run->oracle_row = res->nr_policies = run->nr_eng;
	for (int k = 0; k < IBSP_ORACLE__MAX; k++)
		snprintf(res->eval_name[run->oracle_row + k], sizeof(res->eval_name[0]), "%s",
			 oracle_names[k]);
	res->nr_eval = run->nr_eng + IBSP_ORACLE__MAX;
	start_pool(run);
	return 0;
}

static void finish(struct run *run)
{
	struct ibsp_replay_result *res = run->res;

	res->st = *ibsp_engine__stats(run->eng[0]);
	for (uint32_t k = 0; k < run->nr_eng && res->nr_eval; k++) {
		const struct ibsp_engine_stats *st = ibsp_engine__stats(run->eng[k]);

		res->eval_pingpong[k] = st->pingpong;
		res->eval_pages_moved[k] = st->pages_moved;
		res->eval_moved_twice[k] = st->moved_twice;
		if (run->oracle)
			res->eval_shared_moved_twice[k] = ibsp_oracle__shared_moved_twice(
			    run->oracle, k, ibsp_engine__opts(run->eng[k])->min_share_bp);
	}
	if (run->oracle) {
		struct ibsp_oracle_moves m[IBSP_ORACLE__MAX];

		ibsp_oracle__moved(run->oracle, 0, &m[IBSP_ORACLE_STATIC]);
		ibsp_oracle__moved(run->oracle, 1, &m[IBSP_ORACLE_CAPACITY]);
		ibsp_oracle_dyn__moved(run->dyn, &m[IBSP_ORACLE_DYNAMIC]);
		for (int k = 0; k < IBSP_ORACLE__MAX; k++) {
			uint32_t row = run->oracle_row + (uint32_t)k;

			/* The static placements apply once, outside the intervals. */
			res->eval[row].migrated_bytes = m[k].bytes;
			res->eval[row].migrations = m[k].moves;
			res->eval_pages_moved[row] = m[k].pages;
			res->eval_moved_twice[row] = m[k].twice;
		}
	}
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

/* Feed one batch, closing the intervals that its samples' times pass. */
static int replay_batch(struct run *run, const struct ibsp_sample *buf, size_t n)
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

/*
 * The next samples: where the reader holds them, or, with threads, copied
 * into @buf up to BATCH. A run of the reader's queue is often one round of
 * perf's (~1 k samples), and a batch that small keeps the threads waking
 * more than working.
 */
static long next_batch(const struct run *run, struct ibsp_perf_reader *r, struct ibsp_sample *buf,
		       const struct ibsp_sample **s)
{
	if (!run->pool)
		return ibsp_perf_reader__read_in_place(r, s, BATCH);
	*s = buf;
	return ibsp_perf_reader__read(r, buf, BATCH);
}

/* The main pass: every sample, in time order, through the engines; then the totals. */
static int main_pass(struct run *run, struct ibsp_perf_reader *r, struct ibsp_sample *buf)
{
	const struct ibsp_replay_opts *o = run->o;
	uint64_t data_off, data_len, batches = 0;
	const struct ibsp_sample *s;
	int ret = 0;
	long n;

	ibsp_perf_reader__data_range(r, &data_off, &data_len);
	while ((n = next_batch(run, r, buf, &s)) > 0) {
		size_t k = (size_t)n;

		if (run->keep) { /* some events only: those kept, copied */
			if (s != buf)
				memcpy(buf, s, k * sizeof(*s));
			k = ibsp_replay__keep_events(run->keep, run->nr_keep, buf, k);
			s = buf;
		}
		run->res->samples_filtered += (uint64_t)n - k;
		ret = replay_batch(run, s, k);
		if (ret == -EINTR)
			finish(
			    run); /* stopped: the totals reached so far, consistent with samples */
		if (ret)
			return ret;
		if (o->on_progress && !(++batches % 64))
			o->on_progress(o->ctx, ibsp_perf_reader__pos(r) - data_off, data_len);
	}
	if (n < 0)
		return (int)n;
	if (run->dirty && run->started)
		ret = tick(run);
	if (o->on_progress)
		o->on_progress(o->ctx, data_len, data_len);
	finish(run);
	return ret;
}

int ibsp_replay__run(const char *path, const struct ibsp_replay_opts *opts,
		     struct ibsp_replay_result *res)
{
	struct ibsp_replay_opts o;
	struct run run = { .o = &o, .res = res, .oracle_row = IBSP_EVAL_MAX };
	struct ibsp_perf_reader *r = NULL;
	struct ibsp_topology *topo;
	struct ibsp_sample *buf;
	int ret;

	IBSP_OPTS_COPY(o, opts);
	memset(res, 0, sizeof(*res));
	buf = malloc(BATCH * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	ret = open_reader(path, false, &r);
	if (ret)
		goto out;
	topo = ibsp_perf_reader__info(r)->topo;
	if (!topo || !ibsp_topology__nr_nodes(topo)) {
		pr_err("%s: no NUMA_TOPOLOGY feature: replay needs the recording host's nodes\n",
		       path);
		ret = -EINVAL;
		goto out;
	}
	if (!nr_cpu_nodes(topo)) {
		pr_err("%s: no node of the recording has CPUs (no NUMA_TOPOLOGY feature, or one "
		       "that lists no CPU): replay needs the node of each sample's CPU\n",
		       path);
		ret = -EINVAL;
		goto out;
	}
	run.topo = topo;
	res->events = o.events;
	ret = ibsp_replay__pick_events(path, r, o.events, &run.keep, &run.nr_keep);
	if (ret)
		goto out;
	run.interval_ns = (uint64_t)(o.engine.interval_ms ? o.engine.interval_ms : 1000) * 1000000;
	ret = setup(&run, path, topo);
	if (!ret && run.oracle)
		ret = oracle_pass(&run, path, buf);
	if (!ret)
		ret = main_pass(&run, r, buf);
out:
	if (r)
		res->reader = *ibsp_perf_reader__stats(r);
	/* The per-event/per-CPU arrays belong to the reader, which is going away. */
	res->reader.samples_per_event = NULL;
	res->reader.samples_per_cpu = NULL;
	res->reader.nr_cpu_slots = 0;
	ibsp_fanout__delete(run.pool);
	for (uint32_t k = 0; k < run.nr_eng; k++)
		ibsp_engine__delete(run.eng[k]);
	ibsp_oracle__delete(run.oracle);
	ibsp_oracle_dyn__delete(run.dyn);
	free(run.refs);
	free(run.dst_seen);
	free(run.keep);
	ibsp_perf_reader__close(r);
	free(buf);
	return ret;
}

void ibsp_replay_result__free(struct ibsp_replay_result *res)
{
	free(res->node_ids);
	free(res->moves_pages);
	free(res->moves_bytes);
	res->node_ids = NULL;
	res->moves_pages = res->moves_bytes = NULL;
}
