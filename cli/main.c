// SPDX-License-Identifier: MIT
/* ibs-promote: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ibsp/log.h"

static int verbosity = IBSP_LOG_WARN;

static void cli_print(enum ibsp_log_level level, const char *fmt, va_list ap)
{
	if ((int)level > verbosity)
		return;
	fputs("ibs-promote: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static const char usage[] =
    "Usage: ibs-promote [-v] COMMAND [OPTIONS] [ARGS]\n"
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
    "  -v, --verbose      more messages on stderr (repeat for debug)\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  system error (I/O, memory, permission)\n"
    "  2  bad command line\n"
    "  3  malformed or unsupported input file (the message names file, offset and field)\n"
    "  4  no hardware sampler available (probe; record and run with --sampler=auto)\n";

int main(int argc, char **argv)
{
	int i = 1;

	ibsp_set_print(cli_print);
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbosity++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			puts("ibs-promote " IBSP_VERSION);
			return EXIT_OK;
		} else {
			fprintf(stderr, "ibs-promote: unknown option '%s'\n\n%s", argv[i], usage);
			return EXIT_USAGE;
		}
		i++;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "info"))
		return cmd_info(argc - i, argv + i);
	if (!strcmp(argv[i], "dump"))
		return cmd_dump(argc - i, argv + i);
	if (!strcmp(argv[i], "probe"))
		return cmd_probe(argc - i, argv + i);
	if (!strcmp(argv[i], "run"))
		return cmd_run(argc - i, argv + i);
	if (!strcmp(argv[i], "replay"))
		return cmd_replay(argc - i, argv + i);
	if (!strcmp(argv[i], "heatmap"))
		return cmd_heatmap(argc - i, argv + i);
	if (!strcmp(argv[i], "record"))
		return cmd_record(argc - i, argv + i);
	if (!strcmp(argv[i], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[i], "version")) {
		puts("ibs-promote " IBSP_VERSION);
		return EXIT_OK;
	}
	fprintf(stderr, "ibs-promote: unknown command '%s'\n\n%s", argv[i], usage);
	return EXIT_USAGE;
}
