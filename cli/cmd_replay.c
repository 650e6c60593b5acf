// SPDX-License-Identifier: MIT
/*
 * ibs-promote replay: run the engine over a recording in recorded time and
 * report its decisions; --evaluate scores it against the baselines and the
 * hindsight oracle. Wiring and output only: the work is engine/replay.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "files.h"
#include "config.h"
#include "ibsp/replay.h"
#include "policy_opts.h"
#include "replay_out.h"

static const char usage[] =
    "Usage: ibs-promote replay [OPTIONS] FILE\n"
    "\n"
    "Run the promotion engine over a perf.data recording ('-': one on stdin), in the\n"
    "recording's own time, and report what it would migrate. Nothing is moved: placement\n"
    "is simulated, starting from the recorded one (each page's node from its physical\n"
    "address and MEM_TOPOLOGY). The text summary goes to stdout, or to stderr when\n"
    "--json - or --decisions - puts data there. An output FILE is replaced only when the\n"
    "replay ran (the previous one kept as FILE.old); a symbolic link is refused.\n"
    "\n"
    "Options:\n"
    "  --evaluate           also run last-accessor, fixed-node:N (--baseline-node) and none,\n"
    "                       and a hindsight oracle; report the share of sampled accesses\n"
    "                       served from the accessing CPU's own node, and the bytes moved\n"
    "  --baseline-node N    with --evaluate: the fixed-node baseline's node (default 0)\n"
    "  --threads N          threads (default: one per online CPU): from 2, one decodes the\n"
    "                       file ahead; with --evaluate the policies and the oracles run\n"
    "                       side by side, at most one thread each. 1: all on one thread.\n"
    "                       The output does not depend on it\n"
    "  --json FILE|-        the summary as JSON (with --evaluate: per interval too)\n"
    "  --decisions FILE|-   every planned migration as JSON Lines\n"
    "  --event NAME[,NAME]  replay only the samples of these events (names as 'info'\n"
    "                       lists them), e.g. one of two page-fault events\n"
    "  --no-progress        no progress bar (it is shown only when stderr is a terminal)\n"
    "  --config FILE        options from an INI file (keys: the long options); the\n"
    "                       command line overrides it (ibs-promote.conf(5))\n"
    "  -h, --help           this text\n"
    "\n"
    "%s"
    "\n"
    "Examples:\n"
    "  ibs-promote replay --evaluate tests/fixtures/example-2s-cxl.data\n"
    "  ibs-promote replay --policy=fixed-node:0 --decisions - rec.data | jq -c '[.src,.dst]'\n"
    "  ibs-promote replay --rate 64 --interval 500 --json summary.json rec.data\n"
    "  perf record -e page-faults -d --phys-data --sample-cpu -a -o - -- ./app | \\\n"
    "      ibs-promote replay -\n"
    "\n"
    "Output formats: docs/replay.md. The evaluation model: docs/evaluation.md.\n"
    "\n"
    "%s";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct replay_cli {
	FILE *decisions;
	json_t *intervals; /* with --evaluate and --json */
	const struct ibsp_replay_result *res;
	bool progress;
	int last_pct;
};

