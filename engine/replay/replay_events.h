/* SPDX-License-Identifier: MIT */
/* Which events of a recording a replay takes (replay --event). */
#ifndef IBSP_REPLAY_EVENTS_H
#define IBSP_REPLAY_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/perf_file.h"
#include "ibsp/sample.h"

/*
 * The events whose samples to replay: @names, comma-separated as `info`
 * lists them, or NULL for all (then *@keep stays NULL, and a warning says
 * when two events sample the same page faults). Otherwise *@keep gets a
 * flag per event (*@nr_keep of them; the caller frees it). 0, -ENOMEM, or
 * -ENOENT after a message naming the recording's events.
 */
int ibsp_replay__pick_events(const char *path, const struct ibsp_perf_reader *r, const char *names,
			     bool **keep, uint32_t *nr_keep);

/*
 * Leave out of @buf[0, @n) the samples of events @keep does not flag (NULL:
 * keep all); return how many remain, in order.
 */
size_t ibsp_replay__keep_events(const bool *keep, uint32_t nr_keep, struct ibsp_sample *buf,
				size_t n);

#endif
