/* SPDX-License-Identifier: MIT */
/*
 * Engine internals shared by engine/ (resolution, heat table) and policy/
 * (the per-interval decisions). Layouts here are free to change.
 */
#ifndef IBSP_ENGINE_INTERNAL_H
#define IBSP_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

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

/* heat_entry.flags */
#define HE_MOVED (1u << 0) /* simulate: placed by a planned move, not by the recording */
#define HE_ALIAS (1u << 1) /* @pid/@vaddr name a mapping move_pages() can use */

/**
 * struct heat_entry - one page (4 KiB or 2 MiB), one cache line
 *
 * @heat is in IBSP_HEAT_ONE units per sample, indexed by accessor slot,
 * decayed once per interval. Node fields are node *indices* into the
 * topology, -1 when unknown.
 */
struct heat_entry {
	uint64_t key;			   /* KEY_*; 0 = empty */
	uint64_t vaddr;			   /* page-aligned vaddr of the alias mapping */
	uint32_t pid;			   /* process of the alias mapping */
	uint32_t last_move;		   /* interval number of the last move; 0 = never */
	uint32_t heat[IBSP_MAX_ACC_NODES]; /* decayed accesses per accessor slot */
	int8_t node;			   /* node index the page is on */
	int8_t prev_node;		   /* node index it left at its last move */
	uint8_t last_acc;		   /* accessor slot of the latest sample */
	uint8_t flags;			   /* HE_* */
	uint16_t nr_moves;		   /* planned moves of this page */
	uint16_t pad;
};

_Static_assert(sizeof(struct heat_entry) == 64, "a heat entry is one cache line");

/** struct heat_table - open addressing, linear probing, backward-shift deletion */
struct heat_table {
	struct heat_entry *slots;
	uint64_t mask;	/* nr slots - 1 (a power of two) */
	uint32_t bits;	/* log2(nr slots) */
	uint64_t count; /* occupied slots */
	uint64_t max;	/* occupancy bound (<= 3/4 of the slots) */
	uint64_t evictions;
};

int heat_table__init(struct heat_table *t, uint64_t max_entries);
void heat_table__exit(struct heat_table *t);
/* The entry for @key, or NULL. */
struct heat_entry *heat_table__find(struct heat_table *t, uint64_t key);
/* The entry for @key, inserted zeroed (key set) when new; *@is_new says which. */
struct heat_entry *heat_table__get(struct heat_table *t, uint64_t key, bool *is_new);
void heat_table__del(struct heat_table *t, struct heat_entry *e);
/* Slot count needed for @max_entries (for sizing the default). */
uint64_t heat_table__slots_for(uint64_t max_entries);

static inline uint64_t heat_hash(uint64_t key, uint32_t bits)
{
	return (key * 0x9E3779B97F4A7C15ULL) >> (64 - bits);
}

/** struct moved_rec - where a moved page went, kept past heat-table eviction */
struct moved_rec {
	uint64_t key;
	uint32_t last_move;
	int8_t node;
	int8_t prev_node;
	uint16_t nr_moves;
};

/** struct moved_map - growable open-addressing map of struct moved_rec */
struct moved_map {
	struct moved_rec *slots;
	uint64_t mask;
	uint32_t bits;
	uint64_t count;
};

int moved_map__put(struct moved_map *m, const struct moved_rec *rec);
const struct moved_rec *moved_map__find(const struct moved_map *m, uint64_t key);
void moved_map__exit(struct moved_map *m);

/** struct cand - a candidate of one tick */
struct cand {
	uint64_t total; /* decayed heat over all accessor slots */
	uint64_t key;	/* for a deterministic order among equal heat */
	uint32_t idx;	/* heat-table slot */
	uint8_t rebalance;
};

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
	int8_t acc_node[IBSP_MAX_ACC_NODES]; /* accessor slot -> node index */
	int8_t node_slot[128];		     /* node index -> accessor slot, -1 */
	int fixed_idx;			     /* node index of the fixed-node policy */

	/* Capacity, per node index, bytes. */
	uint64_t *free_bytes;
	uint64_t *total_bytes;

	struct heat_table ht;
	struct moved_map moved;
	uint32_t interval; /* ticks so far; a move's stamp */

	/* Per-tick scratch, reused. */
	struct cand *cand;
	uint64_t nr_cand, cap_cand;
	uint32_t *unres;
	uint64_t nr_unres, cap_unres;
	struct ibsp_migration *plan;
	uint64_t cap_plan;
};

/* policy/policy.c */
long ibsp_policy__tick(struct ibsp_engine *e, uint64_t now_ns);

/*
 * Key, page node index (-1 unknown) and accessor slot of @s.
 * Return: 0, or an enum ibsp_unresolved + 1.
 */
int ibsp_engine__resolve(const struct ibsp_engine *e, const struct ibsp_sample *s, uint64_t *key,
			 int *node, int *slot);

/* Double the slots of @t (and its bound); for tables that must not evict. */
int heat_table__grow(struct heat_table *t);

/* engine/engine.c, for the policy */
void ibsp_engine__note_move(struct ibsp_engine *e, struct heat_entry *he, int dst_idx);

#endif /* IBSP_ENGINE_INTERNAL_H */
