// SPDX-License-Identifier: MIT
/*
 * ibsp-gen: write a synthetic IBS-op recording (perf.data) for a model
 * topology and access pattern, and its ground truth. Options, their checks and
 * the canonical command line the recording's CMDLINE feature carries (the
 * output paths are left out of it, so the same model gives the same bytes).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "ibsp/log.h"

#define EXIT_IO	   1
#define EXIT_USAGE 2

static const char usage[] =
    "Usage: ibsp-gen -o FILE [OPTIONS]\n"
    "\n"
    "Write a synthetic AMD IBS-op recording (perf.data, as 'perf record -e ibs_op// -a')\n"
    "for a model NUMA topology and access pattern, and optionally its ground truth.\n"
    "The same options always give the same bytes.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE      the perf.data file to write (required)\n"
    "      --truth FILE       the ground truth, JSON Lines: a meta line, then a line per page\n"
    "                         with its class, owner, placement and the samples generated for\n"
    "                         it per accessor node\n"
    "Host:\n"
    "      --topology NAME    2s-cxl (default): nodes 0-1 sockets with CPUs 0-15, 16-31 and\n"
    "                         32 GiB each, node 2 CXL (CPU-less, 64 GiB, off socket 0);\n"
    "                         4s-2cxl: nodes 0-3 with 8 CPUs each, CXL node 4 off socket 0,\n"
    "                         CXL node 5 off socket 2\n"
    "      --free-mib NODE=MIB[,NODE=MIB...]\n"
    "                         free memory a node reports (default: 24 GiB on sockets,\n"
    "                         62 GiB on CXL nodes)\n"
    "      --zen3             a Zen3 part (no Zen4 IBS extensions, 3-bit DataSrc);\n"
    "                         default: Zen4\n"
    "      --pebs             an Intel host: PEBS load-latency samples, as 'perf record -e\n"
    "                         cpu/mem-loads,ldlat=30/P -d --phys-data --data-page-size -a'\n"
    "                         writes them (address, physical address, data source, weight,\n"
    "                         page size), the same accesses as without it, all as loads\n"
    "      --perf-mem         IBS-op samples as 'perf mem record -a --phys-data\n"
    "                         --data-page-size' writes them on Linux 6.1 and later: the\n"
    "                         kernel's address, data source, weight and page size fields,\n"
    "                         no RAW registers\n"
    "Pages:\n"
    "      --pattern SPEC     CLASS:PERCENT[,CLASS:PERCENT...] of the pages (summing to 100),\n"
    "                         or one CLASS for all; default private:60,shared:20,cold:20.\n"
    "                         private  one owner node (round-robin) makes --dominance of the\n"
    "                                  accesses, the other sockets the rest\n"
    "                         shared   every socket alike\n"
    "                         cold     like private, with --cold-weight of a hot page's rate\n"
    "                         phase    like private; half of them are hot in the first half of\n"
    "                                  the run only, the other half in the second only\n"
    "                         zipf     like private, page rates Zipf(--zipf-s) by rank\n"
    "      --pages N          pages (default 10000)\n"
    "      --procs N          processes, pid 1000.. (default 2); pages dealt round-robin\n"
    "      --initial WHERE    lower: every page starts on a CPU-less node (default);\n"
    "                         mixed: 70% there, 30% on a random socket\n"
    "      --thp F            fraction of the private pages that are 2 MiB pages (default 0)\n"
    "Accesses:\n"
    "      --samples N        samples (default 100000)\n"
    "      --duration-ms MS   the run's length (default 10000); times are uniform over it\n"
    "      --seed N           the random seed (default 1)\n"
    "      --dominance F      owner's share of a private-like page's accesses (default 0.95)\n"
    "      --zipf-s S         Zipf exponent of the zipf class (default 1.0)\n"
    "      --cold-weight W    a cold page's rate relative to a hot page (default 0.01)\n"
    "      --phase-swap       phase pages are hot throughout, their owner moves to the next\n"
    "                         socket at the midpoint\n"
    "      --no-phys F        fraction of samples without a physical address (default 0)\n"
    "      --stats            print the time taken on stderr\n"
    "  -h, --help             this text\n"
    "\n"
    "Example (the bundled tests/fixtures/example-2s-cxl.data):\n"
    "  ibsp-gen -o example-2s-cxl.data --truth example-2s-cxl.truth.jsonl --topology 2s-cxl \\\n"
    "      --pattern private:50,shared:20,cold:20,zipf:10 --pages 4000 --samples 30000 \\\n"
    "      --duration-ms 30000 --seed 1\n"
    "\n"
    "Exit status: 0 done, 1 I/O or memory error, 2 bad command line.\n"
    "See docs/generator.md.\n";

enum {
	OPT_TRUTH = 256,
	OPT_TOPOLOGY,
	OPT_PATTERN,
	OPT_PAGES,
	OPT_SAMPLES,
	OPT_DURATION,
	OPT_SEED,
	OPT_PROCS,
	OPT_DOMINANCE,
	OPT_ZIPF_S,
	OPT_COLD_WEIGHT,
	OPT_INITIAL,
	OPT_THP,
	OPT_NO_PHYS,
	OPT_FREE_MIB,
	OPT_PHASE_SWAP,
	OPT_ZEN3,
	OPT_PEBS,
	OPT_PERF_MEM,
	OPT_STATS,
};

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "pages", required_argument, NULL, OPT_PAGES },
	{ "samples", required_argument, NULL, OPT_SAMPLES },
	{ "duration-ms", required_argument, NULL, OPT_DURATION },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "procs", required_argument, NULL, OPT_PROCS },
	{ "dominance", required_argument, NULL, OPT_DOMINANCE },
	{ "zipf-s", required_argument, NULL, OPT_ZIPF_S },
	{ "cold-weight", required_argument, NULL, OPT_COLD_WEIGHT },
	{ "initial", required_argument, NULL, OPT_INITIAL },
	{ "thp", required_argument, NULL, OPT_THP },
	{ "no-phys", required_argument, NULL, OPT_NO_PHYS },
	{ "free-mib", required_argument, NULL, OPT_FREE_MIB },
	{ "phase-swap", no_argument, NULL, OPT_PHASE_SWAP },
	{ "zen3", no_argument, NULL, OPT_ZEN3 },
	{ "pebs", no_argument, NULL, OPT_PEBS },
	{ "perf-mem", no_argument, NULL, OPT_PERF_MEM },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ibsp-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see ibsp-gen --help)\n", stderr);
	return EXIT_USAGE;
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *s == '-' || *s == '+' || *end || errno)
		return usage_error("%s: '%s' is not a whole number", opt, s);
	if (v < min || v > max)
		return usage_error("%s: %s is out of range [%" PRIu64 ", %" PRIu64 "]", opt, s, min,
				   max);
	*out = v;
	return 0;
}

static int parse_double(const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v))
		return usage_error("%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		return usage_error("%s: %s is out of range [%g, %g]", opt, s, min, max);
	*out = v;
	return 0;
}

static int parse_pattern(const char *spec, uint32_t pct[GEN_NR_CLASSES])
{
	char buf[256], *save = NULL, *item;
	uint32_t sum = 0, nr = 0, seen = 0;
	bool bare = false;

	if (strlen(spec) >= sizeof(buf) || !*spec)
		return usage_error("--pattern: '%s' is not CLASS:PERCENT[,CLASS:PERCENT...]", spec);
	strcpy(buf, spec);
	memset(pct, 0, GEN_NR_CLASSES * sizeof(*pct));
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), nr++) {
		char *colon = strchr(item, ':');
		uint64_t v = 100;
		int c;

		if (colon)
			*colon = '\0';
		for (c = 0; c < GEN_NR_CLASSES; c++)
			if (!strcmp(item, gen_class_name(c)))
				break;
		if (c == GEN_NR_CLASSES)
			return usage_error("--pattern: '%s' is not a class (private, shared, cold, "
					   "phase, zipf)",
					   item);
		if (colon && parse_u64("--pattern", colon + 1, 0, 100, &v))
			return EXIT_USAGE;
		if (!colon)
			bare = true;
		if (seen & (1u << c))
			return usage_error("--pattern: class '%s' is given twice", item);
		seen |= 1u << c;
		pct[c] = (uint32_t)v;
		sum += (uint32_t)v;
	}
	if (bare && nr > 1)
		return usage_error("--pattern: '%s': every class needs a percentage when there are "
				   "several",
				   spec);
	if (sum != 100)
		return usage_error("--pattern: '%s': the percentages sum to %u, not 100", spec,
				   sum);
	return 0;
}

static int parse_free_mib(const char *spec, struct gen_opts *o)
{
	char buf[256], *save = NULL, *item;

	if (strlen(spec) >= sizeof(buf) || !*spec)
		return usage_error("--free-mib: '%s' is not NODE=MIB[,NODE=MIB...]", spec);
	strcpy(buf, spec);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		uint64_t node, mib;

		if (!eq)
			return usage_error("--free-mib: '%s' is not NODE=MIB", item);
		*eq = '\0';
		if (parse_u64("--free-mib (node)", item, 0, GEN_MAX_NODES - 1, &node) ||
		    parse_u64("--free-mib (MiB)", eq + 1, 0, 1ULL << 30, &mib))
			return EXIT_USAGE;
		if (o->nr_free == GEN_MAX_FREE)
			return usage_error("--free-mib: more than %d nodes", GEN_MAX_FREE);
		o->free_mib[o->nr_free].node = (int)node;
		o->free_mib[o->nr_free].mib = mib;
		o->nr_free++;
	}
	return 0;
}

/* The model's options in canonical order (no output paths), for the CMDLINE feature. */
struct argv_buf {
	char *v[64];
	uint32_t n;
	char store[4096];
	size_t used;
};

