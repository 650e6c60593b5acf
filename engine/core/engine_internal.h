/* SPDX-License-Identifier: MIT */
/*
 * Engine internals, private to engine/core: resolution and the per-sample
 * path (engine.c), the heat table and the moved map (heat.c), and the
 * interval pass that runs the policy (tick.c). Policies see none of this,
 * only the views of ibsp/policy.h. Layouts here are free to change.
 */
#ifndef IBSP_ENGINE_INTERNAL_H
#define IBSP_ENGINE_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/engine.h"

/*
 * Heat-table keys. Bit 63: keyed by PFN (accesses from every process that
 * maps the frame add up). Bit 61: keyed by (pid, virtual page) when the
 * physical address is unknown; pid in bits 60:36 (pid_max <= 2^22), virtual
 * page number in bits 35:0 (48-bit user addresses). Bit 62: a 2 MiB entry;
 * its page number is 2 MiB aligned. Key 0 marks an empty slot.
 */
#define KEY_PFN	      (1ULL << 63)
#define KEY_HUGE      (1ULL << 62)
#define KEY_VIRT      (1ULL << 61)
#define KEY_PID_SHIFT 36
#define KEY_VPN_MASK  ((1ULL << 36) - 1)
#define KEY_PID_MAX   (1U << 24)
#define USER_VA_END   (1ULL << 47) /* x86-64 4-level user space ends here */

#define PAGE_SHIFT_4K 12
#define PAGE_SHIFT_2M 21

/* ibsp_heat_entry.flags */
#define HE_MOVED (1u << 0) /* simulate: placed by a planned move, not by the recording */
#define HE_ALIAS (1u << 1) /* @pid and the table's vpn[] name a mapping move_pages() can use */
/* Live: a planned move not yet reported by ibsp_engine__complete(). Until then the page
 * is not planned again, and samples (faults taken before the move) do not set its node. */
#define HE_INFLIGHT (1u << 2)
/* Live: the latest node query for this page found none; the next interval does not ask (scan.c). */
#define HE_NOWHERE (1u << 3)

/**
 * struct ibsp_heat_entry - one page (4 KiB or 2 MiB)
 *
 * @heat is in IBSP_HEAT_ONE units per sample, indexed by accessor slot,
 * decayed once per interval; it has the table's nr_acc elements, so an
 * entry takes 24 + 4 * nr_acc bytes rounded up to 8 (32 with two accessor
 * nodes: two to a cache line, none straddling one). Node fields are node
 * *indices* into the topology, -1 when unknown.
 *
 * The alias mapping (HE_ALIAS) is @pid here and its vaddr in the table's
 * side array (ibsp_heat_table__vaddr()): every sample compares its pid with
 * the entry's, but the vaddr is read only by a move, a fold or a node query.
 *
 * Aging is lazy: @heat and @idle stand as they were after the table's
 * interval pass number @aged (mod 256); the passes since are applied when
 * the entry is next read (ibsp_heat_table__catch_up()). @cold says what a
 * tick's scan counts for the entry while it is out of the warm set (scan.c).
 */
struct ibsp_heat_entry {
	uint64_t key;	      /* KEY_* */
	uint32_t pid : 24;    /* process of the alias mapping (< KEY_PID_MAX); its vaddr: t->vpn */
	uint32_t drift : 8;   /* on a top-tier node: slow evidence to leave it (note_leave()) */
	uint32_t last_move;   /* interval number of the last move; 0 = never */
	int8_t node;	      /* node index the page is on */
	int8_t prev_node;     /* node index it left at its last move */
	uint8_t last_acc : 4; /* accessor slot of the latest sample (< IBSP_MAX_ACC_NODES) */
	uint8_t last_reason : 4; /* enum ibsp_reason of the last move + 1; 0 = none */
	uint8_t flags : 4;	 /* HE_* */
	uint8_t cold : 4;	 /* out of the warm set: the skip counted each tick + 1; 0 = none */
	uint8_t nr_moves : 4;	 /* planned moves of this page (saturates at NR_MOVES_MAX) */
	uint8_t stay : 4; /* on a top-tier node: evidence it is private there (note_leave()) */
	union {
		uint8_t leave; /* on a top-tier node: evidence to leave it (note_leave()) */
		uint8_t seen;  /* elsewhere, or node unknown: samples since it came (saturates) */
	};
	uint8_t idle;	 /* intervals since the latest sample (saturates) */
	uint8_t aged;	 /* the table's aging passes (mod 256) @heat and @idle include */
	uint32_t heat[]; /* [nr_acc] decayed accesses per accessor slot */
};

