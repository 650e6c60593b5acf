// SPDX-License-Identifier: MIT
/* Options more than one command takes (options.h): parsing and checking only. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

const char cli_sampling_help[] =
    "Sampling options:\n"
    "  -s, --sampler NAME      auto (IBS, then PEBS; default), ibs, pebs, or soft (coarse\n"
    "                          page faults: first touches and hinting faults only)\n"
    "  -c, --period N          events per sample: IBS ops (or cycles), a multiple of 16 in\n"
    "                          [16, 1048560] (more with OpCntExt); PEBS loads; page faults\n"
    "  -d, --duration SECONDS  stop after this long, counted from the start of sampling\n"
    "                          (default: until Ctrl-C, or until the target exits)\n"
    "      --ldlat CYCLES      PEBS load-latency threshold (default 30)\n"
    "      --ibs-cycles        IBS: count cycles instead of dispatched ops\n"
    "      --l3-miss           IBS: keep only ops that missed L3 (Zen4+)\n"
    "      --mmap-pages N      ring buffer data pages per CPU, a power of two (default 128)\n"
    "      --wakeup-bytes N    ring wakeup watermark (default a quarter ring); the rings\n"
    "                          are drained every --drain-ms regardless\n"
    "      --drain-ms MS       how often the ring buffers are drained (default 10)\n";

int cli_uint_arg(const char *cmd, const char *opt, const char *arg, uint64_t lo, uint64_t hi,
		 uint64_t *out)
{
	bool hex = arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
	const char *digits = hex ? arg + 2 : arg;
	unsigned long long v = 0;
	char *end = NULL;

	errno = 0;
	if (hex ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits))
		v = strtoull(digits, &end, hex ? 16 : 10);
	if (!end || *end || errno || v < lo || v > hi) {
		fprintf(stderr,
			"ibs-promote %s: --%s: '%s' is not a whole number in [%llu, %llu]\n", cmd,
			opt, arg, (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* A finite positive number of seconds. */
static int seconds_arg(const char *cmd, const char *opt, const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || !isfinite(v) || !(v > 0)) {
		fprintf(stderr, "ibs-promote %s: --%s: '%s' is not a positive number of seconds\n",
			cmd, opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int sampler_arg(const char *cmd, const char *arg, enum ibsp_sampler_kind *kind)
{
	static const struct {
		const char *name;
		enum ibsp_sampler_kind kind;
	} names[] = {
		{ "auto", IBSP_SAMPLER_NONE },
		{ "ibs", IBSP_SAMPLER_IBS },
		{ "pebs", IBSP_SAMPLER_PEBS },
		{ "soft", IBSP_SAMPLER_SOFT },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i].name)) {
			*kind = names[i].kind;
			return 0;
		}
	}
	fprintf(stderr, "ibs-promote %s: --sampler: '%s' is not auto, ibs, pebs or soft\n", cmd,
		arg);
	return -1;
}

static int power_of_two_arg(const char *cmd, const char *opt, const char *arg, uint64_t hi,
			    uint64_t *out)
{
	if (cli_uint_arg(cmd, opt, arg, 1, hi, out))
		return -1;
	if (*out & (*out - 1)) {
		fprintf(stderr, "ibs-promote %s: --%s: %s is not a power of two\n", cmd, opt, arg);
		return -1;
	}
	return 0;
}

void cli_sampling__init(struct cli_sampling *s)
{
	memset(s, 0, sizeof(*s));
	s->sampler.sz = sizeof(s->sampler);
	s->sampler.kind = IBSP_SAMPLER_NONE;
	s->capture.sz = sizeof(s->capture);
	s->capture.target = IBSP_TARGET_ALL_CPUS;
}

