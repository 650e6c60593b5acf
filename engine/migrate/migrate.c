// SPDX-License-Identifier: MIT
/*
 * The migration worker (include/ibsp/migrate.h): the object, its two rings
 * and its thread. One mutex guards two bounded rings: requests in, results
 * out. The worker takes everything queued and hands it to one drain
 * (move.c). The results ring is as large as the request ring, and a request
 * is only taken when its result has room, so no outcome is lost.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "migrate_internal.h"
#include "util.h"

static long default_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
			       int *status, int flags)
{
	return numa_move_pages(pid, count, pages, nodes, status, flags);
}

/* The node ids this host configures (libnuma), below IBSP_MIG_MAX_NODES; node 0 without NUMA. */
static uint64_t host_node_mask(void)
{
	uint64_t mask = 0;

	if (numa_available() < 0)
		return 1;
	for (int n = 0; n <= numa_max_node() && n < IBSP_MIG_MAX_NODES; n++) {
		if (numa_bitmask_isbitset(numa_nodes_ptr, (unsigned int)n))
			mask |= 1ull << n;
	}
	return mask ? mask : 1;
}

/* Copy @n elements of @size out of the ring @ring of @qn, from slot @head (two segments at most). */
static void ring_read(void *out, const void *ring, uint32_t qn, uint32_t head, size_t n,
		      size_t size)
{
	size_t first = n < qn - head ? n : qn - head;

	memcpy(out, (const char *)ring + head * size, first * size);
	memcpy((char *)out + first * size, ring, (n - first) * size);
}

/* Copy @n elements of @size into the ring @ring of @qn, from slot @at. */
static void ring_write(void *ring, uint32_t qn, uint32_t at, const void *in, size_t n, size_t size)
{
	size_t first = n < qn - at ? n : qn - at;

	memcpy((char *)ring + at * size, in, first * size);
	memcpy(ring, (const char *)in + first * size, (n - first) * size);
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
		ring_read(mg->work_buf, mg->req, qn, mg->req_head, n, sizeof(*mg->req));
		mg->req_head = (mg->req_head + n) % qn;
		mg->req_len -= n;
		pthread_mutex_unlock(&mg->lock);
		ibsp_mig_drain(mg, n);
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
	free(mg->keys);
	free(mg->keys_tmp);
	free(mg->pages);
	free(mg->nodes);
	free(mg->status);
	free(mg->where);
	free(mg);
}

static void set_defaults(struct ibsp_migrator_opts *o)
{
	if (!o->queue_len)
		o->queue_len = 65536;
	if (!o->batch)
		o->batch = 512;
	if (!o->flags)
		o->flags = MPOL_MF_MOVE;
	if (!o->move_pages)
		o->move_pages = default_move_pages;
	if (!o->burst_bytes)
		o->burst_bytes = o->rate_bytes_per_s > (2u << 20) ? o->rate_bytes_per_s : 2u << 20;
	if (!o->node_mask)
		o->node_mask = host_node_mask();
}

/* The lock and conditions; `wake` times its waits on CLOCK_MONOTONIC (the bucket's clock). */
static int init_sync(struct ibsp_migrator *mg)
{
	pthread_condattr_t ca;
	int ret;

	ret = pthread_condattr_init(&ca);
	if (ret)
		return ret;
	ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&mg->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (ret)
		return ret;
	pthread_mutex_init(&mg->lock, NULL);
	pthread_cond_init(&mg->work, NULL);
	pthread_cond_init(&mg->idle, NULL);
	return 0;
}

static void destroy_sync(struct ibsp_migrator *mg)
{
	pthread_mutex_destroy(&mg->lock);
	pthread_cond_destroy(&mg->work);
	pthread_cond_destroy(&mg->idle);
	pthread_cond_destroy(&mg->wake);
}

struct ibsp_migrator *ibsp_migrator__new(const struct ibsp_migrator_opts *opts)
{
	struct ibsp_migrator *mg = calloc(1, sizeof(*mg));
	int ret;

