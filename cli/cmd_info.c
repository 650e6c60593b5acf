// SPDX-License-Identifier: MIT
/* ibs-promote info: what a recording holds (host, topology, events, sample counts). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "files.h"
#include "units.h"
#include "ibsp/perf_file.h"

static const char info_usage[] =
    "Usage: ibs-promote info [--json] FILE\n"
    "\n"
    "Show the host, NUMA topology (nodes, CPUs, memory ranges; memory tiers and node\n"
    "distances when recorded), events and sample counts per event and per CPU of the\n"
    "perf.data FILE ('-': a recording on stdin, e.g. from perf record -o -).\n"
    "\n"
    "  -j, --json   one JSON object instead of text\n"
    "\n"
    "Examples:\n"
    "  ibs-promote info tests/fixtures/pf-system.data\n"
    "  perf record -e page-faults -d --sample-cpu -a -o - -- sleep 1 | ibs-promote info -\n";

static const char *or_unknown(const char *s)
{
	return s ? s : "(unknown)";
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *host_json(const struct ibsp_recording_info *in)
{
	json_t *host = json_object(), *cmd = json_array();

	json_object_set_new(host, "hostname", jstr(in->hostname));
	json_object_set_new(host, "os_release", jstr(in->osrelease));
	json_object_set_new(host, "arch", jstr(in->arch));
	json_object_set_new(host, "cpuid", jstr(in->cpuid));
	json_object_set_new(host, "cpu_desc", jstr(in->cpudesc));
	json_object_set_new(host, "nr_cpus_avail", json_integer(in->nr_cpus_avail));
	json_object_set_new(host, "nr_cpus_online", json_integer(in->nr_cpus_online));
	json_object_set_new(host, "total_mem_kb", json_integer((json_int_t)in->total_mem_kb));
	for (uint32_t i = 0; i < in->nr_cmdline; i++)
		json_array_append_new(cmd, json_string(in->cmdline[i]));
	json_object_set_new(host, "cmdline", cmd);
	return host;
}

/* The physical address range of block range @r: first and last byte. */
static void range_bytes(const struct ibsp_topology *t, const struct ibsp_block_range *r,
			uint64_t *first, uint64_t *last)
{
	uint64_t bs = ibsp_topology__block_size_bytes(t);

	*first = r->first * bs;
	*last = (r->first + r->nr) * bs - 1;
}

/* The node's block ranges, none when the recording has no block map. */
static uint32_t nr_ranges(const struct ibsp_topology *t, struct ibsp_node_idx n)
{
	return ibsp_topology__has_block_map(t) ? ibsp_topology__nr_ranges(t, n) : 0;
}

static json_t *node_json(const struct ibsp_topology *t, struct ibsp_node_idx n)
{
	const struct ibsp_block_range *r = ibsp_topology__ranges(t, n);
	json_t *jn = json_object(), *ranges = json_array();

	json_object_set_new(jn, "node", json_integer(ibsp_topology__node_id(t, n).id));
	json_object_set_new(jn, "cpus", json_string(ibsp_topology__cpulist(t, n)));
	json_object_set_new(jn, "nr_cpus", json_integer(ibsp_topology__nr_cpus(t, n)));
	json_object_set_new(jn, "mem_total_kb",
			    json_integer((json_int_t)ibsp_topology__mem_total_kb(t, n)));
	json_object_set_new(jn, "mem_free_kb",
			    json_integer((json_int_t)ibsp_topology__mem_free_kb(t, n)));
	json_object_set_new(jn, "tier", cli_topo_tier_json(t, n));
	for (uint32_t k = 0; k < nr_ranges(t, n); k++) {
		uint64_t first, last;
		char buf[64];

		range_bytes(t, &r[k], &first, &last);
		snprintf(buf, sizeof(buf), "%#" PRIx64 "-%#" PRIx64, first, last);
		json_array_append_new(ranges, json_string(buf));
	}
	json_object_set_new(jn, "memory_ranges", ranges);
	return jn;
}

static json_t *events_json(const struct ibsp_perf_reader *r, const struct ibsp_perf_stats *st)
{
	json_t *events = json_array();

	for (uint32_t i = 0; i < ibsp_perf_reader__nr_events(r); i++) {
		const struct ibsp_event_desc *ev = ibsp_perf_reader__event(r, i);
		json_t *je = json_object();
		char buf[32];

		json_object_set_new(je, "name", json_string(ev->name));
		json_object_set_new(je, "sampler", json_string(ibsp_sampler_kind__name(ev->kind)));
		json_object_set_new(je, "type", json_integer(ev->attr.type));
		snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)ev->attr.config);
		json_object_set_new(je, "config", json_string(buf));
		snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)ev->attr.sample_type);
		json_object_set_new(je, "sample_type", json_string(buf));
		json_object_set_new(je, "samples",
				    json_integer((json_int_t)st->samples_per_event[i]));
		json_array_append_new(events, je);
	}
	return events;
}