static int on_decision(void *ctx, const struct ibsp_replay_decision *d)
{
	const struct ibsp_migration *m = d->m;
	struct replay_cli *c = ctx;
	char vaddr[32];
	json_t *o, *heat;
	int ret;

	if (!c->decisions)
		return 0;
	snprintf(vaddr, sizeof(vaddr), "0x%" PRIx64, m->vaddr);
	heat = json_object();
	for (uint32_t s = 0; d->heat && s < d->nr_acc; s++) {
		char node[16];

		snprintf(node, sizeof(node), "%d", c->res->acc_node_ids[s]);
		json_object_set_new(heat, node, json_real((double)d->heat[s] / IBSP_HEAT_ONE));
	}
	o = json_pack("{s:I, s:i, s:s, s:o, s:i, s:i, s:i, s:s, s:o}", "time_ns",
		      (json_int_t)d->time_ns, "pid", (int)m->pid, "vaddr", vaddr, "pfn",
		      m->has_pfn ? json_integer((json_int_t)m->pfn) : json_null(), "bytes",
		      (int)m->bytes, "src", m->src_node.id, "dst", m->dst_node.id, "reason",
		      ibsp_reason__name(m->reason), "heat", heat);
	if (!o)
		return -ENOMEM;
	ret = json_dumpf(o, c->decisions, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (ret || fputc('\n', c->decisions) == EOF)
		return -EIO;
	return stop_signal ? -EINTR : 0;
}

static int on_interval(void *ctx, const struct ibsp_replay_interval *iv)
{
	struct replay_cli *c = ctx;

	if (c->intervals && iv->nr_eval) {
		json_t *o = json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:I}", "index", (json_int_t)iv->index, "start_ns",
		    (json_int_t)iv->start_ns, "samples", (json_int_t)iv->samples, "planned",
		    (json_int_t)iv->planned, "planned_bytes", (json_int_t)iv->planned_bytes,
		    "threshold", (json_int_t)iv->threshold);
		json_t *lf = json_object(), *mb = json_object();

		for (uint32_t k = 0; k < iv->nr_eval; k++) {
			const char *name = c->res->eval_name[k];

			json_object_set_new(
			    lf, name, json_real(cli_frac(iv->eval[k].local, iv->eval[k].placed)));
			json_object_set_new(mb, name,
					    json_integer((json_int_t)iv->eval[k].migrated_bytes));
		}
		json_object_set_new(o, "local_fraction", lf);
		json_object_set_new(o, "migrated_bytes", mb);
		json_array_append_new(c->intervals, o);
	}
	return stop_signal ? -EINTR : 0;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct replay_cli *c = ctx;
	int pct = total ? (int)(done * 100 / total) : 100, bar = pct / 4;

	if (!c->progress || pct == c->last_pct)
		return;
	c->last_pct = pct;
	fprintf(stderr, "\rreplay [%.*s%*s] %3d%%", bar, "#########################", 25 - bar, "",
		pct);
	if (pct >= 100)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

/** struct replay_env - everything `replay` does, defaults first, then the command line */
struct replay_env {
	struct cli_policy p; /* the policy and the engine's settings */
	bool evaluate;	     /* --evaluate */
	int baseline_node;   /* --baseline-node */
	bool baseline_set;
	const char *json_path; /* --json */
	const char *dec_path;  /* --decisions */
	bool no_progress;      /* --no-progress */
	const char *events;    /* --event */
	unsigned int threads;  /* --threads; 0: automatic */
	const char *file;      /* the recording */
};

/* The options only `replay` has: 1 taken, 0 not one, -1 after printing an error. */
static int own_opt(struct replay_env *env, int ch, const char *arg, const char *where)
{
	uint64_t n;

	switch (ch) {
	case 'e':
		env->evaluate = true;
		return 1;
	case 'B':
		if (cli_uint_arg(where, "baseline-node", arg, 0, 1023, &n))
			return -1;
		env->baseline_node = (int)n;
		env->baseline_set = true;
		return 1;
	case 'j':
		env->json_path = arg;
		return 1;
	case 'd':
		env->dec_path = arg;
		return 1;
	case 'P':
		env->no_progress = true;
		return 1;
	case 'E':
		if (!*arg || arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,")) {
			fprintf(stderr, "ibs-promote %s: --event '%s': an empty event name\n",
				where, arg);
			return -1;
		}
		env->events = arg;
		return 1;
	case 'T':
		if (cli_uint_arg(where, "threads", arg, 1, 256, &n))
			return -1;
		env->threads = (unsigned int)n;
		return 1;
	case CLI_CONFIG_OPT: /* read before the command line (cli_config__apply) */
		return 1;
	default:
		return 0;
	}
}

/* What the options say together. -1: fine, or the exit code. */
static int check_args(const struct replay_env *env)
{
	if (env->json_path && env->dec_path && !strcmp(env->json_path, "-") &&
	    !strcmp(env->dec_path, "-")) {
		fprintf(stderr,
			"ibs-promote replay: --json - and --decisions - both want stdout\n");
		return cli_usage_error("replay");
	}
	if (env->baseline_set && !env->evaluate) {
		fprintf(stderr,
			"ibs-promote replay: --baseline-node %d: applies to --evaluate "
			"only, which is not given\n",
			env->baseline_node);
		return cli_usage_error("replay");
	}
	return -1;
}