_Static_assert(sizeof(struct ibsp_heat_entry) == 24, "the fixed part of a heat entry");
#define NR_MOVES_MAX 15U
#define EXC_MAX	     8U
#define STAY_MAX     15U

_Static_assert(KEY_PID_MAX == 1U << 24, "a heat entry's pid field holds any pid a key can");
_Static_assert(IBSP_MAX_ACC_NODES <= 16 && IBSP_REASON__MAX < 16 && IBSP_SKIP__MAX < 16,
	       "the 4-bit fields of a heat entry");

struct ibsp_moved_map;
struct ibsp_near_table;

/**
 * struct ibsp_heat_table - the tracked pages: a dense array of entries and
 * an open-addressing index over it (linear probing, backward-shift deletion)
 *
 * The entries fill ent[0, count) with no holes (a deletion moves the last
 * entry into the hole), so a pass over the pages costs what is tracked. An
 * index slot (4 bytes) holds an entry's position + 1 in its low pos_bits
 * (0 = empty) and, above them, a tag: 8 bits of the key's hash (fewer for
 * bounds past 16 Mi pages), so a probe reads only the entry it likely wants.
 */
struct ibsp_heat_table {
	uint32_t *slots;   /* index: tag | entry position + 1; 0 = empty */
	uint32_t pos_mask; /* the position bits of a slot */
	uint32_t pos_bits; /* their count; the tag sits above them */
	uint32_t tag_mask; /* the tag's width, as a mask (0: no tag) */
	char *ent; /* the entries, stride bytes each, dense in [0, count); 64-byte aligned */
	unsigned char *vpn; /* [position]: the alias's page number, where HE_ALIAS (VPN_BYTES) */
	uint32_t *owner;    /* [position]: the thread the page's samples vote for (threads.h) */
	uint64_t cap;	    /* entries ent has room for */
	uint32_t stride;    /* bytes per entry */
	uint32_t nr_acc;    /* heat[] elements per entry */
	uint64_t mask;	    /* nr slots - 1 (a power of two) */
	uint32_t bits;	    /* log2(nr slots) */
	uint64_t count;	    /* entries */
	uint64_t max;	    /* occupancy bound (<= 3/4 of max_slots) */
	uint64_t max_slots; /* the slots max needs: the index grows up to these */
	uint64_t evictions;
	uint64_t nr_virt; /* entries keyed KEY_VIRT (see ibsp_engine__fold_aliases()) */
	uint64_t nr_pfn;  /* entries keyed KEY_PFN: without both kinds there is nothing to fold */
	/* Simulation: a moved entry's history goes here when it leaves (may be NULL). */
	struct ibsp_moved_map *spill;
	/*
	 * Lazy aging: the interval passes so far, the shift of each one's decay,
	 * and the background sweep that brings every entry up to date within
	 * 128 passes (ibsp_heat_table__sweep()): its position, the end of its
	 * round and its step.
	 */
	uint32_t aged;
	uint32_t shift;
	uint64_t sweep_pos, sweep_end, sweep_step;
	/*
	 * The warm set, a bit per position of the dense array: the entries a
	 * tick's scan visits. The others are counted by their @cold class.
	 */
	uint64_t *warm;
	uint64_t cold_count[16]; /* entries out of the warm set, per @cold class */
};

/* A table for @max_entries pages of @nr_acc accessor slots, or NULL with errno set (EINVAL). */
struct ibsp_heat_table *ibsp_heat_table__new(uint64_t max_entries, uint32_t nr_acc);
void ibsp_heat_table__delete(struct ibsp_heat_table *t);
/* The entry for @key, or NULL. */
struct ibsp_heat_entry *ibsp_heat_table__find(struct ibsp_heat_table *t, uint64_t key);
/*
 * The entry for @key, inserted zeroed (key set) when new; *@is_new says which,
 * and *@pos its position in the dense array.
 * It is about to change: up to date, and in the warm set (ibsp_heat_table__touch()).
 * An insert (and a deletion) may move other entries: pointers do not survive it.
 */
