// SPDX-License-Identifier: MIT
/* ibs-promote dump: decoded samples of a recording as JSON Lines. Fields: docs/dump-format.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "files.h"
#include "options.h"
#include "ibsp/perf_file.h"
#include "ibsp/topology.h"

#define BATCH 4096

static const char dump_usage[] =
    "Usage: ibs-promote dump [--limit N] [--unordered] [--invalid] FILE\n"
    "\n"
    "Print one JSON object per decoded sample of the perf.data FILE ('-': stdin), in the\n"
    "order 'perf script' prints them, on stdout (messages go to stderr). Fields are\n"
    "described in docs/dump-format.md.\n"
    "\n"
    "  -n, --limit N    stop after N samples\n"
    "  -u, --unordered  file order instead of perf's time order (faster, no queue)\n"
    "  -i, --invalid    also print the samples a decoder refused, with \"drop\" set to why\n"
    "\n"
    "Example:\n"
    "  ibs-promote dump --limit 3 tests/fixtures/pf-system.data\n";

static char *json_quote(const char *s)
{
	char name[201];
	json_t *j;

	/*
	 * Names come from the file: keep printable ASCII (jansson refuses invalid
	 * UTF-8) and cut them, so a dump line always fits its buffer.
	 */
	snprintf(name, sizeof(name), "%s", s ? s : "");
	for (char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	j = json_string(name);
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return out;
}

/* One output line, built by hand: stdio's format parsing was most of dump's time. */
struct line {
	char b[1024]; /* the longest line: a 200-byte name, all escaped, plus 20 fields */
	size_t n;
};

static void put(struct line *l, const char *s)
{
	size_t len = strlen(s);

	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void put_u64(struct line *l, uint64_t v)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		l->b[l->n++] = tmp[--i];
}

/* A JSON string holding 0x-prefixed lowercase hex. */
static void put_hex(struct line *l, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int i = 0;

	do {
		tmp[i++] = digits[v & 15];
		v >>= 4;
	} while (v);
	put(l, "\"0x");
	while (i)
		l->b[l->n++] = tmp[--i];
	l->b[l->n++] = '"';
}

static void put_field(struct line *l, const char *key, int valid)
{
	put(l, key);
	if (!valid)
		put(l, "null");
}

/* What resolution knows about a recording: the page's node and the accessor's node. */
struct dump_nodes {
	const struct ibsp_topology *topo;
	struct ibsp_node_id *cpu_node;
	uint32_t nr_cpus;
};

static void put_node(struct line *l, const char *key, struct ibsp_node_id node)
{
	put(l, key);
	if (node.id < 0)
		put(l, "null");
	else
		put_u64(l, (uint64_t)node.id);
}

static void print_sample(FILE *f, const struct ibsp_sample *s, char *const *event_json,
			 const struct dump_nodes *dn)
{
	struct line l = { .n = 0 };
	uint16_t fl = s->flags;

	put_field(&l, "{\"time\":", fl & IBSP_S_TIME_VALID);
	if (fl & IBSP_S_TIME_VALID)
		put_u64(&l, s->time_ns);
	put_field(&l, ",\"cpu\":", fl & IBSP_S_CPU_VALID);
	if (fl & IBSP_S_CPU_VALID)
		put_u64(&l, (uint64_t)(uint32_t)s->cpu);
	put_field(&l, ",\"pid\":", fl & IBSP_S_TID_VALID);
	if (fl & IBSP_S_TID_VALID)
		put_u64(&l, s->pid);
	put_field(&l, ",\"tid\":", fl & IBSP_S_TID_VALID);
	if (fl & IBSP_S_TID_VALID)
		put_u64(&l, s->tid);
	put(&l, ",\"event\":");
	put(&l, event_json[s->event_idx]);
	put(&l, ",\"sampler\":\"");
	put(&l, ibsp_sampler_kind__name((enum ibsp_sampler_kind)s->kind));
	put_field(&l, "\",\"vaddr\":", fl & IBSP_S_VADDR_VALID);
	if (fl & IBSP_S_VADDR_VALID)
		put_hex(&l, s->vaddr);
	put_field(&l, ",\"paddr\":", fl & IBSP_S_PADDR_VALID);
	if (fl & IBSP_S_PADDR_VALID)
		put_hex(&l, s->paddr);
	put(&l, (fl & IBSP_S_LOAD)    ? ",\"op\":\"load\""
		: (fl & IBSP_S_STORE) ? ",\"op\":\"store\""
				      : ",\"op\":null");
	put_field(&l, ",\"latency_cycles\":", fl & IBSP_S_LAT_VALID);
	if (fl & IBSP_S_LAT_VALID)
		put_u64(&l, s->latency_cycles);
	put(&l, ",\"src\":\"");
	put(&l, ibsp_mem_src__name((enum ibsp_mem_src)s->src));
	put_field(&l, "\",\"page_size\":", s->page_shift != 0);
	if (s->page_shift)
		put_u64(&l, (uint64_t)1 << (s->page_shift & 63));
	put_field(&l, ",\"ip\":", fl & IBSP_S_IP_VALID);
	if (fl & IBSP_S_IP_VALID)
		put_hex(&l, s->ip);
	put_node(&l, ",\"node\":",
		 (fl & IBSP_S_PADDR_VALID) && dn->topo
		     ? ibsp_topology__node_of_paddr(dn->topo, s->paddr)
		     : ibsp_node_id(-1));
	put_node(&l, ",\"cpu_node\":",
		 (fl & IBSP_S_CPU_VALID) && (uint32_t)s->cpu < dn->nr_cpus ? dn->cpu_node[s->cpu]
									   : ibsp_node_id(-1));
	put(&l, ",\"period\":");
	put_u64(&l, s->period);
	put(&l, (fl & IBSP_S_REMOTE) ? ",\"remote\":true" : ",\"remote\":false");
	put(&l, (fl & IBSP_S_COARSE) ? ",\"coarse\":true" : ",\"coarse\":false");
	put(&l, (fl & IBSP_S_DTLB_MISS) ? ",\"dtlb_miss\":true" : ",\"dtlb_miss\":false");
	if (s->drop) {
		put(&l, ",\"drop\":\"");
		put(&l, ibsp_drop_reason__name((enum ibsp_drop_reason)s->drop));
		put(&l, "\"}\n");
	} else {
		put(&l, ",\"drop\":null}\n");
	}
	fwrite(l.b, 1, l.n, f);
}

