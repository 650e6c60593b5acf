/* SPDX-License-Identifier: MIT */
/*
 * Reading ahead on a thread of its own: while replay --evaluate's threads
 * run the engines on one batch of samples, this one decodes the next ones
 * from the file into a ring of buffers. The batches, their order and their
 * samples are those ibsp_perf_reader__read() gives in turn.
 */
#ifndef IBSP_REPLAY_READAHEAD_H
#define IBSP_REPLAY_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "ibsp/perf_file.h"
#include "ibsp/sample.h"

struct ibsp_readahead;

/*
 * Start reading @r (which the thread owns until ibsp_readahead__delete())
 * in batches of up to @batch samples. NULL with errno set.
 */
struct ibsp_readahead *ibsp_readahead__new(struct ibsp_perf_reader *r, size_t batch);

/*
 * The next batch: *@s gets its samples (valid until the next call) and
 * *@pos the reader's file offset after them; return how many, 0 at the end,
 * or the reader's error (a negative errno), after which there is no more.
 */
long ibsp_readahead__next(struct ibsp_readahead *ra, const struct ibsp_sample **s, uint64_t *pos);

/* Stop the thread (where it is: a batch may be left unread) and free the buffers. */
void ibsp_readahead__delete(struct ibsp_readahead *ra);

#endif
