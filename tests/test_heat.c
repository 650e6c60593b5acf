// SPDX-License-Identifier: MIT
/*
 * The heat table and the per-sample path: keys (PFN vs pid+vpage, 2 MiB
 * aggregation), decay, eviction, backward-shift deletion, unresolved
 * samples by reason, local-access accounting and live node resolution.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine_fixtures.h"
#include "engine_internal.h"
#include "evidence.h"
#include "tick_internal.h"

/* Random inserts and deletes: every live key stays findable, no dead one is. */
Test(heat, backward_shift_deletion)
{
	enum { N = 6000 };
	static uint64_t keys[N];
	static bool live[N];
	struct ibsp_heat_table *t = ibsp_heat_table__new(N, 1);
	uint64_t x = 88172645463325252ULL, count = 0;

	cr_assert(t);
	cr_assert_eq(t->mask + 1, 4096, "the table starts small and grows with its pages");
	for (int i = 0; i < N; i++) {
		bool is_new;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		keys[i] = (x | 1) & ~(1ULL << 63);
		cr_assert(ibsp_heat_table__get(t, keys[i], &is_new));
		cr_assert(is_new);
		live[i] = true;
		count++;
	}
	for (int i = 0; i < N; i += 3) {
		ibsp_heat_table__del(t, ibsp_heat_table__find(t, keys[i]));
		live[i] = false;
		count--;
	}
	cr_assert_eq(t->mask + 1, 8192, "6000 entries at <= 3/4 load need 8192 slots");
	cr_assert_eq(t->evictions, 0, "below its bound the table grows instead of evicting");
	cr_assert_eq(t->count, count);
	for (int i = 0; i < N; i++) {
		struct ibsp_heat_entry *e = ibsp_heat_table__find(t, keys[i]);

		cr_assert_eq(e != NULL, live[i], "key %d live %d", i, live[i]);
		if (e)
			cr_assert_eq(e->key, keys[i]);
	}
	cr_assert_eq(t->evictions, 0);
	ibsp_heat_table__delete(t);
}

/*
 * Sized up front (the live engine's start), the dense array takes that many
 * entries without moving, the index still grows with them, every entry
 * stays findable; the size asked is capped by the bound.
 */
Test(heat, presized_table_does_not_move)
{
	enum { N = 140000, PRE = 90000 };
	struct ibsp_heat_table *t = ibsp_heat_table__new(150000, 2), *small;
	uint64_t x = 88172645463325252ULL;
	const char *ent;

	cr_assert(t);
	for (uint64_t k = 1; k <= 10; k++) {
		bool is_new;

		cr_assert(ibsp_heat_table__get(t, k << 40, &is_new));
	}
	cr_assert_eq(ibsp_heat_table__presize(t, PRE), 0);
	cr_assert_geq(t->cap, PRE);
	cr_assert_eq(t->mask + 1, 4096, "the index is left to grow");
	ent = t->ent;
	for (int i = 0; i < N; i++) {
		bool is_new;
		struct ibsp_heat_entry *he;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		he = ibsp_heat_table__get(t, (x | 1) & ~(1ULL << 63) & ~(0xffULL << 40), &is_new);
		cr_assert(he && is_new);
		he->heat[1] = (uint32_t)i;
		if (i + 10 < PRE)
			cr_assert_eq(t->ent, ent, "no move up to the size asked");
	}
	cr_assert_eq(t->mask + 1, 262144, "140 k entries at <= 3/4 load need 262144 slots");
	x = 88172645463325252ULL;
	for (int i = 0; i < N; i++) {
		struct ibsp_heat_entry *he;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		he = ibsp_heat_table__find(t, (x | 1) & ~(1ULL << 63) & ~(0xffULL << 40));
		cr_assert(he, "key %d", i);
		cr_assert_eq(he->heat[1], (uint32_t)i);
	}
	for (uint64_t k = 1; k <= 10; k++)
		cr_assert(ibsp_heat_table__find(t, k << 40), "key %llu", (unsigned long long)k);
	cr_assert_eq(t->evictions, 0);
	ibsp_heat_table__delete(t);
	small = ibsp_heat_table__new(1000, 2);
	cr_assert(small);
	cr_assert_eq(ibsp_heat_table__presize(small, 1000000), 0);
	cr_assert_eq(small->cap, 1000, "capped by the bound");
	ibsp_heat_table__delete(small);
}

/*
 * With two accessor nodes an entry is 32 bytes and never straddles a cache
 * line; its alias vaddr, kept beside the array, follows it through the
 * array's growth (past the small sizes too) and the moves of deletions, and
 * an entry without an alias reads 0.
 */
Test(heat, alias_vaddr_follows_its_entry)
{
	enum { N = 200000 };
	struct ibsp_heat_table *t = ibsp_heat_table__new(N, 2), *t3 = ibsp_heat_table__new(10, 3);
	uint64_t deleted = 0;

	cr_assert(t && t3);
	cr_expect_eq(t->stride, 32);
	cr_expect_eq(t3->stride, 40, "24 + 4 x 3 bytes, rounded up to 8");
	ibsp_heat_table__delete(t3);
	for (uint64_t k = 1; k <= N; k++) {
		bool is_new;
		struct ibsp_heat_entry *he = ibsp_heat_table__get(t, KEY_PFN | k, &is_new);

		cr_assert(he && is_new);
		/* Page numbers past 32 bits, as a user stack's (0x7ffc...) are. */
		if (k % 7)
			ibsp_heat_table__set_alias(t, he, (uint32_t)k & 0xfffff,
						   (0x7ff000000000ULL - (k << 21)) & ~4095ULL);
	}
	cr_expect_eq((uintptr_t)t->ent % 64, 0, "the entries start on a cache line");
	for (uint64_t k = 3; k <= N; k += 5, deleted++)
		ibsp_heat_table__del(t, ibsp_heat_table__find(t, KEY_PFN | k));
	cr_assert_eq(t->count, N - deleted);
	for (uint64_t k = 1; k <= N; k++) {
		const struct ibsp_heat_entry *he = ibsp_heat_table__find(t, KEY_PFN | k);
		uint64_t want = k % 7 ? (0x7ff000000000ULL - (k << 21)) & ~4095ULL : 0;

		if (k % 5 == 3) {
			cr_assert_null(he, "key %llu was deleted", (unsigned long long)k);
			continue;
		}
		cr_assert(he, "key %llu", (unsigned long long)k);
		cr_assert_eq(ibsp_heat_table__vaddr(t, he), want, "key %llu",
			     (unsigned long long)k);
		cr_assert_eq(he->pid, k % 7 ? (k & 0xfffff) : 0);
		cr_assert_eq(!!(he->flags & HE_ALIAS), !!(k % 7));
	}
	ibsp_heat_table__delete(t);
}

/* A full table evicts the coldest entry near the new key's slot, never a hot one. */
Test(heat, eviction_takes_the_coldest)
{
	struct ibsp_heat_table *t =
	    ibsp_heat_table__new(11, 1); /* 16 slots: the window sees them all */
	bool is_new;

	cr_assert(t);
	cr_assert_eq(t->mask + 1, 16);
	for (uint64_t k = 1; k <= 11; k++) {
		struct ibsp_heat_entry *e = ibsp_heat_table__get(t, k, &is_new);

		e->heat[0] = k == 5 ? 1 : 1000 + (uint32_t)k;
	}
	cr_assert(ibsp_heat_table__get(t, 99, &is_new));
	cr_assert(is_new);
	cr_expect_eq(t->count, 11);
	cr_expect_eq(t->evictions, 1);
	cr_expect_null(ibsp_heat_table__find(t, 5), "the coldest (key 5) went");
	for (uint64_t k = 1; k <= 11; k++) {
		if (k != 5)
			cr_expect(ibsp_heat_table__find(t, k), "key %llu stays",
				  (unsigned long long)k);
	}
	ibsp_heat_table__delete(t);
}

/* One frame mapped by two processes is one page; the same vaddr without a frame is two. */
Test(heat, keys_pfn_and_virtual)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = policy_of("locality") };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	struct ibsp_sample a = smp(t, 0, 2, 5, 100), b = smp(t, 2, 2, 5, 200);

	cr_assert(e);
	b.vaddr = 0x500000ULL + 8; /* another process maps the same frame elsewhere */
	ibsp_engine__add(e, &a, 1);
	ibsp_engine__add(e, &b, 1);
	cr_expect_eq(ibsp_engine__stats(e)->pages_tracked, 1);

	a.flags &= ~IBSP_S_PADDR_VALID;
	b.flags &= ~IBSP_S_PADDR_VALID;
	b.vaddr = a.vaddr;
	ibsp_engine__add(e, &a, 1);
	ibsp_engine__add(e, &b, 1);
	cr_expect_eq(ibsp_engine__stats(e)->pages_tracked, 3, "pid 100 and 200 pages differ");
	cr_expect_eq(ibsp_engine__stats(e)->accesses, 4);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/* Samples with a 2M page-size hint anywhere in one 2 MiB range make one 2 MiB entry. */
