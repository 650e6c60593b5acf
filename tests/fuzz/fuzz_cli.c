// SPDX-License-Identifier: MIT
/*
 * The command line's option parsers (cli/options.c, cli/policy_opts.c), as
 * `run` and `record` use them, without running any command: the input is
 * split at NUL or newline into arguments for getopt_long over the sampling
 * and policy options; then the checks, the policy's name, and the
 * --top-tier list applied to a three-node topology.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/options.h"
#include "../../cli/policy_opts.h"
#include "topology_build.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static struct ibsp_topology *topo;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	topo = ibsp_topology__new(3);
	if (!topo)
		abort();
	for (int i = 0; i < 3; i++) {
		ibsp_topology__set_node_id(topo, ibsp_node_idx(i), ibsp_node_id(i));
		ibsp_topology__set_mem_kb(topo, ibsp_node_idx(i), 1 << 20, 1 << 19);
	}
	if (ibsp_topology__set_cpulist(topo, ibsp_node_idx(0), "0-3") ||
	    ibsp_topology__set_cpulist(topo, ibsp_node_idx(1), "4-7"))
		abort();
	return 0;
}

static void parse(int argc, char **argv)
{
	static const struct option opts[] = { CLI_SAMPLING_OPTIONS, CLI_POLICY_OPTIONS, { 0 } };
	struct cli_sampling s;
	struct cli_policy p;
	char name[64];
	int c;

	cli_sampling__init(&s);
	cli_policy__init(&p);
	optind = 0; /* glibc: start over, reinitialising getopt's state */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+" CLI_SAMPLING_SHORT, opts, NULL)) != -1) {
		if (cli_sampling__opt(&s, c, optarg, "run") < 0 ||
		    cli_policy__opt(&p, c, optarg, "run") < 0)
			return;
	}
	if (cli_sampling__check(&s, "run"))
		return;
	if (s.sampler.kind == IBSP_SAMPLER_SOFT)
		cli_policy__for_soft_sampler(&p);
	if (s.sampler.kind == IBSP_SAMPLER_HINT)
		cli_policy__for_hint_sampler(&p);
	cli_policy__name(&p, name, sizeof(name));
	if (p.top_tier)
		ibsp_topology__set_top_tier(topo, p.top_tier);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *buf;
	int argc = 0;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = (char *)"ibs-promote-run";
	for (char *p = buf; argc <= MAX_ARGS && p <= buf + size;) {
		size_t n = strcspn(p, "\n");

		p[n] = 0;
		argv[argc++] = p;
		p += n + 1;
	}
	argv[argc] = NULL;
	parse(argc, argv);
	free(buf);
	return 0;
}
