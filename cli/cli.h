/* SPDX-License-Identifier: MIT */
/* The ibs-promote command: subcommands share these. */
#ifndef IBSP_CLI_H
#define IBSP_CLI_H

#include <jansson.h>
#include <stdarg.h>

#include "ibsp/log.h"
#include "ibsp/topology.h"

/* Exit codes (documented in each --help and in README.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	  /* a system error: I/O, memory, permission */
	EXIT_USAGE = 2,	  /* bad command line */
	EXIT_BADDATA = 1, /* the input file is malformed or unsupported: as EXIT_FAIL */
	EXIT_NOHW = 4,	  /* no hardware sampler (IBS, PEBS) can run here */
};

int cmd_info(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_heatmap(int argc, char **argv);

/*
 * Options of a command that takes only --json and --help, then @nr_args
 * arguments. Returns -1 to go on (with *as_json set), or the exit code.
 * (cli/options.c)
 */
int cli_json_opts(int argc, char **argv, const char *usage, int nr_args, int *as_json);

/*
 * Map a library error to an exit code: -EINVAL/-EPROTONOSUPPORT/-ENODATA mean
 * bad data (1, as a system error); -EDOM an option that does not fit the recording or host (2).
 * (cli/exit.c)
 */
int cli_exit_code(int err);

/* The exit codes, for the end of each --help (cli/exit.c). */
extern const char cli_exit_help[];

/* -v (info, -vv debug), -q (errors only); the library's log callback. (cli/msg.c) */
extern int cli_verbosity;
void cli_print(enum ibsp_log_level level, const char *fmt, va_list ap);
/* "ibs-promote CMD: ..." on stderr unless -q. */
void cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Topology parts info and probe share (cli/topo_print.c). JSON: "distance" is
 * an array of rows by node position (the order of "nodes"), or null when
 * unknown; a node's "tier" is its kernel memory tier, or null.
 */
void cli_topo_print_distances(const struct ibsp_topology *t);
json_t *cli_topo_distance_json(const struct ibsp_topology *t);
json_t *cli_topo_tier_json(const struct ibsp_topology *t, struct ibsp_node_idx i);

#endif