	if (!mg)
		return NULL;
	IBSP_OPTS_COPY(mg->o, opts);
	mg->auto_burst = !mg->o.burst_bytes;
	set_defaults(&mg->o);
	mg->req = calloc(mg->o.queue_len, sizeof(*mg->req));
	mg->res = calloc(mg->o.queue_len, sizeof(*mg->res));
	mg->work_buf = calloc(mg->o.queue_len, sizeof(*mg->work_buf));
	mg->keys = calloc(mg->o.queue_len, sizeof(*mg->keys));
	mg->keys_tmp = calloc(mg->o.queue_len, sizeof(*mg->keys_tmp));
	mg->pages = calloc(mg->o.batch, sizeof(*mg->pages));
	mg->nodes = calloc(mg->o.batch, sizeof(*mg->nodes));
	mg->status = calloc(mg->o.batch, sizeof(*mg->status));
	mg->where = calloc(mg->o.batch, sizeof(*mg->where));
	if (!mg->req || !mg->res || !mg->work_buf || !mg->keys || !mg->keys_tmp || !mg->pages ||
	    !mg->nodes || !mg->status || !mg->where) {
		ret = ENOMEM;
		goto err;
	}
	ibsp_mig_bucket__init(&mg->bucket, mg->o.rate_bytes_per_s, mg->o.burst_bytes);
	ret = init_sync(mg);
	if (ret)
		goto err;
	ret = pthread_create(&mg->thread, NULL, worker, mg);
	if (ret) {
		destroy_sync(mg);
		goto err;
	}
	return mg;
err:
	free_migrator(mg);
	errno = ret;
	return NULL;
}

size_t ibsp_migrator__stop(struct ibsp_migrator *mg)
{
	uint64_t dropped;

	if (mg->joined)
		return 0;
	pthread_mutex_lock(&mg->lock);
	mg->stop = true;
	pthread_cond_broadcast(&mg->work);
	pthread_cond_broadcast(&mg->wake); /* a wait for tokens ends now */
	pthread_mutex_unlock(&mg->lock);
	pthread_join(mg->thread, NULL);
	mg->joined = true;
	/* The worker is gone: no lock needed. Every request not dropped has its result. */
	dropped = mg->st.submitted - mg->st.results;
	mg->st.dropped = dropped;
	mg->req_len = 0;
	return (size_t)dropped;
}

void ibsp_migrator__delete(struct ibsp_migrator *mg)
{
	if (!mg)
		return;
	ibsp_migrator__stop(mg);
	destroy_sync(mg);
	free_migrator(mg);
}

size_t ibsp_migrator__submit(struct ibsp_migrator *mg, const struct ibsp_migration *m, size_t n)
{
	uint32_t qn = mg->o.queue_len;
	size_t taken;

	pthread_mutex_lock(&mg->lock);
	taken = mg->stop ? 0 : qn - mg->req_len < n ? qn - mg->req_len : n;
	ring_write(mg->req, qn, (mg->req_head + mg->req_len) % qn, m, taken, sizeof(*m));
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
	ring_read(out, mg->res, qn, mg->res_head, n, sizeof(*out));
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
	struct ibsp_mig_bucket *b = &mg->bucket;

	pthread_mutex_lock(&mg->lock);
	mg->o.rate_bytes_per_s = rate_bytes_per_s;
	if (mg->auto_burst)
		mg->o.burst_bytes = rate_bytes_per_s > (2u << 20) ? rate_bytes_per_s : 2u << 20;
	b->rate_bytes_per_s = rate_bytes_per_s;
	b->burst_bytes = mg->o.burst_bytes;
	if (b->tokens > (double)b->burst_bytes)
		b->tokens = (double)b->burst_bytes;
	pthread_cond_broadcast(&mg->wake); /* a wait in the bucket recomputes its deadline */
	pthread_mutex_unlock(&mg->lock);
}