Test(heat, huge_pages_aggregate)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = policy_of("locality") };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;

	cr_assert(e);
	for (uint64_t off = 0; off < 512; off += 37) {
		struct ibsp_sample s = smp(t, 1, 2, 1024 + off, 100);

		s.page_shift = 21;
		ibsp_engine__add(e, &s, 1);
	}
	cr_expect_eq(ibsp_engine__stats(e)->pages_tracked, 1);
	cr_assert_eq(ibsp_engine__tick(e, 1, &plan), 1);
	cr_expect_eq(plan[0].bytes, 2u << 20);
	cr_expect_eq(plan[0].vaddr, UVA_BASE + 1024 * 4096);
	cr_expect_eq(plan[0].pfn % 512, 0);
	cr_expect_eq(plan[0].dst_node.id, 0);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/* Decay per interval, integer math: heat -= heat >> shift. */
Test(heat, decay_table)
{
	static const struct {
		uint32_t shift;
		unsigned int samples;
		uint32_t want[4]; /* heat after ticks 1..4 */
	} rows[] = {
		{ 1, 10, { 80, 40, 20, 10 } },
		{ 2, 10, { 120, 90, 68, 51 } },
		{ 1, 1, { 8, 4, 2, 0 } }, /* 1 -> 0: a last unit would never decay */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .decay_shift = rows[r].shift,
					      .policy = policy_of("none") };
		struct ibsp_engine *e = ibsp_engine__new(t, &o);
		const struct ibsp_migration *plan;
		struct ibsp_sample s = smp(t, 2, 2, 9, 100);

		cr_assert(e);
		feed(e, t, 2, 2, 9, rows[r].samples);
		for (int k = 0; k < 4; k++) {
			uint64_t key = KEY_PFN | (s.paddr >> 12);
			struct ibsp_heat_entry *he;

			cr_assert_eq(ibsp_engine__tick(e, 1, &plan), 0);
			he = ibsp_heat_table__find(e->ht, key);
			cr_assert(he);
			cr_expect_eq(he->heat[1], rows[r].want[k], "row %zu tick %d: %u", r, k + 1,
				     he->heat[1]);
			cr_expect_eq(he->heat[0], 0);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

Test(heat, unresolved_by_reason)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = policy_of("locality") };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	static const struct {
		const char *name;
		uint16_t clear; /* flags removed */
		int cpu;	/* replaces the CPU when >= -1 */
		uint64_t vaddr; /* replaces the vaddr when non-zero */
		uint64_t paddr; /* replaces the paddr when non-zero */
		uint8_t drop;
		int want; /* enum ibsp_unresolved, or -1 for resolved */
	} rows[] = {
		{ "valid", 0, -2, 0, 0, 0, -1 },
		{ "refused by the decoder", 0, -2, 0, 0, IBSP_DROP_NO_ADDR, IBSP_UNRES_INVALID },
		{ "no CPU field", IBSP_S_CPU_VALID, -2, 0, 0, 0, IBSP_UNRES_NO_CPU },
		{ "CPU 9 is on no node", 0, 9, 0, 0, 0, IBSP_UNRES_NO_CPU },
		{ "no address at all", IBSP_S_PADDR_VALID | IBSP_S_VADDR_VALID, -2, 0, 0, 0,
		  IBSP_UNRES_NO_ADDRESS },
		{ "vaddr without a pid", IBSP_S_PADDR_VALID | IBSP_S_TID_VALID, -2, 0, 0, 0,
		  IBSP_UNRES_NO_ADDRESS },
		{ "paddr beyond memory, no vaddr", IBSP_S_VADDR_VALID, -2, 0, 1ULL << 40, 0,
		  IBSP_UNRES_PADDR_UNMAPPED },
		{ "paddr beyond memory, vaddr: keyed by vaddr", 0, -2, 0, 1ULL << 40, 0, -1 },
		{ "kernel vaddr, no paddr", IBSP_S_PADDR_VALID, -2, 0xffff888000001000ULL, 0, 0,
		  IBSP_UNRES_KERNEL },
		{ "kernel vaddr with a paddr: keyed by the frame", 0, -2, 0xffff888000001000ULL, 0,
		  0, -1 },
	};
	uint64_t want[IBSP_UNRES__MAX] = { 0 }, resolved = 0;

	cr_assert(e);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ibsp_sample s = smp(t, 1, 2, i, 100);

		s.flags &= (uint16_t)~rows[i].clear;
		if (rows[i].cpu >= -1)
			s.cpu = rows[i].cpu;
		if (rows[i].vaddr)
			s.vaddr = rows[i].vaddr;
		if (rows[i].paddr)
			s.paddr = rows[i].paddr;
		s.drop = rows[i].drop;
		ibsp_engine__add(e, &s, 1);
		if (rows[i].want >= 0)
			want[rows[i].want]++;
		else
			resolved++;
	}
	for (int r = 0; r < IBSP_UNRES__MAX; r++)
		cr_expect_eq(ibsp_engine__stats(e)->unresolved[r], want[r], "%s",
			     ibsp_unresolved__name((enum ibsp_unresolved)r));
	cr_expect_eq(ibsp_engine__stats(e)->accesses, resolved);
	cr_expect_eq(ibsp_engine__stats(e)->samples, sizeof(rows) / sizeof(rows[0]));
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/* Local accesses: the page's node is the accessing CPU's node. */
Test(heat, local_accounting)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = policy_of("locality") };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);

	cr_assert(e);
	feed(e, t, 0, 0, 1, 3); /* node0 page, node0 CPU: local */
	feed(e, t, 3, 0, 1, 2); /* node0 page, node1 CPU: remote */
	feed(e, t, 1, 2, 2, 4); /* CXL page: never local */
	cr_expect_eq(ibsp_engine__stats(e)->placed_accesses, 9);
	cr_expect_eq(ibsp_engine__stats(e)->local_accesses, 3);
	cr_expect_eq(ibsp_engine__page_node(e, &(struct ibsp_sample){ 0 }).id, -ENOENT);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

struct fake_resolver {
	int node; /* what every query answers */
	int calls;
	uint32_t last_pid;
	uint32_t last_nr;
};

static int fake_query(void *ctx, uint32_t pid, uint32_t nr, const uint64_t *vaddrs, int *status)
{
	struct fake_resolver *f = ctx;

	f->calls++;
	f->last_pid = pid;
	f->last_nr = nr;
	for (uint32_t i = 0; i < nr; i++) {
		cr_assert_eq(vaddrs[i] % 4096, 0);
		status[i] = f->node;
	}
	return 0;
}

/*
 * Live: hot pages without a physical address are located with one query per
 * pid. Found on socket 0 while socket 1 uses them, they follow (10 samples:
 * z = 3.2), unless --no-follow.
 */
