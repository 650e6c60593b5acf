// SPDX-License-Identifier: MIT
/*
 * The migration worker (include/ibsp/migrate.h). One mutex guards two
 * bounded rings: requests in, results out. The worker takes everything
 * queued, sorts it by (pid, vaddr), and calls move_pages once per pid and
 * chunk of `batch` pages, after taking that chunk's bytes from the token
 * bucket. The results ring is as large as the request ring, and a request
 * is only taken when its result has room, so no outcome is lost.
 *
 * move_pages contract (Linux 6.1 mm/migrate.c, man 2 move_pages): status[i]
 * is the node the page is on, or a negative errno per page; the call itself
 * returns -1 with errno for the whole batch (ESRCH: the process is gone), or
 * a positive count of pages not migrated, leaving their status untouched:
 * status is pre-filled with a sentinel so those are told apart.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ibsp/migrate.h"
#include "util.h"

static const char *const mig_err_names[IBSP_MIG_ERR__MAX] = {
	[IBSP_MIG_EBUSY] = "ebusy",   [IBSP_MIG_EACCES] = "eacces",
	[IBSP_MIG_ENOENT] = "enoent", [IBSP_MIG_EFAULT] = "efault",
	[IBSP_MIG_ENOMEM] = "enomem", [IBSP_MIG_ESRCH] = "esrch",
	[IBSP_MIG_EPERM] = "eperm",   [IBSP_MIG_NOT_MIGRATED] = "not_migrated",
	[IBSP_MIG_OTHER] = "other",
};

const char *ibsp_mig_err__name(enum ibsp_mig_err e)
{
	return (unsigned)e < IBSP_MIG_ERR__MAX ? mig_err_names[e] : "?";
}

enum ibsp_mig_err ibsp_mig_err__from_errno(int err)
{
	switch (err) {
	case EBUSY:
		return IBSP_MIG_EBUSY;
	case EACCES:
		return IBSP_MIG_EACCES;
	case ENOENT:
		return IBSP_MIG_ENOENT;
	case EFAULT:
		return IBSP_MIG_EFAULT;
	case ENOMEM:
		return IBSP_MIG_ENOMEM;
	case ESRCH:
		return IBSP_MIG_ESRCH;
	case EPERM:
		return IBSP_MIG_EPERM;
	default:
		return IBSP_MIG_OTHER;
	}
}

#define STATUS_UNTOUCHED INT32_MIN
/* A page a positive move_pages return left untouched (reaped as -EAGAIN). */
#define NOT_MIGRATED (-100000)

struct ibsp_migrator {
	struct ibsp_migrator_opts o;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	bool stop, busy;

	struct ibsp_migration *req; /* ring of queue_len */
	uint32_t req_head, req_len;
	struct ibsp_migration_result *res; /* ring of queue_len */
	uint32_t res_head, res_len;
	struct ibsp_migrator_stats st;

	/* Worker-only. */
	struct ibsp_migration *work_buf;
	void **pages;
	int *nodes, *status;
	double tokens, last_refill_s;
	bool auto_burst; /* burst_bytes was 0: one second of rate */

	/* ibsp_migrator__set_rate(), under @lock: the worker takes it with its next batch. */
	bool rate_pending;
	uint64_t next_rate;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long default_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
			       int *status, int flags)
{
	return numa_move_pages(pid, count, pages, nodes, status, flags);
}

/* Sleep until the bucket holds @bytes (or the burst, for a larger request). */
static void take_tokens(struct ibsp_migrator *mg, uint64_t bytes)
{
	double rate = (double)mg->o.rate_bytes_per_s, need;

	if (!mg->o.rate_bytes_per_s)
		return;
	need = (double)(bytes < mg->o.burst_bytes ? bytes : mg->o.burst_bytes);
	for (bool waited = false;;) {
		double now = mono_s(), wait_s;
		struct timespec ts;

		mg->tokens += (now - mg->last_refill_s) * rate;
		if (mg->tokens > (double)mg->o.burst_bytes)
			mg->tokens = (double)mg->o.burst_bytes;
		mg->last_refill_s = now;
		if (mg->tokens >= need)
			break;
		if (!waited) {
			pthread_mutex_lock(&mg->lock);
			mg->st.rate_limited++;
			pthread_mutex_unlock(&mg->lock);
			waited = true;
		}
		wait_s = (need - mg->tokens) / rate;
		ts.tv_sec = (time_t)wait_s;
		ts.tv_nsec = (long)((wait_s - (double)ts.tv_sec) * 1e9) + 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		nanosleep(&ts, NULL);
	}
	mg->tokens -= (double)bytes;
}

