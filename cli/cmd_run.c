// SPDX-License-Identifier: MIT
/*
 * ibs-promote run: the live daemon. Parse -> env -> run: the options fill a
 * struct run_env, and run() hands it to engine/daemon, which does the work.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "files.h"
#include "ibsp/daemon.h"
#include "options.h"
#include "policy_opts.h"

static const char usage[] =
    "Usage: ibs-promote run [-a | --pid PID[,PID...] | --cgroup PATH] [OPTIONS]\n"
    "\n"
    "Sample memory accesses, decide per page which node should hold it, and move hot pages\n"
    "there with move_pages(2), within the rate limit. Only pages of the target's processes\n"
    "are moved. Stops at --duration, on SIGINT/SIGTERM, or when the last --pid target exits;\n"
    "SIGHUP reopens the --json file, SIGUSR1 writes a telemetry snapshot at once.\n"
    "\n"
    "Target (default -a):\n"
    "  -a, --all-cpus       every process\n"
    "  -p, --pid PID[,PID]  processes and their threads (up to 64, comma-separated)\n"
    "  -G, --cgroup PATH    the processes of a cgroup v2 directory\n"
    "\n"
    "Options:\n"
    "  --dry-run            decide and report, move nothing\n"
    "  --json FILE|-        telemetry as JSON Lines (docs/telemetry.md)\n"
    "  --record FILE        also write the samples as perf.data, for replay\n"
    "                       (both files are renamed into place once sampling has started,\n"
    "                       the previous one kept as FILE.old; a symbolic link is refused)\n"
    "  --metrics-listen [ADDR:]PORT\n"
    "                       serve Prometheus metrics at http://ADDR:PORT/metrics (ADDR: a\n"
    "                       numeric IPv4 or [IPv6] address; 127.0.0.1 when only PORT)\n"
    "  --metrics-textfile FILE\n"
    "                       write the same metrics to FILE every interval (temp file and\n"
    "                       rename), for node_exporter's textfile collector (docs/metrics.md)\n"
    "  -h, --help           this text\n"
    "\n"
    "%s"
    "\n"
    "%s"
    "\n"
    "With --sampler=soft or hint (page faults: coarse), --min-heat defaults to 1; with\n"
    "hint (one sample per written page and scan), --decay-shift defaults to 4.\n"
    "\n"
    "Examples:\n"
    "  ibs-promote run -a --dry-run --duration 10 --json -\n"
    "  ibs-promote run --pid 4242 --rate 64 --json /var/log/ibs-promote.jsonl\n"
    "  ibs-promote run --sampler=soft --pid 4242 --policy=fixed-node:0 --interval 200\n"
    "  ibs-promote run --sampler=hint --pid 4242,4243 --scan-ms 500 --json -\n"
    "  ibs-promote run -a --metrics-listen 9464\n"
    "\n"
    "Needs CAP_PERFMON (or CAP_SYS_ADMIN) to sample, and ptrace-read access to the targets\n"
    "(CAP_SYS_PTRACE) to move their pages: docs/daemon.md. Promotion needs two NUMA\n"
    "nodes: on a host with one, nothing is planned (said at start).\n"
    "\n"
    "%s";

enum {
	OPT_DRY_RUN = POPT__END + 1,
	OPT_JSON,
	OPT_RECORD,
	OPT_METRICS_LISTEN,
	OPT_METRICS_TEXTFILE,
};

/** struct run_env - everything `run` does, defaults first, then the command line */
struct run_env {
	struct cli_sampling s; /* target (default -a), sampler, capture, --duration */
	struct cli_policy p;   /* the policy and the engine's settings */
	bool dry_run;
	const char *json_path;	      /* --json */
	const char *record_path;      /* --record */
	const char *metrics_listen;   /* --metrics-listen */
	const char *metrics_textfile; /* --metrics-textfile */
	int argc;		      /* the command line, for the recording's header */
	char **argv;
};

static void env_init(struct run_env *env, int argc, char **argv)
{
	memset(env, 0, sizeof(*env));
	cli_sampling__init(&env->s);
	cli_policy__init(&env->p);
	env->argc = argc;
	env->argv = argv;
}

/* --metrics-listen: checked here, so that a bad address is a usage error. */
static int metrics_listen_opt(struct run_env *env, const char *arg)
{
	struct sockaddr_storage ss;
	const char *why;
	socklen_t len;

	if (ibsp_metrics_addr__parse(arg, &ss, &len, &why)) {
		fprintf(stderr,
			"ibs-promote run: --metrics-listen '%s': %s (expected [ADDR:]PORT, e.g. "
			"9464, 0.0.0.0:9464, [::1]:9464)\n",
			arg, why);
		return -1;
	}
	env->metrics_listen = arg;
	return 1;
}

/* The options only `run` has. 1: taken, 0: not one, -1: a bad value (said). */
static int own_opt(struct run_env *env, int c, const char *arg)
{
	switch (c) {
	case OPT_METRICS_LISTEN:
		return metrics_listen_opt(env, arg);
	case OPT_METRICS_TEXTFILE:
		env->metrics_textfile = arg;
		return 1;
	case OPT_DRY_RUN:
		env->dry_run = true;
		return 1;
	case OPT_JSON:
		env->json_path = arg;
		return 1;
	case OPT_RECORD:
		env->record_path = arg;
		return 1;
	default:
		return 0;
	}
}

