// SPDX-License-Identifier: MIT
/*
 * Who owns a page (engine/core/threads.h), table-driven: a page's owner
 * vote, a thread's home and its moves, and a page following its owner's
 * move, with the controls where it must not (the thread did not move,
 * thread ids that name CPUs, a shared page, an agreement not yet known).
 *
 *   2s-cxl:   [node0: cpu0-1]--21--[node1: cpu2-3]
 *                  \24                /34
 *                   [node2: CXL, no CPUs]
 */
#include <criterion/criterion.h>

#include "engine_fixtures.h"
#include "engine_internal.h"
#include "threads.h"

/* A page's owner after a run of samples, one thread a letter: +1 its own, -2 another's. */
Test(owner, the_vote_needs_two_thirds)
{
	static const struct {
		const char *tids;
		char want; /* 0: no owner */
	} rows[] = {
		{ "AAAA", 'A' },
		{ "AAA", 0 },			      /* a vote of 3: under OWNER_MIN */
		{ "AAAAB", 0 },			      /* 4 - 2 */
		{ "AAAAAAB", 'A' },		      /* 6 - 2 */
		{ "AABAABAABAABAABAAB", 0 },	      /* two thirds: +1 +1 -2 stays at nothing */
		{ "AAABAAABAAABAAAB", 'A' },	      /* three quarters: +2 a round of four */
		{ "ABABABABABABABAB", 0 },	      /* shared evenly */
		{ "BBAAAA", 'A' },		      /* B's 2 fall to nothing: A from its first */
		{ "AAAAAAAAAAAAAAAAAAAABBBBB", 'A' }, /* saturated at 15: 15 - 10 */
		{ "AAAAAAAAAAAAAAAAAAAABBBBBB", 0 },  /* 15 - 12 */
		{ "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBB", 'B' }, /* A's gone: B from its 7th */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_heat_table *ht = ibsp_heat_table__new(64, 2);
		struct ibsp_heat_entry *he;
		bool is_new;
		uint32_t pos, want;

		cr_assert(ht);
		he = ibsp_heat_table__get(ht, KEY_PFN | 1, &is_new);
		pos = ibsp_heat_table__pos(ht, he);
		cr_expect_eq(ibsp_owner__of(ht, pos), 0, "row %zu: a new page has no owner", r);
		for (const char *c = rows[r].tids; *c; c++)
			ibsp_owner__vote(ht, pos, 1000 + (uint32_t)*c);
		want = rows[r].want ? 1000 + (uint32_t)rows[r].want : 0;
		cr_expect_eq(ibsp_owner__of(ht, pos), want, "row %zu (%s): owner %u, want %u", r,
			     rows[r].tids, ibsp_owner__of(ht, pos), want);
		ibsp_heat_table__delete(ht);
	}
}

/*
 * A thread's home: told at a tick from its samples since (from
 * THREAD_HOME_MIN of them, 7 in 8 from one node); a change of it is a move.
 * Each row: the samples per node in each interval, then the home and the
 * home before it after the last tick, and the moves counted.
 */
Test(owner, a_thread_home_and_its_moves)
{
	static const struct {
		unsigned int per[3][2]; /* [interval][slot]; a row of zeros ends */
		int home, prev;
		unsigned int moves;
	} rows[] = {
		{ { { 7, 0 } }, -1, -1, 0 },		       /* too few yet */
		{ { { 7, 0 }, { 1, 0 } }, 0, -1, 0 },	       /* they add up over intervals */
		{ { { 8, 0 } }, 0, -1, 0 },		       /* the first home is no move */
		{ { { 8, 0 }, { 1, 7 } }, 1, 0, 1 },	       /* 7 in 8 elsewhere: moved */
		{ { { 8, 0 }, { 2, 6 } }, 0, -1, 0 },	       /* 6 in 8: still at home */
		{ { { 8, 0 }, { 2, 6 }, { 0, 8 } }, 1, 0, 1 }, /* then all from node 1 */
		{ { { 8, 0 }, { 0, 8 }, { 8, 0 } }, 0, 1, 2 }, /* and back */
		{ { { 4, 4 } }, -1, -1, 0 },		       /* no node leads: no home */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_thread_table *t = ibsp_thread_table__new(2);
		const struct ibsp_thread *th;

		cr_assert(t);
		for (int i = 0; i < 3 && (rows[r].per[i][0] || rows[r].per[i][1]); i++) {
			for (int s = 0; s < 2; s++)
				for (unsigned int k = 0; k < rows[r].per[i][s]; k++)
					ibsp_thread_table__add(t, 4242, s);
			ibsp_thread_table__tick(t);
		}
		th = ibsp_thread_table__find(t, 4242);
		cr_assert(th, "row %zu", r);
		cr_expect_eq(th->home, rows[r].home, "row %zu: home %d", r, th->home);
		cr_expect_eq(th->prev, rows[r].prev, "row %zu: prev %d", r, th->prev);
		cr_expect_eq(t->moves, rows[r].moves, "row %zu: moves %llu", r,
			     (unsigned long long)t->moves);
		cr_expect_null(ibsp_thread_table__find(t, 4243), "row %zu: another tid", r);
		ibsp_thread_table__delete(t);
	}
}

static struct ibsp_engine *locality_engine(const struct ibsp_topology *t)
{
	struct ibsp_engine_opts o = { .sz = sizeof(o), .simulate = true };
	struct ibsp_engine *e;

