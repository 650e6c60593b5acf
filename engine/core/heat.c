// SPDX-License-Identifier: MIT
/*
 * The heat table: a dense array of struct ibsp_heat_entry, sized for the
 * accessor nodes there are (32 bytes a page with two, line-aligned), and an
 * open-addressing index over it (linear probing, Knuth's backward-shift
 * deletion, so there are no tombstones and lookups stay short) whose slots
 * hold an entry's position, 4 bytes each. Occupancy is held at or below 3/4
 * of the slots: expected probes are ~2.5 for a hit and ~8.5 for a miss.
 * Passes over the pages (the interval scan, the decay) walk the dense array:
 * they cost what is tracked, never the capacity; a deletion moves the last
 * entry into the hole.
 *
 * The index starts small and doubles as pages come in, up to the slots its
 * bound needs; the array grows by doubling (realloc: only what is written
 * becomes resident).
 *
 * When the table is full, an insert evicts the coldest entry among the 16
 * slots that follow the new key's home slot (sampled eviction): an exact
 * global minimum would need an ordered index updated on every sample. The
 * engine's interval scan then trims the table back to 7/8 of its bound,
 * coldest first (engine/core/tick.c), so inserts rarely need to evict.
 *
 * Aging is lazy: a tick's pass over the pages only counts it (t->aged),
 * and each entry, stamped with the count it stands at, takes the passes it
 * missed when it is next read (ibsp_heat_table__catch_up(): the same
 * integer halvings, in turn). A bitmap over the dense array marks the warm
 * set, the entries a tick's scan visits (engine/core/scan.c); the others
 * are counted per class. A deletion moves the last entry's bit with it.
 *
 * An entry's alias mapping is its pid and, in a side array by position
 * (t->vpn), its virtual page number: 5 bytes a page that only an alias's
 * change, a move, a fold or a node query touch, so that the entry is 32
 * bytes with two accessor nodes. A deletion moves the last entry's with it.
 *
 * When an entry leaves, a moved page's history goes to the moved map
 * (t->spill, moved.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine_internal.h"

#define EVICT_WINDOW  16
#define START_SLOTS   4096
#define START_ENTRIES 1024

/*
 * The index and the entries are read at random: past a few MiB, a TLB miss
 * each with 4 KiB pages, and a prefetch that misses the TLB does not help.
 * So large arrays are mapped on their own and asked for transparent huge
 * pages (where the host leaves them to madvise()); only what is touched
 * becomes resident. A refusal changes nothing but speed. The alias page
 * numbers (t->vpn) are not asked: written in position order as entries
 * come, read in order by a fold and at random only by a tick's planned
 * moves (loaded a batch at a time), they keep 4 KiB pages, which spares the 2 MiB rounding of the
 * resident size (1-2 MB).
 */
#define HUGE_FROM (4UL << 20)

