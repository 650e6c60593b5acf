// SPDX-License-Identifier: MIT
/*
 * The policy rules, table-driven: candidates, destination (majority,
 * nearest by weighted SLIT distance, capacity fallback), the baselines,
 * the byte budget with its adaptive threshold, the watermark and the
 * ping-pong guard.
 *
 *   2s-cxl:   [node0: cpu0-1]--21--[node1: cpu2-3]
 *                  \24                /34
 *                   [node2: CXL, no CPUs]
 *
 *   4s-2cxl:  sockets 0-3 (21 apart), node4 off socket 0 (24), node5 off socket 2 (24)
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "engine_fixtures.h"

enum { T2, T4 };

static const struct dest_row {
	const char *name;
	int topo;
	const char *policy;
	bool follow; /* top-tier pages may follow their accessors (else --no-follow) */
	int page_node;
	unsigned int counts[4]; /* samples per socket (CPU 2*socket) */
	int last_cpu;		/* one extra sample from this CPU, last; -1 none */
	unsigned int full;	/* bit mask of nodes with no free memory */
	int want_dst;		/* -1: nothing planned */
	enum ibsp_reason want_reason;
	int want_skip; /* enum ibsp_skip counted, or -1 */
} dest_rows[] = {
	{ "majority to socket 0",
	  T2,
	  "locality",
	  0,
	  2,
	  { 10, 0 },
	  -1,
	  0,
	  0,
	  IBSP_REASON_MAJORITY,
	  -1 },
	{ "70% majority to socket 1",
	  T2,
	  "locality",
	  0,
	  2,
	  { 3, 7 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_MAJORITY,
	  -1 },
	{ "exactly 60% is a majority",
	  T2,
	  "locality",
	  0,
	  2,
	  { 4, 6 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_MAJORITY,
	  -1 },
	{ "55% is not: nearest by weighted distance",
	  T2,
	  "locality",
	  0,
	  2,
	  { 11, 9 },
	  -1,
	  0,
	  0,
	  IBSP_REASON_NEAREST,
	  -1 },
	{ "even split: tie goes to the socket nearer the page (24 < 34)",
	  T2,
	  "locality",
	  0,
	  2,
	  { 5, 5 },
	  -1,
	  0,
	  0,
	  IBSP_REASON_NEAREST,
	  -1 },
	{ "1:1 with 2 samples: too little to choose by distance",
	  T2,
	  "locality",
	  0,
	  2,
	  { 1, 1 },
	  -1,
	  0,
	  -1,
	  0,
	  IBSP_SKIP_UNDECIDED },
	{ "2:1, a lead of one sample: too early to tell, waits",
	  T2,
	  "locality",
	  0,
	  2,
	  { 2, 1 },
	  -1,
	  0,
	  -1,
	  0,
	  IBSP_SKIP_UNDECIDED },
	{ "3:1, a lead of two samples: majority",
	  T2,
	  "locality",
	  0,
	  2,
	  { 1, 3 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_MAJORITY,
	  -1 },
	{ "2:0 on the first two samples: majority",
	  T2,
	  "locality",
	  0,
	  2,
	  { 0, 2 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_MAJORITY,
	  -1 },
	{ "4s: 2:1:0:0 waits as on two sockets",
	  T4,
	  "locality",
	  0,
	  4,
	  { 0, 0, 2, 1 },
	  -1,
	  0,
	  -1,
	  0,
	  IBSP_SKIP_UNDECIDED },
	{ "a remote top-tier page never moved waits at 2:1 too (undecided)",
	  T2,
	  "locality",
	  1,
	  0,
	  { 1, 2 },
	  -1,
	  0,
	  -1,
	  0,
	  IBSP_SKIP_UNDECIDED },
	{ "and follows at 0:4, with leave evidence of 4 samples",
	  T2,
	  "locality",
	  1,
	  0,
	  { 0, 4 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_FOLLOW,
	  -1 },
	{ "4:4 (8 samples, the fallback heat): nearest",
	  T2,
	  "locality",
	  0,
	  2,
	  { 4, 4 },
	  -1,
	  0,
	  0,
	  IBSP_REASON_NEAREST,
	  -1 },
	{ "majority node full: next nearest",
	  T2,
	  "locality",
	  0,
	  2,
	  { 10, 0 },
	  -1,
	  1 << 0,
	  1,
	  IBSP_REASON_CAPACITY_NEXT,
	  -1 },
	{ "both sockets full: skipped",
	  T2,
	  "locality",
	  0,
	  2,
	  { 10, 0 },
	  -1,
	  3,
	  -1,
	  0,
	  IBSP_SKIP_CAPACITY },
	{ "with --no-follow a top-tier page stays",
	  T2,
	  "locality",
	  0,
	  0,
	  { 0, 10 },
	  -1,
	  0,
	  -1,
	  0,
	  -1 },
	{ "a remote top-tier page follows its majority",
	  T2,
	  "locality",
	  1,
	  0,
	  { 0, 10 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_FOLLOW,
	  -1 },
	{ "a shared top-tier page stays",
	  T2,
	  "locality",
	  1,
	  1,
	  { 5, 5 },
	  -1,
	  0,
	  -1,
	  0,
	  IBSP_SKIP_NO_MAJORITY },
	{ "one sample decays below the threshold",
	  T2,
	  "locality",
	  0,
	  2,
	  { 1, 0 },
	  -1,
	  0,
	  -1,
	  0,
	  IBSP_SKIP_BELOW_THRESHOLD },
	{ "4s: majority to socket 2",
	  T4,
	  "locality",
	  0,
	  4,
	  { 0, 0, 10, 0 },
	  -1,
	  0,
	  2,
	  IBSP_REASON_MAJORITY,
	  -1 },
	{ "4s: split 0/2, tie goes to socket 2 (near node5)",
	  T4,
	  "locality",
	  0,
	  5,
	  { 5, 0, 5, 0 },
	  -1,
	  0,
	  2,
	  IBSP_REASON_NEAREST,
	  -1 },
	{ "4s: split four ways from node4: socket 0",
	  T4,
	  "locality",
	  0,
	  4,
	  { 3, 3, 3, 3 },
	  -1,
	  0,
	  0,
	  IBSP_REASON_NEAREST,
	  -1 },
	{ "4s: 1/2/3 majority 3 (50%) is not: nearest",
	  T4,
	  "locality",
	  0,
	  4,
	  { 0, 2, 3, 5 },
	  -1,
	  0,
	  3,
	  IBSP_REASON_NEAREST,
	  -1 },
	{ "last-accessor follows the last CPU",
	  T2,
	  "last-accessor",
	  0,
	  2,
	  { 10, 0 },
	  2,
	  0,
	  1,
	  IBSP_REASON_LAST_ACCESSOR,
	  -1 },
	{ "last-accessor moves top-tier pages too",
	  T2,
	  "last-accessor",
	  0,
	  0,
	  { 0, 10 },
	  -1,
	  0,
	  1,
	  IBSP_REASON_LAST_ACCESSOR,
	  -1 },
	{ "last-accessor does not fall back",
	  T2,
	  "last-accessor",
	  0,
	  2,
	  { 0, 10 },
	  -1,
	  1 << 1,
	  -1,
	  0,
	  IBSP_SKIP_CAPACITY },
	{ "fixed-node:0 ignores the accessors",
	  T2,
	  "fixed-node:0",
	  0,
	  2,
	  { 0, 10 },
	  -1,
	  0,
	  0,
	  IBSP_REASON_FIXED,
	  -1 },
	{ "fixed-node:0 full: skipped",
	  T2,
	  "fixed-node:0",
	  0,
	  2,
	  { 0, 10 },
	  -1,
	  1,
	  -1,
	  0,
	  IBSP_SKIP_CAPACITY },
	{ "fixed-node leaves top-tier pages",
	  T2,
	  "fixed-node:1",
	  0,
	  0,
	  { 0, 10 },
	  -1,
	  0,
	  -1,
	  0,
	  -1 },
	{ "none plans nothing", T2, "none", 0, 2, { 10, 0 }, -1, 0, -1, 0, -1 },
};

static struct ibsp_engine *engine_for(const struct ibsp_topology *t, const char *policy,
				      bool follow)
{
	struct ibsp_engine_opts o = { .sz = sizeof(o), .no_follow = !follow, .simulate = true };
	struct ibsp_engine *e;

	cr_assert_eq(ibsp_policy__find(policy, &o.policy), 0, "%s", policy);
	e = ibsp_engine__new(t, &o);
	cr_assert(e, "engine for %s", policy);
	return e;
}

Test(policy, destination_table)
{
	for (size_t r = 0; r < sizeof(dest_rows) / sizeof(dest_rows[0]); r++) {
		const struct dest_row *w = &dest_rows[r];
		struct ibsp_topology *t = w->topo == T2 ? topo_2s_cxl() : topo_4s_2cxl();
		struct ibsp_engine *e = engine_for(t, w->policy, w->follow);
		const struct ibsp_migration *plan;
		long n;

		for (int s = 0; s < 4; s++)
			feed(e, t, 2 * s, w->page_node, 7, w->counts[s]);
		if (w->last_cpu >= 0)
			feed(e, t, w->last_cpu, w->page_node, 7, 1);
		for (int node = 0; node < 6; node++) {
			if (w->full & (1u << node))
				cr_assert_eq(ibsp_engine__set_free(e, node_at(t, node), 0), 0);
		}
		n = ibsp_engine__tick(e, 1000, &plan);
		if (w->want_dst < 0) {
			cr_expect_eq(n, 0, "%s: planned %ld", w->name, n);
		} else {
			cr_assert_eq(n, 1, "%s: planned %ld", w->name, n);
			cr_expect_eq(plan[0].dst_node.id, w->want_dst, "%s: dst %d", w->name,
				     plan[0].dst_node.id);
			cr_expect_eq(plan[0].src_node.id, w->page_node, "%s", w->name);
			cr_expect_eq(plan[0].reason, w->want_reason, "%s: reason %s", w->name,
				     ibsp_reason__name(plan[0].reason));
			cr_expect_eq(plan[0].bytes, 4096u, "%s", w->name);
			cr_expect_eq(plan[0].pid, 100u, "%s", w->name);
			cr_expect_eq(plan[0].vaddr, UVA_BASE + 7 * 4096, "%s", w->name);
			cr_expect(plan[0].has_pfn, "%s", w->name);
			cr_expect_eq(plan[0].pfn, (topo_node_base(t, w->page_node) >> 12) + 7, "%s",
				     w->name);
		}
		if (w->want_skip >= 0)
			cr_expect_eq(ibsp_engine__stats(e)->skips[w->want_skip], 1, "%s: %s skips",
				     w->name, ibsp_skip__name((enum ibsp_skip)w->want_skip));
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * The fallback for a page with no majority counts samples, not decayed
 * heat: at one sample a socket each interval the decayed total tends to 8
 * (2 x 4 with decay 3/4) and never reaches the default fallback of 8, so
 * such a page stayed in slow memory for good. With 8 samples seen (the 4th
 * interval) it goes to the nearest node; 2 x 2 each interval (fallback 8
 * reached in the 2nd) goes one interval after its 8th sample at most.
 */
Test(policy, fallback_counts_samples_not_decayed_heat)
{
	static const struct {
		unsigned int per_socket; /* samples from each socket, every interval */
		int want_tick;		 /* the tick that plans the page */
	} rows[] = { { 1, 4 }, { 2, 2 }, { 3, 2 } };

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		int planned_at = -1;

		for (int k = 1; k <= 12 && planned_at < 0; k++) {
			long n;

			feed(e, t, 0, 2, 7, rows[r].per_socket);
			feed(e, t, 2, 2, 7, rows[r].per_socket);
			n = ibsp_engine__tick(e, 1000ULL * (uint64_t)k, &plan);
			if (n) {
				cr_assert_eq(n, 1);
				cr_expect_eq(plan[0].reason, IBSP_REASON_NEAREST, "row %zu", r);
				cr_expect_eq(plan[0].dst_node.id, 0, "row %zu: 24 < 34", r);
				planned_at = k;
			}
		}
		cr_expect_eq(planned_at, rows[r].want_tick, "row %zu: planned at tick %d", r,
			     planned_at);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/* Row @r planned @n moves: none when @want_dst < 0, else one, a follow to @want_dst. */
static void expect_follow(size_t r, long n, const struct ibsp_migration *plan, int want_dst)
{
	if (want_dst < 0) {
		cr_expect_eq(n, 0, "row %zu: planned %ld", r, n);
		return;
	}
	cr_assert_eq(n, 1, "row %zu: planned %ld", r, n);
	cr_expect_eq(plan[0].dst_node.id, want_dst, "row %zu", r);
	cr_expect_eq(plan[0].reason, IBSP_REASON_FOLLOW, "row %zu", r);
}

/*
 * Confidence for a page already on a socket that the engine never moved (the
 * kernel or the application put it there): it follows its accessors on the
 * evidence a first promotion needs, the new node holding min_share of the
 * heat and leading the others by 1.5 samples, with at least min_heat samples
 * in all, and leave evidence of 8 half steps (+2 a sample from the other
 * socket, -6 one from its own: here socket 0's samples come first). No
 * z-score and no gain: those are for a page the engine moved
 * (a_moved_page_needs_more_to_move_again). One interval's samples each.
 */
Test(policy, follow_needs_clear_evidence)
{
	static const struct {
		unsigned int on0, on1; /* samples from socket 0 and socket 1; page on node 0 */
		int want_dst;
		int want_skip;
	} rows[] = {
		{ 0, 10, 1, -1 },
		{ 0, 4, 1, -1 },		   /* 0:4, leave evidence 8 */
		{ 0, 3, -1, IBSP_SKIP_UNDECIDED }, /* 0:3 leads, but leave evidence 6 */
		{ 0, 1, -1, -1 },		   /* one sample: below min_heat, not a candidate */
		{ 1, 2, -1, IBSP_SKIP_UNDECIDED }, /* 67% but a lead of 1 sample */
		{ 1, 4, 1, -1 },		   /* 80%, a lead of 3 */
		{ 3, 9, 1, -1 },		   /* 75% */
		{ 4, 6, 1, -1 },		   /* 60% is a majority, a lead of 2 */
		{ 5, 5, -1, -1 },		   /* a tie goes to the node it is on */
		{ 3, 4, -1, IBSP_SKIP_NO_MAJORITY }, /* 57% */
		{ 4, 5, -1, IBSP_SKIP_NO_MAJORITY }, /* 56% */
		{ 10, 0, -1, -1 },		     /* already home */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		long n;

		feed(e, t, 0, 0, 7, rows[r].on0);
		feed(e, t, 2, 0, 7, rows[r].on1);
		n = ibsp_engine__tick(e, 1000, &plan);
		expect_follow(r, n, plan, rows[r].want_dst);
		if (rows[r].want_skip >= 0)
			cr_expect_eq(ibsp_engine__stats(e)->skips[rows[r].want_skip], 1,
				     "row %zu: %s skips", r,
				     ibsp_skip__name((enum ibsp_skip)rows[r].want_skip));
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * A page the engine moved needs more (z >= 3.5) to move again, and one it
 * placed as shared (nearest) twice that; or, instead of the z-score, the
 * leave CUSUM (+1 a sample from socket 1, -3 one from socket 0) at 18 steps,
 * 36 for a page placed as shared. A page promoted to socket 0, then used
 * from socket 1 (and maybe still from socket 0), with the ping-pong window
 * over.
 */
Test(policy, a_moved_page_needs_more_to_move_again)
{
	static const struct {
		unsigned int shared; /* 1: first placed with no majority (nearest) */
		unsigned int later1; /* samples from socket 1 per interval afterwards */
		unsigned int later0; /* and from socket 0, after those */
		bool want_follow;
	} rows[] = {
		{ 0, 3, 0, true },    /* the CUSUM gets to 18 (z stays at 3.46) */
		{ 0, 38, 23, true },  /* 62% from socket 1: z reaches 3.5 in interval 9 (heat
					 152:92 at most, z 3.84); the slow walk gains 7 an
					 interval, the fast one ends each at 0 */
		{ 0, 29, 18, false }, /* 62%, fewer: z stays below 3.21 (enough for a page
					 never moved, not for a moved one); the slow walk
					 gains 4 an interval, 80 by interval 21 */
		{ 0, 1, 0, true },    /* 1 sample/interval: z never gets to 3, but the CUSUM
				       reaches 18 and socket 1's heat 2 x min_heat */
		{ 0, 1, 1, false },   /* the CUSUM drifts +1 -3 an interval: never */
		{ 0, 3, 1, false },   /* z = 2 and the CUSUM drifts +3 -3 = 0 an interval */
		{ 1, 3, 0, true },    /* placed as shared: z stays < 6, the CUSUM gets to 36 */
		{ 1, 3, 1, false },   /* shared and still used from socket 0: neither */
		{ 1, 12, 0, true },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		bool followed = false;
		long n;

		/* Interval 1: promoted from CXL, by majority or as shared. */
		feed(e, t, 0, 2, 7, rows[r].shared ? 8 : 6);
		feed(e, t, 2, 2, 7, rows[r].shared ? 8 : 0);
		n = ibsp_engine__tick(e, 1000, &plan);
		cr_assert_eq(n, 1, "row %zu: first move", r);
		cr_assert_eq(plan[0].reason,
			     rows[r].shared ? IBSP_REASON_NEAREST : IBSP_REASON_MAJORITY);
		cr_assert_eq(plan[0].dst_node.id, 0);
		/* Then socket 1 only, for the ping-pong window and 10 intervals more. */
		for (int k = 2; k <= 21 && !followed; k++) {
			feed(e, t, 2, 2, 7, rows[r].later1);
			feed(e, t, 0, 2, 7, rows[r].later0);
			n = ibsp_engine__tick(e, (uint64_t)k * 1000, &plan);
			if (n)
				cr_assert_geq(k, 11, "row %zu: moved within the ping-pong window",
					      r);
			followed = n == 1 && plan[0].dst_node.id == 1 &&
				   plan[0].reason == IBSP_REASON_FOLLOW;
			if (n)
				cr_assert(followed, "row %zu: unexpected move", r);
		}
		cr_expect_eq(followed, rows[r].want_follow, "row %zu", r);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * The leave CUSUM does not wait for the decayed heat to turn: a page on socket
 * 0, used 20 times an interval from there for three intervals, then 20 times
 * from another socket only. The CUSUM reaches 18 within that interval, while
 * socket 0 still holds most of the decayed heat (35 samples against 20): the
 * page follows at once to the one node its users went to, but not when three
 * other sockets share it evenly (none holds 60% of the heat outside socket 0).
 */
Test(policy, the_cusum_follows_before_the_heat_turns)
{
	static const struct {
		int topo;
		unsigned int after[4]; /* samples per socket in interval 4 */
		int want_dst;	       /* -1: stays */
	} rows[] = {
		{ T2, { 0, 20 }, 1 },
		{ T4, { 0, 0, 20, 0 }, 2 },
		{ T4, { 0, 7, 7, 7 }, -1 },
		{ T2, { 0, 17 }, 1 }, /* 17 steps: enough after a run of 60 own samples (7 do) */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = rows[r].topo == T2 ? topo_2s_cxl() : topo_4s_2cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		long n;

		for (int k = 1; k <= 3; k++) {
			feed(e, t, 0, 0, 7, 20);
			cr_assert_eq(ibsp_engine__tick(e, (uint64_t)k * 1000, &plan), 0);
		}
		for (int sock = 1; sock < 4; sock++)
			feed(e, t, 2 * sock, 0, 7, rows[r].after[sock]);
		n = ibsp_engine__tick(e, 4000, &plan);
		expect_follow(r, n, plan, rows[r].want_dst);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * A page that had shown itself private before an excursion (pg->stay: +1 a
 * sample from its own node, -3 for each sample of an excursion that came
 * back, at most 15) needs less leave evidence: two half steps a step, less
 * 8, off the 36 (never below 8). A page promoted to socket 0; past the
 * ping-pong window, 20 samples from socket 0 (its heat there, so the z-score
 * does not decide), then 5 from socket 1 and 2 from socket 0 (an excursion
 * that came back: the evidence falls to 0), then @run from socket 0 and, with
 * @blip, one from socket 1 and one from socket 0 (3 steps less); in the next
 * interval @after from socket 1. A page placed as shared gets no credit.
 */
Test(policy, a_run_of_own_samples_shortens_the_follow)
{
	static const struct {
		unsigned int shared, run, blip, after;
		bool want_follow;
	} rows[] = {
		{ 0, 0, 0, 17, false }, /* no evidence: 34 < 36 */
		{ 0, 0, 0, 18, true },
		{ 0, 4, 0, 17, false }, /* 4 samples: 8 half steps, all margin */
		{ 0, 8, 0, 14, true },	/* 36 - (16 - 8) = 28: 14 samples */
		{ 0, 8, 0, 13, false },
		{ 0, 15, 0, 7, true }, /* 36 - 22 = 14 */
		{ 0, 15, 0, 6, false },
		{ 0, 40, 0, 7, true }, /* the run saturates at 15 */
		{ 0, 40, 0, 6, false },
		{ 0, 40, 1, 7, false }, /* the excursion came back: 12, 36 - 16 = 20 */
		{ 0, 40, 1, 10, true },
		{ 1, 40, 0, 17, false }, /* placed as shared: 72 half steps */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		long n;

		feed(e, t, 0, 2, 7, rows[r].shared ? 8 : 6);
		feed(e, t, 2, 2, 7, rows[r].shared ? 8 : 0);
		cr_assert_eq(ibsp_engine__tick(e, 1000, &plan), 1, "row %zu: first move", r);
		cr_assert_eq(plan[0].dst_node.id, 0);
		for (int k = 2; k <= 10; k++)
			cr_assert_eq(ibsp_engine__tick(e, (uint64_t)k * 1000, &plan), 0);
		feed(e, t, 0, 2, 7, 20);
		feed(e, t, 2, 2, 7, 5);
		feed(e, t, 0, 2, 7, 2 + rows[r].run);
		if (rows[r].blip) {
			feed(e, t, 2, 2, 7, 1);
			feed(e, t, 0, 2, 7, 1);
		}
		cr_assert_eq(ibsp_engine__tick(e, 11000, &plan), 0, "row %zu", r);
		feed(e, t, 2, 2, 7, rows[r].after);
		n = ibsp_engine__tick(e, 12000, &plan);
		expect_follow(r, n, plan, rows[r].want_follow ? 1 : -1);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * The slow CUSUM (pg->drift: +2 a sample from socket 1, -3 one from socket 0,
 * 84 steps) moves a page whose users are mostly, but not 90%, elsewhere. A
 * page promoted to socket 0 by its first samples, then used @in1 times an
 * interval from socket 1 and @in0 times from socket 0, interleaved (its
 * samples keep their CXL address: the replay moved it). The fast
 * CUSUM (90% against 50/50) drifts down on all of these, and the decayed heat
 * never shows 7:3 at z >= 3 (about 28 against 12: z = 2.5), so before the
 * slow walk the 70/30 page never left socket 0. 60/40 has no drift up, and
 * 50/50 drifts down: both stay for 60 intervals.
 */
Test(policy, the_slow_cusum_moves_a_70_30_page)
{
	static const struct {
		unsigned int in1, in0;
		int want_from, want_to; /* the interval range it follows in; 0: never */
	} rows[] = {
		{ 7, 3, 18, 18 }, /* +5 an interval from interval 2: 84 steps in the 18th */
		{ 8, 2, 11, 11 }, /* both walks are past their thresholds when the
				     ping-pong window ends */
		{ 6, 4, 0, 0 },
		{ 5, 5, 0, 0 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		int followed = 0;

		feed(e, t, 0, 2, 7, 6);
		cr_assert_eq(ibsp_engine__tick(e, 1000, &plan), 1, "row %zu: first move", r);
		cr_assert_eq(plan[0].dst_node.id, 0);
		for (int k = 2; k <= 61 && !followed; k++) {
			unsigned int n1 = 0, n0 = 0;
			long n;

			/* Spread socket 0's samples evenly among socket 1's. */
			while (n1 + n0 < rows[r].in1 + rows[r].in0) {
				bool own =
				    n0 * (rows[r].in1 + rows[r].in0) < (n1 + n0 + 1) * rows[r].in0;

				feed(e, t, own ? 0 : 2, 2, 7, 1);
				*(own ? &n0 : &n1) += 1;
			}
			n = ibsp_engine__tick(e, (uint64_t)k * 1000, &plan);
			if (n) {
				cr_assert_eq(n, 1, "row %zu", r);
				cr_expect_eq(plan[0].dst_node.id, 1, "row %zu", r);
				cr_expect_eq(plan[0].reason, IBSP_REASON_FOLLOW, "row %zu", r);
				followed = k;
			}
		}
		if (rows[r].want_from) {
			cr_expect_geq(followed, rows[r].want_from, "row %zu: followed in %d", r,
				      followed);
			cr_expect_leq(followed, rows[r].want_to, "row %zu: followed in %d", r,
				      followed);
		} else {
			cr_expect_eq(followed, 0, "row %zu: followed in %d", r, followed);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * Demotion: socket 0 is full (free memory at its watermark). A page on it
 * goes to the CXL node so that a hot CXL page used by socket 0 can come in,
 * when it is cold (no sample for demote_idle_intervals) or the newcomer has
 * at least 4 times its heat; with --no-demote, or when the page there is
 * still warm, the hot page goes to the next node instead (capacity_next).
 * No node ends below its watermark.
 */
Test(policy, demotion_makes_room)
{
	static const struct {
		bool no_demote;
		unsigned int idle;   /* intervals the page on socket 0 has had no sample */
		unsigned int warmth; /* its samples before that (the newcomer has 10) */
		int want_n;
		int want_first_dst, want_first_reason;
	} rows[] = {
		{ false, 4, 30, 2, 2, IBSP_REASON_DEMOTE },	   /* cold */
		{ false, 8, 30, 2, 2, IBSP_REASON_DEMOTE },	   /* cold */
		{ false, 1, 1, 2, 2, IBSP_REASON_DEMOTE },	   /* 12 vs 160: 4x colder */
		{ false, 3, 30, 1, 1, IBSP_REASON_CAPACITY_NEXT }, /* 202 vs 160: warm */
		{ true, 4, 30, 1, 1, IBSP_REASON_CAPACITY_NEXT },  /* --no-demote */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .policy = policy_of("locality"),
					      .no_demote = rows[r].no_demote,
					      .simulate = true };
		struct ibsp_engine *e = ibsp_engine__new(t, &o);
		const struct ibsp_migration *plan;
		uint64_t k = 1;
		long n;

		cr_assert(e);
		/* The page already there: page 3 on socket 0, used by socket 0 once. */
		feed(e, t, 0, 0, 3, rows[r].warmth);
		cr_assert_eq(ibsp_engine__tick(e, k++ * 1000, &plan), 0);
		for (unsigned int i = 1; i < rows[r].idle; i++)
			cr_assert_eq(ibsp_engine__tick(e, k++ * 1000, &plan), 0);
		cr_assert_eq(ibsp_engine__set_free(e, node_at(t, 0),
						   ibsp_engine__watermark_bytes(e, node_at(t, 0))),
			     0);
		/* The hot page: page 9 on CXL, used by socket 0. */
		feed(e, t, 0, 2, 9, 10);
		n = ibsp_engine__tick(e, k * 1000, &plan);
		cr_assert_eq(n, rows[r].want_n, "row %zu: planned %ld", r, n);
		cr_expect_eq(plan[0].dst_node.id, rows[r].want_first_dst, "row %zu", r);
		cr_expect_eq(plan[0].reason, rows[r].want_first_reason, "row %zu: %s", r,
			     ibsp_reason__name(plan[0].reason));
		if (n == 2) {
			cr_expect_eq(plan[0].src_node.id, 0, "row %zu", r);
			cr_expect_eq(plan[0].vaddr, UVA_BASE + 3 * 4096, "row %zu", r);
			cr_expect_eq(plan[1].dst_node.id, 0, "row %zu", r);
			cr_expect_eq(plan[1].reason, IBSP_REASON_MAJORITY, "row %zu", r);
			cr_expect_eq(ibsp_engine__stats(e)->demoted, 1, "row %zu", r);
		}
		for (int node = 0; node < 3; node++)
			cr_expect_geq(ibsp_engine__free_bytes(e, node_at(t, node)),
				      ibsp_engine__watermark_bytes(e, node_at(t, node)),
				      "row %zu: node %d", r, node);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

Test(policy, parse_names)
{
	static const struct {
		const char *text;
		int ret;
		const struct ibsp_policy_ops *kind;
		int node;
	} rows[] = {
		{ "locality", 0, &ibsp_policy_locality, -1 },
		{ "last-accessor", 0, &ibsp_policy_last_accessor, -1 },
		{ "fixed-node:3", 0, &ibsp_policy_fixed_node, 3 },
		{ "none", 0, &ibsp_policy_none, -1 },
		{ "fixed-node:", -EINVAL, NULL, -1 },
		{ "fixed-node:-1", -EINVAL, NULL, -1 },
		{ "fixed-node:2x", -EINVAL, NULL, -1 },
		{ "Locality", -EINVAL, NULL, -1 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_policy p = { 0 };
		char buf[32];

		cr_expect_eq(ibsp_policy__find(rows[i].text, &p), rows[i].ret, "%s", rows[i].text);
		if (rows[i].ret)
			continue;
		cr_expect_eq(p.ops, rows[i].kind, "%s", rows[i].text);
		cr_expect_eq(p.arg, rows[i].node, "%s", rows[i].text);
		cr_expect_str_eq(ibsp_policy__name(&p, buf, sizeof(buf)), rows[i].text);
	}
}

Test(policy, fixed_node_must_exist)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = { &ibsp_policy_fixed_node, 7 } };

	log_capture_start();
	cr_expect_null(ibsp_engine__new(t, &o));
	/* EDOM: the option is wrong, not the topology (the command exits 2, issue 13) */
	cr_expect_eq(errno, EDOM);
	cr_expect(strstr(log_captured(), "node 7"), "%s", log_captured());
	ibsp_topology__delete(t);
}

/*
 * Budget: 100 pages on CXL, page i sampled i+4 times per interval, a budget of 10 pages
 * per interval. Each interval plans exactly the 10 hottest remaining pages
 * and never more bytes than the budget.
 */
Test(policy, budget_hottest_first)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("locality"),
				      .rate_bytes_per_s = 10 * 4096,
				      .interval_ms = 1000,
				      .simulate = true };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;
	bool moved[100] = { 0 };
	uint64_t total = 0;

	cr_assert(e);
	for (int tick = 0; tick < 12; tick++) {
		long n;

		for (int p = 0; p < 100; p++) {
			if (!moved[p])
				feed(e, t, 0, 2, (uint64_t)p, (unsigned int)p + 4);
		}
		n = ibsp_engine__tick(e, (uint64_t)tick * 1000000000, &plan);
		cr_assert_leq(ibsp_engine__stats(e)->interval_planned_bytes, 10 * 4096);
		cr_assert_eq(ibsp_engine__stats(e)->interval_budget_bytes, 10 * 4096);
		if (tick < 10)
			cr_assert_eq(n, 10, "tick %d planned %ld", tick, n);
		for (long i = 0; i < n; i++) {
			int page = (int)((plan[i].vaddr - UVA_BASE) / 4096);

			/* Hottest first: the pages 99-10k ... 90-10k of tick k. */
			cr_expect_eq(page, 99 - 10 * tick - i, "tick %d slot %ld: page %d", tick, i,
				     page);
			moved[page] = true;
			total++;
		}
	}
	cr_expect_eq(total, 100);
	cr_expect_gt(ibsp_engine__stats(e)->skips[IBSP_SKIP_BELOW_THRESHOLD], 0,
		     "the adaptive threshold held pages back");
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/* A 2 MiB entry that does not fit the budget is skipped; 4 KiB pages behind it go. */
Test(policy, budget_skips_what_does_not_fit)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("locality"),
				      .rate_bytes_per_s = 1 << 20 };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	struct ibsp_sample huge = smp(t, 0, 2, 512 * 9, 100);
	const struct ibsp_migration *plan;
	long n;

	cr_assert(e);
	huge.page_shift = 21;
	for (int i = 0; i < 50; i++)
		ibsp_engine__add(e, &huge, 1);
	for (int p = 0; p < 4; p++)
		feed(e, t, 2, 2, (uint64_t)p, 10);
	n = ibsp_engine__tick(e, 1, &plan);
	cr_assert_eq(n, 4);
	for (long i = 0; i < n; i++) {
		cr_expect_eq(plan[i].bytes, 4096u);
		cr_expect_eq(plan[i].dst_node.id, 1);
	}
	cr_expect_eq(ibsp_engine__stats(e)->skips[IBSP_SKIP_BUDGET], 1);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * The budget goes by worth, heat per byte (tick_internal.h's cand_worth()):
 * a 2 MiB page costs what 512 pages of 4 KiB cost. Each row: the budget in
 * KiB, the samples of one 2 MiB page and of four 4 KiB pages (all from
 * socket 0, on CXL), and what the tick plans, in order ('H' the 2 MiB page,
 * 's' a 4 KiB one).
 */
Test(policy, budget_by_worth)
{
	static const struct {
		uint32_t budget_kib, huge, small;
		const char *want;
	} rows[] = {
		{ 2048, 200, 10, "ssss" },  /* 200 / 512 a 4 KiB of it: the small ones first */
		{ 4096, 200, 10, "ssssH" }, /* room for all: still the small ones first */
		{ 2048, 4000, 5, "H" }, /* 4000 / 512 = 7.8 > 5: the 2 MiB one, and no room left */
		{ 2064, 4000, 5, "Hssss" }, /* ... then the small ones */
		{ 2048, 200, 0, "H" },	    /* nothing else */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .policy = policy_of("locality"),
					      .rate_bytes_per_s = (uint64_t)rows[r].budget_kib
								  << 10,
					      .interval_ms = 1000,
					      .simulate = true };
		struct ibsp_engine *e = ibsp_engine__new(t, &o);
		struct ibsp_sample huge = smp(t, 0, 2, 512 * 9, 100);
		const struct ibsp_migration *plan;
		char got[8] = { 0 };
		long n;

		cr_assert(e);
		huge.page_shift = 21;
		for (uint32_t i = 0; i < rows[r].huge; i++)
			ibsp_engine__add(e, &huge, 1);
		for (int p = 0; p < 4 && rows[r].small; p++)
			feed(e, t, 0, 2, (uint64_t)p, rows[r].small);
		n = ibsp_engine__tick(e, 1, &plan);
		for (long i = 0; i < n && i < 7; i++) {
			got[i] = plan[i].bytes == 4096 ? 's' : 'H';
			cr_expect_eq(plan[i].dst_node.id, 0, "row %zu, move %ld", r, i);
		}
		cr_expect_str_eq(got, rows[r].want, "row %zu: planned %s, want %s", r, got,
				 rows[r].want);
		cr_expect_leq(ibsp_engine__stats(e)->interval_planned_bytes,
			      (uint64_t)rows[r].budget_kib << 10, "row %zu", r);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/* Destinations never go below their watermark; the rest go to the next nearest. */
Test(policy, watermark)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("locality"),
				      .watermark_bp = 500 };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;
	struct ibsp_node_idx node0 = node_at(t, 0);
	uint64_t wmark;
	int to0 = 0, to1 = 0;
	long n;

	cr_assert(e);
	wmark = ibsp_engine__watermark_bytes(e, node0);
	cr_assert_eq(wmark, (16ULL << 30) / 10000 * 500);
	cr_assert_eq(ibsp_engine__set_free(e, node0, wmark + 5 * 4096 + 100), 0);
	for (int p = 0; p < 20; p++)
		feed(e, t, 1, 2, (uint64_t)p, 10);
	n = ibsp_engine__tick(e, 1, &plan);
	cr_assert_eq(n, 20);
	for (long i = 0; i < n; i++) {
		to0 += plan[i].dst_node.id == 0;
		to1 += plan[i].dst_node.id == 1;
		if (plan[i].dst_node.id == 1)
			cr_expect_eq(plan[i].reason, IBSP_REASON_CAPACITY_NEXT);
	}
	cr_expect_eq(to0, 5);
	cr_expect_eq(to1, 15);
	cr_expect_geq(ibsp_engine__free_bytes(e, node0), wmark);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * Stationary pattern for 40 intervals: 50 pages private to socket 0, 50 to
 * socket 1 and 50 shared evenly (accessed alternately, so the last accessor
 * flips). Locality moves each page once and never back: ping-pong 0.
 * Last-accessor bounces the shared pages whenever its guard allows.
 */
static void stationary(struct ibsp_engine *e, const struct ibsp_topology *t)
{
	const struct ibsp_migration *plan;

	for (int tick = 0; tick < 40; tick++) {
		for (int p = 0; p < 150; p++) {
			int cls = p / 50;

			for (int k = 0; k < 4; k++) {
				int cpu = cls == 0 ? 0 : cls == 1 ? 2 : ((k + tick + p) & 1) * 2;

				feed(e, t, cpu, 2, (uint64_t)p, 1);
			}
		}
		cr_assert_geq(ibsp_engine__tick(e, (uint64_t)tick, &plan), 0);
	}
}

Test(policy, no_pingpong_when_stationary)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine *loc = engine_for(t, "locality", false);
	struct ibsp_engine *last = engine_for(t, "last-accessor", false);
	const struct ibsp_engine_stats *sl, *sa;

	stationary(loc, t);
	stationary(last, t);
	sl = ibsp_engine__stats(loc);
	sa = ibsp_engine__stats(last);
	cr_expect_eq(sl->pingpong, 0);
	cr_expect_eq(sl->planned, 150, "each page once: %llu", (unsigned long long)sl->planned);
	cr_expect_gt(sa->pingpong, 0, "last-accessor bounces shared pages");
	cr_expect_gt(sa->planned, 150);
	cr_expect_gt(sa->skips[IBSP_SKIP_PINGPONG], 0, "its guard held some back");
	ibsp_engine__delete(loc);
	ibsp_engine__delete(last);
	ibsp_topology__delete(t);
}

/* The guard: a page moved in interval i is not moved again before i + N. */
Test(policy, pingpong_guard_window)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("last-accessor"),
				      .pingpong_intervals = 5,
				      .simulate = true };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;
	int moves_at[16], nr = 0;

	cr_assert(e);
	for (int tick = 1; tick <= 16; tick++) {
		/* The accessor flips every interval. */
		feed(e, t, (tick & 1) * 2, 2, 3, 8);
		if (ibsp_engine__tick(e, (uint64_t)tick, &plan) == 1)
			moves_at[nr++] = tick;
	}
	cr_assert_eq(nr, 4, "moves: %d", nr);
	for (int i = 1; i < nr; i++)
		cr_expect_geq(moves_at[i] - moves_at[i - 1], 5, "moves %d and %d", moves_at[i - 1],
			      moves_at[i]);
	/* 2->1, 1->0, 0->1 (back: ping-pong), 1->0 (back again). */
	cr_expect_eq(ibsp_engine__stats(e)->pingpong, 2);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * Live: a move that takes longer than the guard (a slow or rate-limited
 * worker) is not planned again while it is under way, though the page's
 * samples (faults taken before the move) still show the old node; once it
 * is reported, the page is planned as usual.
 */
Test(policy, a_move_under_way_is_not_planned_again)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("locality"),
				      .pingpong_intervals = 2,
				      .min_heat = 1 };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;
	struct ibsp_migration first;
	long n;

	cr_assert(e);
	feed(e, t, 0, 2, 7, 4);
	cr_assert_eq(ibsp_engine__tick(e, 1, &plan), 1);
	first = plan[0];
	cr_expect_eq(first.dst_node.id, 0);
	for (int tick = 2; tick < 12; tick++) {
		feed(e, t, 0, 2, 7, 4); /* the page is still on node 2: its move is queued */
		n = ibsp_engine__tick(e, (uint64_t)tick, &plan);
		cr_expect_eq(n, 0, "tick %d: planned again while the first move is under way",
			     tick);
	}
	/* The move fails (e.g. EBUSY): the page is on node 2 and may be planned again. */
	ibsp_engine__complete(e, &first, ibsp_node_id(-EBUSY));
	feed(e, t, 0, 2, 7, 4);
	cr_expect_eq(ibsp_engine__tick(e, 12, &plan), 1, "planned again once reported");
	first = plan[0];
	/* This time it moves: its old frame's entry goes, so a late sample of that frame (a
	 * fault taken before the move) starts afresh, below the threshold after one decay,
	 * instead of putting the page back on node 2 with the heat it had. */
	ibsp_engine__complete(e, &first, first.dst_node);
	feed(e, t, 0, 2, 7, 1);
	for (int tick = 13; tick < 20; tick++)
		cr_expect_eq(ibsp_engine__tick(e, (uint64_t)tick, &plan), 0,
			     "tick %d: a moved page planned again from its old frame", tick);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * A page on CXL sampled every third interval from socket 0 never has the
 * decayed heat of the floor (1 + 0.75^3 + 0.75^6 = 1.6 samples < 2). While
 * every top-tier node has room it is a candidate on its samples since it came
 * (min_heat of them), and promoted once its majority leads by 1.5 (the third
 * sample); when a top-tier node is short of room (less free above the
 * watermark than an interval's budget) the floor applies, and it waits.
 * The engine with demotion (locality) and without (last-accessor) alike.
 * A page on socket 0 that the engine never moved, sampled as sparsely from
 * socket 1, follows on its leave evidence (IBSP_FIRST_MOVE_LEAVE: the fourth
 * sample) though its heat stays below the floor.
 */
Test(policy, sparse_pages_count_their_samples_while_there_is_room)
{
	static const struct {
		const char *policy;
		int page_node, cpu;
		int short_node;	    /* -1: every node has room */
		unsigned int every; /* a sample every this many intervals */
		int want_tick;	    /* the tick that moves it; -1 none by tick 12 */
		int want_dst;
	} rows[] = {
		{ "locality", 2, 0, -1, 3, 7, 0 }, /* samples at 1, 4, 7: the third */
		{ "locality", 2, 0, 1, 3, -1, 0 }, /* node 1 short of room: the floor holds it */
		{ "locality", 2, 0, -1, 1, 2,
		  0 }, /* a sample each interval: heat 1.75, lead 1.75 */
		{ "last-accessor", 2, 0, -1, 3, 4, 0 }, /* no lead rule: the second sample */
		{ "last-accessor", 2, 0, 0, 3, -1, 0 },
		{ "locality", 2, 0, -1, 6, -1, 0 }, /* 1, 7: lead 1.18 at tick 7, so undecided */
		{ "locality", 0, 2, -1, 3, 10, 1 }, /* on socket 0, used from 1: leave 8 at 10 */
		{ "locality", 0, 2, 1, 3, -1, 1 },  /* socket 1 short of room */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, rows[r].policy, true);
		const struct ibsp_migration *plan;
		int planned_at = -1;

		if (rows[r].short_node >= 0) {
			struct ibsp_node_idx n = node_at(t, rows[r].short_node);

			cr_assert_eq(ibsp_engine__set_free(
					 e, n, ibsp_engine__watermark_bytes(e, n) + (1 << 20)),
				     0);
		}
		for (int k = 1; k <= 12 && planned_at < 0; k++) {
			long n;

			if ((k - 1) % rows[r].every == 0)
				feed(e, t, rows[r].cpu, rows[r].page_node, 7, 1);
			n = ibsp_engine__tick(e, (uint64_t)k * 1000, &plan);
			if (n) {
				cr_assert_eq(n, 1, "row %zu", r);
				cr_expect_eq(plan[0].dst_node.id, rows[r].want_dst, "row %zu", r);
				planned_at = k;
			}
		}
		cr_expect_eq(planned_at, rows[r].want_tick, "row %zu: planned at tick %d", r,
			     planned_at);
		if (rows[r].want_tick < 0 && rows[r].short_node >= 0)
			cr_expect_gt(ibsp_engine__stats(e)->skips[IBSP_SKIP_BELOW_THRESHOLD], 0,
				     "row %zu", r);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * The engine's noise estimate (ibsp_engine__noise()): of the samples of pages
 * whose evidence of being private to the node they are on was at least 4, the
 * share of excursions that came back. Each of @pages pages on socket 0 gets 4
 * samples from there (the evidence), @more from there (counted), then with @blip one from
 * socket 1 and one from socket 0 again (both counted, one excursion that came
 * back), and @moved from socket 1 (its users moved: the first counts, as no
 * excursion that came back). Below 1/8 the noise is low, and a page on CXL
 * with one sample from socket 1 is promoted at once; otherwise it waits for
 * min_heat (2) samples. Under 512 counted samples the estimate is not known,
 * but the noise is low already when the samples say so surely (Wilson's upper
 * bound at 3 standard errors below 1/8; ibsp_share__surely_below() below).
 */
Test(policy, the_noise_estimate_counts_excursions_that_come_back)
{
	static const struct {
		unsigned int pages, more, blip, moved;
		double want_noise; /* -1: not known */
		bool low;
	} rows[] = {
		{ 100, 6, 1, 0, 100.0 / 800, false }, /* 1/8: not low */
		{ 100, 7, 1, 0, 100.0 / 900, true },  { 100, 6, 0, 6, 0.0, true },
		{ 100, 4, 1, 6, 100.0 / 700, false }, /* 5 steps left after the excursion: the move counts */
		{ 50, 6, 1, 0, -1.0, false }, /* 400 samples counted, 1/8 of them blips */
		{ 20, 6, 0, 0, -1.0, true },  /* 120 counted, none a blip: surely low */
		{ 8, 6, 0, 0, -1.0, false },  /* 48: too few to tell */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		bool low = rows[r].low;
		long n;

		for (unsigned int p = 0; p < rows[r].pages; p++) {
			feed(e, t, 0, 0, 100 + p, 4 + rows[r].more);
			if (rows[r].blip) {
				feed(e, t, 2, 0, 100 + p, 1);
				feed(e, t, 0, 0, 100 + p, 1);
			}
			feed(e, t, 2, 0, 100 + p, rows[r].moved);
		}
		cr_expect_float_eq(ibsp_engine__noise(e), rows[r].want_noise, 1e-9, "row %zu", r);
		feed(e, t, 2, 2, 7, 1);
		n = ibsp_engine__tick(e, 1000, &plan);
		cr_expect_float_eq(ibsp_engine__stats(e)->noise, rows[r].want_noise, 1e-9,
				   "row %zu", r);
		cr_expect_eq(n, low, "row %zu: planned %ld", r, n);
		cr_expect_eq(ibsp_engine__stats(e)->low_noise, low, "row %zu: the flag reported",
			     r);
		if (n == 1) {
			cr_expect_eq(plan[0].dst_node.id, 1, "row %zu", r);
			cr_expect_eq(plan[0].reason, IBSP_REASON_MAJORITY, "row %zu", r);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * How the excursions of private-looking pages end, on this host, decides from
 * which length they are moves of their users (stats.trusted_follow: 0 none).
 * Each of @moves pages on socket 0 gets 12 samples from there (evidence 12,
 * at least IBSP_TRUSTED_STAY) and then 8 from socket 1 (an excursion that
 * does not come back); each of @noise pages the same 12, then @len from
 * socket 1 and one from socket 0 (it came back at @len). The hazard at k,
 * ends at k over those that reached k, must be near its plateau (lengths 5
 * and up) from k on; k needs 400 excursions, a plateau length 200.
 */
Test(policy, trusted_follow_from_how_excursions_end)
{
	static const struct {
		unsigned int moves, noise, len;
		uint32_t want;
	} rows[] = {
		{ 500, 0, 0, 3 },   /* none came back: from 3 samples */
		{ 300, 0, 0, 0 },   /* too few at 3 */
		{ 500, 500, 3, 4 }, /* half of those at 3 came back; none from 4 */
		{ 500, 500, 1, 3 }, /* noise of one sample: 3 */
		{ 0, 600, 5, 0 },   /* every excursion came back at 5 (sharing): never */
		{ 500, 60, 6, 7 },  /* 60 of 560 came back at 6 (10.7% against a plateau of 0): 7 */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		uint64_t page = 100;

		for (unsigned int p = 0; p < rows[r].moves; p++, page++) {
			feed(e, t, 0, 0, page, 12);
			feed(e, t, 2, 0, page, 8);
		}
		for (unsigned int p = 0; p < rows[r].noise; p++, page++) {
			feed(e, t, 0, 0, page, 12);
			feed(e, t, 2, 0, page, rows[r].len);
			feed(e, t, 0, 0, page, 1);
		}
		ibsp_engine__tick(e, 1000, &plan);
		cr_expect_eq(ibsp_engine__stats(e)->trusted_follow, rows[r].want, "row %zu: %u", r,
			     ibsp_engine__stats(e)->trusted_follow);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * A page the engine moved, private where it sits (12 samples there), follows
 * its users on the trusted length (here 3, from 500 excursions that never came
 * back) and the gain counted in samples (4: too sparse for 4 samples of
 * decayed heat after the ping-pong window), where it would need 10 without
 * (36 half steps less 2 x 12 - 8).
 */
Test(policy, a_private_page_follows_on_the_trusted_length)
{
	static const struct {
		unsigned int moves, after;
		bool want;
	} rows[] = {
		{ 500, 4, true }, { 500, 3, false }, /* the gain: 4 samples */
		{ 0, 4, false },  { 0, 9, false },   { 0, 10, true },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		long n;

		feed(e, t, 0, 2, 7, 6);
		cr_assert_eq(ibsp_engine__tick(e, 1000, &plan), 1, "row %zu: first move", r);
		for (int k = 2; k <= 10; k++)
			cr_assert_eq(ibsp_engine__tick(e, (uint64_t)k * 1000, &plan), 0);
		feed(e, t, 0, 2, 7, 12);
		for (unsigned int p = 0; p < rows[r].moves; p++) {
			feed(e, t, 0, 0, 100 + p, 12);
			feed(e, t, 2, 0, 100 + p, 8);
		}
		ibsp_engine__tick(e, 11000, &plan);
		feed(e, t, 2, 2, 7, rows[r].after);
		n = ibsp_engine__tick(e, 12000, &plan);
		cr_expect_eq(n, rows[r].want, "row %zu: planned %ld", r, n);
		if (n == 1) {
			cr_expect_eq(plan[0].vaddr, UVA_BASE + 7 * 4096, "row %zu", r);
			cr_expect_eq(plan[0].dst_node.id, 1, "row %zu", r);
			cr_expect_eq(plan[0].reason, IBSP_REASON_FOLLOW, "row %zu", r);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * What a page's neighbours say (engine/core/near.h). Twelve pages of each of
 * two neighbourhoods (64 KiB: pages 16-31 and 32-47) settle on socket 0 and
 * socket 1, used from there (4 samples, then 32 more; @noisy: 4 cycles of 6
 * from home and an excursion of one that came back, noise 1/8 and not low).
 * With @foreign, 2 of each 12 sit on and are used from the other socket: the
 * host's pages then agree with their neighbours 10 times in 12, under the 7
 * in 8 the engine needs to listen. Then the test page (28 in the first
 * neighbourhood, 44 in the second), on @node, gets samples from socket 1
 * (@from_s1) and is planned at the first tick, or not (@want_dst -1). Where
 * the neighbours are believed they count as one sample from their leader:
 * rows 1-2 against 3, 4 against 5, 7 against 8, 9 against 10.
 */
static void settle_neighbourhood(struct ibsp_engine *e, const struct ibsp_topology *t,
				 uint64_t first, int socket, bool noisy, bool foreign)
{
	for (uint64_t p = first; p < first + 12; p++) {
		int s = foreign && p >= first + 10 ? 1 - socket : socket;

		feed(e, t, 2 * s, s, p, 4);
		for (int c = 0; c < 4; c++) {
			feed(e, t, 2 * s, s, p, noisy ? 6 : 8);
			if (noisy) {
				feed(e, t, 2 * (1 - s), s, p, 1);
				feed(e, t, 2 * s, s, p, 1);
			}
		}
	}
}

Test(policy, the_neighbours_count_as_a_sample)
{
	static const struct {
		bool noisy, foreign;
		int node;
		uint64_t page;
		unsigned int from_s1;
		int want_dst;
	} rows[] = {
		{ true, false, 2, 44, 1, 1 },	/* 1:0 and its neighbours: 2:0 */
		{ true, false, 2, 28, 2, -1 },	/* 2:0 against them: 2:1, under the 1.5 lead */
		{ true, true, 2, 44, 1, -1 },	/* not believed: 1:0 is one sample */
		{ false, false, 2, 28, 1, -1 }, /* low noise, 1:0 against them: 1:1 */
		{ false, true, 2, 28, 1, 1 },	/* not believed: 1:0 goes where the noise is low */
		{ false, false, 2, 44, 1, 1 },	/* low noise, 1:0 with them */
		{ false, false, 0, 44, 1, 1 },	/* a first move: one sample to their node */
		{ false, true, 0, 44, 1, -1 },	/* not believed: 4 samples net */
		{ false, false, 0, 28, 4, -1 }, /* leaving their node: 7 samples net */
		{ false, true, 0, 28, 4, 1 },	/* not believed: 4 */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;
		const struct ibsp_engine_stats *st;
		long n;

		settle_neighbourhood(e, t, 16, 0, rows[r].noisy, rows[r].foreign);
		settle_neighbourhood(e, t, 32, 1, rows[r].noisy, rows[r].foreign);
		feed(e, t, 2, rows[r].node, rows[r].page, rows[r].from_s1);
		n = ibsp_engine__tick(e, 1000, &plan);
		st = ibsp_engine__stats(e);
		if (rows[r].foreign)
			cr_expect(st->near_agreement > 0.8 && st->near_agreement < 0.875,
				  "row %zu: agreement %f", r, st->near_agreement);
		else
			cr_expect_float_eq(st->near_agreement, 1.0, 1e-9, "row %zu", r);
		cr_expect_eq(ibsp_noise__is_low(st->noise), !rows[r].noisy, "row %zu: noise %f", r,
			     st->noise);
		cr_expect_eq(n, rows[r].want_dst >= 0, "row %zu: planned %ld", r, n);
		if (n == 1) {
			cr_expect_eq(plan[0].vaddr, UVA_BASE + rows[r].page * 4096, "row %zu", r);
			cr_expect_eq(plan[0].dst_node.id, rows[r].want_dst, "row %zu", r);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/*
 * The agreement is told from pages still in slow memory too: 16 pages of one
 * neighbourhood on CXL, 40 samples each, from socket 1 (@mixed: the odd pages
 * from socket 0). A page counts from its 4th sample, once 7/8 of its heat is
 * one node's; the first page has no neighbours yet. Interleaved owners lead
 * no neighbourhood clearly, so nothing is counted and the agreement stays
 * unknown; in a row of 16 pages, every other one from the other socket, each
 * page's neighbours are split 8:7.
 */
Test(policy, the_agreement_counts_pages_in_slow_memory)
{
	static const struct {
		bool mixed;
		double want; /* -1: not known */
	} rows[] = { { false, 1.0 }, { true, -1.0 } };

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine *e = engine_for(t, "locality", true);
		const struct ibsp_migration *plan;

		for (uint64_t p = 16; p < 32; p++)
			feed(e, t, rows[r].mixed && (p & 1) ? 0 : 2, 2, p, 40);
		ibsp_engine__tick(e, 1000, &plan);
		cr_expect_float_eq(ibsp_engine__stats(e)->near_agreement, rows[r].want, 1e-9,
				   "row %zu: %f", r, ibsp_engine__stats(e)->near_agreement);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}
