// SPDX-License-Identifier: MIT
/*
 * The replay path: a perf.data (file or pipe mode, as given) through the
 * reader, the engine's ticks and the policies, with the baselines and the
 * oracles (--evaluate). Every planned migration's node indexes are checked
 * against the topology, as the move matrix uses them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "ibsp/policies.h"
#include "ibsp/replay.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static int check_decision(void *ctx, const struct ibsp_replay_decision *d)
{
	const struct ibsp_migration *m = d->m;
	uint32_t nr = *(const uint32_t *)ctx;

	if (m->src_idx.idx < 0 || (uint32_t)m->src_idx.idx >= nr || m->dst_idx.idx < 0 ||
	    (uint32_t)m->dst_idx.idx >= nr)
		abort(); /* the move matrix would be indexed out of bounds */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ibsp_replay_opts o = { .sz = sizeof(o) };
	struct ibsp_replay_result res = { 0 };
	const char *path;

	path = fuzz_memfd_path(data, size);
	if (!path)
		return 0;
	o.engine.sz = sizeof(o.engine);
	o.engine.policy = (struct ibsp_policy){ .ops = &ibsp_policy_locality, .arg = -1 };
	o.engine.rate_bytes_per_s = 256ULL << 20;
	o.engine.max_pages = 1 << 14;
	o.evaluate = true;
	o.on_decision = check_decision;
	o.ctx = &res.nr_nodes;
	ibsp_replay__run(path, &o, &res);
	ibsp_replay_result__free(&res);
	return 0;
}