/* @len zeroed bytes, 64-byte aligned; past HUGE_FROM a mapping of their own, huge if @huge. */
static void *zalloc_pages(size_t len, bool huge)
{
	void *p;

	if (len < HUGE_FROM) {
		/*
		 * Line-aligned, so 32-byte entries (two accessor nodes) never straddle
		 * a line; from calloc(), whose fresh pages stay untouched until written
		 * (a memset would make the whole array resident), with the block's
		 * start kept just below the aligned address for big_free().
		 */
		char *b = calloc(1, len + 64 + sizeof(void *));

		if (!b)
			return NULL;
		p = (void *)(((uintptr_t)b + sizeof(void *) + 63) & ~(uintptr_t)63);
		memcpy((char *)p - sizeof(void *), &b, sizeof(b));
		return p;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		 0);
	if (p == MAP_FAILED)
		return NULL;
	if (huge)
		(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static void *big_zalloc(size_t len)
{
	return zalloc_pages(len, true);
}

static void big_free(void *p, size_t len)
{
	if (len < HUGE_FROM) {
		void *b;

		if (!p)
			return;
		memcpy(&b, (char *)p - sizeof(void *), sizeof(b));
		free(b);
	} else if (p)
		munmap(p, len);
}

/*
 * The dense array and the arrays beside it, one item per position: the
 * alias's page number, the owner vote, the warm bit. They are made, moved
 * and freed together (positions_alloc(), move_entries(), positions_free()).
 */
struct positions {
	char *ent;
	unsigned char *vpn;
	uint32_t *owner;
	uint64_t *warm;
};

static size_t warm_bytes(uint64_t cap)
{
	return (cap + 63) / 64 * sizeof(uint64_t);
}

static void positions_free(const struct ibsp_heat_table *t, const struct positions *p, uint64_t cap)
{
	big_free(p->ent, cap * t->stride);
	big_free(p->vpn, cap * VPN_BYTES);
	big_free(p->owner, cap * sizeof(*p->owner));
	big_free(p->warm, warm_bytes(cap));
}

/* Zeroed room for @cap positions, in @ent if given (the dense array's); nothing is kept on failure. */
static int positions_alloc(const struct ibsp_heat_table *t, struct positions *p, uint64_t cap,
			   char *ent)
{
	p->ent = ent ? ent : big_zalloc(cap * t->stride);
	p->vpn = p->ent ? zalloc_pages(cap * VPN_BYTES, false) : NULL;
	p->owner = p->vpn ? big_zalloc(cap * sizeof(*p->owner)) : NULL;
	p->warm = p->owner ? big_zalloc(warm_bytes(cap)) : NULL;
	if (p->warm)
		return 0;
	positions_free(t, p, cap);
	return -ENOMEM;
}

static struct positions positions_of(const struct ibsp_heat_table *t)
{
	return (
	    struct positions){ .ent = t->ent, .vpn = t->vpn, .owner = t->owner, .warm = t->warm };
}

static void set_positions(struct ibsp_heat_table *t, const struct positions *p, uint64_t cap)
{
	t->ent = p->ent;
	t->vpn = p->vpn;
	t->owner = p->owner;
	t->warm = p->warm;
	t->cap = cap;
}

uint64_t ibsp_heat_table__slots_for(uint64_t max_entries)
{
	uint64_t need = max_entries + max_entries / 3 + 1, slots = 16;

	while (slots < need)
		slots <<= 1;
	return slots;
}

struct ibsp_heat_table *ibsp_heat_table__new(uint64_t max_entries, uint32_t nr_acc)
{
	uint64_t slots = ibsp_heat_table__slots_for(max_entries), cap;
	struct ibsp_heat_table *t;
	struct positions p;

	if (max_entries < 1 || slots > (1ULL << 32) || nr_acc > IBSP_MAX_ACC_NODES) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nr_acc = nr_acc;
	t->pos_bits = 64 - (uint32_t)__builtin_clzll(max_entries); /* positions 1..max */
	t->pos_mask = t->pos_bits >= 32 ? UINT32_MAX : (1U << t->pos_bits) - 1;
	t->tag_mask = t->pos_bits >= 32	  ? 0
		      : t->pos_bits >= 24 ? (1U << (32 - t->pos_bits)) - 1
					  : 0xff;
	t->stride =
	    (uint32_t)((sizeof(struct ibsp_heat_entry) + nr_acc * sizeof(uint32_t) + 7) & ~7UL);
	t->max_slots = slots;
	if (slots > START_SLOTS)
		slots = START_SLOTS;
	t->slots = big_zalloc(slots * sizeof(*t->slots));
	cap = max_entries < START_ENTRIES ? max_entries : START_ENTRIES;
	t->shift = 2;
	if (!t->slots || positions_alloc(t, &p, cap, NULL)) {
		big_free(t->slots, slots * sizeof(*t->slots));
		free(t);
		return NULL;
	}
	set_positions(t, &p, cap);
	t->mask = slots - 1;
	t->bits = (uint32_t)__builtin_ctzll(slots);
	t->max = max_entries;
	return t;
}

void ibsp_heat_table__delete(struct ibsp_heat_table *t)
{
	struct positions p;

	if (!t)
		return;
	p = positions_of(t);
	big_free(t->slots, (t->mask + 1) * sizeof(*t->slots));
	positions_free(t, &p, t->cap);
	free(t);
}

uint64_t ibsp_heat_table__bytes(const struct ibsp_heat_table *t)
{
	return t->count * (t->stride + VPN_BYTES + sizeof(*t->owner)) +
	       (t->mask + 1) * sizeof(*t->slots) + warm_bytes(t->cap);
}

static uint64_t key_at(const struct ibsp_heat_table *t, uint32_t slot_val)
{
	return ibsp_heat_table__at(t, (slot_val & t->pos_mask) - 1)->key;
}

int ibsp_heat_table__grow(struct ibsp_heat_table *t)
{
	uint64_t n = (t->mask + 1) * 2;
	uint32_t *slots = big_zalloc(n * sizeof(*slots));
	uint32_t bits = t->bits + 1;

	if (!slots)
		return -ENOMEM;
	/* In slot order, as the layout (and so sampled eviction) depends on it. */
	for (uint64_t i = 0; i <= t->mask; i++) {
		uint64_t j;

		if (!t->slots[i])
			continue;
		for (j = ibsp_heat_hash(key_at(t, t->slots[i]), bits); slots[j];
		     j = (j + 1) & (n - 1))
			;
		slots[j] = t->slots[i];
	}
	big_free(t->slots, (t->mask + 1) * sizeof(*t->slots));
	t->slots = slots;
	t->mask = n - 1;
	t->bits = bits;
	return 0;
}

/* Room for one more entry within 3/4 of the slots, doubling while below the bound's size. */
static bool full(struct ibsp_heat_table *t)
{
	if ((t->count + 1) * 4 <= (t->mask + 1) * 3 && t->count < t->max)
		return false;
	if (t->count < t->max && t->mask + 1 < t->max_slots && !ibsp_heat_table__grow(t))
		return false;
	return t->count >= t->max || (t->count + 1) * 4 > (t->mask + 1) * 3;
}

/*
 * The dense array (and the alias vaddrs and the warm bitmap beside it) moved
 * to room for @cap entries; past the small sizes, the whole bound at once
 * (only what is written becomes resident).
 */
static int move_entries(struct ibsp_heat_table *t, uint64_t cap)
{
	struct positions old = positions_of(t), p;
	char *ent = cap * t->stride >= HUGE_FROM ? big_zalloc(t->max * t->stride) : NULL;

	if (ent)
		cap = t->max;
	if (positions_alloc(t, &p, cap, ent))
		return -ENOMEM;
	memcpy(p.ent, old.ent, t->count * t->stride);
	memcpy(p.vpn, old.vpn, t->count * VPN_BYTES);
	memcpy(p.owner, old.owner, t->count * sizeof(*p.owner));
	memcpy(p.warm, old.warm, warm_bytes(t->cap));
	positions_free(t, &old, t->cap);
	set_positions(t, &p, cap);
	return 0;
}

/* Room in the dense array (and the warm bitmap) for one more entry (count < max holds here). */
static int reserve(struct ibsp_heat_table *t)
{
	if (t->count < t->cap)
		return 0;
	return move_entries(t, t->cap * 2 < t->max ? t->cap * 2 : t->max);
}

int ibsp_heat_table__presize(struct ibsp_heat_table *t, uint64_t pages)
{
	if (pages > t->max)
		pages = t->max;
	return pages > t->cap ? move_entries(t, pages) : 0;
}

uint64_t ibsp_heat_table__slot_of(const struct ibsp_heat_table *t, uint64_t key)
{
	uint64_t i = ibsp_heat_hash(key, t->bits);
	uint32_t tag = ibsp_heat_tag(t, key), v;

	while ((v = t->slots[i]) && ((v & ~t->pos_mask) != tag || key_at(t, v) != key))
		i = (i + 1) & t->mask;
	return i;
}

struct ibsp_heat_entry *ibsp_heat_table__find(struct ibsp_heat_table *t, uint64_t key)
{
	struct ibsp_heat_entry *he = ibsp_heat_table__slot(t, ibsp_heat_table__slot_of(t, key));

	if (he)
		ibsp_heat_table__catch_up(t, he);
	return he;
}

static uint64_t entry_heat(const struct ibsp_heat_table *t, const struct ibsp_heat_entry *e)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < t->nr_acc; i++)
		sum += e->heat[i];
	return sum;
}