struct ibsp_heat_entry *ibsp_heat_table__get_pos(struct ibsp_heat_table *t, uint64_t key,
						 bool *is_new, uint32_t *pos);
static inline struct ibsp_heat_entry *ibsp_heat_table__get(struct ibsp_heat_table *t, uint64_t key,
							   bool *is_new)
{
	uint32_t pos;

	return ibsp_heat_table__get_pos(t, key, is_new, &pos);
}
void ibsp_heat_table__del(struct ibsp_heat_table *t, struct ibsp_heat_entry *e);
/* The index slot that names @key, or the empty one where it would go. */
uint64_t ibsp_heat_table__slot_of(const struct ibsp_heat_table *t, uint64_t key);
/* Double the index's slots (and its bound); for tables that must not evict. */
int ibsp_heat_table__grow(struct ibsp_heat_table *t);
/*
 * Size the dense array for @pages entries now (no more than the bound), so
 * it is not copied at each doubling until then; 0 or -ENOMEM. The index
 * still grows with the entries: a larger one than they need costs each
 * sample a TLB miss on its slot while the table is small.
 */
int ibsp_heat_table__presize(struct ibsp_heat_table *t, uint64_t pages);
/* Slot count needed for @max_entries (for sizing the default). */
uint64_t ibsp_heat_table__slots_for(uint64_t max_entries);
/* Bytes the table holds now (entries and index), for the memory figures. */
uint64_t ibsp_heat_table__bytes(const struct ibsp_heat_table *t);

/* One aging pass of one heat value: heat -= heat >> shift (a last unit would never go). */
static inline uint32_t ibsp_heat_decay_once(uint32_t h, uint32_t shift)
{
	h -= h >> shift;
	return h == 1 ? 0 : h;
}

/* Apply @gap aging passes (decay by @shift, idle + 1 each) to @he. */
void ibsp_heat_entry__age(struct ibsp_heat_entry *he, uint32_t nr_acc, uint32_t shift,
			  uint32_t gap);
/* Bring every entry up to date (before the decay shift changes). */
void ibsp_heat_table__catch_up_all(struct ibsp_heat_table *t);
/* Once per aging pass: bring the next few entries up to date, so no stamp falls 256 behind. */
void ibsp_heat_table__sweep(struct ibsp_heat_table *t);

/* The entry at position @i of the dense array. */
static inline struct ibsp_heat_entry *ibsp_heat_table__at(const struct ibsp_heat_table *t,
							  uint64_t i)
{
	return (struct ibsp_heat_entry *)(void *)(t->ent + i * t->stride);
}

/*
 * Load both ends of entry @i (past two accessor nodes an entry may straddle two lines) and
 * return them, for a sink: loads issued together for a batch of entries
 * overlap their misses (tick.c; the samples' path prefetches instead, a
 * chunk ahead: engine.c).
 */
static inline unsigned int ibsp_heat_table__load_at(const struct ibsp_heat_table *t, uint64_t i)
{
	const unsigned char *p = (const unsigned char *)t->ent + i * t->stride;

	return p[0] + p[t->stride - 1];
}

/* Prefetch both ends of entry @i, as ibsp_heat_table__load_at() loads them. */
static inline void ibsp_heat_table__prefetch_at(const struct ibsp_heat_table *t, uint64_t i)
{
	const char *p = t->ent + i * t->stride;

	__builtin_prefetch(p);
	__builtin_prefetch(p + t->stride - 1);
}

/* The position of @he in the dense array. */
static inline uint32_t ibsp_heat_table__pos(const struct ibsp_heat_table *t,
					    const struct ibsp_heat_entry *he)
{
	return (uint32_t)(((const char *)he - t->ent) / t->stride);
}