	cr_assert_eq(ibsp_policy__find("locality", &o.policy), 0);
	e = ibsp_engine__new(t, &o);
	cr_assert(e);
	return e;
}

/* @n samples of @page (on node @node) by thread @tid of pid 300, from @cpu. */
static void feed_tid(struct ibsp_engine *e, const struct ibsp_topology *t, int cpu, int node,
		     uint64_t page, uint32_t tid, unsigned int n)
{
	struct ibsp_sample s = smp(t, cpu, node, page, 300);

	s.tid = tid;
	for (unsigned int i = 0; i < n; i++)
		ibsp_engine__add(e, &s, 1);
}

/* The thread of a sample from @cpu: 301, or (@per_cpu) one that names the CPU. */
static uint32_t tid_of(bool per_cpu, int cpu)
{
	return per_cpu ? 1000 + (uint32_t)cpu : 301;
}

/*
 * Pages 0-63 sit on node 0, used by thread 301 from CPU 0 (8 samples a page
 * an interval, @settle intervals; @shared: pages 0-3 by 301 and 302 in
 * turn). Then 301 runs on CPU 2 (node 1) and writes pages 8-63 once each
 * (@moved; otherwise a single sample of one of them from there, as a
 * scheduler's blip would give, and the rest from home). The tick tells the
 * thread's new home first, so those 56 pages follow it at once (reason
 * "owner"), or none does. At the next interval page @page gets one sample
 * from there: it follows its owner to node 1 at that interval's tick, or it
 * is not planned. @per_cpu: every sample's thread
 * names its CPU, so no thread moves (each page here is used from one CPU,
 * so its owner agrees with it all the same). A page the engine never moved follows
 * its accessors on its own evidence only after 4 samples net (docs/policy.md
 * step 5): one sample plans nothing without the owner.
 */
Test(owner, a_page_follows_its_owner)
{
	static const struct {
		const char *what;
		unsigned int settle;
		bool moved, per_cpu, shared;
		uint64_t page;
		bool want;
	} rows[] = {
		{ "the owner moved", 3, true, false, false, 4, true },
		{ "a page it did not write since", 3, true, false, false, 5, true },
		{ "the owner did not move", 3, false, false, false, 4, false },
		{ "thread ids name CPUs", 3, true, true, false, 4, false },
		{ "a page two threads share", 3, true, false, true, 2, false },
		{ "the agreement not yet known", 1, true, false, false, 4, false },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = locality_engine(t);
		const struct ibsp_migration *plan;
		const struct ibsp_engine_stats *st;
		long n, want;

		for (unsigned int i = 0; i < rows[r].settle; i++) {
			for (uint64_t p = 0; p < 64; p++) {
				for (unsigned int k = 0; k < 8; k++) {
					uint32_t tid = rows[r].shared && p < 4 && (k & 1)
							   ? 302
							   : tid_of(rows[r].per_cpu, 0);

					feed_tid(e, t, 0, 0, p, tid, 1);
				}
			}
			ibsp_engine__tick(e, 1000 * (i + 1), &plan);
		}
		for (uint64_t p = 8; p < (rows[r].moved ? 64 : 9); p++)
			feed_tid(e, t, 2, 0, p, tid_of(rows[r].per_cpu, 2), 1);
		for (uint64_t p = 16; p < 64 && !rows[r].moved; p++) /* still at home */
			feed_tid(e, t, 0, 0, p, tid_of(rows[r].per_cpu, 0), 1);
		n = ibsp_engine__tick(e, 1000 * (rows[r].settle + 1), &plan);
		want = rows[r].moved && !rows[r].per_cpu && rows[r].settle >= 3 ? 56 : 0;
		cr_expect_eq(n, want, "%s: %ld planned, want %ld", rows[r].what, n, want);
		for (long i = 0; i < n; i++)
			cr_expect(plan[i].dst_node.id == 1 && plan[i].reason == IBSP_REASON_OWNER,
				  "%s: move %ld", rows[r].what, i);
		feed_tid(e, t, 2, 0, rows[r].page, tid_of(rows[r].per_cpu, 2), 1);
		n = ibsp_engine__tick(e, 1000 * (rows[r].settle + 2), &plan);
		st = ibsp_engine__stats(e);
		if (rows[r].settle >= 3)
			cr_expect_float_eq(st->owner_agreement, 1.0, 1e-9, "%s: agreement %f",
					   rows[r].what, st->owner_agreement);
		else
			cr_expect_lt(st->owner_agreement, 0, "%s: agreement %f", rows[r].what,
				     st->owner_agreement);
		cr_expect_eq(st->thread_moves, rows[r].moved && !rows[r].per_cpu, "%s: moves %llu",
			     rows[r].what, (unsigned long long)st->thread_moves);
		cr_expect_eq(n, rows[r].want, "%s: planned %ld", rows[r].what, n);
		if (n == 1) {
			cr_expect_eq(plan[0].vaddr, UVA_BASE + rows[r].page * 4096, "%s",
				     rows[r].what);
			cr_expect_eq(plan[0].dst_node.id, 1, "%s", rows[r].what);
			cr_expect_eq(plan[0].reason, IBSP_REASON_OWNER, "%s: %s", rows[r].what,
				     ibsp_reason__name(plan[0].reason));
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}
