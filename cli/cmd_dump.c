// SPDX-License-Identifier: MIT
/* ibs-promote dump: decoded samples of a recording as JSON Lines. Fields: docs/dump-format.md. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "ibsp/perf_file.h"

#define BATCH 4096

static const char dump_usage[] =
    "Usage: ibs-promote dump [--limit N] [--unordered] FILE\n"
    "\n"
    "Print one JSON object per decoded sample of the perf.data FILE, in the order\n"
    "'perf script' prints them. Fields are described in docs/dump-format.md.\n"
    "\n"
    "  -n, --limit N    stop after N samples\n"
    "  -u, --unordered  file order instead of perf's time order (faster, no queue)\n"
    "\n"
    "Example:\n"
    "  ibs-promote dump --limit 3 tests/fixtures/pf-system.data\n";

static char *json_quote(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return out;
}

static void print_sample(FILE *f, const struct ibsp_sample *s, char *const *event_json)
{
	fprintf(f, "{\"time\":");
	if (s->flags & IBSP_S_TIME_VALID)
		fprintf(f, "%" PRIu64, s->time_ns);
	else
		fputs("null", f);
	fprintf(f, ",\"cpu\":");
	if (s->flags & IBSP_S_CPU_VALID)
		fprintf(f, "%d", s->cpu);
	else
		fputs("null", f);
	if (s->flags & IBSP_S_TID_VALID)
		fprintf(f, ",\"pid\":%u,\"tid\":%u", s->pid, s->tid);
	else
		fputs(",\"pid\":null,\"tid\":null", f);
	fprintf(f, ",\"event\":%s,\"sampler\":\"%s\"", event_json[s->event_idx],
		ibsp_sampler_kind__name((enum ibsp_sampler_kind)s->kind));
	if (s->flags & IBSP_S_VADDR_VALID)
		fprintf(f, ",\"vaddr\":\"%#" PRIx64 "\"", s->vaddr);
	else
		fputs(",\"vaddr\":null", f);
	if (s->flags & IBSP_S_PADDR_VALID)
		fprintf(f, ",\"paddr\":\"%#" PRIx64 "\"", s->paddr);
	else
		fputs(",\"paddr\":null", f);
	if (s->flags & IBSP_S_LOAD)
		fputs(",\"op\":\"load\"", f);
	else if (s->flags & IBSP_S_STORE)
		fputs(",\"op\":\"store\"", f);
	else
		fputs(",\"op\":null", f);
	if (s->flags & IBSP_S_LAT_VALID)
		fprintf(f, ",\"latency_cycles\":%u", s->latency_cycles);
	else
		fputs(",\"latency_cycles\":null", f);
	fprintf(f, ",\"src\":\"%s\"", ibsp_mem_src__name((enum ibsp_mem_src)s->src));
	if (s->page_shift)
		fprintf(f, ",\"page_size\":%" PRIu64, (uint64_t)1 << s->page_shift);
	else
		fputs(",\"page_size\":null", f);
	if (s->flags & IBSP_S_IP_VALID)
		fprintf(f, ",\"ip\":\"%#" PRIx64 "\"", s->ip);
	else
		fputs(",\"ip\":null", f);
	fprintf(f, ",\"period\":%" PRIu64 ",\"remote\":%s,\"coarse\":%s,\"dtlb_miss\":%s}\n",
		s->period, s->flags & IBSP_S_REMOTE ? "true" : "false",
		s->flags & IBSP_S_COARSE ? "true" : "false",
		s->flags & IBSP_S_DTLB_MISS ? "true" : "false");
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "unordered", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ibsp_perf_reader_opts ropts = { .sz = sizeof(ropts) };
	struct ibsp_perf_reader *r = NULL;
	struct ibsp_sample *buf = NULL;
	char **event_json = NULL;
	uint64_t limit = UINT64_MAX, done = 0;
	uint32_t nr_events = 0;
	int c, ret, rc = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:uh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;

			limit = strtoull(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-') {
				fprintf(stderr, "ibs-promote dump: --limit: '%s' is not a count\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'u':
			ropts.unordered = true;
			break;
		case 'h':
			fputs(dump_usage, stdout);
			return EXIT_OK;
		default:
			fputs(dump_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(dump_usage, stderr);
		return EXIT_USAGE;
	}
	ret = ibsp_perf_reader__open(argv[optind], &ropts, &r);
	if (ret)
		return cli_exit_code(ret);
	nr_events = ibsp_perf_reader__nr_events(r);
	event_json = calloc(nr_events, sizeof(char *));
	buf = malloc(BATCH * sizeof(*buf));
	if (!event_json || !buf) {
		rc = EXIT_FAIL;
		goto out;
	}
	for (uint32_t i = 0; i < nr_events; i++) {
		event_json[i] = json_quote(ibsp_perf_reader__event(r, i)->name);
		if (!event_json[i]) {
			rc = EXIT_FAIL;
			goto out;
		}
	}
	while (done < limit) {
		size_t want = limit - done < BATCH ? (size_t)(limit - done) : BATCH;

		ret = ibsp_perf_reader__read(r, buf, want);
		if (ret <= 0)
			break;
		for (int i = 0; i < ret; i++)
			print_sample(stdout, &buf[i], event_json);
		done += (uint64_t)ret;
	}
	if (ret < 0)
		rc = cli_exit_code(ret);
	if (fflush(stdout) || ferror(stdout)) {
		perror("ibs-promote dump: stdout");
		rc = EXIT_FAIL;
	}
out:
	for (uint32_t i = 0; event_json && i < nr_events; i++)
		free(event_json[i]);
	free(event_json);
	free(buf);
	ibsp_perf_reader__close(r);
	return rc;
}