/* Simulation: a moved entry's history, for when its page comes back. */
static void spill(struct ibsp_heat_table *t, const struct ibsp_heat_entry *e)
{
	struct ibsp_moved_rec rec = { .key = e->key,
				      .last_move = e->last_move,
				      .node = e->node,
				      .prev_node = e->prev_node,
				      .nr_moves = e->nr_moves };

	/* Out of memory only weakens the guard for this page. */
	if (t->spill && e->nr_moves)
		(void)ibsp_moved_map__put(t->spill, &rec);
}

/* Backward-shift deletion of index slot @i. */
static void unlink_slot(struct ibsp_heat_table *t, uint64_t i)
{
	uint64_t j = i;

	for (;;) {
		uint64_t home;

		j = (j + 1) & t->mask;
		if (!t->slots[j])
			break;
		home = ibsp_heat_hash(key_at(t, t->slots[j]), t->bits);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i] = 0;
}

void ibsp_heat_table__del(struct ibsp_heat_table *t, struct ibsp_heat_entry *victim)
{
	uint32_t pos = ibsp_heat_table__pos(t, victim), last = (uint32_t)(t->count - 1);

	if (victim->key & KEY_VIRT)
		t->nr_virt--;
	if (victim->key & KEY_PFN)
		t->nr_pfn--;
	spill(t, victim);
	unlink_slot(t, ibsp_heat_table__slot_of(t, victim->key));
	if (!ibsp_heat_table__is_warm(t, pos))
		t->cold_count[victim->cold]--;
	t->warm[pos / 64] &= ~(1ULL << (pos % 64));
	if (pos != last) {
		struct ibsp_heat_entry *l = ibsp_heat_table__at(t, last);
		uint64_t s = ibsp_heat_table__slot_of(t, l->key);

		t->slots[s] = (t->slots[s] & ~t->pos_mask) | (pos + 1);
		/* Moved, it may miss a round of the sweep: up to date now. */
		ibsp_heat_table__catch_up(t, l);
		if (l->flags & HE_ALIAS)
			memcpy(t->vpn + (uint64_t)pos * VPN_BYTES,
			       t->vpn + (uint64_t)last * VPN_BYTES, VPN_BYTES);
		t->owner[pos] = t->owner[last];
		memcpy(victim, l, t->stride);
		if (ibsp_heat_table__is_warm(t, last)) {
			ibsp_heat_table__set_warm(t, pos);
			t->warm[last / 64] &= ~(1ULL << (last % 64));
		}
	}
	t->count--;
	/* The next deletion moves the entry now last: its index slot, fetched early. */
	if (t->count > 1)
		__builtin_prefetch(
		    &t->slots[ibsp_heat_hash(ibsp_heat_table__at(t, t->count - 1)->key, t->bits)]);
}

