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
#include "readahead.h"
#include "replay_internal.h"
#include "replay_events.h"
#include "util.h"

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
	eo.plan_heat = !run->nr_eng && run->o->on_decision; /* the chosen policy's, reported */
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

/* The unordered reader is the oracles' second pass: the first reader gave the warnings. */
static int open_reader(const char *path, bool unordered, struct ibsp_perf_reader **r)
{
	/* The engine and the oracles read no data source: the IBS decode skips it. */
	struct ibsp_perf_reader_opts ro = {
		.sz = sizeof(ro), .unordered = unordered, .quiet = unordered, .no_source = true
	};

	return ibsp_perf_reader__open(path, &ro, r);
}

/*
 * Where a pass takes its samples from: with two threads or more, a thread of
 * its own reads ahead (readahead.h), batches of BATCH samples, while the
 * others run the engines; else this thread reads (in place, where the reader
 * can: a run of its queue is often one round of perf's, ~1 k samples, too
 * few to wake the threads for). Filtered by --event either way. A data
 * section under READ_AHEAD_MIN is read here: a few batches, not worth a
 * thread.
 */
#define READ_AHEAD_MIN (8ULL << 20)
struct source {
	const struct run *run;
	struct ibsp_perf_reader *r;
	struct ibsp_readahead *ra;
	struct ibsp_sample *buf; /* BATCH samples: the filtered ones, or the batch read */
	bool in_place;
	uint64_t pos; /* the reader's offset after the last batch */
};

static void source_init(struct source *src, const struct run *run, struct ibsp_perf_reader *r,
			struct ibsp_sample *buf, bool in_place)
{
	uint64_t off, len;

	*src = (struct source){ .run = run, .r = r, .buf = buf, .in_place = in_place };
	ibsp_perf_reader__data_range(r, &off, &len);
	if (run->read_ahead && len >= READ_AHEAD_MIN && !(src->ra = ibsp_readahead__new(r, BATCH)))
		pr_warn("replay: no thread to read ahead (%s): the file is read between steps\n",
			strerror(errno));
}

/* The next batch: *@s its samples, *@kept how many --event keeps; return how many were read. */
static long source_next(struct source *src, const struct ibsp_sample **s, size_t *kept)
{
	const struct run *run = src->run;
	long n;

	if (src->ra) {
		n = ibsp_readahead__next(src->ra, s, &src->pos);
	} else {
		if (src->in_place) {
			n = ibsp_perf_reader__read_in_place(src->r, s, BATCH);
		} else {
			n = ibsp_perf_reader__read(src->r, src->buf, BATCH);
			*s = src->buf;
		}
		src->pos = ibsp_perf_reader__pos(src->r);
	}
	*kept = n > 0 ? (size_t)n : 0;
	if (n > 0 && run->keep) { /* some events only: those kept, copied */
		if (*s != src->buf)
			memcpy(src->buf, *s, (size_t)n * sizeof(**s));
		*kept = ibsp_replay__keep_events(run->keep, run->nr_keep, src->buf, (size_t)n);
		*s = src->buf;
	}
	return n;
}

/* The oracles' first pass: count, place the static oracles; start the dynamic one. */
static int oracle_pass(struct run *run, const char *path, struct ibsp_sample *buf)
{
	const struct ibsp_sample *s;
	struct ibsp_perf_reader *r;
	struct source src;
	size_t k;
	uint64_t *free_bytes;
	uint32_t nr_nodes;
	int ret;
	long n;

	ret = open_reader(path, true, &r);
	if (ret)
		return ret;
	source_init(&src, run, r, buf, false);
	while ((n = source_next(&src, &s, &k)) > 0) {
		size_t m = ibsp_oracle__resolve(run->eng[0], s, k, run->refs);

		ret = ibsp_oracle__count(run->oracle, run->refs, m);
		if (ret)
			break;
	}
	ibsp_readahead__delete(src.ra);
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

/*
 * The threads: o->threads, or one per online CPU. From two, one reads ahead;
 * with evaluate the engines and the oracles run side by side on a pool of at
 * most one thread per task.
 */
static void start_pool(struct run *run)
{
	unsigned int tasks = run->nr_eng + !!run->oracle, n = run->o->threads;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!n)
		n = cpus > 0 ? (unsigned int)cpus : 1;
	run->read_ahead = n >= 2;
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
	if (!o->evaluate) {
		start_pool(run);
		return 0;
	}
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

/* The main pass: every sample, in time order, through the engines; then the totals. */
static int main_pass(struct run *run, struct ibsp_perf_reader *r, struct ibsp_sample *buf)
{
	const struct ibsp_replay_opts *o = run->o;
	uint64_t data_off, data_len, batches = 0;
	const struct ibsp_sample *s;
	struct source src;
	int ret = 0;
	size_t k;
	long n;

	ibsp_perf_reader__data_range(r, &data_off, &data_len);
	source_init(&src, run, r, buf, true);
	while ((n = source_next(&src, &s, &k)) > 0) {
		run->res->samples_filtered += (uint64_t)n - k;
		ret = ibsp_replay__batch(run, s, k);
		if (ret == -EINTR)
			finish(
			    run); /* stopped: the totals reached so far, consistent with samples */
		if (ret)
			break;
		if (o->on_progress && !(++batches % 64))
			o->on_progress(o->ctx, src.pos - data_off, data_len);
	}
	ibsp_readahead__delete(src.ra); /* the reader is this thread's again */
	if (ret)
		return ret;
	if (n < 0)
		return (int)n;
	if (run->dirty && run->started)
		ret = ibsp_replay__tick(run);
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
