// SPDX-License-Identifier: MIT
/*
 * ibs-promote run: the live daemon. Parse -> env -> run: the options fill a
 * struct run_env, and run() hands it to engine/daemon, which does the work.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "files.h"
#include "config.h"
#include "ibsp/daemon.h"
#include "options.h"
#include "policy_opts.h"

static const char usage[] =
    "Usage: ibs-promote run [-a | --pid PID[,PID...] | --cgroup PATH] [OPTIONS]\n"
    "\n"
    "Sample memory accesses, decide per page which node should hold it, and move hot pages\n"
    "there with move_pages(2), within the rate limit. Only pages of the target's processes\n"
    "are moved. Stops at --duration, on SIGINT/SIGTERM, or when the last --pid target exits;\n"
    "SIGHUP reopens the --json file (and re-reads the policy options from --config),\n"
    "SIGUSR1 writes a telemetry snapshot at once.\n"
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
    "  --config FILE        options from an INI file (keys: the long options); the\n"
    "                       command line overrides it (ibs-promote.conf(5))\n"
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

/* The files of a run: temporary until sampling has started. */
struct run_files {
	struct cli_out json, record;
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
	struct cli_config cfg; /* what --config set, for a reload */
	struct run_files f;    /* --json and --record, while they are temporary */
};

static void env_init(struct run_env *env, int argc, char **argv)
{
	memset(env, 0, sizeof(*env));
	cli_sampling__init(&env->s);
	cli_policy__init(&env->p);
	env->argc = argc;
	env->argv = argv;
	env->f.json.fd = env->f.record.fd = -1;
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
	case CLI_CONFIG_OPT: /* read before the command line (cli_config__apply) */
		return 1;
	default:
		return 0;
	}
}

static const struct option run_opts[] = {
	CLI_POLICY_OPTIONS,
	CLI_SAMPLING_OPTIONS,
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "metrics-textfile", required_argument, NULL, OPT_METRICS_TEXTFILE },
	CLI_CONFIG_OPTION,
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Every option of `run`, from the command line or a --config file (@where: "run: FILE:LINE"). */
static int run_opt(void *ctx, int c, const char *arg, const char *where)
{
	struct run_env *env = ctx;
	int h = cli_policy__opt(&env->p, c, arg, where);

	if (!h)
		h = cli_sampling__opt(&env->s, c, arg, where);
	if (!h)
		h = own_opt(env, c, arg);
	return h;
}

