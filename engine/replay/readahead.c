// SPDX-License-Identifier: MIT
/*
 * Reading ahead (readahead.h): a ring of NR_BUFS buffers between the reading
 * thread, which fills them in turn, and the caller, which holds one at a time
 * and gives it back at its next call. The lock orders a buffer's samples
 * before the caller's reads, and its reads before the buffer is filled again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "readahead.h"

#define NR_BUFS 3

struct ibsp_readahead {
	struct ibsp_perf_reader *r;
	size_t batch;
	pthread_mutex_t lock;
	pthread_cond_t filled_cv; /* a buffer was filled */
	pthread_cond_t free_cv;	  /* a buffer was given back, or stop */
	struct ibsp_sample *buf[NR_BUFS];
	long n[NR_BUFS];       /* samples in each; 0 at the end, or the reader's error */
	uint64_t pos[NR_BUFS]; /* the reader's offset after each */
	unsigned int head;     /* the caller's next (or held) buffer */
	unsigned int filled;   /* buffers filled and not given back, from head on */
	bool held;	       /* the caller holds buf[head] */
	bool stop;
	bool started; /* tid runs */
	pthread_t tid;
};

static void *reader(void *p)
{
	struct ibsp_readahead *ra = p;
	unsigned int tail = 0;
	long n;

	do {
		pthread_mutex_lock(&ra->lock);
		while (ra->filled == NR_BUFS && !ra->stop)
			pthread_cond_wait(&ra->free_cv, &ra->lock);
		if (ra->stop) {
			pthread_mutex_unlock(&ra->lock);
			break;
		}
		pthread_mutex_unlock(&ra->lock);
		/* buf[tail] is neither filled nor held: only this thread touches it. */
		n = ibsp_perf_reader__read(ra->r, ra->buf[tail], ra->batch);
		pthread_mutex_lock(&ra->lock);
		ra->n[tail] = n;
		ra->pos[tail] = ibsp_perf_reader__pos(ra->r);
		ra->filled++;
		pthread_cond_signal(&ra->filled_cv);
		pthread_mutex_unlock(&ra->lock);
		tail = (tail + 1) % NR_BUFS;
	} while (n > 0);
	return NULL;
}

struct ibsp_readahead *ibsp_readahead__new(struct ibsp_perf_reader *r, size_t batch)
{
	struct ibsp_readahead *ra = calloc(1, sizeof(*ra));
	sigset_t all, old;
	int ret;

	if (!ra)
		return NULL;
	ra->r = r;
	ra->batch = batch;
	for (int i = 0; i < NR_BUFS; i++) {
		ra->buf[i] = malloc(batch * sizeof(*ra->buf[i]));
		if (!ra->buf[i]) {
			for (int k = 0; k < i; k++)
				free(ra->buf[k]);
			free(ra);
			return NULL;
		}
	}
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->filled_cv, NULL);
	pthread_cond_init(&ra->free_cv, NULL);
	/* Its signals blocked: a SIGINT goes to the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&ra->tid, NULL, reader, ra);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ra->started = !ret;
	if (ret) {
		ibsp_readahead__delete(ra);
		errno = ret;
		return NULL;
	}
	return ra;
}

long ibsp_readahead__next(struct ibsp_readahead *ra, const struct ibsp_sample **s, uint64_t *pos)
{
	long n;

	pthread_mutex_lock(&ra->lock);
	if (ra->held) { /* give the last batch back */
		ra->held = false;
		ra->head = (ra->head + 1) % NR_BUFS;
		ra->filled--;
		pthread_cond_signal(&ra->free_cv);
	}
	while (!ra->filled)
		pthread_cond_wait(&ra->filled_cv, &ra->lock);
	n = ra->n[ra->head];
	*s = ra->buf[ra->head];
	*pos = ra->pos[ra->head];
	ra->held = n > 0; /* the end (or an error) stays where it is, for every later call */
	pthread_mutex_unlock(&ra->lock);
	return n;
}

void ibsp_readahead__delete(struct ibsp_readahead *ra)
{
	if (!ra)
		return;
	if (ra->started) {
		pthread_mutex_lock(&ra->lock);
		ra->stop = true;
		pthread_cond_broadcast(&ra->free_cv);
		pthread_mutex_unlock(&ra->lock);
		pthread_join(ra->tid, NULL);
	}
	pthread_cond_destroy(&ra->free_cv);
	pthread_cond_destroy(&ra->filled_cv);
	pthread_mutex_destroy(&ra->lock);
	for (int i = 0; i < NR_BUFS; i++)
		free(ra->buf[i]);
	free(ra);
}
