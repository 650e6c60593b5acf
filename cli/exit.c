// SPDX-License-Identifier: MIT
/* The exit code of a library error, and the exit codes' help text (cli.h). */
#include <errno.h>

#include "cli.h"

const char cli_exit_help[] =
    "Exit status: 0 success; 1 error: a malformed or unsupported input file (the message\n"
    "names file, offset and field) or a system error (I/O, memory, permission, a write\n"
    "that failed); 2 bad command line (the message names the option and value); 4 no hardware\n"
    "sampler (record, run: --sampler=auto); record -- CMD: CMD's own status when the\n"
    "recording succeeded (128+N when a signal N killed it).\n";

int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EDOM:
		return EXIT_USAGE;
	case -EINVAL:
	case -EPROTONOSUPPORT:
	case -ENODATA:
		return EXIT_BADDATA;
	default:
		return EXIT_FAIL;
	}
}