/** struct dump_env - everything `dump` does, defaults first, then the command line */
struct dump_env {
	struct ibsp_perf_reader_opts ropts; /* --unordered, --invalid */
	uint64_t limit;			    /* --limit; UINT64_MAX: all */
	const char *file;
};

/* Fill @env from the command line. Return -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct dump_env *env)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "unordered", no_argument, NULL, 'u' },
		{ "invalid", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:uih", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_uint_arg("dump", "limit", optarg, 0, UINT64_MAX, &env->limit))
				return cli_usage_error("dump");
			break;
		case 'u':
			env->ropts.unordered = true;
			break;
		case 'i':
			env->ropts.include_invalid = true;
			break;
		case 'h':
			printf("%s\n%s", dump_usage, cli_exit_help);
			return EXIT_OK;
		default:
			return cli_usage_error("dump");
		}
	}
	if (optind > argc - 1)
		return cli_args_error("dump", dump_usage, "missing the FILE argument");
	if (optind < argc - 1)
		return cli_args_error("dump", dump_usage, "unexpected argument '%s'",
				      argv[optind + 1]);
	env->file = argv[optind];
	return -1;
}

/* The recording's CPU -> node map (none without a topology). Return 0 or -ENOMEM. */
static int nodes_init(struct dump_nodes *dn, struct ibsp_perf_reader *r)
{
	dn->topo = ibsp_perf_reader__info(r)->topo;
	dn->nr_cpus = ibsp_perf_reader__info(r)->nr_cpus_avail;
	if (!dn->nr_cpus)
		dn->nr_cpus = 4096; /* no NRCPUS feature: cover any real host */
	if (dn->topo && ibsp_topology__cpu_node_map(dn->topo, dn->nr_cpus, &dn->cpu_node))
		return -ENOMEM;
	if (!dn->topo)
		dn->nr_cpus = 0;
	return 0;
}

/* The event names, quoted for JSON once; NULL when out of memory. */
static char **events_json(struct ibsp_perf_reader *r, uint32_t nr_events)
{
	char **event_json = calloc(nr_events, sizeof(char *));

	for (uint32_t i = 0; event_json && i < nr_events; i++) {
		event_json[i] = json_quote(ibsp_perf_reader__event(r, i)->name);
		if (!event_json[i]) {
			while (i--)
				free(event_json[i]);
			free(event_json);
			return NULL;
		}
	}
	return event_json;
}

/* Print up to @limit samples. Return the exit code. */
static int print_samples(struct ibsp_perf_reader *r, uint64_t limit, char **event_json,
			 const struct dump_nodes *dn)
{
	struct ibsp_sample *buf = malloc(BATCH * sizeof(*buf));
	uint64_t done = 0;
	int ret = 0, rc = EXIT_OK;

	if (!buf)
		return EXIT_FAIL;
	while (done < limit) {
		size_t want = limit - done < BATCH ? (size_t)(limit - done) : BATCH;

		ret = ibsp_perf_reader__read(r, buf, want);
		if (ret <= 0)
			break;
		for (int i = 0; i < ret; i++)
			print_sample(stdout, &buf[i], event_json, dn);
		done += (uint64_t)ret;
	}
	free(buf);
	if (ret < 0)
		rc = cli_exit_code(ret);
	if (fflush(stdout) || ferror(stdout)) {
		perror("ibs-promote dump: stdout");
		rc = EXIT_FAIL;
	}
	return rc;
}

static int dump(const struct dump_env *env, const char *path)
{
	struct ibsp_perf_reader *r = NULL;
	struct dump_nodes dn = { 0 };
	char **event_json = NULL;
	uint32_t nr_events;
	int ret, rc = EXIT_FAIL;

	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	ret = ibsp_perf_reader__open(path, &env->ropts, &r);
	if (ret)
		return cli_exit_code(ret);
	nr_events = ibsp_perf_reader__nr_events(r);
	if (!nodes_init(&dn, r) && (event_json = events_json(r, nr_events)))
		rc = print_samples(r, env->limit, event_json, &dn);
	free(dn.cpu_node);
	for (uint32_t i = 0; event_json && i < nr_events; i++)
		free(event_json[i]);
	free(event_json);
	ibsp_perf_reader__close(r);
	return rc;
}

int cmd_dump(int argc, char **argv)
{
	struct dump_env env = { .ropts = { .sz = sizeof(env.ropts) }, .limit = UINT64_MAX };
	struct cli_in in;
	int rc = parse_args(argc, argv, &env);

	if (rc >= 0)
		return rc;
	rc = cli_in__open(&in, "dump", env.file);
	if (rc < 0)
		rc = dump(&env, in.path);
	cli_in__close(&in);
	return rc;
}
