// SPDX-License-Identifier: MIT
/*
 * ibs-promote record: live capture into a perf.data file, on the daemon's
 * loop (engine/daemon) with no engine: the perf writer is the only sink.
 * The file is finished (features and header written) on every exit path,
 * including SIGINT and SIGTERM. Parse -> env -> run: the options fill a
 * struct record_env, and record() runs it.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "files.h"
#include "ibsp/daemon.h"
#include "options.h"
#include "workload.h"

static const char usage[] =
    "Usage: ibs-promote record -o FILE [-a | --pid PID[,PID...] | --cgroup PATH] [OPTIONS]\n"
    "                          [-- CMD [ARGS]]\n"
    "\n"
    "Sample memory accesses on every online CPU and write them to FILE (perf.data; perf\n"
    "script and perf report read it). With CMD, run it and record its process tree (or\n"
    "the whole system with -a) until it exits. FILE is written under a temporary name\n"
    "and renamed once sampling has started; a previous FILE is kept as FILE.old, and a\n"
    "symbolic link is refused.\n"
    "\n"
    "  -o, --output FILE       the recording (required); '-': stdout, in pipe mode\n"
    "  -a, --all-cpus          every task on every online CPU\n"
    "  -p, --pid PID[,PID...]  processes, their threads and their children\n"
    "  -G, --cgroup PATH       the tasks of one cgroup v2 directory and its descendants\n"
    "      --config FILE       options from an INI file (keys: the long options); the\n"
    "                          command line overrides it (ibs-promote.conf(5))\n"
    "  -h, --help              this text\n"
    "\n"
    "%s"
    "\n"
    "Examples:\n"
    "  ibs-promote record -o ibs.data -a --duration 10\n"
    "  ibs-promote record -o pf.data --sampler=soft -- ./workload --size 4G\n"
    "  ibs-promote record -o db.data --cgroup /sys/fs/cgroup/db.slice -d 30\n"
    "  ibs-promote record -o - --sampler=soft -- ./workload | ibs-promote replay -\n"
    "\n"
    "Exit status: 0 recorded (with CMD: CMD's exit status, 128+N if signal N killed it);\n"
    "1 error (a file that sampling wrote to is still finished and readable, up to its\n"
    "last whole record); 2 bad command line; 4 no hardware sampler for --sampler=auto.\n";

/** struct record_env - everything `record` does, defaults first, then the command line */
struct record_env {
	const char *output;    /* -o */
	struct cli_sampling s; /* target, sampler, capture, --duration */
	char **cmd;	       /* -- CMD [ARGS], or NULL */
	int argc;	       /* the whole command line, for the recording's header */
	char **argv;
	sigset_t child_mask; /* the signal mask CMD runs with */
};

static void env_init(struct record_env *env, int argc, char **argv)
{
	memset(env, 0, sizeof(*env));
	cli_sampling__init(&env->s);
	env->argc = argc + 1; /* from "ibs-promote" on */
	env->argv = argv - 1;
}

/* What the options say together: a file, and one thing to record. -1: fine. */
static int check_args(struct record_env *env)
{
	if (env->output && !strcmp(env->output, "-") && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ibs-promote record: -o -: stdout is a terminal; pipe it (-o - | "
				"ibs-promote replay -) or give a file\n");
		return cli_usage_error("record");
	}
	if (!env->output) {
		fprintf(stderr, "ibs-promote record: -o FILE is required\n");
		return cli_usage_error("record");
	}
	env->s.has_command = env->cmd != NULL;
	if (cli_sampling__check(&env->s, "record"))
		return cli_usage_error("record");
	if (!env->s.nr_targets && !env->cmd) {
		fprintf(stderr,
			"ibs-promote record: say what to record: -a, --pid, --cgroup or -- CMD\n");
		return cli_usage_error("record");
	}
	if (env->cmd && env->s.capture.target != IBSP_TARGET_ALL_CPUS) {
		fprintf(stderr, "ibs-promote record: a command cannot be combined with --pid or "
				"--cgroup\n");
		return cli_usage_error("record");
	}
	return -1;
}

/* Every option of `record`, from the command line or a --config file. */
static int record_opt(void *ctx, int c, const char *arg, const char *where)
{
	struct record_env *env = ctx;
	int h = cli_sampling__opt(&env->s, c, arg, where);

	if (h)
		return h;
	if (c == 'o')
		env->output = arg;
	return c == 'o' || c == CLI_CONFIG_OPT;
}

/* Fill @env from --config, then the command line. Return -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct record_env *env)
{
	static const struct option opts[] = {
		CLI_SAMPLING_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		CLI_CONFIG_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const int targets[] = { 'a', 'p', 'G', 0 };
	const struct cli_config_cmd cc = { .cmd = "record",
					   .opts = opts,
					   .shortopts = "+o:h" CLI_SAMPLING_SHORT,
					   .handle = record_opt,
					   .ctx = env,
					   .target_group = targets,
					   .argc = argc,
					   .argv = argv };
	int c = cli_config__apply(&cc, NULL);

	if (c >= 0)
		return c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h" CLI_SAMPLING_SHORT, opts, NULL)) != -1) {
		int h = record_opt(env, c, optarg, "record");

		if (h < 0)
			return cli_usage_error("record");
		if (h)
			continue;
		switch (c) {
		case 'h':
			printf(usage, cli_sampling_help);
			return EXIT_OK;
		default:
			return cli_usage_error("record");
		}
	}
	if (optind < argc)
		env->cmd = argv + optind;
	return check_args(env);
}

/* A recording under way: the settings, the command it runs and the file. */
struct record_run {
	const struct record_env *env;
	struct cli_workload wl;
	struct cli_out out; /* -o: a temporary file until sampling has started */
};