Test(heat, live_resolution)
{
	static const struct {
		int answer;
		bool no_follow;
		long planned;
		uint64_t failed;
	} rows[] = {
		{ 2, false, 6, 0 }, { 0, false, 6, 0 }, { 0, true, 0, 0 }, { -ENOENT, false, 0, 6 }
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct fake_resolver f = { .node = rows[r].answer };
		struct ibsp_resolver_ops ops = { .query = fake_query, .ctx = &f };
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .policy = policy_of("locality"),
					      .no_follow = rows[r].no_follow,
					      .resolver = &ops };
		struct ibsp_engine *e = ibsp_engine__new(t, &o);
		const struct ibsp_migration *plan;
		long n;

		cr_assert(e);
		for (int p = 0; p < 6; p++) {
			struct ibsp_sample s = smp(t, 3, 2, (uint64_t)p, 4242);

			s.flags &= ~IBSP_S_PADDR_VALID;
			for (int k = 0; k < 10; k++)
				ibsp_engine__add(e, &s, 1);
		}
		n = ibsp_engine__tick(e, 1, &plan);
		cr_expect_eq(n, rows[r].planned, "answer %d: %ld", rows[r].answer, n);
		cr_expect_eq(f.calls, 1);
		cr_expect_eq(f.last_pid, 4242);
		cr_expect_eq(f.last_nr, 6);
		cr_expect_eq(ibsp_engine__stats(e)->resolve_failed, rows[r].failed);
		cr_expect_eq(ibsp_engine__stats(e)->resolve_queries, 6, "every page asked once");
		for (long i = 0; i < n; i++) {
			cr_expect_eq(plan[i].dst_node.id, 1);
			cr_expect_eq(plan[i].src_node.id, rows[r].answer);
			cr_expect_not(plan[i].has_pfn);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/* A locality engine on @t whose node queries @ops answers. */
static struct ibsp_engine *locality_with_resolver(struct ibsp_topology *t,
						  const struct ibsp_resolver_ops *ops)
{
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("locality"),
				      .resolver = ops };

	return ibsp_engine__new(t, &o);
}

/*
 * Live: a page its node query did not find (unmapped, not present) is not
 * asked at the next interval, only at the one after; found, it is never
 * asked again. Its heat keeps it hot throughout.
 */
Test(heat, failed_query_waits_one_interval)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct fake_resolver f = { .node = -ENOENT };
	struct ibsp_resolver_ops ops = { .query = fake_query, .ctx = &f };
	struct ibsp_engine *e = locality_with_resolver(t, &ops);
	const struct ibsp_migration *plan;
	static const struct {
		int answer, calls;
		uint64_t failed, unknown, queries;
	} ticks[] = { { -ENOENT, 1, 3, 3, 3 },
		      { -ENOENT, 1, 3, 6, 3 },
		      { 2, 2, 3, 6, 6 },
		      { 2, 2, 3, 6, 6 } };

	cr_assert(e);
	for (size_t k = 0; k < sizeof(ticks) / sizeof(ticks[0]); k++) {
		for (int p = 0; p < 3; p++) {
			struct ibsp_sample s = smp(t, 3, 2, (uint64_t)p, 4242);

			s.flags &= ~IBSP_S_PADDR_VALID;
			for (int n = 0; n < 10; n++)
				ibsp_engine__add(e, &s, 1);
		}
		f.node = ticks[k].answer;
		cr_assert_geq(ibsp_engine__tick(e, k + 1, &plan), 0);
		cr_expect_eq(f.calls, ticks[k].calls, "tick %zu: %d queries", k, f.calls);
		cr_expect_eq(ibsp_engine__stats(e)->resolve_failed, ticks[k].failed, "tick %zu", k);
		cr_expect_eq(ibsp_engine__stats(e)->resolve_queries, ticks[k].queries, "tick %zu",
			     k);
		cr_expect_eq(ibsp_engine__stats(e)->skips[IBSP_SKIP_NODE_UNKNOWN], ticks[k].unknown,
			     "tick %zu", k);
	}
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * Live: a page that its node query keeps not finding waits longer after each
 * failure, 1, 3, 7, 15, then 31 intervals (a mapping that comes and goes, a
 * process gone). The rows are the ticks at which the page is asked, over 80
 * ticks of failures.
 */
Test(heat, failed_queries_back_off)
{
	static const int asked[] = { 0, 2, 6, 14, 30, 62 };
	struct ibsp_topology *t = topo_2s_cxl();
	struct fake_resolver f = { .node = -ENOENT };
	struct ibsp_resolver_ops ops = { .query = fake_query, .ctx = &f };
	struct ibsp_engine *e = locality_with_resolver(t, &ops);
	const struct ibsp_migration *plan;
	size_t next = 0;

	cr_assert(e);
	for (int k = 0; k < 80; k++) {
		struct ibsp_sample s = smp(t, 3, 2, 7, 4242);
		int before = f.calls;

		s.flags &= ~IBSP_S_PADDR_VALID;
		for (int n = 0; n < 10; n++)
			ibsp_engine__add(e, &s, 1); /* hot at every tick */
		cr_assert_geq(ibsp_engine__tick(e, (uint64_t)k + 1, &plan), 0);
		if (next < sizeof(asked) / sizeof(asked[0]) && k == asked[next]) {
			cr_expect_eq(f.calls, before + 1, "tick %d: asked", k);
			next++;
		} else {
			cr_expect_eq(f.calls, before, "tick %d: waits", k);
		}
	}
	cr_expect_eq(next, sizeof(asked) / sizeof(asked[0]));
	cr_expect_eq(ibsp_engine__stats(e)->resolve_queries, 6);
	cr_expect_eq(ibsp_engine__stats(e)->resolve_failed, 6);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/* Nearly full: the interval scan trims the coldest entries, keeping every hotter one. */
Test(heat, trim_keeps_the_hottest)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .max_pages = 100,
				      .policy = policy_of("none") };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;
	uint64_t kept_min = UINT64_MAX;
	int gone_max = -1;

	cr_assert(e);
	for (int p = 0; p < 98; p++)
		feed(e, t, 0, 2, (uint64_t)p, (unsigned int)p + 1);
	cr_assert_eq(ibsp_engine__stats(e)->pages_tracked, 98);
	cr_assert_eq(ibsp_engine__tick(e, 1, &plan), 0);
	cr_expect_leq(ibsp_engine__stats(e)->pages_tracked, 88);
	cr_expect_geq(ibsp_engine__stats(e)->pages_tracked, 70);
	for (int p = 0; p < 98; p++) {
		struct ibsp_sample s = smp(t, 0, 2, (uint64_t)p, 100);

		if (ibsp_heat_table__find(e->ht, KEY_PFN | (s.paddr >> 12)))
			kept_min = kept_min < (uint64_t)p ? kept_min : (uint64_t)p;
		else
			gone_max = p;
	}
	cr_expect_lt((uint64_t)gone_max, kept_min, "evicted up to %d, kept from %llu", gone_max,
		     (unsigned long long)kept_min);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * One page, one entry: a sample without a physical address heats a
 * (pid, page) entry until the next interval pass folds it into the PFN
 * entry whose alias (its latest accessor's pid and page) it is. Each row
 * feeds one interval: samples with a PFN, then without; min_heat 2, so a
 * page with one sample of each kind moves only when they count together.
 */
Test(heat, alias_fold_table)
{
	enum { NONE = 0, HUGE = 1 };
	static const struct {
		const char *name;
		struct {
			int cpu;
			uint32_t pid;
			uint64_t vaddr_page; /* 4 KiB index above UVA_BASE */
			int huge;
			bool phys;
		} s[4];
		uint64_t merges, entries, planned; /* after the interval pass */
		int dst;			   /* of the planned move */
		uint32_t heat[2];		   /* of the planned move, per accessor node */
		int last_acc;			   /* accessor slot the folded entry keeps */
	} rows[] = {
		/* clang-format off */
		{ "the same page with and without its frame",
		  { { 0, 100, 5, NONE, true }, { 0, 100, 5, NONE, false } },
		  1, 1, 1, 0, { 32, 0 }, 0 },
		{ "the hotter side's latest accessor wins",
		  { { 0, 100, 5, NONE, true }, { 2, 100, 5, NONE, false }, { 3, 100, 5, NONE, false },
		    { 3, 100, 5, NONE, false } },
		  1, 1, 1, 1, { 16, 48 }, 1 },
		{ "another process at the same address: another page",
		  { { 0, 100, 5, NONE, true }, { 0, 200, 5, NONE, false } },
		  0, 2, 0, -1, { 0, 0 }, 0 },
		{ "only the latest accessor's mapping is known (the documented limit)",
		  { { 0, 100, 5, NONE, true }, { 0, 200, 77, NONE, true }, { 0, 100, 5, NONE, false } },
		  0, 2, 1, 0, { 32, 0 }, 0 },
		{ "a 2 MiB entry does not take a 4 KiB sample",
		  { { 0, 100, 512, HUGE, true }, { 0, 100, 512, NONE, false } },
		  0, 2, 0, -1, { 0, 0 }, 0 },
		{ "2 MiB with 2 MiB",
		  { { 0, 100, 512, HUGE, true }, { 0, 100, 700, HUGE, false } },
		  1, 1, 1, 0, { 32, 0 }, 0 },
		/* clang-format on */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .decay_shift = 1,
					      .max_pages = 1000,
					      .simulate = true,
					      .plan_heat = true,
					      .policy = policy_of("locality") };
		struct ibsp_engine *e = ibsp_engine__new(t, &o);
		const struct ibsp_migration *plan;
		struct ibsp_heat_entry *he = NULL;
		long n;

		cr_assert(e);
		for (int i = 0; i < 4 && rows[r].s[i].pid; i++) {
			/* Every sample is of frame 5 on the CXL node (page 512 for 2 MiB). */
			struct ibsp_sample s =
			    smp(t, rows[r].s[i].cpu, 2, rows[r].s[0].vaddr_page, rows[r].s[i].pid);

			s.vaddr = UVA_BASE + rows[r].s[i].vaddr_page * 4096 + 64;
			if (rows[r].s[i].huge)
				s.page_shift = 21;
			if (!rows[r].s[i].phys)
				s.flags &= ~IBSP_S_PADDR_VALID;
			ibsp_engine__add(e, &s, 1);
			if (rows[r].s[i].phys)
				he = ibsp_heat_table__find(
				    e->ht,
				    KEY_PFN | (rows[r].s[i].huge ? KEY_HUGE : 0) |
					((s.paddr >> 12) & ~(rows[r].s[i].huge ? 511ULL : 0)));
		}
		cr_assert(he, "%s", rows[r].name);
		cr_assert_eq(e->ht->nr_virt, 1, "%s: one entry without a frame", rows[r].name);
		n = ibsp_engine__tick(e, 1, &plan);
		cr_expect_eq(ibsp_engine__stats(e)->alias_merges, rows[r].merges, "%s",
			     rows[r].name);
		cr_expect_eq(e->ht->count, rows[r].entries, "%s", rows[r].name);
		cr_expect_eq(e->ht->nr_virt, rows[r].entries - 1, "%s", rows[r].name);
		cr_expect_eq(n, (long)rows[r].planned, "%s: %ld planned", rows[r].name, n);
		cr_expect_eq(ibsp_engine__stats(e)->skips[IBSP_SKIP_NODE_UNKNOWN], 0, "%s",
			     rows[r].name);
		if (n == 1) {
			cr_expect_eq(plan[0].dst_node.id, rows[r].dst, "%s", rows[r].name);
			cr_expect(plan[0].has_pfn, "%s", rows[r].name);
			cr_expect_eq(ibsp_engine__plan_heat(e, 0)[0], rows[r].heat[0], "%s",
				     rows[r].name);
			cr_expect_eq(ibsp_engine__plan_heat(e, 0)[1], rows[r].heat[1], "%s",
				     rows[r].name);
			he = ibsp_heat_table__find(e->ht, plan[0].key);
			cr_assert(he);
			cr_expect_eq(he->last_acc, rows[r].last_acc, "%s", rows[r].name);
		}
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/* Pages moved and pages moved more than once, from the moved map's records. */
Test(heat, moved_pages_counted)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .simulate = true,
				      .max_pages = 1000,
				      .pingpong_intervals = 1,
				      .policy = policy_of("last-accessor") };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_migration *plan;
	/* Page 1 goes to node 0, then node 1, then node 0 again; page 2 once, to node 1. */
	static const struct {
		int cpu1, cpu2; /* accessors of pages 1 and 2; -1: none */
		long planned;
		uint64_t pages, twice;
	} steps[] = {
		{ 0, 3, 2, 2, 0 },
		{ 2, -1, 1, 2, 1 },
		{ 1, 2, 1, 2, 1 },
	};

	cr_assert(e);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		long n;

		feed(e, t, steps[i].cpu1, 2, 1, 4);
		if (steps[i].cpu2 >= 0)
			feed(e, t, steps[i].cpu2, 2, 2, 4);
		n = ibsp_engine__tick(e, i + 1, &plan);
		cr_expect_eq(n, steps[i].planned, "step %zu: %ld planned", i, n);
		cr_expect_eq(ibsp_engine__stats(e)->pages_moved, steps[i].pages, "step %zu", i);
		cr_expect_eq(ibsp_engine__stats(e)->moved_twice, steps[i].twice, "step %zu", i);
	}
	cr_expect_eq(ibsp_engine__stats(e)->planned, 4);
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * The leave CUSUM (ibsp_engine__note_leave() in engine/core/engine_internal.h),
 * in half steps: on a top-tier page, +2 for a sample from the node leading the
 * others, -6 for one from its own, -1 for one from another node holding at
 * least half the leader's heat (a page shared several ways), 0 from one below
 * that; never below 0 or above 255. The slow walk beside it (drift, 70%
 * elsewhere against 50/50): +2 for the leader, -3 for its own node or a
 * node within half the leader's heat. On a CXL page (a lower tier) the leave
 * byte counts samples instead (seen, the policy's fallback count), and the
 * slow walk stays at 0. Samples
 * are given as a string of accessor sockets, in order; the heat is not
 * decayed in between.
 */
Test(heat, leave_cusum)
{
	static const struct {
		bool four; /* topo_4s_2cxl(), else topo_2s_cxl() */
		int node;  /* where the page is */
		const char *seq;
		unsigned int want;	 /* leave (seen on node 2) */
		unsigned int want_drift; /* the slow walk: +2 leader, -3 own or close third */
	} rows[] = {
		{ false, 0, "1111", 8, 8 },
		{ false, 0, "11110", 2, 5 },
		{ false, 0, "0000111", 6, 6 }, /* the old users do not weigh once they stop */
		{ false, 0, "1101101101", 2,
		  5 }, /* two thirds elsewhere: each own sample wipes the two before */
		{ false, 0, "10101010", 0, 0 }, /* shared 50/50 drifts down */
		{ false, 2, "11111111", 8, 0 }, /* not on a top-tier node: seen counts */
		{ false, 2, "0101010101", 10, 0 },
		/* four sockets: one other node takes over; the rest barely weighs */
		{ true, 0, "111111", 12, 12 },
		{ true, 0, "1111112", 12, 12 }, /* node 2 holds 1 of node 1's 6: no step */
		{ true, 0, "1111113", 12, 12 },
		{ true, 0, "11112", 8, 8 }, /* 1 of 4: below half, no step */
		/* shared among the others: who trails the leader by less than half steps down */
		{ true, 0, "112", 3, 1 },     /* +2 +2, then 1 of 2: -1 */
		{ true, 0, "1122", 5, 3 },    /* ... then a tie leads: +2 */
		{ true, 0, "12312", 10, 10 }, /* every sample ties the lead: +2 each */
		{ true, 0, "1123", 2, 0 },    /* +2 +2 -1 -1 */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = rows[r].four ? topo_4s_2cxl() : topo_2s_cxl();
		struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = policy_of("locality") };
		struct ibsp_engine *e = ibsp_engine__new(t, &o);
		struct ibsp_sample s = smp(t, 0, rows[r].node, 9, 100);
		struct ibsp_heat_entry *he;

		for (const char *c = rows[r].seq; *c; c++) {
			/* socket k's first CPU: 2 k in both topologies */
			struct ibsp_sample x = smp(t, 2 * (*c - '0'), rows[r].node, 9, 100);

			ibsp_engine__add(e, &x, 1);
		}
		he = ibsp_heat_table__find(e->ht, KEY_PFN | (s.paddr >> 12));
		cr_assert(he, "row %zu: the page has an entry", r);
		cr_expect_eq(rows[r].node == 2 ? he->seen : he->leave, rows[r].want,
			     "row %zu (%s): leave/seen %u", r, rows[r].seq, he->leave);
		cr_expect_eq(he->drift, rows[r].want_drift, "row %zu (%s): drift %u", r,
			     rows[r].seq, (unsigned int)he->drift);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The tick's in-place sort of 64-bit words agrees with qsort(), duplicates and all. */
Test(heat, sort_u64_matches_qsort)
{
	enum { N = 5000 };
	static uint64_t a[N], b[N];
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	const uint64_t sizes[] = { 0, 1, 2, 3, 16, 17, 100, 1000, N };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int shape = 0; shape < 5; shape++) {
			uint64_t n = sizes[s];

			for (uint64_t i = 0; i < n; i++) {
				uint64_t r = xorshift(&x);

				a[i] = shape == 0   ? r
				       : shape == 1 ? r % 7 /* many duplicates */
				       : shape == 2 ? i	    /* sorted */
				       : shape == 3 ? n - i /* reversed */
						    : 42;   /* all equal */
				b[i] = a[i];
			}
			ibsp_sort_u64(a, n);
			qsort(b, n, sizeof(*b), cmp_u64);
			cr_assert(!memcmp(a, b, n * sizeof(*a)), "size %llu, shape %d",
				  (unsigned long long)n, shape);
		}
	}
}

static int cmp_hottest(const void *a, const void *b, void *ctx)
{
	const struct ibsp_heat_table *t = ctx;
	const struct ibsp_heat_entry *x = ibsp_heat_table__at(t, *(const uint64_t *)a & 0xffffffff),
				     *y = ibsp_heat_table__at(t, *(const uint64_t *)b & 0xffffffff);
	uint64_t tx = (uint64_t)x->heat[0] + x->heat[1], ty = (uint64_t)y->heat[0] + y->heat[1];

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_coldest(const void *a, const void *b, void *ctx)
{
	const struct ibsp_heat_table *t = ctx;
	const struct ibsp_heat_entry *x = ibsp_heat_table__at(t, *(const uint64_t *)a & 0xffffffff),
				     *y = ibsp_heat_table__at(t, *(const uint64_t *)b & 0xffffffff);
	uint64_t tx = (uint64_t)x->heat[0] + x->heat[1], ty = (uint64_t)y->heat[0] + y->heat[1];

	if (tx != ty)
		return tx < ty ? -1 : 1;
	if (x->idle != y->idle)
		return x->idle > y->idle ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * Candidates as 8-byte references, ordered in place by fields read from the
 * entries: the same order as a comparison sort on (heat desc, key asc) and on
 * (heat asc, idle desc, key asc), with heats past 31 bits, wide and narrow
 * keys, many ties; each candidate keeps its pick.
 */
Test(heat, candidates_sorted_in_place)
{
	enum { N = 20000 };
	static uint64_t c[N], ref[N];
	const enum ibsp_cand_field hot[] = { CAND_HOTTEST, CAND_KEY };
	const enum ibsp_cand_field cold[] = { CAND_COLDEST, CAND_LONGEST_IDLE, CAND_KEY };
	struct ibsp_engine e = { .nr_acc = 2 };
	uint64_t x = 88172645463325252ULL;

	e.ht = ibsp_heat_table__new(N, 2);
	cr_assert(e.ht);
	for (uint32_t i = 0; i < N; i++) {
		uint64_t r = xorshift(&x), key;
		struct ibsp_heat_entry *he;
		bool is_new;

		/* PFN keys over a few bits, (pid, page) keys over many. */
		key = i % 3 ? KEY_PFN | (r & 0xfffff)
			    : KEY_VIRT | (r >> 20 & 0xffffff) << KEY_PID_SHIFT | (r & KEY_VPN_MASK);
		he = ibsp_heat_table__get(e.ht, key, &is_new);
		cr_assert(he);
		if (!is_new)
			continue;
		he->heat[0] = i % 5 == 0   ? 16 /* ties */
			      : i % 5 == 1 ? UINT32_MAX - (uint32_t)(r >> 40 & 3)
					   : (uint32_t)(r >> 32) % 4096;
		he->heat[1] = i % 5 == 1 ? UINT32_MAX : (uint32_t)(r >> 48) % 3;
		he->idle = (uint8_t)(r >> 56) % 4;
	}
	for (int f = 0; f < 2; f++) {
		uint64_t n = e.ht->count;

		for (uint64_t i = 0; i < n; i++)
			c[i] = ref[i] =
			    cand_make((uint32_t)i, i % 2 ? IBSP_PICK_FOLLOW : IBSP_PICK_PROMOTE);
		if (f == 0)
			ibsp_engine__sort_cands(&e, c, n, hot, 2);
		else
			ibsp_engine__sort_cands(&e, c, n, cold, 3);
		qsort_r(ref, n, sizeof(*ref), f == 0 ? cmp_hottest : cmp_coldest, e.ht);
		for (uint64_t i = 0; i < n; i++) {
			cr_assert_eq(c[i], ref[i], "order %d, at %llu", f, (unsigned long long)i);
			cr_assert_eq(cand_pick(c[i]),
				     cand_pos(c[i]) % 2 ? IBSP_PICK_FOLLOW : IBSP_PICK_PROMOTE);
		}
	}
	ibsp_heat_table__delete(e.ht);
}

/*
 * A budget of 100 pages among 3000 candidates of many heats: the scan keeps
 * only candidates not already below the threshold (the array is compacted
 * as it fills), and the tick still plans the hottest ones, each candidate
 * counted once: planned, or skipped for a reason.
 */
Test(heat, budget_keeps_the_hottest)
{
	enum { N = 3000 };
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o),
				      .policy = policy_of("locality"),
				      .rate_bytes_per_s = 100 * 4096,
				      .interval_ms = 1000,
				      .plan_heat = true };
	struct ibsp_engine *e = ibsp_engine__new(t, &o);
	const struct ibsp_engine_stats *st;
	const struct ibsp_migration *plan;
	uint64_t skipped = 0, min_planned = UINT64_MAX;
	long n;

	cr_assert(e);
	for (int p = 0; p < N; p++) /* page p: 2..61 samples, hot ones all over the table */
		feed(e, t, 0, 2, (uint64_t)p, 2 + (unsigned int)(p * 7 % 60));
	n = ibsp_engine__tick(e, 1, &plan);
	st = ibsp_engine__stats(e);
	cr_assert_gt(n, 0);
	cr_expect_leq(n, 100, "within the budget: %ld", n);
	for (int k = 0; k < IBSP_SKIP__MAX; k++)
		skipped += st->skips[k];
	cr_expect_eq(skipped + (uint64_t)n, N, "%llu skipped, %ld planned",
		     (unsigned long long)skipped, n);
	cr_expect_gt(st->skips[IBSP_SKIP_BELOW_THRESHOLD], N / 2);
	for (long i = 0; i < n; i++) {
		const uint32_t *ph = ibsp_engine__plan_heat(e, i);
		uint64_t h = (uint64_t)ph[0] + ph[1];

		min_planned = h < min_planned ? h : min_planned;
	}
	/* Every page hotter than the coldest planned one is planned too. */
	for (int p = 0; p < N; p++) {
		unsigned int samples = 2 + (unsigned int)(p * 7 % 60);
		struct ibsp_sample s = smp(t, 0, 2, (uint64_t)p, 100);
		const struct ibsp_heat_entry *he =
		    ibsp_heat_table__find(e->ht, KEY_PFN | (s.paddr >> 12));

		cr_assert(he);
		if ((uint64_t)samples * IBSP_HEAT_ONE > min_planned)
			cr_expect_eq(he->nr_moves, 1, "page %d (%u samples) is planned", p,
				     samples);
	}
	ibsp_engine__delete(e);
	ibsp_topology__delete(t);
}

/*
 * A planned move's heat is kept only when asked for (opts.plan_heat): the
 * same plan either way, the heat each page had when planned, and nothing
 * past the plan's end or from an engine that keeps none.
 */
Test(heat, plan_heat_only_when_asked)
{
	struct ibsp_topology *t = topo_2s_cxl();
	struct ibsp_engine_opts o = { .sz = sizeof(o), .policy = policy_of("locality") };
	struct ibsp_engine *plain, *kept;
	const struct ibsp_migration *pp, *pk;
	long np, nk;

	cr_assert_eq(sizeof(struct ibsp_migration), 56);
	plain = ibsp_engine__new(t, &o);
	o.plan_heat = true;
	kept = ibsp_engine__new(t, &o);
	cr_assert(plain && kept);
	for (int p = 0; p < 3; p++) { /* pages 0-2 on the CXL node, 3 + p samples from node 1 */
		feed(plain, t, 2, 2, (uint64_t)p, 3 + (unsigned int)p);
		feed(kept, t, 2, 2, (uint64_t)p, 3 + (unsigned int)p);
	}
	np = ibsp_engine__tick(plain, 1000, &pp);
	nk = ibsp_engine__tick(kept, 1000, &pk);
	cr_assert_eq(np, 3);
	cr_assert_eq(nk, 3);
	for (long i = 0; i < nk; i++) {
		const uint32_t *h = ibsp_engine__plan_heat(kept, i);

		cr_assert(!memcmp(&pp[i], &pk[i], sizeof(pp[i])), "move %ld", i);
		cr_expect_null(ibsp_engine__plan_heat(plain, i));
		cr_assert(h);
		/* hottest first: 5, 4, 3 samples, all from slot 1 */
		cr_expect_eq(h[0], 0, "move %ld", i);
		cr_expect_eq(h[1], (uint32_t)(5 - i) * IBSP_HEAT_ONE, "move %ld: %u", i, h[1]);
	}
	cr_expect_null(ibsp_engine__plan_heat(kept, 3));
	cr_expect_null(ibsp_engine__plan_heat(kept, -1));
	ibsp_engine__delete(plain);
	ibsp_engine__delete(kept);
	ibsp_topology__delete(t);
}

/* One interval's samples for the warm-set test: a few hot pages, many rare ones, some without a PFN. */
static void feed_interval(struct ibsp_engine *a, struct ibsp_engine *b,
			  const struct ibsp_topology *t, uint64_t *x, int k)
{
	for (int i = 0; i < 1500; i++) {
		uint64_t r = xorshift(x);
		/* Page 0..63 hot; up to 3000 rare; the rare ones drift with the interval. */
		uint64_t page = r % 4 ? r >> 8 & 63 : (r >> 8) % 3000 + (uint64_t)k * 17;
		int node = page % 7 == 0 ? (int)(page % 2) : 2;
		struct ibsp_sample s =
		    smp(t, (int)(r >> 40 & 3), node, page, 100 + (uint32_t)(page % 2));

		if ((r >> 50) % 10 == 0)
			s.flags &= ~IBSP_S_PADDR_VALID; /* keyed by (pid, page): folded later */
		ibsp_engine__add(a, &s, 1);
		ibsp_engine__add(b, &s, 1);
	}
}

/* Every entry of @a is in @b with the same fields, brought up to date. */
static void expect_same_entries(struct ibsp_engine *a, struct ibsp_engine *b, const char *what)
{
	cr_assert_eq(a->ht->count, b->ht->count, "%s", what);
	for (uint64_t i = 0; i < a->ht->count; i++) {
		struct ibsp_heat_entry *x = ibsp_heat_table__at(a->ht, i), *y;

		ibsp_heat_table__catch_up(a->ht, x);
		y = ibsp_heat_table__find(b->ht, x->key);
		cr_assert(y, "%s: key %llx", what, (unsigned long long)x->key);
		cr_assert(x->heat[0] == y->heat[0] && x->heat[1] == y->heat[1] &&
			      x->idle == y->idle && x->node == y->node && x->flags == y->flags &&
			      x->nr_moves == y->nr_moves && x->leave == y->leave,
			  "%s: key %llx", what, (unsigned long long)x->key);
	}
}

/* The same planned moves of @ea and @eb: every field, padding included (apply() zeroes it), and their heat. */
static bool same_plans(const struct ibsp_engine *ea, const struct ibsp_migration *a,
		       const struct ibsp_engine *eb, const struct ibsp_migration *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint32_t *ha = ibsp_engine__plan_heat(ea, (long)i);
		const uint32_t *hb = ibsp_engine__plan_heat(eb, (long)i);

		if (memcmp(&a[i], &b[i], sizeof(a[i])) || !ha || !hb ||
		    memcmp(ha, hb, ibsp_engine__nr_acc(ea) * sizeof(*ha)))
			return false;
	}
	return true;
}

