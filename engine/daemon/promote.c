// SPDX-License-Identifier: MIT
/*
 * The daemon's promotion half (daemon_internal.h): drained records are
 * decoded and batched into the engine; each policy interval reaps the
 * migration worker's outcomes, refreshes free memory per node, ticks the
 * policy, submits the in-scope plan to the worker and writes a telemetry
 * line through the daemon's io_uring.
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log_print.h"

#define FLUSH_MAX_MS 5000

/* Live node of pages without a physical address: move_pages(nodes = NULL). */
static int query_nodes(void *ctx, uint32_t pid, uint32_t nr, const uint64_t *vaddrs, int *status)
{
	void *pages[512];

	(void)ctx;
	for (uint32_t base = 0; base < nr; base += 512) {
		uint32_t k = nr - base < 512 ? nr - base : 512;

		for (uint32_t i = 0; i < k; i++)
			pages[i] = (void *)(uintptr_t)vaddrs[base + i];
		if (numa_move_pages((int)pid, k, pages, NULL, status + base, 0) < 0)
			return -errno;
	}
	return 0;
}

/* Say once that the telemetry file lost lines. */
static void tel_failed(struct daemon *d, int err)
{
	if (!d->tel_failed)
		pr_err("%s: telemetry write failed: %s\n", d->o.json_name, strerror(-err));
	d->tel_failed = true;
}