/*
 * An alias's vaddr, in the side array t->vpn: its page number (a user vaddr
 * is below USER_VA_END, so 35 bits) in 5 bytes a page, low 32 bits then the
 * rest. memcpy() keeps the unaligned accesses defined; each is one move.
 */
#define VPN_BYTES 5

_Static_assert(USER_VA_END >> PAGE_SHIFT_4K <= 1ULL << (8 * VPN_BYTES), "an alias's page number");

/* The page-aligned vaddr whose page number position @pos of t->vpn holds. */
static inline uint64_t ibsp_heat_table__vaddr_at(const struct ibsp_heat_table *t, uint64_t pos)
{
	const unsigned char *p = t->vpn + pos * VPN_BYTES;
	uint32_t lo;

	memcpy(&lo, p, sizeof(lo));
	return ((uint64_t)p[4] << 32 | lo) << PAGE_SHIFT_4K;
}

/* The page-aligned vaddr of @he's alias mapping; 0 without one (no HE_ALIAS). */
static inline uint64_t ibsp_heat_table__vaddr(const struct ibsp_heat_table *t,
					      const struct ibsp_heat_entry *he)
{
	return he->flags & HE_ALIAS ? ibsp_heat_table__vaddr_at(t, ibsp_heat_table__pos(t, he)) : 0;
}

/* (@pid, @vaddr: page-aligned, below USER_VA_END) is @he's alias mapping now (HE_ALIAS). */
static inline void ibsp_heat_table__set_alias(struct ibsp_heat_table *t, struct ibsp_heat_entry *he,
					      uint32_t pid, uint64_t vaddr)
{
	unsigned char *p = t->vpn + (uint64_t)ibsp_heat_table__pos(t, he) * VPN_BYTES;
	uint64_t vpn = vaddr >> PAGE_SHIFT_4K;
	uint32_t lo = (uint32_t)vpn;

	memcpy(p, &lo, sizeof(lo));
	p[4] = (unsigned char)(vpn >> 32);
	he->pid = pid & (KEY_PID_MAX - 1);
	he->flags |= HE_ALIAS;
}

/* Apply to @he the aging passes it has missed. */
static inline void ibsp_heat_table__catch_up(const struct ibsp_heat_table *t,
					     struct ibsp_heat_entry *he)
{
	uint8_t gap = (uint8_t)(t->aged - he->aged);

	if (gap) {
		ibsp_heat_entry__age(he, t->nr_acc, t->shift, gap);
		he->aged = (uint8_t)t->aged;
	}
}

static inline bool ibsp_heat_table__is_warm(const struct ibsp_heat_table *t, uint64_t pos)
{
	return t->warm[pos / 64] >> (pos % 64) & 1;
}

static inline void ibsp_heat_table__set_warm(struct ibsp_heat_table *t, uint64_t pos)
{
	t->warm[pos / 64] |= 1ULL << (pos % 64);
}

/* @he leaves the warm set, counted under @cold from now on. */
static inline void ibsp_heat_table__make_cold(struct ibsp_heat_table *t, struct ibsp_heat_entry *he,
					      uint32_t pos, unsigned int cold)
{
	t->warm[pos / 64] &= ~(1ULL << (pos % 64));
	he->cold = (uint8_t)(cold & 15);
	t->cold_count[he->cold]++;
}

/*
 * @he is about to change (a sample, a move, a fold): up to date, and in the
 * warm set, so the next tick's scan looks at it again.
 */
static inline void ibsp_heat_table__touch_at(struct ibsp_heat_table *t, struct ibsp_heat_entry *he,
					     uint32_t pos)
{
	ibsp_heat_table__catch_up(t, he);
	if (!ibsp_heat_table__is_warm(t, pos)) {
		t->cold_count[he->cold]--;
		ibsp_heat_table__set_warm(t, pos);
	}
}

static inline void ibsp_heat_table__touch(struct ibsp_heat_table *t, struct ibsp_heat_entry *he)
{
	ibsp_heat_table__touch_at(t, he, ibsp_heat_table__pos(t, he));
}

/* The entry index slot @i names, or NULL when it is empty. */
static inline struct ibsp_heat_entry *ibsp_heat_table__slot(const struct ibsp_heat_table *t,
							    uint64_t i)
{
	uint32_t v = t->slots[i];

	return v ? ibsp_heat_table__at(t, (v & t->pos_mask) - 1) : NULL;
}

