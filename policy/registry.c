// SPDX-License-Identifier: MIT
/*
 * The policies by name. A new policy is one file in policy/ that defines
 * its struct ibsp_policy_ops (declared in ibsp/policies.h), and one line in
 * the table below; docs/policy.md says more.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ibsp/policies.h"

static const struct ibsp_policy_ops *const policies[] = {
	&ibsp_policy_locality,
	&ibsp_policy_last_accessor,
	&ibsp_policy_fixed_node,
	&ibsp_policy_none,
};

int ibsp_policy__find(const char *spec, struct ibsp_policy *out)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		const struct ibsp_policy_ops *ops = policies[i];
		int arg = -1;

		if (strlen(ops->name) != len || strncmp(ops->name, spec, len))
			continue;
		/* An argument exactly when the policy takes one. */
		if (!colon != !ops->parse || (colon && ops->parse(colon + 1, &arg)))
			return -EINVAL;
		out->ops = ops;
		out->arg = arg;
		return 0;
	}
	return -EINVAL;
}

const char *ibsp_policy__name(const struct ibsp_policy *p, char *buf, size_t len)
{
	if (!p->ops)
		snprintf(buf, len, "none");
	else if (p->ops->parse)
		snprintf(buf, len, "%s:%d", p->ops->name, p->arg);
	else
		snprintf(buf, len, "%s", p->ops->name);
	return buf;
}
