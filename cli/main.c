// SPDX-License-Identifier: MIT
/* ibs-promote: entry point and subcommand dispatch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ibsp/log.h"

static const char usage[] =
    "Usage: ibs-promote [-v | -q] COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Hot-page promotion for tiered memory, driven by hardware memory-access sampling.\n"
    "\n"
    "Commands:\n"
    "  probe              which samplers (IBS-op, PEBS, soft) can run here, and why not\n"
    "  record -o FILE     sample memory accesses live into a perf.data recording\n"
    "  info FILE          host, NUMA topology, events and sample counts of a perf.data recording\n"
    "  dump FILE          decoded samples of a recording as JSON Lines (one object per sample)\n"
    "  run                the daemon: sample, decide and move hot pages (telemetry: --json)\n"
    "  replay FILE        run the promotion policy over a recording; --evaluate scores it\n"
    "  heatmap FILE       where a recording's accesses go over time (terminal or --svg)\n"
    "  help               this text\n"
    "  version            the version\n"
    "\n"
    "Run 'ibs-promote COMMAND --help' for a command's options.\n"
    "\n"
    "Examples:\n"
    "  ibs-promote probe\n"
    "  ibs-promote record -o ibs.data -a --duration 10\n"
    "  ibs-promote record -o pf.data --sampler=soft -- ./workload\n"
    "  ibs-promote info tests/fixtures/pf-system.data\n"
    "  ibs-promote dump --limit 5 tests/fixtures/pf-system.data\n"
    "  ibs-promote replay --evaluate tests/fixtures/example-2s-cxl.data\n"
    "  ibs-promote heatmap --by node tests/fixtures/example-2s-cxl.data\n"
    "  perf record -e page-faults -c 1 -d --phys-data --sample-cpu -a -o pf.data -- sleep 1\n"
    "  ibs-promote dump pf.data | jq -r .vaddr\n"
    "\n"
    "Options:\n"
    "  -v, --verbose      more messages on stderr (repeat for debug: -vv)\n"
    "  -q, --quiet        errors only: no warnings\n"
    "\n"
    "Data goes to stdout (dump, --json -, --decisions -, record -o -); every message goes\n"
    "to stderr. An input FILE of '-' reads a recording from stdin (perf record -o - | ...).\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  malformed or unsupported input file (the message names file, offset and\n"
    "     field), or a system error (I/O, memory, permission, a failed write)\n"
    "  2  bad command line (the message names the option and the value)\n"
    "  4  no hardware sampler available (probe; record and run with --sampler=auto)\n"
    "  record -- CMD exits with CMD's status (128+N when signal N killed it)\n";

/* -v, -vv, ..., --verbose; -q, --quiet. 1: one of them, 0: not. */
static int verbosity_opt(const char *a)
{
	if (!strcmp(a, "--verbose")) {
		cli_verbosity++;
		return 1;
	}
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		cli_verbosity = IBSP_LOG_ERROR;
		return 1;
	}
	if (a[0] != '-' || a[1] != 'v' || a[strspn(a + 1, "v") + 1])
		return 0;
	cli_verbosity += (int)strlen(a) - 1;
	return 1;
}

/* Data on stdout that could not all be written: say so, and fail. */
static int check_stdout(const char *cmd, int rc)
{
	errno = 0;
	if (!fflush(stdout) && !ferror(stdout))
		return rc;
	fprintf(stderr, "ibs-promote %s: writing to stdout failed: %s\n", cmd,
		errno ? strerror(errno) : "write error");
	return rc == EXIT_OK || rc == EXIT_NOHW ? EXIT_FAIL : rc;
}

static int dispatch(int argc, char **argv)
{
	if (!strcmp(argv[0], "info"))
		return cmd_info(argc, argv);
	if (!strcmp(argv[0], "dump"))
		return cmd_dump(argc, argv);
	if (!strcmp(argv[0], "probe"))
		return cmd_probe(argc, argv);
	if (!strcmp(argv[0], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[0], "replay"))
		return cmd_replay(argc, argv);
	if (!strcmp(argv[0], "heatmap"))
		return cmd_heatmap(argc, argv);
	if (!strcmp(argv[0], "record"))
		return cmd_record(argc, argv);
	if (!strcmp(argv[0], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[0], "version")) {
		puts("ibs-promote " IBSP_VERSION);
		return EXIT_OK;
	}
	fprintf(stderr, "ibs-promote: unknown command '%s'\n", argv[0]);
	fprintf(stderr, "ibs-promote: see 'ibs-promote --help'\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int i = 1;

	ibsp_set_print(cli_print);
	while (i < argc && argv[i][0] == '-') {
		if (verbosity_opt(argv[i])) {
			/* taken */
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return check_stdout("--help", EXIT_OK);
		} else if (!strcmp(argv[i], "--version")) {
			puts("ibs-promote " IBSP_VERSION);
			return check_stdout("--version", EXIT_OK);
		} else {
			fprintf(stderr, "ibs-promote: unknown option '%s'\n", argv[i]);
			fprintf(stderr, "ibs-promote: see 'ibs-promote --help'\n");
			return EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "ibs-promote: no command given\n\n%s", usage);
		return EXIT_USAGE;
	}
	return check_stdout(argv[i], dispatch(argc - i, argv + i));
}