static inline uint64_t ibsp_heat_hash(uint64_t key, uint32_t bits)
{
	return (key * 0x9E3779B97F4A7C15ULL) >> (64 - bits);
}

/* @key's tag, in place above the position bits: hash bits 24..31, below any home slot's. */
static inline uint32_t ibsp_heat_tag(const struct ibsp_heat_table *t, uint64_t key)
{
	uint64_t h = key * 0x9E3779B97F4A7C15ULL;

	return (uint32_t)(((h >> 24) & t->tag_mask) << t->pos_bits);
}

/** struct ibsp_moved_rec - where a moved page went, kept past heat-table eviction */
struct ibsp_moved_rec {
	uint64_t key;
	uint32_t last_move;
	int8_t node;
	int8_t prev_node;
	uint16_t nr_moves;
};

/**
 * struct ibsp_moved_map - growable open-addressing map of struct ibsp_moved_rec
 *
 * With a @cap (live: a record per move, for as long as the daemon runs), a
 * put that finds the map at @cap first forgets the older half of the
 * records (by last_move), never one moved within @keep intervals of the
 * put's (the ping-pong guard needs those): a page moved long ago whose entry
 * left the heat table then counts as never moved. Without it the map grew
 * by a record per page ever moved, and kept records of exited processes,
 * whose pid and addresses a new process may reuse.
 */
struct ibsp_moved_map {
	struct ibsp_moved_rec *slots;
	uint64_t mask;
	uint32_t bits;
	uint64_t count;
	struct ibsp_engine_stats *st; /* counts pages_moved and moved_twice; may be NULL */
	uint64_t cap;		      /* records; 0: no bound (simulation) */
	uint32_t keep;		      /* intervals within which no record is forgotten */
	uint64_t forgotten;	      /* records dropped to stay within @cap */
};

/* An empty map (slots come with the first record), or NULL. */
struct ibsp_moved_map *ibsp_moved_map__new(void);
/* Bytes the map holds now. */
uint64_t ibsp_moved_map__bytes(const struct ibsp_moved_map *m);
void ibsp_moved_map__delete(struct ibsp_moved_map *m);
int ibsp_moved_map__put(struct ibsp_moved_map *m, const struct ibsp_moved_rec *rec);
const struct ibsp_moved_rec *ibsp_moved_map__find(const struct ibsp_moved_map *m, uint64_t key);

/*
 * A share of its samples the engine measures, to know what this host's
 * samples can be trusted with (the noise estimate, the neighbours' and the
 * owners' agreement; evidence.h, threads.h): @of samples counted, @yes of
 * them. Both are halved past SHARE_WINDOW, so the share follows the latest
 * ~SHARE_WINDOW, and it is told from SHARE_MIN.
 */
struct ibsp_share {
	uint32_t of;
	uint32_t yes;
};

#define SHARE_WINDOW (1U << 16)
#define SHARE_MIN    512

static inline void ibsp_share__note(struct ibsp_share *s, bool yes)
{
	s->yes += yes;
	if (++s->of >= SHARE_WINDOW) {
		s->of /= 2;
		s->yes /= 2;
	}
}

/* The share, or -1 while under SHARE_MIN samples are counted. */
static inline double ibsp_share__value(const struct ibsp_share *s)
{
	return s->of < SHARE_MIN ? -1.0 : (double)s->yes / s->of;
}

/*
 * Is the share of @s's samples that are not @yes (@of_no) or that are
 * (!@of_no) surely below 1 / @div: is Wilson's upper bound on it, at SHARE_Z
 * standard errors, below? Before SHARE_MIN samples, the host's flags
 * (view.low_noise, near_agrees, owner_agrees) are told this way, so that
 * they hold as soon as the samples are clear: with no noise at all, from 64
 * samples for 1/8 (7 z^2), not 512. Sparse recordings gather 512 slowly: on
 * 100 altgen recordings (60 k-600 k samples over ~3,000 pages), the first
 * decisions of 56 came earlier, +0.5 point local on average, up to +3.3.
 */
