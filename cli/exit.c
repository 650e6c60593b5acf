// SPDX-License-Identifier: MIT
/* The exit code of a library error (cli.h). */
#include <errno.h>

#include "cli.h"

int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EINVAL:
	case -EPROTONOSUPPORT:
	case -ENODATA:
		return EXIT_BADDATA;
	default:
		return EXIT_FAIL;
	}
}