/*
 * The tick scans only the warm set and lets the others decay lazily: the
 * same plans, counters and entries as an engine that scans every page at
 * every tick, with trims, evictions, folds, demotions, a decay shift of 1,
 * live completions and a change of settings midway. The first engine also
 * asks select() once per node and latest accessor where the policy's answer
 * depends on those only (select_by_place); the second asks it of every page.
 */
Test(heat, warm_set_matches_full_scans)
{
	static const struct {
		const char *policy;
		uint64_t max_pages;
		uint32_t shift, min_heat, watermark_bp, rate_mib;
		bool live;
	} rows[] = {
		{ "locality", 0, 0, 0, 0, 0, false },
		{ "locality", 1200, 0, 0, 0, 0, false }, /* trims and evictions */
		{ "last-accessor", 0, 0, 0, 0, 1, false },
		{ "fixed-node:1", 2000, 3, 0, 0, 0, false },
		{ "locality", 0, 1, 0, 0, 0, false },	 /* heat reaches 0 */
		{ "locality", 0, 0, 1, 4999, 2, false }, /* pressure: demotions */
		{ "locality", 2500, 0, 3, 0, 0, true },
		{ "none", 900, 0, 0, 0, 0, false },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_topology *t = topo_2s_cxl();
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .policy = policy_of(rows[r].policy),
					      .max_pages = rows[r].max_pages,
					      .decay_shift = rows[r].shift,
					      .min_heat = rows[r].min_heat,
					      .watermark_bp = rows[r].watermark_bp,
					      .rate_bytes_per_s = rows[r].rate_mib << 20,
					      .simulate = !rows[r].live,
					      .plan_heat = true };
		struct ibsp_engine *a = ibsp_engine__new(t, &o), *b;
		struct ibsp_policy_ops each_page; /* the same policy, asked of every page */
		struct ibsp_engine_opts ob;
		uint64_t x = 88172645463325252ULL + r;
		const struct ibsp_engine_stats *st;
		char what[64];

		ob = o;
		if (o.policy.ops) {
			each_page = *o.policy.ops;
			cr_assert(each_page.select_by_place || !each_page.select, "row %zu", r);
			each_page.select_by_place = false;
			ob.policy.ops = &each_page;
		}
		b = ibsp_engine__new(t, &ob);
		cr_assert(a && b);
		for (int k = 0; k < 40; k++) {
			const struct ibsp_migration *pa, *pb;
			long na, nb;

			snprintf(what, sizeof(what), "row %zu, tick %d", r, k + 1);
			feed_interval(a, b, t, &x, k);
			if (k == 20) { /* a reload: every page is scanned again by the new rules */
				o.decay_shift = rows[r].shift == 1 ? 2 : 1;
				o.min_heat = 3;
				ob.decay_shift = o.decay_shift;
				ob.min_heat = o.min_heat;
				cr_assert_eq(ibsp_engine__set_opts(a, &o), 0);
				cr_assert_eq(ibsp_engine__set_opts(b, &ob), 0);
			}
			for (int n = 0; rows[r].watermark_bp && n < 2;
			     n++) { /* pressure, every other tick */
				uint64_t fr = ibsp_engine__watermark_bytes(a, node_at(t, n)) +
					      (k % 2 ? 256ULL << 10 : 4ULL << 30);

				ibsp_engine__set_free(a, node_at(t, n), fr);
				ibsp_engine__set_free(b, node_at(t, n), fr);
			}
			b->full_scan = true;
			na = ibsp_engine__tick(a, (uint64_t)k, &pa);
			nb = ibsp_engine__tick(b, (uint64_t)k, &pb);
			cr_assert_eq(na, nb, "%s: %ld against %ld planned", what, na, nb);
			cr_assert(na >= 0 && same_plans(a, pa, b, pb, (size_t)na), "%s", what);
			cr_assert(!memcmp(ibsp_engine__stats(a), ibsp_engine__stats(b),
					  sizeof(struct ibsp_engine_stats)),
				  "%s: the counters differ", what);
			for (long i = 0; rows[r].live && i < na; i++) { /* every third move fails */
				struct ibsp_node_id fin =
				    i % 3 ? pa[i].dst_node : ibsp_node_id(-ENOENT);

				ibsp_engine__complete(a, &pa[i], fin);
				ibsp_engine__complete(b, &pb[i], fin);
			}
		}
		st = ibsp_engine__stats(a);
		cr_expect(st->skips[IBSP_SKIP_BELOW_THRESHOLD] || !strcmp(rows[r].policy, "none"),
			  "row %zu", r);
		expect_same_entries(a, b, what);
		ibsp_engine__delete(a);
		ibsp_engine__delete(b);
		ibsp_topology__delete(t);
	}
}

