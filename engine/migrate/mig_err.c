// SPDX-License-Identifier: MIT
/* Error classes of the migration worker (include/ibsp/migrate.h). */
#include <errno.h>

#include "ibsp/migrate.h"

static const char *const mig_err_names[IBSP_MIG_ERR__MAX] = {
	[IBSP_MIG_EBUSY] = "ebusy",
	[IBSP_MIG_EACCES] = "eacces",
	[IBSP_MIG_ENOENT] = "enoent",
	[IBSP_MIG_EFAULT] = "efault",
	[IBSP_MIG_ENOMEM] = "enomem",
	[IBSP_MIG_ESRCH] = "esrch",
	[IBSP_MIG_EPERM] = "eperm",
	[IBSP_MIG_ENODEV] = "enodev",
	[IBSP_MIG_NOT_MIGRATED] = "not_migrated",
	[IBSP_MIG_INVALID] = "invalid",
	[IBSP_MIG_OTHER] = "other",
};

const char *ibsp_mig_err__name(enum ibsp_mig_err e)
{
	return (unsigned)e < IBSP_MIG_ERR__MAX ? mig_err_names[e] : "?";
}

enum ibsp_mig_err ibsp_mig_err__from_errno(int err)
{
	switch (err) {
	case EBUSY:
		return IBSP_MIG_EBUSY;
	case EACCES:
		return IBSP_MIG_EACCES;
	case ENOENT:
		return IBSP_MIG_ENOENT;
	case EFAULT:
		return IBSP_MIG_EFAULT;
	case ENOMEM:
		return IBSP_MIG_ENOMEM;
	case ESRCH:
		return IBSP_MIG_ESRCH;
	case EPERM:
		return IBSP_MIG_EPERM;
	case ENODEV:
		return IBSP_MIG_ENODEV;
	case EINVAL: /* the kernel refused the call's arguments */
		return IBSP_MIG_INVALID;
	default:
		return IBSP_MIG_OTHER;
	}
}
