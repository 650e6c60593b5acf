/* SPDX-License-Identifier: MIT */
/*
 * The policies (policy/, one file each) and their registry: a policy is
 * found by name and handed to the engine in struct ibsp_engine_opts:
 *
 *	struct ibsp_engine_opts o = { .sz = sizeof(o) };
 *
 *	if (ibsp_policy__find("fixed-node:2", &o.policy))
 *		... not a policy ...
 *	e = ibsp_engine__new(topo, &o);
 *
 * The rules of each: docs/policy.md. The interface: ibsp/policy.h.
 */
#ifndef IBSP_POLICIES_H
#define IBSP_POLICIES_H

#include <stddef.h>

#include "ibsp/policy.h"

/* Majority of the decayed accesses, nearest by weighted distance, capacity fallback. */
extern const struct ibsp_policy_ops ibsp_policy_locality;
/* The node of the CPU that touched the page last (NUMA balancing). */
extern const struct ibsp_policy_ops ibsp_policy_last_accessor;
/* "fixed-node:N": one static node (A-bit scanners, DAMON migrate_hot). */
extern const struct ibsp_policy_ops ibsp_policy_fixed_node;
/* Never migrate. */
extern const struct ibsp_policy_ops ibsp_policy_none;

/**
 * ibsp_policy__find() - the policy named by @spec: "name" or "name:ARG"
 * @out: receives the operations and the parsed argument (-1 without one)
 *
 * Return: 0, or -EINVAL for an unknown name or a bad argument (nothing is
 * logged; the caller names the option).
 */
int ibsp_policy__find(const char *spec, struct ibsp_policy *out);

/** ibsp_policy__name() - "locality", "fixed-node:N", ... into @buf ("none" without ops) */
const char *ibsp_policy__name(const struct ibsp_policy *p, char *buf, size_t len);

#endif /* IBSP_POLICIES_H */