#define SHARE_Z 3.0

static inline bool ibsp_share__surely_below(const struct ibsp_share *s, bool of_no, uint32_t div)
{
	double n = s->of, k = of_no ? s->of - s->yes : s->yes, z2 = SHARE_Z * SHARE_Z, p, hi;

	if (!s->of)
		return false;
	p = k / n;
	hi = (p + z2 / (2 * n) + SHARE_Z * sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n);
	return hi * div < 1;
}

/* @bytes zeroed and cache-aligned (a table of counts' slots); NULL without memory. */
static inline char *ibsp_zalloc_lines(size_t bytes)
{
	char *p = aligned_alloc(64, bytes);

	if (p)
		memset(p, 0, bytes);
	return p;
}

/*
 * The slots of a direct-mapped table of counts per accessor slot
 * (threads.h): 1 << @bits of them, each @head bytes and @nr_acc u16 counts,
 * rounded up to 8 (*@stride), zeroed and cache-aligned; NULL without memory.
 */
static inline char *ibsp_count_slots__new(size_t head, uint32_t nr_acc, uint32_t bits,
					  uint32_t *stride)
{
	*stride = (uint32_t)((head + nr_acc * sizeof(uint16_t) + 7) & ~7UL);
	return ibsp_zalloc_lines((size_t)*stride << bits);
}

/* Heat histogram buckets (tick_internal.h): 4 per power of two. */
#define IBSP_HEAT_BUCKETS 256

struct ibsp_engine {
	const struct ibsp_topology *topo;
	struct ibsp_engine_opts opts;
	struct ibsp_engine_stats st;

	/* Resolution tables, built once. */
	int8_t *cpu_slot; /* CPU -> accessor slot, -1 if none */
	uint32_t nr_cpu_slots;
	int8_t *block_node; /* memory block -> node index, -1 if none */
	uint64_t nr_blocks;
	uint64_t block_size;
	uint32_t nr_acc;
	int8_t acc_node[IBSP_MAX_ACC_NODES]; /* accessor slot -> node index, per sample */
	struct ibsp_node_idx acc_idx[IBSP_MAX_ACC_NODES]; /* the same, for the views */

	/* Capacity, per node index, bytes. */
	uint64_t *free_bytes;
	uint64_t *wmark_bytes;	 /* total * watermark_bp / 10000: what a destination keeps */
	uint64_t *reclaim_bytes; /* cold pages' bytes the tick may demote, per node index */
	bool *top_tier;		 /* per node index: a promotion destination (the topology's) */

	struct ibsp_heat_table *ht;
	struct ibsp_moved_map *moved;
	uint32_t interval; /* ticks so far; a move's stamp */

	/* The policy and its view of the above (opts.policy.ops may be NULL). */
	const struct ibsp_policy_ops *ops;
	struct ibsp_policy_view view;
	bool lower_tier_only; /* the policy's scope: pages on lower-tier nodes only */
	bool demotes;	      /* the policy demotes and no_demote is off */
	bool select_by_place; /* ops->select_by_place: select()'s answers are memoised (scan.c) */
	/* Per node index x accessor slot (IBSP_MAX_ACC_NODES): select()'s answer this tick for
	 * the pages it depends on the place only (select_by_place), 0 while not asked (scan.c). */
	uint8_t *select_memo;

