/* SPDX-License-Identifier: MIT */
/* Topologies and samples for the engine and policy tests. */
#ifndef IBSP_TEST_ENGINE_FIXTURES_H
#define IBSP_TEST_ENGINE_FIXTURES_H

#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "ibsp/engine.h"
#include "ibsp/policies.h"

#define UVA_BASE 0x7f0000000000ULL

/* The policy named @spec ("locality", "fixed-node:0", ...), for struct ibsp_engine_opts. */
static inline struct ibsp_policy policy_of(const char *spec)
{
	struct ibsp_policy p = { 0 };

	cr_assert_eq(ibsp_policy__find(spec, &p), 0, "%s", spec);
	return p;
}

/* 2 sockets (CPUs 0-1, 2-3) + a CPU-less CXL node 2 attached to socket 0. */
static inline struct ibsp_topology *topo_2s_cxl(void)
{
	static const char *const cpus[] = { "0-1", "2-3", "" };
	static const uint32_t mem[] = { 16, 16, 64 }, fre[] = { 8, 8, 60 };
	static const uint32_t dist[] = { 10, 21, 24, 21, 10, 34, 24, 34, 10 };

	return make_topo(3, cpus, mem, fre, dist);
}

/* 4 sockets (2 CPUs each) + CXL node 4 (off socket 0) and node 5 (off socket 2). */
static inline struct ibsp_topology *topo_4s_2cxl(void)
{
	static const char *const cpus[] = { "0-1", "2-3", "4-5", "6-7", "", "" };
	static const uint32_t mem[] = { 8, 8, 8, 8, 32, 32 }, fre[] = { 4, 4, 4, 4, 30, 30 };
	static const uint32_t dist[] = {
		10, 21, 21, 21, 24, 34, /* node 0 */
		21, 10, 21, 21, 34, 34, /* node 1 */
		21, 21, 10, 21, 34, 24, /* node 2 */
		21, 21, 21, 10, 34, 34, /* node 3 */
		24, 34, 34, 34, 10, 44, /* node 4 */
		34, 34, 24, 34, 44, 10, /* node 5 */
	};

	return make_topo(6, cpus, mem, fre, dist);
}

/* The index of node @id in @t (the engine's per-node calls take indices). */
static inline struct ibsp_node_idx node_at(const struct ibsp_topology *t, int id)
{
	return ibsp_topology__index_of(t, ibsp_node_id(id));
}

/* A load of page @page (4 KiB index) of pid @pid, placed on @node, by @cpu. */
static inline struct ibsp_sample smp(const struct ibsp_topology *t, int cpu, int node,
				     uint64_t page, uint32_t pid)
{
	struct ibsp_sample s;

	memset(&s, 0, sizeof(s));
	s.cpu = cpu;
	s.pid = s.tid = pid;
	s.vaddr = UVA_BASE + page * 4096 + 64;
	s.paddr = topo_node_base(t, node) + page * 4096 + 64;
	s.flags = IBSP_S_CPU_VALID | IBSP_S_TID_VALID | IBSP_S_VADDR_VALID | IBSP_S_PADDR_VALID |
		  IBSP_S_LOAD;
	s.kind = IBSP_SAMPLER_IBS;
	return s;
}

/* @n accesses to @page on @node from @cpu. */
static inline void feed(struct ibsp_engine *e, const struct ibsp_topology *t, int cpu, int node,
			uint64_t page, unsigned int n)
{
	struct ibsp_sample s = smp(t, cpu, node, page, 100);

	for (unsigned int i = 0; i < n; i++)
		ibsp_engine__add(e, &s, 1);
}

#endif
