// SPDX-License-Identifier: MIT
/*
 * The --config file reader (cli/config.c, libinih) as `run` uses it: the
 * input is written to a file and read as `run --config FILE`, each key going
 * through the sampling and policy option handlers, as the command does.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../cli/config.h"
#include "../../cli/options.h"
#include "../../cli/policy_opts.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/ibsp-fuzz-config-%d.conf", (int)getpid());
	atexit(remove_file);
	return 0;
}

struct env {
	struct cli_sampling s;
	struct cli_policy p;
};

static int handle(void *ctx, int c, const char *arg, const char *where)
{
	struct env *e = ctx;
	int h = cli_policy__opt(&e->p, c, arg, where);

	if (!h)
		h = cli_sampling__opt(&e->s, c, arg, where);
	if (!h && c == CLI_CONFIG_OPT)
		h = 1;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct option opts[] = {
		CLI_SAMPLING_OPTIONS, CLI_POLICY_OPTIONS, CLI_CONFIG_OPTION, { 0 }
	};
	static const int targets[] = { 'a', 'p', 'G', 0 };
	char *argv[4];
	struct cli_config cfg = { 0 };
	struct env e;
	FILE *f;

	f = fopen(path, "w");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	argv[0] = "run";
	argv[1] = "--config";
	argv[2] = path;
	argv[3] = NULL;
	cli_sampling__init(&e.s);
	cli_policy__init(&e.p);
	const struct cli_config_cmd cc = { .cmd = "run",
					   .opts = opts,
					   .shortopts = "h" CLI_SAMPLING_SHORT,
					   .handle = handle,
					   .ctx = &e,
					   .target_group = targets,
					   .argc = 3,
					   .argv = argv };
	optind = 0;
	opterr = 0;
	cli_config__apply(&cc, &cfg);
	cli_config__release(&cfg);
	return 0;
}