static void evict_near(struct ibsp_heat_table *t, uint64_t home)
{
	struct ibsp_heat_entry *victim = NULL;
	uint64_t best = UINT64_MAX;

	for (uint64_t k = 0; k < EVICT_WINDOW || !victim; k++) {
		struct ibsp_heat_entry *e = ibsp_heat_table__slot(t, (home + k) & t->mask);
		uint64_t h;

		if (!e)
			continue;
		ibsp_heat_table__catch_up(t, e);
		h = entry_heat(t, e);
		if (h < best) {
			best = h;
			victim = e;
		}
	}
	ibsp_heat_table__del(t, victim);
	t->evictions++;
}

struct ibsp_heat_entry *ibsp_heat_table__get_pos(struct ibsp_heat_table *t, uint64_t key,
						 bool *is_new, uint32_t *pos)
{
	uint32_t v = t->slots[ibsp_heat_table__slot_of(t, key)];
	struct ibsp_heat_entry *e;
	uint64_t home, i;

	if (v) {
		e = ibsp_heat_table__at(t, (v & t->pos_mask) - 1);
		*pos = (v & t->pos_mask) - 1;
		ibsp_heat_table__touch_at(t, e, *pos);
		*is_new = false;
		return e;
	}
	/* A full table (or no memory to grow) evicts; a grown one has a new home for the key. */
	if (full(t) || reserve(t)) {
		home = ibsp_heat_hash(key, t->bits);
		evict_near(t, home);
		/* The deletion may have shifted entries: probe again. */
	}
	for (i = ibsp_heat_hash(key, t->bits); t->slots[i]; i = (i + 1) & t->mask)
		;
	e = ibsp_heat_table__at(t, t->count);
	memset(e, 0, sizeof(*e));
	memset(e->heat, 0, t->nr_acc * sizeof(*e->heat));
	e->key = key;
	e->aged = (uint8_t)t->aged;
	t->owner[t->count] = 0;
	*pos = (uint32_t)t->count;
	ibsp_heat_table__set_warm(t, t->count); /* new: looked at by the next scan */
	t->slots[i] = ibsp_heat_tag(t, key) | (uint32_t)(t->count + 1);
	t->count++;
	if (key & KEY_VIRT)
		t->nr_virt++;
	if (key & KEY_PFN)
		t->nr_pfn++;
	*is_new = true;
	return e;
}

