// SPDX-License-Identifier: MIT
/* Options more than one command takes (options.h): parsing and checking only. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"

const char cli_sampling_help[] =
    "Sampling options:\n"
    "  -s, --sampler NAME      auto (IBS, then PEBS, then hint; default), ibs, pebs, soft\n"
    "                          (coarse page faults: first touches and hinting faults only)\n"
    "                          or hint (page faults after soft-dirty write-protection of\n"
    "                          the targets every --scan-ms: coarse, writes only; needs\n"
    "                          --pid, --cgroup or a command, and CONFIG_MEM_SOFT_DIRTY)\n"
    "  -c, --period N          events per sample: IBS ops (or cycles), a multiple of 16 in\n"
    "                          [16, 1048560] (more with OpCntExt); PEBS loads; page faults\n"
    "  -d, --duration SECONDS  stop after this long, counted from the start of sampling\n"
    "                          (default: until Ctrl-C, or until the target exits)\n"
    "      --ldlat CYCLES      PEBS load-latency threshold (default 30)\n"
    "      --ibs-cycles        IBS: count cycles instead of dispatched ops\n"
    "      --l3-miss           IBS: keep only ops that missed L3 (Zen4+)\n"
    "      --mmap-pages N      ring buffer data pages per CPU, a power of two (default\n"
    "                          128; with CAP_IPC_LOCK, 16 MiB of rings over the CPUs,\n"
    "                          512 KiB to 4 MiB each)\n"
    "      --wakeup-bytes N    ring wakeup watermark (default half a ring); with -a or\n"
    "                          --cgroup a ring's wakeup drains the rings while the\n"
    "                          automatic drain period is at its longest\n"
    "      --drain-ms MS       how often the ring buffers are drained (default: follows\n"
    "                          the busiest ring's byte rate, 10 to 250 ms; to 500 ms\n"
    "                          with rings over 512 KiB); a fixed period ignores wakeups\n"
    "      --scan-ms MS        hint: how often the targets are write-protected (default\n"
    "                          1000, at least 250): each written page faults once a scan\n";

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
		{ "auto", IBSP_SAMPLER_NONE }, { "ibs", IBSP_SAMPLER_IBS },
		{ "pebs", IBSP_SAMPLER_PEBS }, { "soft", IBSP_SAMPLER_SOFT },
		{ "hint", IBSP_SAMPLER_HINT },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i].name)) {
			*kind = names[i].kind;
			return 0;
		}
	}
	fprintf(stderr, "ibs-promote %s: --sampler: '%s' is not auto, ibs, pebs, soft or hint\n",
		cmd, arg);
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

/* --pid P[,P...]: every pid once, at most CLI_MAX_PIDS. 0, or -1 after printing why not. */
static int pid_list(struct cli_sampling *s, const char *arg, const char *cmd)
{
	char buf[CLI_MAX_PIDS * 12], *save = NULL, *tok;
	uint32_t n = 0;
	uint64_t v;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) || !*arg || *arg == ',' ||
	    arg[strlen(arg) - 1] == ',' || strstr(arg, ",,")) {
		fprintf(stderr, "ibs-promote %s: --pid: '%s' is not a list of pids (P[,P...])\n",
			cmd, arg);
		return -1;
	}
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cli_uint_arg(cmd, "pid", tok, 1, 0x3fffffff, &v))
			return -1;
		for (uint32_t i = 0; i < n; i++)
			if (s->pids[i] == (pid_t)v) {
				fprintf(stderr, "ibs-promote %s: --pid: %s is listed twice\n", cmd,
					tok);
				return -1;
			}
		if (n == CLI_MAX_PIDS) {
			fprintf(stderr, "ibs-promote %s: --pid: more than %d pids\n", cmd,
				CLI_MAX_PIDS);
			return -1;
		}
		s->pids[n++] = (pid_t)v;
	}
	s->capture.target = IBSP_TARGET_PID;
	s->capture.pids = s->pids;
	s->capture.nr_pids = n;
	return 0;
}