/* -a, --pid, --cgroup. */
static int target_opt(struct cli_sampling *s, int c, const char *arg, const char *cmd)
{
	uint64_t v;

	switch (c) {
	case 'a':
		s->all_cpus = true;
		break;
	case 'p':
		if (cli_uint_arg(cmd, "pid", arg, 1, 0x3fffffff, &v))
			return -1;
		s->capture.target = IBSP_TARGET_PID;
		s->capture.pid = (pid_t)v;
		break;
	case 'G':
		s->capture.target = IBSP_TARGET_CGROUP;
		s->capture.cgroup_path = arg;
		break;
	default:
		return 0;
	}
	s->nr_targets++;
	return 1;
}

/* The whole-number sampling options. */
static int number_opt(struct cli_sampling *s, int c, const char *arg, const char *cmd)
{
	uint64_t v;

	switch (c) {
	case 'c':
		return cli_uint_arg(cmd, "period", arg, 1, UINT32_MAX, &s->sampler.period) ? -1 : 1;
	case SOPT_LDLAT:
		if (cli_uint_arg(cmd, "ldlat", arg, 1, 65535, &v))
			return -1;
		s->sampler.ldlat_cycles = (uint32_t)v;
		return 1;
	case SOPT_MMAP_PAGES:
		if (power_of_two_arg(cmd, "mmap-pages", arg, 1 << 20, &v))
			return -1;
		s->capture.mmap_pages = (uint32_t)v;
		return 1;
	case SOPT_WAKEUP_BYTES:
		if (cli_uint_arg(cmd, "wakeup-bytes", arg, 1, UINT32_MAX, &v))
			return -1;
		s->capture.wakeup_bytes = (uint32_t)v;
		return 1;
	case SOPT_DRAIN_MS:
		if (cli_uint_arg(cmd, "drain-ms", arg, 1, 10000, &v))
			return -1;
		s->drain_ms = (uint32_t)v;
		return 1;
	default:
		return 0;
	}
}

int cli_sampling__opt(struct cli_sampling *s, int c, const char *arg, const char *cmd)
{
	int h = target_opt(s, c, arg, cmd);

	if (!h)
		h = number_opt(s, c, arg, cmd);
	if (h)
		return h;
	switch (c) {
	case 's':
		return sampler_arg(cmd, arg, &s->sampler.kind) ? -1 : 1;
	case 'd':
		return seconds_arg(cmd, "duration", arg, &s->duration_s) ? -1 : 1;
	case SOPT_IBS_CYCLES:
		s->sampler.ibs_count_cycles = true;
		return 1;
	case SOPT_L3_MISS:
		s->sampler.ibs_l3_miss_only = true;
		return 1;
	default:
		return 0;
	}
}

int cli_sampling__check(const struct cli_sampling *s, const char *cmd)
{
	if (s->nr_targets > 1) {
		fprintf(stderr, "ibs-promote %s: give only one of -a, --pid, --cgroup\n", cmd);
		return -1;
	}
	return 0;
}

int cli_sampling__resolve(struct cli_sampling *s, const char *cmd)
{
	struct ibsp_host_caps caps;

	ibsp_host_caps__read("/sys", &caps);
	if (s->sampler.kind == IBSP_SAMPLER_NONE) {
		char why[1024];

		s->sampler.kind = ibsp_sampler__auto(&s->sampler, &caps, why, sizeof(why));
		if (s->sampler.kind == IBSP_SAMPLER_NONE) {
			fprintf(stderr, "ibs-promote %s: %s\n", cmd, why);
			return EXIT_NOHW;
		}
	}
	if (s->sampler.kind == IBSP_SAMPLER_SOFT)
		fprintf(stderr,
			"ibs-promote %s: the soft sampler is coarse: it sees first touches "
			"and NUMA hinting faults, not every access\n",
			cmd);
	return -1;
}

int cli_usage_error(const char *cmd)
{
	fprintf(stderr, "ibs-promote %s: see 'ibs-promote %s --help'\n", cmd, cmd);
	return EXIT_USAGE;
}

int cli_json_opts(int argc, char **argv, const char *usage, int nr_args, int *as_json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*as_json = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*as_json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != nr_args) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return -1;
}
