// SPDX-License-Identifier: MIT
/*
 * The fan-out's pool (fanout.h): a round is published under the lock (its
 * task function and a new generation number), each thread takes the next
 * task by an atomic counter until none is left, and the caller waits under
 * the lock until every worker has left the round. The lock orders the
 * tasks' writes before the caller's reads, and the caller's writes before
 * the tasks'.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fanout.h"

struct ibsp_fanout {
	pthread_mutex_t lock;
	pthread_cond_t go;   /* a new round, or stop */
	pthread_cond_t done; /* the last worker left the round */
	unsigned long gen;   /* rounds published */
	unsigned int busy;   /* workers still in this round */
	bool stop;
	ibsp_fanout_fn fn;
	void *arg;
	unsigned int nr, max_tasks;
	atomic_uint next; /* the next task to take */
	int *rets;	  /* [max_tasks]: each task's result */
	unsigned int nr_workers;
	pthread_t tid[];
};

static void take_tasks(struct ibsp_fanout *f)
{
	unsigned int i;

	while ((i = atomic_fetch_add_explicit(&f->next, 1, memory_order_relaxed)) < f->nr)
		f->rets[i] = f->fn(f->arg, i);
}

static void *worker(void *p)
{
	struct ibsp_fanout *f = p;
	unsigned long seen = 0;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (f->gen == seen && !f->stop)
			pthread_cond_wait(&f->go, &f->lock);
		if (f->stop)
			break;
		seen = f->gen;
		pthread_mutex_unlock(&f->lock);
		take_tasks(f);
		pthread_mutex_lock(&f->lock);
		if (!--f->busy)
			pthread_cond_signal(&f->done);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Stop and join the first @n workers. */
static void stop_workers(struct ibsp_fanout *f, unsigned int n)
{
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_broadcast(&f->go);
	pthread_mutex_unlock(&f->lock);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(f->tid[i], NULL);
}

struct ibsp_fanout *ibsp_fanout__new(unsigned int nr_threads, unsigned int max_tasks)
{
	unsigned int nr_workers = nr_threads > 1 ? nr_threads - 1 : 0;
	struct ibsp_fanout *f;
	sigset_t all, old;
	int ret = 0;

	f = calloc(1, sizeof(*f) + nr_workers * sizeof(f->tid[0]));
	if (!f)
		return NULL;
	f->rets = calloc(max_tasks ? max_tasks : 1, sizeof(*f->rets));
	if (!f->rets) {
		free(f);
		return NULL;
	}
	f->max_tasks = max_tasks;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->go, NULL);
	pthread_cond_init(&f->done, NULL);
	/* The workers start with every signal blocked: a SIGINT goes to the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; f->nr_workers < nr_workers; f->nr_workers++) {
		ret = pthread_create(&f->tid[f->nr_workers], NULL, worker, f);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		ibsp_fanout__delete(f);
		errno = ret;
		return NULL;
	}
	return f;
}

void ibsp_fanout__delete(struct ibsp_fanout *f)
{
	if (!f)
		return;
	stop_workers(f, f->nr_workers);
	pthread_cond_destroy(&f->done);
	pthread_cond_destroy(&f->go);
	pthread_mutex_destroy(&f->lock);
	free(f->rets);
	free(f);
}

int ibsp_fanout__run(struct ibsp_fanout *f, ibsp_fanout_fn fn, void *arg, unsigned int nr)
{
	if (!f || !f->nr_workers || nr <= 1) {
		for (unsigned int i = 0; i < nr; i++) {
			int ret = fn(arg, i);

			if (ret)
				return ret;
		}
		return 0;
	}
	if (nr > f->max_tasks)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	f->fn = fn;
	f->arg = arg;
	f->nr = nr;
	atomic_store_explicit(&f->next, 0, memory_order_relaxed);
	f->busy = f->nr_workers;
	f->gen++;
	pthread_cond_broadcast(&f->go);
	pthread_mutex_unlock(&f->lock);
	take_tasks(f);
	pthread_mutex_lock(&f->lock);
	while (f->busy)
		pthread_cond_wait(&f->done, &f->lock);
	pthread_mutex_unlock(&f->lock);
	for (unsigned int i = 0; i < nr; i++) {
		if (f->rets[i])
			return f->rets[i];
	}
	return 0;
}
