// SPDX-License-Identifier: MIT
/*
 * What `info`, `info --json` and `dump` print about a perf.data: the
 * reader's header, features and samples through cli/cmd_info.c and
 * cli/cmd_dump.c's formatting (stdout goes to /dev/null). The perf_file
 * and perf_pipe targets read the same inputs without printing them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return freopen("/dev/null", "w", stdout) ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path;

	path = (char *)fuzz_memfd_path(data, size);
	if (!path)
		return 0;
	{
		char *info[] = { "info", path, NULL }, *json[] = { "info", "--json", path, NULL };
		char *dump[] = { "dump", "--limit", "64", path, NULL };

		cmd_info(2, info);
		cmd_info(3, json);
		cmd_dump(4, dump);
	}
	fflush(stdout);
	return 0;
}