/*
 * Live, the moved map takes a record at every move for as long as the
 * daemon runs, so it is bounded: at its cap, a put of a new page forgets
 * the older half of the records (by last move), never one within the
 * ping-pong window; when most records are that recent, the map grows past
 * its cap instead, since the guard needs them. Rows: how many moves, one
 * new page each, @per interval; the count must stay within the cap (or, for
 * the burst, keep every record), and the latest moves must all be found.
 */
Test(heat, moved_map_live_bound)
{
	static const struct {
		uint32_t moves, per; /* pages moved, per interval */
		uint64_t cap;
		uint32_t keep;
		bool burst; /* all within keep: nothing may be forgotten */
	} rows[] = {
		{ 20000, 10, 1000, 10, false },
		{ 20000, 1, 1000, 10, false },
		{ 5000, 1000, 1000, 10, true }, /* 5 intervals: all within the window */
		{ 10000, 7, 4096, 0, false },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_moved_map *m = ibsp_moved_map__new();
		uint64_t most = 0;

		cr_assert(m);
		m->cap = rows[r].cap;
		m->keep = rows[r].keep;
		for (uint32_t i = 0; i < rows[r].moves; i++) {
			struct ibsp_moved_rec rec = { .key = KEY_VIRT | (i + 1),
						      .last_move = 1 + i / rows[r].per,
						      .node = 0,
						      .prev_node = 2,
						      .nr_moves = 1 };

			cr_assert_eq(ibsp_moved_map__put(m, &rec), 0);
			most = m->count > most ? m->count : most;
		}
		if (rows[r].burst) {
			cr_expect_eq(m->count, rows[r].moves, "row %zu: forgot %" PRIu64, r,
				     m->forgotten);
		} else {
			cr_expect_leq(most, rows[r].cap, "row %zu: %" PRIu64 " records", r, most);
			cr_expect_gt(m->forgotten, 0, "row %zu", r);
			cr_expect_eq(m->count + m->forgotten, rows[r].moves, "row %zu", r);
		}
		/* The moves of the window before the last one are all still there. */
		for (uint32_t i = rows[r].moves; i-- > 0;) {
			uint32_t age = (rows[r].moves - 1) / rows[r].per - i / rows[r].per;

			if (age >= rows[r].keep && age > 0)
				break;
			cr_assert(ibsp_moved_map__find(m, KEY_VIRT | (i + 1)),
				  "row %zu: move %u (age %u) forgotten", r, i, age);
		}
		ibsp_moved_map__delete(m);
	}
}