/* Every option of `replay`, from the command line or a --config file. */
static int replay_opt(void *ctx, int ch, const char *arg, const char *where)
{
	struct replay_env *env = ctx;
	int h = cli_policy__opt(&env->p, ch, arg, where);

	return h ? h : own_opt(env, ch, arg, where);
}

/* Fill @env from --config, then the command line. Return -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct replay_env *env)
{
	static const struct option opts[] = {
		CLI_POLICY_OPTIONS,
		{ "evaluate", no_argument, NULL, 'e' },
		{ "baseline-node", required_argument, NULL, 'B' },
		{ "json", required_argument, NULL, 'j' },
		{ "decisions", required_argument, NULL, 'd' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "event", required_argument, NULL, 'E' },
		{ "threads", required_argument, NULL, 'T' },
		CLI_CONFIG_OPTION,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct cli_config_cmd cc = { .cmd = "replay",
					   .opts = opts,
					   .shortopts = "h",
					   .handle = replay_opt,
					   .ctx = env,
					   .argc = argc,
					   .argv = argv };
	int ch = cli_config__apply(&cc, NULL);

	if (ch >= 0)
		return ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int h = replay_opt(env, ch, optarg, "replay");

		if (h < 0)
			return cli_usage_error("replay");
		if (h)
			continue;
		if (ch == 'h') {
			printf(usage, cli_policy_help, cli_exit_help);
			return EXIT_OK;
		}
		return cli_usage_error("replay");
	}
	if (argc - optind < 1)
		return cli_args_error("replay", usage, "missing the FILE argument");
	if (argc - optind > 1)
		return cli_args_error("replay", usage, "unexpected argument '%s'",
				      argv[optind + 1]);
	env->file = argv[optind];
	return check_args(env);
}

/* A replay under way: its input, outputs and result. */
struct replay_run {
	const struct replay_env *env;
	struct cli_in in;
	struct cli_out dec_out, json_out; /* written to temporary files until the end */
	struct replay_cli c;
	FILE *jf; /* --json */
	struct ibsp_replay_result res;
};

/* A stdio stream on output @o (stdout for "-"), or NULL after saying why. */
static FILE *out_stream(struct cli_out *o)
{
	FILE *f;

	if (o->is_stdout)
		return stdout;
	f = fdopen(o->fd, "w");
	if (!f)
		fprintf(stderr, "ibs-promote replay: %s %s: %s\n", o->opt, o->path,
			strerror(errno));
	else
		o->fd = -1; /* the stream owns it */
	return f;
}

static int open_outputs(struct replay_run *r)
{
	const struct replay_env *env = r->env;
	int rc;

	if ((rc = cli_in__open(&r->in, "replay", env->file)) >= 0 ||
	    (rc = cli_out__open(&r->dec_out, "replay", "--decisions", env->dec_path, true)) >= 0 ||
	    (rc = cli_out__open(&r->json_out, "replay", "--json", env->json_path, true)) >= 0)
		return rc;
	if (env->dec_path && !(r->c.decisions = out_stream(&r->dec_out)))
		return EXIT_FAIL;
	if (env->json_path && !(r->jf = out_stream(&r->json_out)))
		return EXIT_FAIL;
	if (env->json_path && env->evaluate)
		r->c.intervals = json_array();
	r->c.progress = !env->no_progress && isatty(STDERR_FILENO);
	r->c.res = &r->res;
	return EXIT_OK;
}

/* Run the engine over the file with the callbacks above. Return 0 or a negative errno. */
static int run_engine(struct replay_run *r)
{
	struct ibsp_replay_opts ro = { .sz = sizeof(ro) };
	/* SA_RESTART: a write blocked on a slow reader of --decisions - goes on, and the
	 * next callback stops the replay with the figures reached */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	int ret;

	ro.evaluate = r->env->evaluate;
	ro.baseline_fixed_node = r->env->baseline_node;
	ro.engine = r->env->p.eng;
	ro.top_tier = r->env->p.top_tier;
	ro.events = r->env->events;
	ro.threads = r->env->threads;
	ro.on_decision = on_decision;
	ro.on_interval = on_interval;
	ro.on_progress = on_progress;
	ro.ctx = &r->c;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = ibsp_replay__run(r->in.path, &ro, &r->res);
	if (r->c.progress && r->c.last_pct >= 0 && r->c.last_pct < 100)
		fputs("\r\033[K", stderr);
	return ret;
}