/* Fill @env from the command line. Return -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct run_env *env)
{
	static const struct option opts[] = {
		CLI_POLICY_OPTIONS,
		CLI_SAMPLING_OPTIONS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
		{ "metrics-textfile", required_argument, NULL, OPT_METRICS_TEXTFILE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h" CLI_SAMPLING_SHORT, opts, NULL)) != -1) {
		int h = cli_policy__opt(&env->p, c, optarg, "run");

		if (!h)
			h = cli_sampling__opt(&env->s, c, optarg, "run");
		if (!h)
			h = own_opt(env, c, optarg);
		if (h < 0)
			return cli_usage_error("run");
		if (h)
			continue;
		if (c == 'h') {
			printf(usage, cli_sampling_help, cli_policy_help, cli_exit_help);
			return EXIT_OK;
		}
		return cli_usage_error("run");
	}
	if (optind != argc)
		return cli_args_error("run", usage, "unexpected argument '%s'", argv[optind]);
	return cli_sampling__check(&env->s, "run") ? cli_usage_error("run") : -1;
}

/* The files of a run: temporary until sampling has started. */
struct run_files {
	struct cli_out json, record;
};

/* The daemon's hook once sampling has started: put the files in place. */
static int on_started(void *ctx)
{
	struct run_files *f = ctx;
	int ret = cli_out__commit(&f->json);

	return ret ? ret : cli_out__commit(&f->record);
}

/* Promotion needs two nodes: say so at the start on a host with one. */
static void check_host_nodes(void)
{
	struct ibsp_topology *t;

	if (ibsp_topology__from_host("/sys", &t))
		return;
	if (ibsp_topology__nr_nodes(t) < 2)
		cli_warn("run",
			 "this host has %u NUMA node%s: promotion needs two, so nothing will be "
			 "planned or moved (sampling and telemetry still run)\n",
			 ibsp_topology__nr_nodes(t), ibsp_topology__nr_nodes(t) == 1 ? "" : "s");
	ibsp_topology__delete(t);
}

static int run(const struct run_env *env, struct run_files *f)
{
	struct ibsp_daemon_opts o = { .sz = sizeof(o), .argc = env->argc, .argv = env->argv };
	struct ibsp_daemon_result res;
	int ret;

	o.sampler = env->s.sampler;
	o.capture = env->s.capture;
	o.duration_s = env->s.duration_s;
	o.drain_ms = env->s.drain_ms;
	o.scan_ms = env->s.scan_ms;
	o.engine = env->p.eng;
	o.top_tier = env->p.top_tier;
	o.dry_run = env->dry_run;
	/* The daemon keeps these pointers: after the commit they hold the final names, which
	 * a SIGHUP reopens. */
	o.json_path = env->json_path ? f->json.now : NULL;
	o.record_path = env->record_path ? f->record.now : NULL;
	o.on_enabled = on_started;
	o.ctx = f;
	o.metrics_listen = env->metrics_listen;
	o.metrics_textfile = env->metrics_textfile;
	ret = ibsp_daemon__run(&o, &res);
	fprintf(stderr,
		"ibs-promote run: %s: %" PRIu64 " samples, %" PRIu64 " pages planned, %" PRIu64
		" moved, %" PRIu64 " failed%s\n",
		ret ? "error" : res.end_reason, res.samples, res.planned, res.moved, res.failed,
		res.complete ? "" : " (telemetry or recording incomplete)");
	if ((env->json_path && !f->json.committed) || (env->record_path && !f->record.committed))
		fprintf(stderr, "ibs-promote run: sampling never started; the --json and --record "
				"files are as they were\n");
	if (ret)
		return cli_exit_code(ret);
	return res.complete ? EXIT_OK : EXIT_FAIL;
}

int cmd_run(int argc, char **argv)
{
	struct run_env env;
	int rc;

	env_init(&env, argc, argv);
	rc = parse_args(argc, argv, &env);
	if (rc >= 0)
		return rc;
	rc = cli_sampling__resolve(&env.s, "run");
	if (rc >= 0)
		return rc;
	rc = cli_sampling__check_mode(&env.s, "run");
	if (rc >= 0)
		return rc;
	if (env.s.sampler.kind == IBSP_SAMPLER_SOFT)
		cli_policy__for_soft_sampler(&env.p);
	else if (env.s.sampler.kind == IBSP_SAMPLER_HINT)
		cli_policy__for_hint_sampler(&env.p);
	check_host_nodes();
	struct run_files f = { .json = { .fd = -1 }, .record = { .fd = -1 } };

	if ((rc = cli_out__open(&f.json, "run", "--json", env.json_path, true)) < 0 &&
	    (rc = cli_out__open(&f.record, "run", "--record", env.record_path, false)) < 0) {
		/* the daemon opens them by name (O_NOFOLLOW): the temporary files exist */
		cli_out__close_fd(&f.json);
		cli_out__close_fd(&f.record);
		rc = run(&env, &f);
	}
	cli_out__end(&f.json);
	cli_out__end(&f.record);
	return rc;
}