/*
 * Hosts with many nodes that have CPUs: two sockets split into 8 nodes each
 * (AMD NPS4 with L3 as NUMA, Intel SNC on 4 sockets) give 16. Up to
 * IBSP_MAX_ACC_NODES (16) the heat table tells them apart, with entries
 * sized by the real count: a page used from the last node is promoted
 * there. One more is refused, naming the node.
 */
Test(heat, sixteen_accessor_nodes)
{
	for (uint32_t nr_cpu_nodes = 16; nr_cpu_nodes <= 17; nr_cpu_nodes++) {
		static char cpus[18][8];
		const char *cpu_of[18];
		uint32_t mem[18], fre[18];
		struct ibsp_topology *t;
		struct ibsp_engine_opts o = { .sz = sizeof(o),
					      .policy = policy_of("locality"),
					      .simulate = true,
					      .plan_heat = true };
		struct ibsp_engine *e;
		const struct ibsp_migration *plan;
		struct ibsp_heat_entry *he;
		struct ibsp_sample s;
		char msg[64];

		for (uint32_t i = 0; i <= nr_cpu_nodes; i++) {
			snprintf(cpus[i], sizeof(cpus[i]), "%u", i);
			cpu_of[i] = i < nr_cpu_nodes ? cpus[i] : ""; /* the last: CXL */
			mem[i] = fre[i] = 4;
		}
		t = make_topo(nr_cpu_nodes + 1, cpu_of, mem, fre, NULL);
		log_capture_start();
		e = ibsp_engine__new(t, &o);
		if (nr_cpu_nodes > IBSP_MAX_ACC_NODES) {
			snprintf(msg, sizeof(msg), "(node %u)", IBSP_MAX_ACC_NODES);
			cr_expect_null(e);
			cr_expect(strstr(log_captured(), msg), "%s", log_captured());
			ibsp_topology__delete(t);
			continue;
		}
		cr_assert(e, "%s", log_captured());
		cr_expect_eq(ibsp_engine__nr_acc(e), 16);
		cr_expect_eq(e->ht->stride, sizeof(struct ibsp_heat_entry) + 16 * sizeof(uint32_t));
		s = smp(t, 15, (int)nr_cpu_nodes, 5, 100);
		ibsp_engine__add(e, &s, 1);
		ibsp_engine__add(e, &s, 1);
		he = ibsp_heat_table__find(e->ht, KEY_PFN | (s.paddr >> 12));
		cr_assert(he);
		cr_expect_eq(he->heat[15], 2 * IBSP_HEAT_ONE);
		cr_expect_eq(he->last_acc, 15);
		cr_assert_eq(ibsp_engine__tick(e, 1000, &plan), 1);
		cr_expect_eq(plan[0].dst_node.id, 15);
		cr_expect_eq(ibsp_engine__plan_heat(e, 0)[15], 2 * IBSP_HEAT_ONE);
		ibsp_engine__delete(e);
		ibsp_topology__delete(t);
	}
}