static void arg_add(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg_add(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->n == 64 || a->used >= sizeof(a->store))
		return;
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, sizeof(a->store) - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(a->store) - a->used)
		return;
	a->v[a->n++] = a->store + a->used;
	a->used += (size_t)n + 1;
}

struct double_args {
	const char *dominance, *zipf_s, *cold_weight, *thp, *no_phys;
};

static void canonical_cmdline(const struct gen_opts *o, const struct double_args *d,
			      struct argv_buf *a)
{
	char pat[128] = "";
	size_t at = 0;

	for (int c = 0; c < GEN_NR_CLASSES; c++)
		if (o->pct[c])
			at += (size_t)snprintf(pat + at, sizeof(pat) - at, "%s%s:%u", at ? "," : "",
					       gen_class_name(c), o->pct[c]);
	arg_add(a, "ibsp-gen");
	arg_add(a, "--topology=%s", o->topology);
	arg_add(a, "--pattern=%s", pat);
	arg_add(a, "--pages=%" PRIu64, o->pages);
	arg_add(a, "--samples=%" PRIu64, o->samples);
	arg_add(a, "--duration-ms=%" PRIu64, o->duration_ms);
	arg_add(a, "--seed=%" PRIu64, o->seed);
	arg_add(a, "--procs=%u", o->procs);
	arg_add(a, "--dominance=%s", d->dominance);
	arg_add(a, "--zipf-s=%s", d->zipf_s);
	arg_add(a, "--cold-weight=%s", d->cold_weight);
	arg_add(a, "--initial=%s", o->initial_mixed ? "mixed" : "lower");
	arg_add(a, "--thp=%s", d->thp);
	arg_add(a, "--no-phys=%s", d->no_phys);
	for (uint32_t i = 0; i < o->nr_free; i++)
		arg_add(a, "--free-mib=%d=%" PRIu64, o->free_mib[i].node, o->free_mib[i].mib);
	if (o->phase_swap)
		arg_add(a, "--phase-swap");
	if (o->zen3)
		arg_add(a, "--zen3");
	if (o->pebs)
		arg_add(a, "--pebs");
	if (o->perf_mem)
		arg_add(a, "--perf-mem");
}