/* --cgroup PATH: a cgroup v2 directory (it lists its processes in cgroup.procs). */
static int cgroup_arg(const char *arg, const char *cmd)
{
	char procs[PATH_MAX];
	struct stat st;

	if (stat(arg, &st)) {
		fprintf(stderr, "ibs-promote %s: --cgroup: '%s': %s\n", cmd, arg, strerror(errno));
		return -1;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", arg);
	if (!S_ISDIR(st.st_mode) || access(procs, F_OK)) {
		fprintf(stderr,
			"ibs-promote %s: --cgroup: '%s' is not a cgroup v2 directory (it has no "
			"cgroup.procs; e.g. /sys/fs/cgroup/system.slice)\n",
			cmd, arg);
		return -1;
	}
	return 0;
}

/* -a, --pid, --cgroup. */
static int target_opt(struct cli_sampling *s, int c, const char *arg, const char *cmd)
{
	switch (c) {
	case 'a':
		s->all_cpus = true;
		break;
	case 'p':
		if (pid_list(s, arg, cmd))
			return -1;
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
	case SOPT_SCAN_MS:
		if (cli_uint_arg(cmd, "scan-ms", arg, IBSP_HINT_SCAN_MS_MIN, 3600000, &v))
			return -1;
		s->scan_ms = (uint32_t)v;
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
	if (s->capture.target == IBSP_TARGET_CGROUP && cgroup_arg(s->capture.cgroup_path, cmd))
		return -1;
	if (s->sampler.kind == IBSP_SAMPLER_HINT &&
	    (s->all_cpus || (!s->nr_targets && !s->has_command))) {
		fprintf(stderr,
			"ibs-promote %s: --sampler=hint needs process targets (--pid, --cgroup%s): "
			"it write-protects one process at a time through /proc/PID/clear_refs, "
			"and -a would do it to every process on the host\n",
			cmd, strcmp(cmd, "record") ? "" : " or -- CMD");
		return -1;
	}
	return 0;
}

/* An explicit --sampler=hint: can it run here? -1 yes, or EXIT_NOHW after saying why not. */
static int check_hint(const struct cli_sampling *s, const struct ibsp_host_caps *caps,
		      const char *cmd)
{
	struct ibsp_sampler_status st;

	ibsp_sampler__probe(IBSP_SAMPLER_HINT, &s->sampler, caps, &st);
	if (st.available)
		return -1;
	fprintf(stderr, "ibs-promote %s: hint unavailable: %s\n", cmd, st.reason);
	return EXIT_NOHW;
}

int cli_sampling__resolve(struct cli_sampling *s, const char *cmd)
{
	struct ibsp_host_caps caps;

	ibsp_host_caps__read("/sys", &caps);
	s->sampler.auto_no_hint = s->all_cpus || (!s->nr_targets && !s->has_command);
	if (s->sampler.kind == IBSP_SAMPLER_NONE) {
		char why[1536];

		s->sampler.kind = ibsp_sampler__auto(&s->sampler, &caps, why, sizeof(why));
		if (s->sampler.kind == IBSP_SAMPLER_NONE) {
			fprintf(stderr, "ibs-promote %s: %s\n", cmd, why);
			return EXIT_NOHW;
		}
		if (s->sampler.kind == IBSP_SAMPLER_HINT)
			cli_warn(cmd, "--sampler=auto: no IBS or PEBS here; using hint faults\n");
	} else if (s->sampler.kind == IBSP_SAMPLER_HINT) {
		int rc = check_hint(s, &caps, cmd);

		if (rc >= 0)
			return rc;
	}
	if (s->sampler.kind == IBSP_SAMPLER_SOFT)
		cli_warn(cmd, "the soft sampler is coarse: it sees first touches and NUMA hinting "
			      "faults, not every access\n");
	if (s->sampler.kind == IBSP_SAMPLER_HINT)
		cli_warn(cmd,
			 "the hint sampler is coarse: it sees writes only, at most one per page "
			 "every %u ms, and resets the targets' soft-dirty bits (CRIU and other "
			 "users of them are disturbed)\n",
			 s->scan_ms ? s->scan_ms : IBSP_HINT_SCAN_MS_DEFAULT);
	return -1;
}

int cli_usage_error(const char *cmd)
{
	fprintf(stderr, "ibs-promote %s: see 'ibs-promote %s --help'\n", cmd, cmd);
	return EXIT_USAGE;
}

int cli_args_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	const char *end = strstr(usage, "\n\n");
	va_list ap;

	fprintf(stderr, "ibs-promote %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* the synopsis: the usage up to its first blank line */
	fprintf(stderr, "%.*s\n", end ? (int)(end - usage) : (int)strlen(usage), usage);
	return cli_usage_error(cmd);
}

/* The mode a sampling option needs, or NULL when @s sets none of them. */
static const char *misplaced_sampling_opt(const struct cli_sampling *s, const char **need)
{
	enum ibsp_sampler_kind k = s->sampler.kind;

	*need = NULL;
	if (s->sampler.ldlat_cycles && k != IBSP_SAMPLER_PEBS)
		*need = "pebs";
	if (*need)
		return "--ldlat";
	if (s->sampler.ibs_count_cycles && k != IBSP_SAMPLER_IBS)
		*need = "ibs";
	if (*need)
		return "--ibs-cycles";
	if (s->sampler.ibs_l3_miss_only && k != IBSP_SAMPLER_IBS)
		*need = "ibs";
	if (*need)
		return "--l3-miss";
	if (s->scan_ms && k != IBSP_SAMPLER_HINT)
		*need = "hint";
	return *need ? "--scan-ms" : NULL;
}

int cli_sampling__check_mode(const struct cli_sampling *s, const char *cmd)
{
	const char *need, *opt = misplaced_sampling_opt(s, &need);

	if (!opt)
		return -1;
	fprintf(stderr, "ibs-promote %s: %s applies to --sampler=%s only, and the sampler is %s\n",
		cmd, opt, need, ibsp_sampler_kind__name(s->sampler.kind));
	return cli_usage_error(cmd);
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
			printf("%s\n%s", usage, cli_exit_help);
			return EXIT_OK;
		default:
			return cli_usage_error(argv[0]);
		}
	}
	if (argc - optind > nr_args)
		return cli_args_error(argv[0], usage, "unexpected argument '%s'",
				      argv[optind + nr_args]);
	if (argc - optind < nr_args)
		return cli_args_error(argv[0], usage, "missing the FILE argument");
	return -1;
}