void ibsp_heat_entry__age(struct ibsp_heat_entry *he, uint32_t nr_acc, uint32_t shift, uint32_t gap)
{
	for (uint32_t s = 0; s < nr_acc; s++) {
		uint32_t h = he->heat[s];

		/* The same halvings in turn, until one changes nothing (0, or below 1 << shift). */
		for (uint32_t k = 0; k < gap; k++) {
			uint32_t n = ibsp_heat_decay_once(h, shift);

			if (n == h)
				break;
			h = n;
		}
		he->heat[s] = h;
	}
	he->idle = he->idle + gap < UINT8_MAX ? (uint8_t)(he->idle + gap) : UINT8_MAX;
}

void ibsp_heat_table__catch_up_all(struct ibsp_heat_table *t)
{
	for (uint64_t i = 0; i < t->count; i++)
		ibsp_heat_table__catch_up(t, ibsp_heat_table__at(t, i));
}

/*
 * A round of the sweep covers the positions that were tracked when it began,
 * in at most SWEEP_ROUND passes. An entry not moved since is reached within
 * a round; one inserted or moved (and brought up to date then) in the next:
 * no entry ever misses 2 x SWEEP_ROUND passes, so an 8-bit stamp is enough.
 */
#define SWEEP_ROUND 64

void ibsp_heat_table__sweep(struct ibsp_heat_table *t)
{
	uint64_t end;

	if (t->sweep_pos >= t->sweep_end || t->sweep_pos >= t->count) {
		t->sweep_pos = 0;
		t->sweep_end = t->count;
		t->sweep_step = t->count / SWEEP_ROUND + 1;
	}
	end = t->sweep_end < t->count ? t->sweep_end : t->count;
	for (uint64_t n = t->sweep_step; n && t->sweep_pos < end; n--)
		ibsp_heat_table__catch_up(t, ibsp_heat_table__at(t, t->sweep_pos++));
}
