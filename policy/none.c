// SPDX-License-Identifier: MIT
/* none: never migrate. Without select(), the engine looks for no candidates. */
#include "ibsp/policies.h"

const struct ibsp_policy_ops ibsp_policy_none = {
	.name = "none",
};