/* Count a sample of @slot in the neighbourhood @key (the engine tells its set as it prefetches). */
static struct ibsp_near *near_add(struct ibsp_near_table *nt, const struct ibsp_heat_table *ht,
				  uint64_t key, int slot)
{
	return ibsp_near_table__add(nt, ht, ibsp_near_table__set(nt, key), key, slot);
}

/*
 * The neighbourhoods' table (engine/core/near.h): a sample counts NEAR_ONE
 * in its 64 KiB; the counts decay with the heat table's aging passes; the
 * leader leaves the asking page's own heat out and needs 4 samples and two
 * thirds; a neighbourhood that finds its set full takes the slot of fewest
 * samples over, counts reset.
 */
Test(heat, neighbourhoods_count_decay_and_leave_the_page_out)
{
	struct ibsp_heat_table *ht = ibsp_heat_table__new(1000, 2);
	struct ibsp_near_table *nt = ibsp_near_table__new(2);
	struct ibsp_heat_entry *he = calloc(1, sizeof(*he) + 2 * sizeof(he->heat[0]));
	uint64_t a = ibsp_near__key(100, UVA_BASE + 5 * 4096), other = 0;
	struct ibsp_near *n = NULL;

	cr_assert(ht && nt && he);
	ht->shift = 2;
	cr_expect_eq(ibsp_near__key(100, UVA_BASE), a, "one neighbourhood: 16 pages");
	cr_expect_neq(ibsp_near__key(100, UVA_BASE + 16 * 4096), a);
	cr_expect_neq(ibsp_near__key(101, UVA_BASE), a, "another process");
	for (int i = 0; i < 8; i++)
		n = near_add(nt, ht, a, 1);
	for (int i = 0; i < 2; i++)
		n = near_add(nt, ht, a, 0);
	cr_expect_eq(n->cnt[0], 2 * NEAR_ONE);
	cr_expect_eq(n->cnt[1], 8 * NEAR_ONE);

	static const struct {
		uint32_t own[2]; /* the page's heat, in samples */
		int want;
	} rows[] = {
		{ { 0, 0 }, 1 },  /* 8 of 10 */
		{ { 0, 3 }, 1 },  /* 5 of 7: two thirds */
		{ { 0, 4 }, 1 },  /* 4 of 6: two thirds, 4 samples */
		{ { 0, 5 }, -1 }, /* 3 of 5: under 4 samples */
		{ { 2, 4 }, 1 },  /* 4 of 4 */
	};
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		he->heat[0] = rows[r].own[0] * IBSP_HEAT_ONE;
		he->heat[1] = rows[r].own[1] * IBSP_HEAT_ONE;
		cr_expect_eq(ibsp_near__leader(n, he, 2), rows[r].want, "row %zu", r);
	}

	/* 8 of 13 is under two thirds. */
	{
		uint64_t b = ibsp_near__key(100, UVA_BASE + 64 * 4096);
		struct ibsp_near *m = NULL;

		for (int i = 0; i < 13; i++)
			m = near_add(nt, ht, b, i < 8);
		cr_assert_neq(m, n, "another slot");
		he->heat[0] = he->heat[1] = 0;
		cr_expect_eq(ibsp_near__leader(m, he, 2), -1);
		m = near_add(nt, ht, b, 1); /* 9 of 14: still under */
		cr_expect_eq(ibsp_near__leader(m, he, 2), -1);
		m = near_add(nt, ht, b, 1); /* 10 of 15: two thirds */
		cr_expect_eq(ibsp_near__leader(m, he, 2), 1);
	}

	/* Two aging passes at shift 2: each count x 3/4, twice (the heat's rule). */
	ht->aged += 2;
	ibsp_near__catch_up(n, 2, ht->aged, ht->shift);
	cr_expect_eq(n->cnt[1], 72, "128 -> 96 -> 72: %u", n->cnt[1]);
	cr_expect_eq(n->cnt[0], 18, "32 -> 24 -> 18: %u", n->cnt[0]);

	/*
	 * The set is NEAR_WAYS slots: three more neighbourhoods of @a's set take
	 * the free ones; a fifth takes the slot of fewest samples (decayed), and
	 * @a, with the most, keeps its slot and its counts.
	 */
	cr_expect_eq(ibsp_near_table__find(nt, a), n);
	{
		uint64_t same[NEAR_WAYS];
		struct ibsp_near *got[NEAR_WAYS];
		static const int nr_samples[NEAR_WAYS - 1] = { 3, 1, 2 };
		int found = 0;

		for (uint64_t v = 1; v < (1u << 22) && found < NEAR_WAYS; v++) {
			uint64_t k = ibsp_near__key(100, UVA_BASE + v * 65536);

			if (v != 4 /* b */ && k != a &&
			    ibsp_near_table__set(nt, k) == ibsp_near_table__set(nt, a))
				same[found++] = k;
		}
		cr_assert_eq(found, NEAR_WAYS, "neighbourhoods of one set");
		cr_assert_neq(ibsp_near_table__set(nt, ibsp_near__key(100, UVA_BASE + 64 * 4096)),
			      ibsp_near_table__set(nt, a), "b is in another set");
		cr_expect_null(ibsp_near_table__find(nt, same[0]));
		for (int i = 0; i < NEAR_WAYS - 1; i++) {
			for (int j = 0; j < nr_samples[i]; j++)
				got[i] = near_add(nt, ht, same[i], 0);
			cr_expect_neq(got[i], n, "a free slot of the set, not @a's");
			cr_expect_eq(got[i]->cnt[0], (uint32_t)nr_samples[i] * NEAR_ONE);
		}
		cr_expect_neq(got[0], got[1]);
		cr_expect_neq(got[1], got[2]);
		cr_expect_neq(got[0], got[2]);
		other = same[NEAR_WAYS - 1];
		cr_expect_eq(near_add(nt, ht, other, 1), got[1], "the fewest samples");
		cr_expect_eq(got[1]->key, other);
		cr_expect_eq(got[1]->cnt[0], 0);
		cr_expect_eq(got[1]->cnt[1], NEAR_ONE);
		cr_expect_null(ibsp_near_table__find(nt, same[1]), "it left");
		cr_expect_eq(ibsp_near_table__find(nt, a), n);
		cr_expect_eq(n->cnt[1], 72);
		cr_expect_eq(n->cnt[0], 18);
		cr_expect_eq(ibsp_near_table__find(nt, same[0]), got[0]);
		cr_expect_eq(ibsp_near_table__find(nt, same[2]), got[2]);
	}
	free(he);
	ibsp_near_table__delete(nt);
	ibsp_heat_table__delete(ht);
}

