/* SPDX-License-Identifier: MIT */
/* Policy internals: the destination rules, shared by the interval pass. */
#ifndef IBSP_POLICY_INTERNAL_H
#define IBSP_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine_internal.h"

/**
 * ibsp_policy__destination() - the node index @he should move to
 * @total: @he's decayed heat over all accessor nodes
 * @rebalance: @he is a top-tier page picked by --rebalance
 * @bytes: the page size
 * @reason: receives why the node was chosen
 *
 * Return: a node index with room for @bytes above its watermark, -1 when
 * every acceptable node is full, or DEST_UNDECIDED when the page has no
 * majority and too few samples to choose by distance.
 */
#define DEST_UNDECIDED (-2)

int ibsp_policy__destination(const struct ibsp_engine *e, const struct heat_entry *he,
			     uint64_t total, bool rebalance, uint32_t bytes,
			     enum ibsp_reason *reason);

#endif /* IBSP_POLICY_INTERNAL_H */