static void gen_print(enum ibsp_log_level level, const char *fmt, va_list ap)
{
	if (level > IBSP_LOG_WARN)
		return;
	fputs("ibsp-gen: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static int parse_args(int argc, char **argv, struct gen_opts *o, struct double_args *d, bool *stats)
{
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", long_opts, NULL)) != -1) {
		const char *name = argv[optind - 1];
		int ret = 0;

		switch (c) {
		case 'o':
			o->out_path = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case OPT_TRUTH:
			o->truth_path = optarg;
			break;
		case OPT_TOPOLOGY:
			if (strcmp(optarg, "2s-cxl") && strcmp(optarg, "4s-2cxl"))
				return usage_error("--topology: unknown topology '%s' (2s-cxl, "
						   "4s-2cxl)",
						   optarg);
			o->topology = optarg;
			break;
		case OPT_PATTERN:
			ret = parse_pattern(optarg, o->pct);
			break;
		case OPT_PAGES:
			ret = parse_u64("--pages", optarg, 1, 1ULL << 28, &o->pages);
			break;
		case OPT_SAMPLES:
			ret = parse_u64("--samples", optarg, 0, 1ULL << 40, &o->samples);
			break;
		case OPT_DURATION:
			ret = parse_u64("--duration-ms", optarg, 1, 1000000000ULL, &o->duration_ms);
			break;
		case OPT_SEED:
			ret = parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed);
			break;
		case OPT_PROCS:
			ret = parse_u64("--procs", optarg, 1, GEN_MAX_PROCS, &v);
			o->procs = (uint32_t)v;
			break;
		case OPT_DOMINANCE:
			ret = parse_double("--dominance", optarg, 0, 1, &o->dominance);
			d->dominance = optarg;
			break;
		case OPT_ZIPF_S:
			ret = parse_double("--zipf-s", optarg, 0, 10, &o->zipf_s);
			d->zipf_s = optarg;
			break;
		case OPT_COLD_WEIGHT:
			ret = parse_double("--cold-weight", optarg, 0, 1e6, &o->cold_weight);
			d->cold_weight = optarg;
			break;
		case OPT_INITIAL:
			if (strcmp(optarg, "lower") && strcmp(optarg, "mixed"))
				return usage_error("--initial: '%s' is not lower or mixed", optarg);
			o->initial_mixed = !strcmp(optarg, "mixed");
			break;
		case OPT_THP:
			ret = parse_double("--thp", optarg, 0, 1, &o->thp);
			d->thp = optarg;
			break;
		case OPT_NO_PHYS:
			ret = parse_double("--no-phys", optarg, 0, 1, &o->no_phys);
			d->no_phys = optarg;
			break;
		case OPT_FREE_MIB:
			ret = parse_free_mib(optarg, o);
			break;
		case OPT_PHASE_SWAP:
			o->phase_swap = true;
			break;
		case OPT_ZEN3:
			o->zen3 = true;
			break;
		case OPT_PEBS:
			o->pebs = true;
			break;
		case OPT_PERF_MEM:
			o->perf_mem = true;
			break;
		case OPT_STATS:
			*stats = true;
			break;
		case ':':
			return usage_error("option '%s' needs a value", name);
		default:
			return usage_error("unknown option '%s'", name);
		}
		if (ret)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->out_path)
		return usage_error("-o FILE is required");
	if (o->pebs && o->zen3)
		return usage_error("--pebs and --zen3: a PEBS host is an Intel one");
	if (o->pebs && o->perf_mem)
		return usage_error("--pebs and --perf-mem: --perf-mem is the IBS form of --pebs");
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct gen_opts o = {
		.topology = "2s-cxl",
		.pct = { [GEN_PRIVATE] = 60, [GEN_SHARED] = 20, [GEN_COLD] = 20 },
		.pages = 10000,
		.samples = 100000,
		.duration_ms = 10000,
		.seed = 1,
		.procs = 2,
		.dominance = 0.95,
		.zipf_s = 1.0,
		.cold_weight = 0.01,
	};
	struct double_args d = { "0.95", "1.0", "0.01", "0", "0" };
	static struct argv_buf cmd;
	struct gen_model m;
	struct gen_rng rng;
	char err[256] = "";
	bool stats = false;
	double t0 = now_s(), t1;
	int ret;

	ret = parse_args(argc, argv, &o, &d, &stats);
	if (ret)
		return ret;
	ibsp_set_print(gen_print);
	canonical_cmdline(&o, &d, &cmd);
	gen_rng_seed(&rng, o.seed);
	ret = gen_model_build(&o, &rng, &m, err, sizeof(err));
	if (ret == -EINVAL) {
		gen_model_free(&m);
		return usage_error("%s", err);
	}
	if (!ret)
		ret = gen_emit(&o, &m, &rng, cmd.v, cmd.n);
	t1 = now_s();
	if (!ret && o.truth_path) {
		ret = gen_truth_write(o.truth_path, &o, &m);
		if (ret)
			fprintf(stderr, "ibsp-gen: %s: cannot write the truth: %s\n", o.truth_path,
				strerror(-ret));
	} else if (ret) {
		fprintf(stderr, "ibsp-gen: %s: %s\n", o.out_path, strerror(-ret));
	}
	if (!ret && stats)
		fprintf(stderr,
			"ibsp-gen: %" PRIu64 " samples over %" PRIu64
			" pages: model + recording %.3f s (%.2f M samples/s), truth %.3f s\n",
			o.samples, o.pages, t1 - t0, (double)o.samples / (t1 - t0) / 1e6,
			now_s() - t1);
	gen_model_free(&m);
	return ret ? EXIT_IO : 0;
}