	/* Per-tick scratch, reused. A candidate is one word: cand_make() (tick_internal.h). */
	uint64_t *cand;
	uint64_t nr_cand, cap_cand;
	uint64_t *unres; /* hot pages of unknown node, as candidates (cand_make()) */
	uint64_t nr_unres, cap_unres;
	struct ibsp_migration *plan;
	uint64_t cap_plan;
	long nr_plan; /* the last tick's */
	/* [plan index * nr_acc + slot]: the plan's heat, with opts.plan_heat only */
	uint32_t *plan_heat;
	uint64_t cap_plan_heat;
	/* This tick's budget (UINT64_MAX: none), and its candidates' bytes per heat bucket
	 * (tick_internal.h's bucket_of()): the threshold they set only rises as they come
	 * in, so a candidate below it is never kept (scan.c). */
	uint64_t budget;
	uint64_t cand_bytes[IBSP_HEAT_BUCKETS];
	uint64_t cand_total; /* their sum */
	uint64_t cand_cum;   /* the bytes in buckets >= cand_floor */
	uint32_t cand_floor; /* the highest bucket whose bytes, with those above, cover the
			       * budget (0 while none does): where the threshold is now */
	uint64_t *cold;	     /* demotable pages of this tick, coldest first */
	uint64_t nr_cold, cap_cold;
	uint64_t *cold_next;	 /* per node index: cold[] before it holds nothing it can still
			      * demote this tick (make_room() starts there) */
	bool *pressure;		 /* per node index: a top-tier node short of room this tick */
	bool any_pressure;	 /* some node is */
	bool any_short;		 /* some top-tier node is short of room, demotion or not */
	bool full_scan;		 /* the next tick scans every page, not the warm set (scan.c) */
	struct ibsp_share noise; /* samples of pages in a run of their own node's, and of them
				  * excursions that came back (note_noise()) */
	/* Pure excursions of pages with stay >= IBSP_TRUSTED_STAY (evidence.h,
	 * note_excursion()): [k] those that reached k samples from elsewhere with none
	 * from home, and those a sample from home ended at k */
	uint32_t exc_reach[EXC_MAX + 1];
	uint32_t exc_back[EXC_MAX + 1];
	uint32_t exc_plateau; /* the hazard of a move's excursion, x 10000; 0: not known */
	/* The neighbourhoods (near.h), and how often pages whose home is clear agree
	 * with theirs (ibsp_engine__note_near()): samples whose neighbours led clearly,
	 * and of them those that led to the page's home. */
	struct ibsp_near_table *near;
	struct ibsp_share near_agree;
	/* The threads (threads.h), and how often a private page's owner has its home
	 * on the page's node (ibsp_engine__note_owner()): samples counted, agreeing. */
	struct ibsp_thread_table *threads;
	struct ibsp_share owner_agree;
};

/* Settings (engine_opts.c): the defaults of the zero fields, and their check (0 or -EINVAL). */
void ibsp_engine_opts__fill_defaults(struct ibsp_engine_opts *o);
int ibsp_engine_opts__check(const struct ibsp_engine_opts *o);
/* Each node's watermark in bytes, from opts.watermark_bp. */
void ibsp_engine__set_watermarks(struct ibsp_engine *e);
/* The policy's view of the engine, its state (view.priv, allocated) and its start(). */
int ibsp_engine__start_policy(struct ibsp_engine *e);

/*
 * One page, one entry: fold every KEY_VIRT entry whose (pid, virtual page)
 * is the alias of a PFN entry into that entry (alias.c). The interval pass
 * calls it first; it does nothing while the table holds no KEY_VIRT entry.
 */
void ibsp_engine__fold_aliases(struct ibsp_engine *e);

/* The key the moved map uses for @he: its own in simulation, (pid, vpn) live. */
static inline uint64_t ibsp_engine__moved_key(const struct ibsp_engine *e,
					      const struct ibsp_heat_entry *he)
{
	uint64_t vpn;

	if (e->opts.simulate || !(he->key & KEY_PFN))
		return he->key;
	if (!(he->flags & HE_ALIAS))
		return 0;
	vpn = ibsp_heat_table__vaddr(e->ht, he) >> PAGE_SHIFT_4K;
	return KEY_VIRT | (he->key & KEY_HUGE) | (uint64_t)he->pid << KEY_PID_SHIFT | vpn;
}

/* @he's heat over all accessor slots. */
static inline uint64_t entry_total(const struct ibsp_heat_entry *he, uint32_t nr_acc)
{
	uint64_t total = 0;

	for (uint32_t s = 0; s < nr_acc; s++)
		total += he->heat[s];
	return total;
}

static inline uint32_t ibsp_heat_entry__bytes(const struct ibsp_heat_entry *he)
{
	return he->key & KEY_HUGE ? 1U << PAGE_SHIFT_2M : 1U << PAGE_SHIFT_4K;
}

#endif /* IBSP_ENGINE_INTERNAL_H */