/* The daemon's hook once the events are armed: let the command exec, then put FILE in place. */
static int on_started(void *ctx)
{
	struct record_run *r = ctx;
	int ret = r->env->cmd ? cli_workload__start(&r->wl, r->env->cmd[0]) : 0;

	return ret ? ret : cli_out__commit(&r->out);
}

static void print_summary(const struct record_env *env, const struct ibsp_daemon_opts *o,
			  const struct ibsp_daemon_result *res)
{
	const struct ibsp_capture_stats *st = &res->capture;

	fprintf(stderr,
		"ibs-promote record: %" PRIu64 " samples (%" PRIu64 " bytes) from %u CPUs "
		"in %.1f s to %s; lost %" PRIu64 " records, %" PRIu64 " throttles%s%s\n",
		st->samples, res->record_bytes, st->nr_cpus, res->sampled_s, env->output,
		st->loss.lost, st->loss.throttle, res->signal ? " (stopped by a signal)" : "",
		res->complete ? ""
			      : "; the file is incomplete (see above): it holds the records "
				"written before the error");
	/* Only CPU-wide hardware events can be squeezed out by another PMU user. */
	if (o->sampler.kind != IBSP_SAMPLER_SOFT && o->capture.target != IBSP_TARGET_PID &&
	    res->running_ratio < 0.99)
		fprintf(stderr,
			"ibs-promote record: the events ran %.0f%% of the time: another user "
			"of the PMU (e.g. perf record -e ibs_op//) shares it\n",
			res->running_ratio * 100);
}

/* The daemon's settings for @env: the recording only, no engine. */
static void daemon_opts(const struct record_env *env, struct ibsp_daemon_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->sampler = env->s.sampler;
	o->capture = env->s.capture;
	o->duration_s = env->s.duration_s;
	o->drain_ms = env->s.drain_ms;
	o->scan_ms = env->s.scan_ms;
	o->record_path = env->output;
	o->record_only = true;
	o->argc = env->argc;
	o->argv = env->argv;
}

/* Fork CMD, held until the events are armed; without -a only it is sampled, from its exec. */
static int fork_workload(struct record_run *r, struct ibsp_daemon_opts *o)
{
	int ret = cli_workload__fork(&r->wl, r->env->cmd, &r->env->child_mask);

	if (ret) {
		fprintf(stderr, "ibs-promote record: cannot fork: %s\n", strerror(-ret));
		return ret;
	}
	o->workload = r->wl.pid;
	if (!r->env->s.all_cpus) {
		o->capture.target = IBSP_TARGET_PID;
		o->capture.pids = &r->wl.pid;
		o->capture.nr_pids = 1;
		o->capture.enable_on_exec = true;
	}
	return 0;
}

static int record(struct record_run *r)
{
	const struct record_env *env = r->env;
	struct ibsp_daemon_opts o;
	struct ibsp_daemon_result res;
	int ret, status;

	daemon_opts(env, &o);
	o.record_path = r->out.now; /* the writer reopens it, never through a link */
	o.record_name = env->output;
	o.on_enabled = on_started;
	o.ctx = r;
	if (env->cmd && fork_workload(r, &o))
		return EXIT_FAIL;
	ret = ibsp_daemon__run(&o, &res);
	if (res.recorded && r->out.committed)
		print_summary(env, &o, &res);
	else if (!r->out.is_stdout)
		fprintf(stderr, "ibs-promote record: sampling never started; %s is as it was\n",
			env->output);
	status = cli_workload__end(&r->wl);
	if (ret || !res.complete || !r->out.committed)
		return EXIT_FAIL;
	return env->cmd && status >= 0 ? status : EXIT_OK;
}

int cmd_record(int argc, char **argv)
{
	struct record_env env;
	sigset_t stop;
	int rc;

	env_init(&env, argc, argv);
	rc = parse_args(argc, argv, &env);
	if (rc >= 0)
		return rc;
	/*
	 * Before any file exists: a SIGINT or SIGTERM from here on waits for the
	 * daemon's signalfd, and still ends in a finished recording.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &env.child_mask);
	rc = cli_sampling__resolve(&env.s, "record");
	if (rc < 0)
		rc = cli_sampling__check_mode(&env.s, "record");
	if (rc >= 0)
		return rc;
	struct record_run r = { .env = &env, .wl = { .pid = -1, .go_fd = -1, .err_fd = -1 } };

	rc = cli_out__open(&r.out, "record", "-o", env.output, true);
	if (rc >= 0)
		return rc;
	cli_out__close_fd(&r.out); /* the writer reopens it by name */
	rc = record(&r);
	cli_out__end(&r.out);
	return rc;
}
