// SPDX-License-Identifier: MIT
/* ibs-promote run: the live daemon. Options and messages only; engine/daemon.c does the work. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ibsp/daemon.h"
#include "policy_opts.h"

static const char usage[] =
    "Usage: ibs-promote run [-a | --pid PID | --cgroup PATH] [OPTIONS]\n"
    "\n"
    "Sample memory accesses, decide per page which node should hold it, and move hot pages\n"
    "there with move_pages(2), within the rate limit. Only pages of the target's processes\n"
    "are moved. Stops at --duration, on SIGINT/SIGTERM, or when the --pid target exits;\n"
    "SIGHUP reopens the --json file, SIGUSR1 writes a telemetry snapshot at once.\n"
    "\n"
    "Target (default -a):\n"
    "  -a, --all-cpus       every process\n"
    "  -p, --pid PID        one process and its threads\n"
    "  -G, --cgroup PATH    the processes of a cgroup v2 directory\n"
    "\n"
    "Options:\n"
    "  --sampler KIND       auto (default: IBS-op, then PEBS), ibs, pebs, soft\n"
    "  --period N           sampling period (sampler units; default per sampler)\n"
    "  --duration S         stop after S seconds (decimals allowed)\n"
    "  --dry-run            decide and report, move nothing\n"
    "  --json FILE|-        telemetry as JSON Lines (docs/telemetry.md)\n"
    "  --record FILE        also write the samples as perf.data, for replay\n"
    "  --mmap-pages N       ring-buffer data pages per CPU (power of two; default 128)\n"
    "  --drain-ms MS        how often the ring buffers are drained (default 10)\n"
    "  -h, --help           this text\n"
    "\n"
    "%s"
    "\n"
    "With --sampler=soft (page faults: first touches only, coarse), --min-heat defaults to 1.\n"
    "\n"
    "Examples:\n"
    "  ibs-promote run -a --dry-run --duration 10 --json -\n"
    "  ibs-promote run --pid 4242 --rate 64 --json /var/log/ibs-promote.jsonl\n"
    "  ibs-promote run --sampler=soft --pid 4242 --policy=fixed-node:0 --interval 200\n"
    "\n"
    "Needs CAP_PERFMON (or CAP_SYS_ADMIN) to sample, and ptrace-read access to the targets\n"
    "(CAP_SYS_PTRACE) to move their pages: docs/daemon.md.\n";

enum {
	OPT_SAMPLER = POPT__END + 1,
	OPT_PERIOD,
	OPT_DURATION,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_RECORD,
	OPT_MMAP_PAGES,
	OPT_DRAIN_MS,
};

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_POLICY_OPTIONS,
		{ "all-cpus", no_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "sampler", required_argument, NULL, OPT_SAMPLER },
		{ "period", required_argument, NULL, OPT_PERIOD },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "mmap-pages", required_argument, NULL, OPT_MMAP_PAGES },
		{ "drain-ms", required_argument, NULL, OPT_DRAIN_MS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ibsp_daemon_opts o = { .sz = sizeof(o), .argc = argc, .argv = argv };
	struct ibsp_daemon_result res;
	struct ibsp_host_caps caps;
	struct cli_policy p;
	bool min_heat_set = false;
	uint64_t v;
	int c, ret;

	cli_policy__init(&p);
	o.sampler.sz = sizeof(o.sampler);
	o.capture.sz = sizeof(o.capture);
	o.capture.target = IBSP_TARGET_ALL_CPUS;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ap:G:h", opts, NULL)) != -1) {
		int h = cli_policy__opt(&p, c, optarg, "run");

		if (h < 0)
			return EXIT_USAGE;
		if (h) {
			min_heat_set |= c == POPT_MIN_HEAT;
			continue;
		}
		switch (c) {
		case 'a':
			o.capture.target = IBSP_TARGET_ALL_CPUS;
			break;
		case 'p':
			if (cli_uint_arg("run", "pid", optarg, 1, 0x3fffffff, &v))
				return EXIT_USAGE;
			o.capture.target = IBSP_TARGET_PID;
			o.capture.pid = (pid_t)v;
			break;
		case 'G':
			o.capture.target = IBSP_TARGET_CGROUP;
			o.capture.cgroup_path = optarg;
			break;
		case OPT_SAMPLER:
			if (!strcmp(optarg, "auto"))
				o.sampler.kind = IBSP_SAMPLER_NONE;
			else if (!strcmp(optarg, "ibs"))
				o.sampler.kind = IBSP_SAMPLER_IBS;
			else if (!strcmp(optarg, "pebs"))
				o.sampler.kind = IBSP_SAMPLER_PEBS;
			else if (!strcmp(optarg, "soft"))
				o.sampler.kind = IBSP_SAMPLER_SOFT;
			else {
				fprintf(stderr,
					"ibs-promote run: --sampler: '%s' is not auto, ibs, "
					"pebs or soft\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_PERIOD:
			if (cli_uint_arg("run", "period", optarg, 1, UINT32_MAX, &v))
				return EXIT_USAGE;
			o.sampler.period = v;
			break;
		case OPT_DURATION: {
			char *end;

			o.duration_s = strtod(optarg, &end);
			if (!*optarg || *end || !(o.duration_s > 0)) {
				fprintf(stderr,
					"ibs-promote run: --duration: '%s' is not a positive "
					"number of seconds\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_DRY_RUN:
			o.dry_run = true;
			break;
		case OPT_JSON:
			o.json_path = optarg;
			break;
		case OPT_RECORD:
			o.record_path = optarg;
			break;
		case OPT_MMAP_PAGES:
			if (cli_uint_arg("run", "mmap-pages", optarg, 1, 1 << 20, &v))
				return EXIT_USAGE;
			if (v & (v - 1)) {
				fprintf(stderr,
					"ibs-promote run: --mmap-pages: %s is not a power of two\n",
					optarg);
				return EXIT_USAGE;
			}
			o.capture.mmap_pages = (uint32_t)v;
			break;
		case OPT_DRAIN_MS:
			if (cli_uint_arg("run", "drain-ms", optarg, 1, 10000, &v))
				return EXIT_USAGE;
			o.drain_ms = (uint32_t)v;
			break;
		case 'h':
			printf(usage, cli_policy_help);
			return EXIT_OK;
		default:
			fprintf(stderr, "ibs-promote run: see 'ibs-promote run --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ibs-promote run: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	ibsp_host_caps__read("/sys", &caps);
	if (o.sampler.kind == IBSP_SAMPLER_NONE) {
		char why[1024];

		o.sampler.kind = ibsp_sampler__auto(&o.sampler, &caps, why, sizeof(why));
		if (o.sampler.kind == IBSP_SAMPLER_NONE) {
			fprintf(stderr, "ibs-promote run: %s\n", why);
			return EXIT_NOHW;
		}
	}
	if (o.sampler.kind == IBSP_SAMPLER_SOFT) {
		/* One fault per page: one sample is all the evidence there will be. */
		if (!min_heat_set)
			p.eng.min_heat = 1;
		fprintf(stderr, "ibs-promote run: the soft sampler is coarse: it sees first "
				"touches and NUMA hinting faults, not every access\n");
	}
	o.engine = p.eng;
	o.top_tier = p.top_tier;
	ret = ibsp_daemon__run(&o, &res);
	fprintf(stderr,
		"ibs-promote run: %s: %" PRIu64 " samples, %" PRIu64 " pages planned, %" PRIu64
		" moved, %" PRIu64 " failed%s\n",
		ret ? "error" : res.end_reason, res.samples, res.planned, res.moved, res.failed,
		res.complete ? "" : " (telemetry or recording incomplete)");
	if (ret)
		return cli_exit_code(ret);
	return res.complete ? EXIT_OK : EXIT_FAIL;
}