/*
 * The neighbourhoods' table grows at a tick: doubled while more
 * neighbourhoods with samples were replaced in the interval than a quarter
 * of its slots, up to NEAR_BITS_MAX, each keeping its counts, where over an
 * eighth of the first decisions that asked missed their neighbourhood; not
 * where the pages are known not to agree with their neighbours (not
 * hopeful); and a tick starts its counts again.
 */
Test(heat, the_neighbourhoods_table_grows_where_it_is_replaced_and_may_help)
{
	struct ibsp_heat_table *ht = ibsp_heat_table__new(1000, 2);
	struct ibsp_near_table *nt = ibsp_near_table__new(2);
	const uint32_t start = 1U << NEAR_BITS, nr = 4 * start;
	uint32_t kept = 0;

	cr_assert(ht && nt);
	ht->shift = 2;
	/* A few neighbourhoods, nothing replaced: no growth. */
	for (uint32_t i = 0; i < start / 2; i++)
		near_add(nt, ht, ibsp_near__key(9, UVA_BASE + (uint64_t)i * 65536), 0);
	cr_expect_eq(nt->replaced, 0);
	cr_expect_eq(ibsp_near_table__tick(nt, true), start);
	/* Four times the slots' neighbourhoods, a sample each. */
	for (uint32_t i = 0; i < nr; i++)
		near_add(nt, ht, ibsp_near__key(7, UVA_BASE + (uint64_t)i * 65536), 0);
	cr_expect_gt(nt->replaced, start / 4, "%" PRIu64 " replaced", nt->replaced);
	nt->asked = nt->missed = 8; /* every first decision missed its neighbourhood */
	cr_expect_eq(ibsp_near_table__tick(nt, false), start, "not hopeful: no growth");
	cr_expect_eq(nt->replaced, 0);
	cr_expect_eq(nt->asked, 0);
	cr_expect_eq(nt->missed, 0);

	/* Replaced as much, hopeful, but an eighth of the decisions missed: no growth. */
	for (uint32_t i = 0; i < nr; i++)
		near_add(nt, ht, ibsp_near__key(10, UVA_BASE + (uint64_t)i * 65536), 0);
	nt->asked = 80;
	nt->missed = 10;
	cr_expect_gt(nt->replaced, start / 4);
	cr_expect_eq(ibsp_near_table__tick(nt, true), start, "the decisions found them");

	for (uint32_t i = 0; i < nr; i++)
		near_add(nt, ht, ibsp_near__key(7, UVA_BASE + (uint64_t)i * 65536), 1);
	nt->asked = 80;
	nt->missed = 11;
	for (uint32_t i = 0; i < nr; i++) {
		const struct ibsp_near *n =
		    ibsp_near_table__find(nt, ibsp_near__key(7, UVA_BASE + (uint64_t)i * 65536));

		kept += n != NULL;
	}
	cr_expect_gt(kept, start / 2, "the table holds %u of them", kept);
	/* Growth: the replaced (~3 x start) would want 12 x start slots; the bound is 4 x start. */
	cr_expect_eq(ibsp_near_table__tick(nt, true), 1U << NEAR_BITS_MAX);
	cr_expect_eq(nt->bits, NEAR_BITS_MAX);
	for (uint32_t i = 0, again = 0; i < nr; i++) {
		const struct ibsp_near *n =
		    ibsp_near_table__find(nt, ibsp_near__key(7, UVA_BASE + (uint64_t)i * 65536));

		again += n != NULL;
		if (n)
			cr_expect_eq(n->cnt[1], NEAR_ONE, "its counts kept");
		if (i == nr - 1)
			cr_expect_eq(again, kept, "every neighbourhood kept");
	}
	/* At the bound, no more growth whatever is replaced. */
	for (uint32_t i = 0; i < 4 * nr; i++)
		near_add(nt, ht, ibsp_near__key(8, UVA_BASE + (uint64_t)i * 65536), 0);
	nt->asked = nt->missed = 80;
	cr_expect_eq(ibsp_near_table__tick(nt, true), 1U << NEAR_BITS_MAX);
	ibsp_near_table__delete(nt);
	ibsp_heat_table__delete(ht);
}

/*
 * A share told before SHARE_MIN samples (the host's flags: low noise, the
 * neighbours' and the owners' agreement): surely below 1/div when Wilson's
 * upper bound at 3 standard errors is. Each row: samples, of them "yes",
 * whether the share counted is of the others (of_no), 1/div, the answer.
 */
Test(heat, a_share_is_surely_below_from_few_samples)
{
	static const struct {
		uint32_t of, yes;
		bool of_no;
		uint32_t div;
		bool want;
	} rows[] = {
		{ 0, 0, false, 8, false },    /* nothing counted */
		{ 62, 0, false, 8, false },   /* 0 of 62: bound 12.7% (z^2 / (n + z^2)) */
		{ 64, 0, false, 8, true },    /* 0 of 64: 12.3% */
		{ 200, 10, false, 8, true },  /* 5%: bound 11.9% */
		{ 200, 12, false, 8, false }, /* 6%: bound 13.2% */
		{ 400, 25, false, 8, true },  /* 6.25%: bound 10.9% */
		{ 200, 200, true, 8, true },  /* all agree, of_no: none disagrees */
		{ 62, 62, true, 8, false },   /* none of 62: too few, as above */
		{ 64, 0, true, 8, false },    /* none agrees: 100% disagree */
		{ 300, 270, true, 8, false }, /* 10% disagree: bound 16.4% */
		{ 500, 0, false, 32, true },  /* 0 of 500: bound 1.8% */
		{ 500, 0, false, 64, false }, /* ... not below 1/64 */
		{ 500, 5, false, 32, false }, /* 1% of 500: bound 3.5% */
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ibsp_share sh = { .of = rows[r].of, .yes = rows[r].yes };

		cr_expect_eq(ibsp_share__surely_below(&sh, rows[r].of_no, rows[r].div),
			     rows[r].want, "row %zu: %u of %u%s, 1/%u", r, rows[r].yes, rows[r].of,
			     rows[r].of_no ? " (of_no)" : "", rows[r].div);
	}
}