static int open_telemetry(struct daemon *d)
{
	d->tel.ordered = true;
	d->tel.fd = -1;
	if (d->o.json_path && !strcmp(d->o.json_path, "-")) {
		d->tel.fd = STDOUT_FILENO;
	} else if (d->o.json_path) {
		d->tel.fd = open(d->o.json_path,
				 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (d->tel.fd < 0) {
			pr_err("%s: cannot open: %s\n", d->o.json_name, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int ibsp_promote__start_threads(struct daemon *d)
{
	struct ibsp_migrator_opts mo = { .sz = sizeof(mo),
					 .rate_bytes_per_s = d->o.engine.rate_bytes_per_s,
					 .dry_run = d->o.dry_run,
					 .check_pid = ibsp_daemon_targets__check,
					 .check_ctx = &d->targets,
					 .move_pages = d->o.move_pages };

	/* Pages mapped by several processes move only with MPOL_MF_MOVE_ALL, which needs
	 * CAP_SYS_NICE; without it they fail with EACCES (counted; privs.c says so). */
	int ret;

	mo.flags = d->caps.cap_sys_nice ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE;
	/* A test's fake host: its nodes are the valid destinations, not this host's. */
	for (uint32_t i = 0; d->o.sampler.sysfs_root && i < ibsp_topology__nr_nodes(d->topo); i++) {
		int id = ibsp_topology__node_id(d->topo, ibsp_node_idx((int)i)).id;

		if (id >= 0 && id < 64)
			mo.node_mask |= 1ull << id;
	}
	d->mig = ibsp_migrator__new(&mo);
	if (!d->mig)
		return -errno;
	/* The metrics server's thread too starts with the reduced set. */
	if (d->o.metrics_listen || d->o.metrics_textfile) {
		ret =
		    ibsp_metrics_out__open(d->o.metrics_listen, d->o.metrics_textfile, &d->metrics);
		if (ret)
			return ret;
		/* all zero until the first interval: every series from the start */
		ibsp_metrics_out__publish(
		    d->metrics, ibsp_telemetry__metrics(d->tele, ibsp_daemon_mono_s() - d->t0));
	}
	return 0;
}

int ibsp_promote__setup(struct daemon *d)
{
	int ret;

	ret = ibsp_topology__from_host(d->o.sampler.sysfs_root ? d->o.sampler.sysfs_root : "/sys",
				       &d->topo);
	if (ret)
		return ret;
	ret = ibsp_topology__set_top_tier(d->topo, d->o.top_tier);
	if (ret)
		return ret;
	d->resolver = (struct ibsp_resolver_ops){ .query = query_nodes, .ctx = d };
	d->o.engine.sz = sizeof(d->o.engine);
	d->o.engine.resolver = &d->resolver;
	d->o.engine.simulate = false;
	d->eng = ibsp_engine__new(d->topo, &d->o.engine);
	if (!d->eng)
		return -errno;
	d->dec = ibsp_live_decoder__new(d->events, d->nr_events, d->caps.family, d->caps.model);
	d->tele =
	    ibsp_telemetry__new(d->topo, ibsp_sampler_kind__name(d->o.sampler.kind), d->o.dry_run);
	if (!d->dec || !d->tele)
		return -ENOMEM;
	return open_telemetry(d);
}

/* The counters of one move of @m along its route, by kind. */
static struct ibsp_telemetry_moves *route_moves(struct daemon *d, const struct ibsp_migration *m)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	size_t nr = ibsp_topology__nr_nodes(d->topo);
	size_t k = m->reason == IBSP_REASON_DEMOTE ? IBSP_TELE_DEMOTION : IBSP_TELE_PROMOTION;

	return &c->moves[(k * nr + (size_t)m->src_idx.idx) * nr + (size_t)m->dst_idx.idx];
}

void ibsp_promote__flush(struct daemon *d)
{
	if (d->nb)
		ibsp_engine__add(d->eng, d->batch, d->nb);
	d->nb = 0;
}

void ibsp_promote__add(struct daemon *d, const struct perf_event_header *rec)
{
	struct ibsp_sample *s = &d->batch[d->nb];

	if (ibsp_live_decoder__decode(d->dec, rec, s) != 1)
		return;
	if ((s->flags & IBSP_S_TID_VALID) && s->pid == d->self)
		return; /* our own accesses (-a): never our business */
	if (++d->nb == IBSP_DAEMON_BATCH)
		ibsp_promote__flush(d);
}

/* Only processes in scope are moved: the --pid targets (threads share their pid). */
static bool in_scope(const struct daemon *d, const struct ibsp_migration *m)
{
	if (m->pid == d->self)
		return false;
	if (d->o.capture.target == IBSP_TARGET_PID)
		return ibsp_daemon_targets__index(&d->targets, m->pid) >= 0;
	return true;
}

static void count_outcome(struct daemon *d, const struct ibsp_migration_result *r)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	size_t nr = ibsp_topology__nr_nodes(d->topo);
	size_t s = (size_t)r->m.src_idx.idx, t = (size_t)r->m.dst_idx.idx;

	/* A dry run decides as if the moves were made. */
	ibsp_engine__complete(d->eng, &r->m,
			      d->o.dry_run ? r->m.dst_node : ibsp_node_id(r->final_node));
	if (d->o.dry_run)
		return;
	if (r->final_node == r->m.dst_node.id) {
		struct ibsp_telemetry_moves *mv = route_moves(d, &r->m);

		mv->done++;
		mv->done_bytes += r->m.bytes;
		c->route_done[s * nr + t]++;
		d->out.done++;
		d->out.done_bytes += r->m.bytes;
	} else if (r->final_node < 0) {
		c->route_failed[s * nr + t]++;
		d->out.failed++;
		d->out
		    .by_err[r->final_node == -EAGAIN ? IBSP_MIG_NOT_MIGRATED
						     : ibsp_mig_err__from_errno(-r->final_node)]++;
	}
}

void ibsp_promote__reap(struct daemon *d)
{
	size_t n;

	while ((n = ibsp_migrator__reap(d->mig, d->reaped, IBSP_DAEMON_REAP_MAX)) > 0) {
		for (size_t i = 0; i < n; i++)
			count_outcome(d, &d->reaped[i]);
	}
}

/* The sampling and engine counters of a telemetry line. */
static void fill_engine_counts(struct daemon *d, struct ibsp_telemetry_counts *c)
{
	const struct ibsp_capture_stats *cs = ibsp_capture__stats(d->cap);
	const struct ibsp_live_stats *ls = ibsp_live_decoder__stats(d->dec);
	const struct ibsp_engine_stats *es = ibsp_engine__stats(d->eng);

	c->samples = ls->samples;
	c->decoded = ls->decoded;
	memcpy(c->by_sampler, ls->by_kind, sizeof(c->by_sampler));
	memcpy(c->dropped, ls->dropped, sizeof(c->dropped));
	c->lost_records = cs->loss.lost_records;
	c->lost = cs->loss.lost;
	c->throttled = cs->loss.throttle;
	c->drains = d->nr_drains;
	c->wakeups = d->nr_wakeups;
	c->drain_ms = d->drain_cur_ms;
	c->ring_pages = cs->ring_pages;
	if (d->scan) {
		c->scans = ibsp_hint_scan__stats(d->scan)->scans;
		c->scan_s = ibsp_hint_scan__stats(d->scan)->busy_s;
	}
	memcpy(c->unresolved, es->unresolved, sizeof(c->unresolved));
	c->pages_tracked = es->pages_tracked;
	c->evictions = es->evictions;
	c->node_queries = es->resolve_queries;
	c->node_queries_failed = es->resolve_failed;
	c->threshold = es->threshold;
	c->noise = es->noise;
	c->trusted_follow = es->trusted_follow;
	c->near_agreement = es->near_agreement;
	c->owner_agreement = es->owner_agreement;
	c->thread_moves = es->thread_moves;
	c->low_noise = es->low_noise;
	c->near_believed = es->near_believed;
	c->owner_believed = es->owner_believed;
	c->considered = es->considered;
	c->planned = es->planned;
	c->planned_bytes = es->planned_bytes;
	c->demoted = es->demoted;
	c->demoted_bytes = es->demoted_bytes;
	memcpy(c->skips, es->skips, sizeof(c->skips));
}

/* The --record file: written or stopped, and its failed writes by cause. */
static void fill_recording(struct daemon *d, struct ibsp_telemetry_counts *c)
{
	memset(c->record_errors, 0, sizeof(c->record_errors));
	c->recording = d->w && !d->rec_err;
	c->record_bytes = d->w ? ibsp_perf_writer__bytes(d->w) : 0;
	if (d->rec_err) /* the writes that failed in the ring, or the one the writer refused */
		c->record_errors[ibsp_rec_err__from_errno(-d->rec_err)] =
		    d->rec.failed ? d->rec.failed : 1;
}

/* The worker's, the nodes' and our own CPU time. */
static void fill_counts(struct daemon *d)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	struct ibsp_migrator_stats ms;
	struct rusage ru;

	fill_engine_counts(d, c);
	if (d->mig)
		ibsp_migrator__stats(d->mig, &ms);
	else /* the setup stopped before the worker started */
		memset(&ms, 0, sizeof(ms));
	/* The outcomes as reaped, so that the counts and the routes agree. */
	c->done = d->out.done;
	c->done_bytes = d->out.done_bytes;
	c->failed = d->out.failed;
	memcpy(c->by_errno, d->out.by_err, sizeof(c->by_errno));
	/* The worker's own: the pages its node query found moved, and where pages ended. */
	c->recovered = ms.recovered;
	memcpy(c->matrix, ms.matrix, sizeof(c->matrix));
	c->rate_limited = ms.rate_limited;
	c->queue_full = ms.queue_full;
	c->abandoned = ms.dropped;
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(d->topo); i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		c->free_bytes[i] = ibsp_engine__free_bytes(d->eng, n);
		c->total_bytes[i] = ibsp_topology__mem_total_kb(d->topo, n) << 10;
		c->watermark_bytes[i] = ibsp_engine__watermark_bytes(d->eng, n);
	}
	fill_recording(d, c);
	c->move_all = d->caps.cap_sys_nice;
	c->targets = d->targets.nr;
	c->targets_exited = d->targets.nr_exited;
	getrusage(RUSAGE_SELF, &ru);
	c->cpu_user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	c->cpu_sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int ibsp_promote__emit(struct daemon *d, enum ibsp_telemetry_kind kind, const char *reason,
		       bool complete)
{
	double now_s = ibsp_daemon_mono_s() - d->t0;
	char *line;
	int ret = 0;

	fill_counts(d);
	if (d->metrics) /* NULL on ENOMEM: no metrics until the next line */
		ibsp_metrics_out__publish(d->metrics, ibsp_telemetry__metrics(d->tele, now_s));
	line = ibsp_telemetry__line(d->tele, kind, now_s, reason, complete);
	if (!line)
		return -ENOMEM;
	if (d->tel.fd >= 0)
		ret = ibsp_aio__write(&d->aio, &d->tel, line, strlen(line), -1);
	free(line);
	if (ret)
		tel_failed(d, ret);
	return ret;
}

/* Submit the in-scope moves of @plan to the worker, counted by route. */
static void submit_plan(struct daemon *d, const struct ibsp_migration *plan, long n)
{
	struct ibsp_telemetry_counts *c = ibsp_telemetry__counts(d->tele);
	size_t nr = ibsp_topology__nr_nodes(d->topo);

	for (long i = 0; i < n; i++) {
		size_t s = (size_t)plan[i].src_idx.idx, t = (size_t)plan[i].dst_idx.idx;

		/* Every plan ends in a complete(): one not submitted stays where it is. */
		if (!in_scope(d, &plan[i])) {
			ibsp_engine__complete(d->eng, &plan[i], plan[i].src_node);
			continue;
		}
		c->route_planned[s * nr + t]++;
		route_moves(d, &plan[i])->planned++;
		route_moves(d, &plan[i])->planned_bytes += plan[i].bytes;
		if (!ibsp_migrator__submit(d->mig, &plan[i], 1))
			ibsp_engine__complete(d->eng, &plan[i], plan[i].src_node); /* queue full */
	}
}

int ibsp_promote__tick(struct daemon *d)
{
	uint32_t nr = ibsp_topology__nr_nodes(d->topo);
	const struct ibsp_migration *plan;
	long n;

	ibsp_promote__reap(d);
	/* A test's fake sysfs root keeps the free memory its meminfo files gave. */
	if (!d->o.dry_run && !d->o.sampler.sysfs_root && !ibsp_topology__refresh_free(d->topo)) {
		for (uint32_t i = 0; i < nr; i++) {
			struct ibsp_node_idx k = ibsp_node_idx((int)i);

			ibsp_engine__set_free(d->eng, k,
					      ibsp_topology__mem_free_kb(d->topo, k) << 10);
		}
	}
	n = ibsp_engine__tick(d->eng, (uint64_t)((ibsp_daemon_mono_s() - d->t0) * 1e9), &plan);
	if (n < 0)
		return (int)n;
	submit_plan(d, plan, n);
	return ibsp_promote__emit(d, IBSP_TELE_INTERVAL, NULL, false);
}

int ibsp_promote__reopen_telemetry(struct daemon *d)
{
	int fd;

	if (!d->o.json_path || !strcmp(d->o.json_path, "-"))
		return 0;
	ibsp_aio__drain(&d->aio, &d->tel);
	fd = open(d->o.json_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		pr_err("%s: cannot reopen: %s\n", d->o.json_name, strerror(errno));
		return -errno;
	}
	close(d->tel.fd);
	d->tel.fd = fd;
	d->tel.err = 0;
	return 0;
}

int ibsp_promote__reload(struct daemon *d)
{
	struct ibsp_engine_opts o = *ibsp_engine__opts(d->eng);
	int ret = d->o.on_reload(d->o.ctx, &o);

	if (!ret)
		ret = ibsp_engine__set_opts(d->eng, &o);
	if (ret) {
		pr_warn("reload: the settings in effect stay\n");
	} else {
		ibsp_migrator__set_rate(d->mig, ibsp_engine__opts(d->eng)->rate_bytes_per_s);
		pr_info("reload: new policy settings from the next interval\n");
	}
	ibsp_telemetry__note_reload(d->tele, !ret);
	return ibsp_promote__emit(d, IBSP_TELE_SNAPSHOT, NULL, false);
}

void ibsp_promote__finish(struct daemon *d, int err, bool *complete)
{
	double deadline = ibsp_daemon_mono_s() + FLUSH_MAX_MS / 1000.0;
	int ret;

	if (d->mig) {
		while (ibsp_migrator__flush(d->mig, 100) && ibsp_daemon_mono_s() < deadline)
			ibsp_promote__reap(d);
		/*
		 * What the worker has not done by now is dropped (slow move_pages calls or
		 * the rate limit left a backlog): counted as abandoned, not as an incomplete
		 * run, since the telemetry and the recording lose nothing.
		 */
		d->res->abandoned = ibsp_migrator__stop(d->mig);
		ibsp_promote__reap(d);
	}
	if (d->tele && d->eng && d->cap && d->aio_up) {
		ret = ibsp_promote__emit(d, IBSP_TELE_SUMMARY, err ? "error" : d->res->end_reason,
					 *complete);
		if (!ret && d->tel.fd >= 0 && (ret = ibsp_aio__drain(&d->aio, &d->tel)))
			tel_failed(d, ret); /* a write that failed after it was queued */
		if (ret)
			*complete = false;
	}
}

void ibsp_promote__delete(struct daemon *d)
{
	if (d->eng) {
		const struct ibsp_engine_stats *st = ibsp_engine__stats(d->eng);

		d->res->samples = st->samples;
		d->res->planned = st->planned;
	}
	d->res->moved = d->out.done; /* as the telemetry counts them */
	d->res->failed = d->out.failed;
	ibsp_metrics_out__close(d->metrics);
	ibsp_migrator__delete(d->mig);
	ibsp_telemetry__delete(d->tele);
	ibsp_live_decoder__delete(d->dec);
	ibsp_engine__delete(d->eng);
	ibsp_topology__delete(d->topo);
	if (d->tel.fd > STDOUT_FILENO)
		close(d->tel.fd);
	d->mig = NULL;
	d->tele = NULL;
	d->metrics = NULL;
	d->dec = NULL;
	d->eng = NULL;
	d->topo = NULL;
	d->tel.fd = -1;
}