/* The text summary (on stderr when stdout carries data), and the JSON one. */
static int report(struct replay_run *r, bool complete)
{
	const struct replay_env *env = r->env;
	bool data_on_stdout = r->json_out.is_stdout || r->dec_out.is_stdout;
	char policy[32];
	int rc = EXIT_OK;

	cli_policy__name(&env->p, policy, sizeof(policy));
	cli_replay_print_text(data_on_stdout ? stderr : stdout, env->file, policy, &r->res);
	cli_replay_explain(env->file, &r->res);
	if (r->jf) {
		json_t *o = cli_replay_summary_json(env->file, policy, &r->res, &env->p,
						    r->c.intervals, complete);

		if (json_dumpf(o, r->jf, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
		    fputc('\n', r->jf) == EOF) {
			fprintf(stderr, "ibs-promote replay: --json %s: write failed\n",
				env->json_path);
			rc = EXIT_FAIL;
		}
		json_decref(o);
	}
	return rc;
}

/* Close output @f of @o; 0, or -1 after saying why (a full disk shows here at the latest). */
static int close_stream(FILE *f, const struct cli_out *o)
{
	if (!f)
		return 0;
	if (f == stdout ? fflush(f) || ferror(f) : fclose(f)) {
		fprintf(stderr, "ibs-promote replay: %s %s: %s\n", o->opt, o->path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Close the outputs; put them in place when the replay ran (@rc 0 or 128 + signal). */
static int close_outputs(struct replay_run *r, int rc)
{
	json_decref(r->c.intervals);
	if (close_stream(r->c.decisions, &r->dec_out) | close_stream(r->jf, &r->json_out))
		rc = EXIT_FAIL;
	if ((rc == EXIT_OK || rc > 128) &&
	    (cli_out__commit(&r->dec_out) || cli_out__commit(&r->json_out)))
		rc = EXIT_FAIL;
	cli_out__end(&r->dec_out);
	cli_out__end(&r->json_out);
	cli_in__close(&r->in);
	return rc;
}

/* The exit code of the replay itself; its messages. -1: it ran, report it. */
static int replay_status(int ret)
{
	if (ret == -EDOM) { /* logged: which node the recording lacks */
		fprintf(stderr, "ibs-promote replay: --top-tier, --policy fixed-node:N or "
				"--baseline-node names a node the recording does not have\n");
		return cli_usage_error("replay");
	}
	if (ret && ret != -EINTR) {
		if (ret == -EIO)
			fprintf(stderr, "ibs-promote replay: writing the decisions failed\n");
		return ret == -EIO ? EXIT_FAIL : cli_exit_code(ret);
	}
	if (ret == -EINTR) {
		fprintf(stderr,
			"ibs-promote replay: stopped by signal %d; the summary covers what "
			"was replayed\n",
			(int)stop_signal);
		return 128 + (int)stop_signal;
	}
	return -1;
}

static int replay(const struct replay_env *env)
{
	struct replay_run r = { .env = env, .in = { .fd = -1 }, .c = { .last_pct = -1 } };
	int rc = open_outputs(&r), ret;

	if (rc == EXIT_OK) {
		ret = run_engine(&r);
		rc = replay_status(ret); /* -1: done; 128 + signal: stopped, report it too */
		if (rc < 0 || ret == -EINTR) {
			if (report(&r, !ret) != EXIT_OK)
				rc = EXIT_FAIL;
			else if (rc < 0)
				rc = EXIT_OK;
		}
	}
	rc = close_outputs(&r, rc);
	ibsp_replay_result__free(&r.res);
	return rc;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_env env = { 0 };
	int rc;

	cli_policy__init(&env.p);
	rc = parse_args(argc, argv, &env);
	if (rc >= 0)
		return rc;
	return replay(&env);
}