/* The sample counts: per CPU, decoded, invalid by reason, lost. */
static void counts_json(json_t *root, const struct ibsp_perf_stats *st)
{
	json_t *cpus = json_object(), *drops = json_object();

	for (uint32_t c = 0; c < st->nr_cpu_slots; c++) {
		char key[16];

		if (!st->samples_per_cpu[c])
			continue;
		snprintf(key, sizeof(key), "%u", c);
		json_object_set_new(cpus, key, json_integer((json_int_t)st->samples_per_cpu[c]));
	}
	json_object_set_new(root, "samples_per_cpu", cpus);
	json_object_set_new(root, "samples", json_integer((json_int_t)st->nr_samples));
	json_object_set_new(root, "samples_decoded", json_integer((json_int_t)st->nr_decoded));
	json_object_set_new(root, "samples_invalid", json_integer((json_int_t)st->nr_invalid));
	for (int d = IBSP_DROP_NONE + 1; d < IBSP_DROP__MAX; d++)
		json_object_set_new(drops, ibsp_drop_reason__name((enum ibsp_drop_reason)d),
				    json_integer((json_int_t)st->nr_dropped[d]));
	json_object_set_new(root, "invalid_by_reason", drops);
	json_object_set_new(root, "lost_records", json_integer((json_int_t)st->loss.lost_records));
	json_object_set_new(root, "lost", json_integer((json_int_t)st->loss.lost));
	json_object_set_new(root, "throttle", json_integer((json_int_t)st->loss.throttle));
	json_object_set_new(root, "records", json_integer((json_int_t)st->nr_records));
	if (st->nr_unlisted_id)
		json_object_set_new(root, "samples_unlisted_id",
				    json_integer((json_int_t)st->nr_unlisted_id));
}

static json_t *info_json(const char *path, const struct ibsp_perf_reader *r)
{
	const struct ibsp_recording_info *in = ibsp_perf_reader__info(r);
	const struct ibsp_perf_stats *st = ibsp_perf_reader__stats(r);
	json_t *root = json_object(), *nodes = json_array();
	uint64_t doff, dsize;

	ibsp_perf_reader__data_range(r, &doff, &dsize);
	json_object_set_new(root, "file", json_string(path));
	json_object_set_new(root, "data_offset", json_integer((json_int_t)doff));
	json_object_set_new(root, "data_size", json_integer((json_int_t)dsize));
	json_object_set_new(root, "host", host_json(in));
	if (in->topo) {
		for (uint32_t i = 0; i < ibsp_topology__nr_nodes(in->topo); i++)
			json_array_append_new(nodes, node_json(in->topo, ibsp_node_idx((int)i)));
		json_object_set_new(
		    root, "memory_block_size",
		    json_integer((json_int_t)ibsp_topology__block_size_bytes(in->topo)));
	}
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "distance", cli_topo_distance_json(in->topo));
	json_object_set_new(root, "events", events_json(r, st));
	if (in->comp_type)
		json_object_set_new(root, "compressed",
				    json_pack("{s:s, s:i, s:I}", "type", "zstd", "level",
					      (int)in->comp_level, "records",
					      (json_int_t)st->nr_compressed));
	counts_json(root, st);
	return root;
}

static void node_text(const struct ibsp_topology *t, struct ibsp_node_idx n)
{
	const struct ibsp_block_range *r = ibsp_topology__ranges(t, n);
	int32_t tier = ibsp_topology__tier(t, n);
	char total[CLI_HUMAN_LEN], avail[CLI_HUMAN_LEN];

	printf("  node %d: cpus %s, memory %s total, %s free", ibsp_topology__node_id(t, n).id,
	       ibsp_topology__nr_cpus(t, n) ? ibsp_topology__cpulist(t, n) : "none (CPU-less)",
	       cli_human_bytes(ibsp_topology__mem_total_kb(t, n) << 10, total),
	       cli_human_bytes(ibsp_topology__mem_free_kb(t, n) << 10, avail));
	if (tier >= 0)
		printf(", memory tier %d", tier);
	printf("\n");
	for (uint32_t k = 0; k < nr_ranges(t, n); k++) {
		uint64_t first, last;

		range_bytes(t, &r[k], &first, &last);
		printf("    phys 0x%012" PRIx64 "-0x%012" PRIx64 "\n", first, last);
	}
}

static void topo_text(const struct ibsp_topology *t)
{
	char bs[CLI_HUMAN_LEN];

	if (!t) {
		printf("topology:    none recorded (no NUMA_TOPOLOGY feature)\n");
		return;
	}
	printf("topology:    %u node(s)", ibsp_topology__nr_nodes(t));
	if (ibsp_topology__has_block_map(t))
		printf(", memory block size %s",
		       cli_human_bytes(ibsp_topology__block_size_bytes(t), bs));
	printf("\n");
	for (uint32_t i = 0; i < ibsp_topology__nr_nodes(t); i++)
		node_text(t, ibsp_node_idx((int)i));
	cli_topo_print_distances(t);
}

