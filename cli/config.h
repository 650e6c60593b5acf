/* SPDX-License-Identifier: MIT */
/*
 * --config FILE: an INI file (libinih) whose keys are a command's long
 * options. Each key goes through the command's own option table and handler,
 * as the command line does, so every option works there with the same
 * checks; the command line overrides the file (docs/operations.md,
 * ibs-promote.conf(5)).
 */
#ifndef IBSP_CLI_CONFIG_H
#define IBSP_CLI_CONFIG_H

#include <getopt.h>
#include <stdbool.h>

/* The getopt_long entry of --config, for a command's table. */
#define CLI_CONFIG_OPT 1900
#define CLI_CONFIG_OPTION                                         \
	{                                                         \
		"config", required_argument, NULL, CLI_CONFIG_OPT \
	}

/*
 * A command's option handler: 1 when @c was taken (with @arg, NULL for an
 * option without a value), 0 when @c is not an option of this handler, or -1
 * after printing an error that starts "ibs-promote @where: --NAME: ...".
 */
typedef int (*cli_opt_fn)(void *ctx, int c, const char *arg, const char *where);

/** struct cli_config_cmd - the command line a configuration file joins */
struct cli_config_cmd {
	const char *cmd;	   /* "run": its section is [run] */
	const struct option *opts; /* the command's getopt_long table (with CLI_CONFIG_OPTION) */
	const char *shortopts;	   /* its getopt string */
	cli_opt_fn handle;	   /* applies one option */
	void *ctx;		   /* for @handle */
	const int *target_group;   /* option codes of which the command line's one replaces all
				     * the file's (-a, --pid, --cgroup); 0-terminated, or NULL */
	int argc;
	char **argv;
};

/** struct cli_config - what a file set: key = value per applied key, for a reload */
struct cli_config {
	const char *path;
	unsigned int nr;
	struct cli_config_kv {
		char *key, *value;
	} * kv;
};

/*
 * Before the command's own getopt_long loop: find --config FILE on the command
 * line and apply the file's keys that the command line does not give, through
 * @c->handle. @cfg (may be NULL) receives what was applied. Return -1 to go on,
 * or EXIT_USAGE after printing an error that names the file, the line and the
 * key. Leaves optind for the command's loop to reset.
 */
int cli_config__apply(const struct cli_config_cmd *c, struct cli_config *cfg);

/* Free what @cfg holds (the applied values the command keeps stay valid). */
void cli_config__release(struct cli_config *cfg);

/*
 * The keys @now sets differently from @then (or only one of them sets), and for
 * which @reloadable says false: each is printed as needing a restart. Returns
 * how many.
 */
unsigned int cli_config__warn_changed(const struct cli_config *then, const struct cli_config *now,
				      bool (*reloadable)(const char *key));

#endif