static int cmp_req(const void *a, const void *b)
{
	const struct ibsp_migration *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* Account one page's outcome and queue its result (under the lock). */
static void account(struct ibsp_migrator *mg, const struct ibsp_migration *m, int final)
{
	struct ibsp_migrator_stats *st = &mg->st;
	uint32_t n = mg->o.queue_len;

	if (mg->o.dry_run) {
		st->dry_run++;
	} else if (final >= 0) {
		if (final == m->dst_node.id) {
			st->moved++;
			st->moved_bytes += m->bytes;
		} else {
			st->moved_elsewhere++;
		}
	} else {
		st->failed++;
		st->by_err[final == NOT_MIGRATED ? IBSP_MIG_NOT_MIGRATED
						 : ibsp_mig_err__from_errno(-final)]++;
	}
	mg->res[(mg->res_head + mg->res_len) % n] =
	    (struct ibsp_migration_result){ .m = *m,
					    .final_node = final == NOT_MIGRATED ? -EAGAIN : final };
	mg->res_len++;
}

/* Move @n requests of one pid (sorted), in chunks. */
static void move_pid(struct ibsp_migrator *mg, const struct ibsp_migration *m, uint32_t n)
{
	for (uint32_t base = 0; base < n; base += mg->o.batch) {
		uint32_t k = n - base < mg->o.batch ? n - base : mg->o.batch;
		uint64_t bytes = 0;
		bool refused = false;
		long ret = 0;
		int err = 0;

		for (uint32_t i = 0; i < k; i++) {
			mg->pages[i] = (void *)(uintptr_t)m[base + i].vaddr;
			mg->nodes[i] = m[base + i].dst_node.id;
			mg->status[i] = STATUS_UNTOUCHED;
			bytes += m[base + i].bytes;
		}
		if (!mg->o.dry_run) {
			take_tokens(mg, bytes);
			err = mg->o.check_pid ? -mg->o.check_pid(mg->o.check_ctx, m->pid) : 0;
			refused = err != 0;
			if (!refused) {
				ret = mg->o.move_pages((int)m->pid, k, mg->pages, mg->nodes,
						       mg->status, mg->o.flags);
				err = ret < 0 ? errno : 0;
			} else {
				ret = -1;
			}
		}
		pthread_mutex_lock(&mg->lock);
		mg->st.syscalls += !mg->o.dry_run && !refused;
		mg->st.pid_refused += refused;
		for (uint32_t i = 0; i < k; i++) {
			int final = mg->status[i];

			if (mg->o.dry_run)
				final = -ENOEXEC;
			else if (ret < 0)
				final = -err;
			else if (final == STATUS_UNTOUCHED)
				final = NOT_MIGRATED;
			account(mg, &m[base + i], final);
		}
		pthread_mutex_unlock(&mg->lock);
		if (ret < 0 && (err == ESRCH || refused)) {
			/* The rest of this pid cannot move either: no more calls for it. */
			pthread_mutex_lock(&mg->lock);
			for (uint32_t i = base + k; i < n; i++)
				account(mg, &m[i], -err);
			pthread_mutex_unlock(&mg->lock);
			return;
		}
	}
}

/* The worker, under @lock: a rate set by ibsp_migrator__set_rate() applies from now on. */
static void take_rate(struct ibsp_migrator *mg)
{
	mg->o.rate_bytes_per_s = mg->next_rate;
	if (mg->auto_burst)
		mg->o.burst_bytes = mg->next_rate > (2u << 20) ? mg->next_rate : 2u << 20;
	if (mg->tokens > (double)mg->o.burst_bytes)
		mg->tokens = (double)mg->o.burst_bytes;
	mg->rate_pending = false;
}

static void *worker(void *arg)
{
	struct ibsp_migrator *mg = arg;
	uint32_t qn = mg->o.queue_len;

	pthread_mutex_lock(&mg->lock);
	for (;;) {
		uint32_t n;

		while (!mg->stop && !mg->req_len) {
			mg->busy = false;
			pthread_cond_broadcast(&mg->idle);
			pthread_cond_wait(&mg->work, &mg->lock);
		}
		if (mg->stop)
			break;
		mg->busy = true;
		/* Take only what the results ring can hold. */
		n = mg->req_len < qn - mg->res_len ? mg->req_len : qn - mg->res_len;
		if (!n) {
			pthread_cond_wait(&mg->work, &mg->lock);
			continue;
		}
		for (uint32_t i = 0; i < n; i++)
			mg->work_buf[i] = mg->req[(mg->req_head + i) % qn];
		mg->req_head = (mg->req_head + n) % qn;
		mg->req_len -= n;
		if (mg->rate_pending)
			take_rate(mg);
		pthread_mutex_unlock(&mg->lock);

		qsort(mg->work_buf, n, sizeof(*mg->work_buf), cmp_req);
		for (uint32_t i = 0; i < n;) {
			uint32_t j = i;

			while (j < n && mg->work_buf[j].pid == mg->work_buf[i].pid)
				j++;
			move_pid(mg, mg->work_buf + i, j - i);
			i = j;
		}
		pthread_mutex_lock(&mg->lock);
	}
	mg->busy = false;
	pthread_cond_broadcast(&mg->idle);
	pthread_mutex_unlock(&mg->lock);
	return NULL;
}

static void free_migrator(struct ibsp_migrator *mg)
{
	free(mg->req);
	free(mg->res);
	free(mg->work_buf);
	free(mg->pages);
	free(mg->nodes);
	free(mg->status);
	free(mg);
}

struct ibsp_migrator *ibsp_migrator__new(const struct ibsp_migrator_opts *opts)
{
	struct ibsp_migrator *mg = calloc(1, sizeof(*mg));
	int ret;

	if (!mg)
		return NULL;
	IBSP_OPTS_COPY(mg->o, opts);
	if (!mg->o.queue_len)
		mg->o.queue_len = 65536;
	if (!mg->o.batch)
		mg->o.batch = 512;
	if (!mg->o.flags)
		mg->o.flags = MPOL_MF_MOVE;
	if (!mg->o.move_pages)
		mg->o.move_pages = default_move_pages;
	mg->auto_burst = !mg->o.burst_bytes;
	if (!mg->o.burst_bytes)
		mg->o.burst_bytes =
		    mg->o.rate_bytes_per_s > (2u << 20) ? mg->o.rate_bytes_per_s : 2u << 20;
	mg->req = calloc(mg->o.queue_len, sizeof(*mg->req));
	mg->res = calloc(mg->o.queue_len, sizeof(*mg->res));
	mg->work_buf = calloc(mg->o.queue_len, sizeof(*mg->work_buf));
	mg->pages = calloc(mg->o.batch, sizeof(*mg->pages));
	mg->nodes = calloc(mg->o.batch, sizeof(*mg->nodes));
	mg->status = calloc(mg->o.batch, sizeof(*mg->status));
	if (!mg->req || !mg->res || !mg->work_buf || !mg->pages || !mg->nodes || !mg->status) {
		ret = ENOMEM;
		goto err;
	}
	mg->tokens = (double)mg->o.burst_bytes;
	mg->last_refill_s = mono_s();
	pthread_mutex_init(&mg->lock, NULL);
	pthread_cond_init(&mg->work, NULL);
	pthread_cond_init(&mg->idle, NULL);
	ret = pthread_create(&mg->thread, NULL, worker, mg);
	if (ret) {
		pthread_mutex_destroy(&mg->lock);
		pthread_cond_destroy(&mg->work);
		pthread_cond_destroy(&mg->idle);
		goto err;
	}
	return mg;
err:
	free_migrator(mg);
	errno = ret;
	return NULL;
}

void ibsp_migrator__delete(struct ibsp_migrator *mg)
{
	if (!mg)
		return;
	pthread_mutex_lock(&mg->lock);
	mg->stop = true;
	pthread_cond_broadcast(&mg->work);
	pthread_mutex_unlock(&mg->lock);
	pthread_join(mg->thread, NULL);
	pthread_mutex_destroy(&mg->lock);
	pthread_cond_destroy(&mg->work);
	pthread_cond_destroy(&mg->idle);
	free_migrator(mg);
}

size_t ibsp_migrator__submit(struct ibsp_migrator *mg, const struct ibsp_migration *m, size_t n)
{
	uint32_t qn = mg->o.queue_len;
	size_t taken;

	pthread_mutex_lock(&mg->lock);
	taken = qn - mg->req_len < n ? qn - mg->req_len : n;
	for (size_t i = 0; i < taken; i++)
		mg->req[(mg->req_head + mg->req_len + i) % qn] = m[i];
	mg->req_len += (uint32_t)taken;
	mg->st.submitted += taken;
	mg->st.queue_full += n - taken;
	if (taken)
		pthread_cond_signal(&mg->work);
	pthread_mutex_unlock(&mg->lock);
	return taken;
}

size_t ibsp_migrator__reap(struct ibsp_migrator *mg, struct ibsp_migration_result *out, size_t cap)
{
	uint32_t qn = mg->o.queue_len;
	size_t n;

	pthread_mutex_lock(&mg->lock);
	n = mg->res_len < cap ? mg->res_len : cap;
	for (size_t i = 0; i < n; i++)
		out[i] = mg->res[(mg->res_head + i) % qn];
	mg->res_head = (uint32_t)((mg->res_head + n) % qn);
	mg->res_len -= (uint32_t)n;
	if (n)
		pthread_cond_signal(&mg->work); /* room for results again */
	pthread_mutex_unlock(&mg->lock);
	return n;
}

int ibsp_migrator__flush(struct ibsp_migrator *mg, int timeout_ms)
{
	struct timespec dl;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mg->lock);
	while ((mg->req_len || mg->busy) && !ret)
		ret = pthread_cond_timedwait(&mg->idle, &mg->lock, &dl);
	pthread_mutex_unlock(&mg->lock);
	return ret ? -ETIMEDOUT : 0;
}

void ibsp_migrator__stats(struct ibsp_migrator *mg, struct ibsp_migrator_stats *st)
{
	pthread_mutex_lock(&mg->lock);
	*st = mg->st;
	pthread_mutex_unlock(&mg->lock);
}

void ibsp_migrator__set_rate(struct ibsp_migrator *mg, uint64_t rate_bytes_per_s)
{
	pthread_mutex_lock(&mg->lock);
	mg->next_rate = rate_bytes_per_s;
	mg->rate_pending = true;
	pthread_mutex_unlock(&mg->lock);
}