static void counts_text(const struct ibsp_perf_reader *r, const struct ibsp_perf_stats *st)
{
	printf("events:      %u\n", ibsp_perf_reader__nr_events(r));
	for (uint32_t i = 0; i < ibsp_perf_reader__nr_events(r); i++) {
		const struct ibsp_event_desc *ev = ibsp_perf_reader__event(r, i);

		printf("  [%u] %-24s sampler %-4s type %u config %#llx sample_type %#llx: %" PRIu64
		       " samples\n",
		       i, ev->name, ibsp_sampler_kind__name(ev->kind), ev->attr.type,
		       (unsigned long long)ev->attr.config,
		       (unsigned long long)ev->attr.sample_type, st->samples_per_event[i]);
	}
	printf("samples:     %" PRIu64 " (%" PRIu64 " decoded, %" PRIu64 " invalid)\n",
	       st->nr_samples, st->nr_decoded, st->nr_invalid);
	if (st->nr_invalid) {
		printf("invalid:    ");
		for (int d = IBSP_DROP_NONE + 1; d < IBSP_DROP__MAX; d++)
			if (st->nr_dropped[d])
				printf(" %s=%" PRIu64,
				       ibsp_drop_reason__name((enum ibsp_drop_reason)d),
				       st->nr_dropped[d]);
		printf("\n");
	}
	printf("per cpu:    ");
	for (uint32_t c = 0; c < st->nr_cpu_slots; c++)
		if (st->samples_per_cpu[c])
			printf(" cpu%u=%" PRIu64, c, st->samples_per_cpu[c]);
	if (st->samples_no_cpu)
		printf(" no-cpu=%" PRIu64, st->samples_no_cpu);
	printf("\n");
	printf("lost:        %" PRIu64 " records in %" PRIu64 " LOST records; %" PRIu64
	       " throttle events\n",
	       st->loss.lost, st->loss.lost_records, st->loss.throttle);
	if (st->nr_unlisted_id)
		printf("unlisted id: %" PRIu64 " samples whose id no event lists, taken as the "
		       "only sampling event's\n",
		       st->nr_unlisted_id);
}

static void info_text(const char *path, const struct ibsp_perf_reader *r)
{
	const struct ibsp_recording_info *in = ibsp_perf_reader__info(r);
	char size[CLI_HUMAN_LEN];
	uint64_t doff, dsize;

	ibsp_perf_reader__data_range(r, &doff, &dsize);
	printf("file:        %s (data %s at %#" PRIx64 ")\n", path, cli_human_bytes(dsize, size),
	       doff);
	printf("host:        %s\n", or_unknown(in->hostname));
	printf("os release:  %s\n", or_unknown(in->osrelease));
	printf("arch:        %s\n", or_unknown(in->arch));
	printf("cpu:         %s [%s]\n", or_unknown(in->cpudesc), or_unknown(in->cpuid));
	printf("cpus:        %u online, %u available\n", in->nr_cpus_online, in->nr_cpus_avail);
	if (in->total_mem_kb)
		printf("memory:      %s\n", cli_human_bytes(in->total_mem_kb << 10, size));
	if (in->nr_cmdline) {
		printf("cmdline:    ");
		for (uint32_t i = 0; i < in->nr_cmdline; i++)
			printf(" %s", in->cmdline[i]);
		printf("\n");
	}
	topo_text(in->topo);
	if (in->comp_type)
		printf("compressed:  zstd, level %u: %" PRIu64
		       " COMPRESSED records (perf record -z)\n",
		       in->comp_level, ibsp_perf_reader__stats(r)->nr_compressed);
	counts_text(r, ibsp_perf_reader__stats(r));
}

/* Read @path (named @name in the output) and print it. Return the exit code. */
static int info(const char *name, const char *path, int as_json)
{
	struct ibsp_perf_reader_opts ropts = { .sz = sizeof(ropts), .unordered = true };
	struct ibsp_perf_reader *r;
	struct ibsp_sample buf[1024];
	int ret;

	ret = ibsp_perf_reader__open(path, &ropts, &r);
	if (ret)
		return cli_exit_code(ret);
	/* Counting needs a pass over the samples; order does not matter here. */
	while ((ret = ibsp_perf_reader__read(r, buf, 1024)) > 0)
		;
	if (ret < 0) {
		ibsp_perf_reader__close(r);
		return cli_exit_code(ret);
	}
	if (as_json) {
		json_t *j = info_json(name, r);

		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		info_text(name, r);
	}
	ibsp_perf_reader__close(r);
	return EXIT_OK; /* main checks that stdout took it all */
}

int cmd_info(int argc, char **argv)
{
	struct cli_in in;
	int c, as_json = 0;

	c = cli_json_opts(argc, argv, info_usage, 1, &as_json);
	if (c >= 0)
		return c;
	c = cli_in__open(&in, "info", argv[argc - 1]);
	if (c < 0)
		c = info(in.arg, in.path, as_json);
	cli_in__close(&in);
	return c;
}