/* Fill @env from --config, then the command line. Return -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct run_env *env)
{
	static const int targets[] = { 'a', 'p', 'G', 0 };
	const struct cli_config_cmd cc = { .cmd = "run",
					   .opts = run_opts,
					   .shortopts = "h" CLI_SAMPLING_SHORT,
					   .handle = run_opt,
					   .ctx = env,
					   .target_group = targets,
					   .argc = argc,
					   .argv = argv };
	int c = cli_config__apply(&cc, &env->cfg);

	if (c >= 0)
		return c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h" CLI_SAMPLING_SHORT, run_opts, NULL)) != -1) {
		int h = run_opt(env, c, optarg, "run");

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

/* The daemon's hook once sampling has started: put the files in place. */
static int on_started(void *ctx)
{
	struct run_env *env = ctx;
	int ret = cli_out__commit(&env->f.json);

	return ret ? ret : cli_out__commit(&env->f.record);
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

/* The --config keys a reload applies: the policy options but --top-tier and --max-pages. */
static bool reloadable(const char *key)
{
	for (const struct option *o = run_opts; o->name; o++)
		if (!strcmp(o->name, key))
			return o->val >= POPT_POLICY && o->val < POPT__END &&
			       o->val != POPT_TOP_TIER && o->val != POPT_MAX_PAGES;
	return false;
}

/* After the sampler is known: its defaults for the policy options not given. */
static void sampler_defaults(struct run_env *env)
{
	if (env->s.sampler.kind == IBSP_SAMPLER_SOFT)
		cli_policy__for_soft_sampler(&env->p);
	else if (env->s.sampler.kind == IBSP_SAMPLER_HINT)
		cli_policy__for_hint_sampler(&env->p);
}

/*
 * The daemon's SIGHUP: read --config and the command line again, as at the
 * start, and hand over the policy settings; the file's other keys need a restart.
 */
static int reload(void *ctx, struct ibsp_engine_opts *engine)
{
	struct run_env *env = ctx, now;

	env_init(&now, env->argc, env->argv);
	if (parse_args(env->argc, env->argv, &now) >= 0) {
		cli_config__release(&now.cfg);
		fprintf(stderr,
			"ibs-promote run: reload: %s has an error; the settings in effect "
			"stay\n",
			env->cfg.path);
		return -EINVAL;
	}
	now.s.sampler.kind = env->s.sampler.kind; /* as resolved at the start */
	sampler_defaults(&now);
	cli_config__warn_changed(&env->cfg, &now.cfg, reloadable);
	cli_config__release(&now.cfg);
	*engine = now.p.eng;
	return 0;
}

static int run(struct run_env *env)
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
	o.json_path = env->json_path ? env->f.json.now : NULL;
	o.json_name = env->json_path;
	o.record_path = env->record_path ? env->f.record.now : NULL;
	o.record_name = env->record_path;
	o.on_enabled = on_started;
	o.ctx = env;
	o.metrics_listen = env->metrics_listen;
	o.metrics_textfile = env->metrics_textfile;
	if (env->cfg.path)
		o.on_reload = reload;
	ret = ibsp_daemon__run(&o, &res);
	fprintf(stderr,
		"ibs-promote run: %s: %" PRIu64 " samples, %" PRIu64 " pages planned, %" PRIu64
		" moved, %" PRIu64 " failed%s\n",
		ret ? "error" : res.end_reason, res.samples, res.planned, res.moved, res.failed,
		res.complete ? "" : " (telemetry or recording incomplete)");
	if (res.abandoned)
		fprintf(stderr,
			"ibs-promote run: %" PRIu64 " planned moves were still queued 5 s after "
			"the run ended (a slow or rate-limited worker), and were dropped\n",
			res.abandoned);
	if ((env->json_path && !env->f.json.committed) ||
	    (env->record_path && !env->f.record.committed))
		fprintf(stderr, "ibs-promote run: sampling never started; the --json and --record "
				"files are as they were\n");
	if (ret)
		return cli_exit_code(ret);
	return res.complete ? EXIT_OK : EXIT_FAIL;
}

int cmd_run(int argc, char **argv)
{
	struct run_env env;
	sigset_t early;
	int rc;

	/* A SIGHUP (systemctl reload) or SIGUSR1 that comes before the daemon's loop waits
	 * for it there, instead of ending the process. */
	sigemptyset(&early);
	sigaddset(&early, SIGHUP);
	sigaddset(&early, SIGUSR1);
	sigprocmask(SIG_BLOCK, &early, NULL);
	env_init(&env, argc, argv);
	rc = parse_args(argc, argv, &env);
	if (rc >= 0)
		goto out;
	rc = cli_sampling__resolve(&env.s, "run");
	if (rc >= 0)
		goto out;
	rc = cli_sampling__check_mode(&env.s, "run");
	if (rc >= 0)
		goto out;
	sampler_defaults(&env);
	check_host_nodes();
	if ((rc = cli_out__open(&env.f.json, "run", "--json", env.json_path, true)) < 0 &&
	    (rc = cli_out__open(&env.f.record, "run", "--record", env.record_path, false)) < 0) {
		/* the daemon opens them by name (O_NOFOLLOW): the temporary files exist */
		cli_out__close_fd(&env.f.json);
		cli_out__close_fd(&env.f.record);
		rc = run(&env);
	}
	cli_out__end(&env.f.json);
	cli_out__end(&env.f.record);
out:
	cli_config__release(&env.cfg);
	return rc;
}
