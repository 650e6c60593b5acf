/* SPDX-License-Identifier: MIT */
/*
 * A fan-out of independent tasks over a few threads. replay --evaluate runs
 * one engine per policy and the oracles beside them, and these share nothing
 * while a batch is added or an interval closes: each is a task that any
 * thread may run. The caller takes tasks too, and ibsp_fanout__run()
 * returns when all are done, so what they did is then visible to it as if it
 * had run them in turn. Which thread runs a task changes nothing in what
 * the task does: the replay's output does not depend on the threads.
 */
#ifndef IBSP_REPLAY_FANOUT_H
#define IBSP_REPLAY_FANOUT_H

struct ibsp_fanout;

/* A task: 0, or an error (a negative errno) that ibsp_fanout__run() passes on. */
typedef int (*ibsp_fanout_fn)(void *arg, unsigned int task);

/*
 * A pool of @nr_threads threads in all, the caller's among them (so
 * @nr_threads - 1 are started, their signals blocked: the caller's thread
 * takes them), for rounds of at most @max_tasks tasks. NULL with errno set.
 */
struct ibsp_fanout *ibsp_fanout__new(unsigned int nr_threads, unsigned int max_tasks);
void ibsp_fanout__delete(struct ibsp_fanout *f);

/*
 * Run @fn(@arg, i) once for each i in [0, @nr) (@nr <= max_tasks), on the
 * pool's threads and the caller's; return the error of the first task, in
 * task order, that failed, or 0. With @f NULL the caller runs them in turn.
 */
int ibsp_fanout__run(struct ibsp_fanout *f, ibsp_fanout_fn fn, void *arg, unsigned int nr);

#endif
