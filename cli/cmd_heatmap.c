// SPDX-License-Identifier: MIT
/*
 * ibs-promote heatmap: where the accesses of a recording go, over time.
 * Wiring only: engine/replay/heatmap.c builds the map and draws it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ibsp/heatmap.h"
#include "options.h"

static const char usage[] =
    "Usage: ibs-promote heatmap [OPTIONS] FILE\n"
    "\n"
    "Draw where the sampled accesses of a perf.data recording go: x is time, y the hottest\n"
    "address regions (pid and address; regions without samples are left out), and each\n"
    "cell's colour its sample count (log scale), or with --by node the node of the CPUs\n"
    "that made most of them, with the cells whose pages sit on another node marked.\n"
    "Without --svg it draws in the terminal with ANSI colours.\n"
    "\n"
    "Options:\n"
    "  --by count|node      colour by sample count (default) or by dominant accessor node\n"
    "  --svg FILE|-         write a standalone SVG picture instead\n"
    "  --decisions FILE     mark the migrations of `replay --decisions FILE` (^ promotion,\n"
    "                       v demotion)\n"
    "  --cols N             time bins (default 80)\n"
    "  --rows N             regions shown, the hottest (default 32)\n"
    "  --region-kib N       region size in KiB, a power of two (default 2048)\n"
    "  -p, --pid PID        only this process\n"
    "  -h, --help           this text\n"
    "\n"
    "Examples:\n"
    "  ibs-promote heatmap tests/fixtures/example-2s-cxl.data\n"
    "  ibs-promote replay --decisions dec.jsonl rec.data\n"
    "  ibs-promote heatmap --by node --decisions dec.jsonl --svg map.svg rec.data\n"
    "\n"
    "The picture and how to read it: docs/heatmap.md.\n";

enum { OPT_BY = 1000, OPT_SVG, OPT_DECISIONS, OPT_COLS, OPT_ROWS, OPT_REGION };

struct heatmap_env {
	struct ibsp_heatmap_opts o;
	enum ibsp_heatmap_view view;
	const char *svg;
};

static int by_opt(struct heatmap_env *env, const char *arg)
{
	if (!strcmp(arg, "count"))
		env->view = IBSP_HEATMAP_COUNT;
	else if (!strcmp(arg, "node"))
		env->view = IBSP_HEATMAP_NODE;
	else {
		fprintf(stderr, "ibs-promote heatmap: --by: '%s' is not count or node\n", arg);
		return -1;
	}
	return 0;
}

static int region_opt(struct heatmap_env *env, const char *arg)
{
	uint64_t kib;

	if (cli_uint_arg("heatmap", "region-kib", arg, 4, 1ULL << 30, &kib))
		return -1;
	if (kib & (kib - 1)) {
		fprintf(stderr, "ibs-promote heatmap: --region-kib: %s is not a power of two\n",
			arg);
		return -1;
	}
	env->o.region_shift = 10 + (uint32_t)__builtin_ctzll(kib);
	return 0;
}

/* One option: 0, or -1 after saying what is wrong with its value. */
static int one_opt(struct heatmap_env *env, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_BY:
		return by_opt(env, arg);
	case OPT_SVG:
		env->svg = arg;
		return 0;
	case OPT_DECISIONS:
		env->o.decisions = arg;
		return 0;
	case OPT_REGION:
		return region_opt(env, arg);
	case OPT_COLS:
	case OPT_ROWS:
		if (cli_uint_arg("heatmap", c == OPT_COLS ? "cols" : "rows", arg, 1, 4096, &v))
			return -1;
		*(c == OPT_COLS ? &env->o.cols : &env->o.rows) = (uint32_t)v;
		return 0;
	default: /* 'p' */
		if (cli_uint_arg("heatmap", "pid", arg, 1, INT32_MAX, &v))
			return -1;
		env->o.pid = (int32_t)v;
		return 0;
	}
}

/* Return -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct heatmap_env *env)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, OPT_BY },
		{ "svg", required_argument, NULL, OPT_SVG },
		{ "decisions", required_argument, NULL, OPT_DECISIONS },
		{ "cols", required_argument, NULL, OPT_COLS },
		{ "rows", required_argument, NULL, OPT_ROWS },
		{ "region-kib", required_argument, NULL, OPT_REGION },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		if (c == '?' || one_opt(env, c, optarg))
			return cli_usage_error("heatmap");
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "ibs-promote heatmap: %s\n",
			optind >= argc ? "a recording is needed" : "one recording only");
		return cli_usage_error("heatmap");
	}
	return -1;
}

static int draw(const struct heatmap_env *env, const struct ibsp_heatmap *h)
{
	FILE *f = stdout;
	int ret;

	if (env->svg && strcmp(env->svg, "-") && !(f = fopen(env->svg, "w"))) {
		fprintf(stderr, "ibs-promote heatmap: --svg %s: %s\n", env->svg, strerror(errno));
		return EXIT_FAIL;
	}
	ret = env->svg ? ibsp_heatmap__write_svg(h, env->view, f)
		       : ibsp_heatmap__write_ansi(h, env->view, f);
	if ((f != stdout && fclose(f)) || (f == stdout && fflush(f)))
		ret = -EIO;
	if (ret) {
		fprintf(stderr, "ibs-promote heatmap: %s: write failed\n",
			env->svg ? env->svg : "stdout");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_heatmap(int argc, char **argv)
{
	struct heatmap_env env = { .o = { .sz = sizeof(env.o) } };
	struct ibsp_heatmap *h;
	int rc = parse_args(argc, argv, &env), ret;

	if (rc >= 0)
		return rc;
	ret = ibsp_heatmap__build(argv[optind], &env.o, &h);
	if (ret)
		return cli_exit_code(ret);
	rc = draw(&env, h);
	if (env.svg && strcmp(env.svg, "-") && rc == EXIT_OK)
		fprintf(stderr,
			"ibs-promote heatmap: %s: %llu samples, %llu in the %u rows shown, "
			"%llu of %llu decisions marked\n",
			env.svg, (unsigned long long)h->samples, (unsigned long long)h->shown,
			h->rows, (unsigned long long)h->decisions_shown,
			(unsigned long long)h->decisions);
	ibsp_heatmap__delete(h);
	return rc;
}
