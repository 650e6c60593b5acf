// SPDX-License-Identifier: MIT
/*
 * The engine: resolution of each sample to a page key, the page's node and
 * the accessor's node, and the heat it adds. Tables for the per-sample path
 * (CPU -> accessor slot, memory block -> node) are built once, so a sample
 * costs two array reads and one hash probe: no allocation, no syscall.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "evidence.h"
#include "threads.h"
#include "log_print.h"
#include "util.h"

/* Bound on the block map: 16 Mi blocks (2 PiB at 128 MiB blocks). */
#define MAX_BLOCKS (16ULL << 20)

static const char *const unres_names[IBSP_UNRES__MAX] = {
	[IBSP_UNRES_INVALID] = "invalid",	[IBSP_UNRES_NO_CPU] = "no_cpu",
	[IBSP_UNRES_NO_ADDRESS] = "no_address", [IBSP_UNRES_PADDR_UNMAPPED] = "paddr_unmapped",
	[IBSP_UNRES_KERNEL] = "kernel",
};

static const char *const skip_names[IBSP_SKIP__MAX] = {
	[IBSP_SKIP_BELOW_THRESHOLD] = "below_threshold",
	[IBSP_SKIP_PINGPONG] = "pingpong",
	[IBSP_SKIP_BUDGET] = "budget",
	[IBSP_SKIP_CAPACITY] = "capacity",
	[IBSP_SKIP_NODE_UNKNOWN] = "node_unknown",
	[IBSP_SKIP_NO_MAJORITY] = "no_majority",
	[IBSP_SKIP_NO_MAPPING] = "no_mapping",
	[IBSP_SKIP_UNDECIDED] = "undecided",
	[IBSP_SKIP_HYSTERESIS] = "hysteresis",
};

static const char *const reason_names[IBSP_REASON__MAX] = {
	[IBSP_REASON_MAJORITY] = "majority",
	[IBSP_REASON_NEAREST] = "nearest",
	[IBSP_REASON_CAPACITY_NEXT] = "capacity_next",
	[IBSP_REASON_LAST_ACCESSOR] = "last_accessor",
	[IBSP_REASON_FIXED] = "fixed",
	[IBSP_REASON_FOLLOW] = "follow",
	[IBSP_REASON_DEMOTE] = "demote",
	[IBSP_REASON_OWNER] = "owner",
};

const char *ibsp_unresolved__name(enum ibsp_unresolved why)
{
	return (unsigned)why < IBSP_UNRES__MAX ? unres_names[why] : "?";
}

const char *ibsp_skip__name(enum ibsp_skip why)
{
	return (unsigned)why < IBSP_SKIP__MAX ? skip_names[why] : "?";
}

const char *ibsp_reason__name(enum ibsp_reason why)
{
	return (unsigned)why < IBSP_REASON__MAX ? reason_names[why] : "?";
}

static int cpu_slot_cb(int cpu, void *ctx)
{
	struct ibsp_engine *e = ((void **)ctx)[0];
	int slot = *(int *)((void **)ctx)[1];

	if ((uint32_t)cpu < e->nr_cpu_slots)
		e->cpu_slot[cpu] = (int8_t)slot;
	return 0;
}

static int max_cpu_cb(int cpu, void *ctx)
{
	uint32_t *max = ctx;

	if ((uint32_t)cpu + 1 > *max)
		*max = (uint32_t)cpu + 1;
	return 0;
}

/* Accessor slots (nodes with CPUs) and the CPU -> slot array. */
static int build_cpu_map(struct ibsp_engine *e)
{
	const struct ibsp_topology *t = e->topo;
	uint32_t nr_nodes = ibsp_topology__nr_nodes(t);

	if (nr_nodes > 127) {
		pr_err("engine: %u NUMA nodes; at most 127 are supported\n", nr_nodes);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < nr_nodes; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		if (!ibsp_topology__nr_cpus(t, n))
			continue;
		if (e->nr_acc == IBSP_MAX_ACC_NODES) {
			pr_err("engine: more than %d nodes have CPUs (node %d); the heat table "
			       "tracks at most %d accessor nodes\n",
			       IBSP_MAX_ACC_NODES, ibsp_topology__node_id(t, n).id,
			       IBSP_MAX_ACC_NODES);
			return -EINVAL;
		}
		e->acc_idx[e->nr_acc] = n;
		e->acc_node[e->nr_acc++] = (int8_t)i;
		ibsp_cpulist__parse(ibsp_topology__cpulist(t, n), max_cpu_cb, &e->nr_cpu_slots);
	}
	if (!e->nr_acc) {
		pr_err("engine: no NUMA node has CPUs, so no access can be attributed\n");
		return -EINVAL;
	}
	e->cpu_slot = malloc(e->nr_cpu_slots);
	if (!e->cpu_slot)
		return -ENOMEM;
	memset(e->cpu_slot, -1, e->nr_cpu_slots);
	for (uint32_t s = 0; s < e->nr_acc; s++) {
		int slot = (int)s;
		void *ctx[2] = { e, &slot };

		ibsp_cpulist__parse(ibsp_topology__cpulist(t, e->acc_idx[s]), cpu_slot_cb, ctx);
	}
	return 0;
}

/* The memory block -> node array, when the topology has a block map. */
static int build_block_map(struct ibsp_engine *e)
{
	const struct ibsp_topology *t = e->topo;
	uint32_t nr_nodes = ibsp_topology__nr_nodes(t);
	uint64_t end = 0;

	if (!ibsp_topology__has_block_map(t) || !ibsp_topology__block_size_bytes(t))
		return 0;
	for (uint32_t i = 0; i < nr_nodes; i++) {
		uint32_t nr = ibsp_topology__nr_ranges(t, ibsp_node_idx((int)i));

		if (nr) {
			const struct ibsp_block_range *r =
			    &ibsp_topology__ranges(t, ibsp_node_idx((int)i))[nr - 1];

			if (r->first + r->nr > end)
				end = r->first + r->nr;
		}
	}
	if (end > MAX_BLOCKS) {
		pr_err("engine: the memory block map spans %llu blocks; at most %llu are "
		       "supported\n",
		       (unsigned long long)end, (unsigned long long)MAX_BLOCKS);
		return -EINVAL;
	}
	e->block_node = malloc(end ? end : 1);
	if (!e->block_node)
		return -ENOMEM;
	memset(e->block_node, -1, end ? end : 1);
	for (uint32_t i = 0; i < nr_nodes; i++) {
		const struct ibsp_block_range *ranges =
		    ibsp_topology__ranges(t, ibsp_node_idx((int)i));
		uint32_t nr = ibsp_topology__nr_ranges(t, ibsp_node_idx((int)i));

		for (uint32_t r = 0; r < nr; r++)
			memset(e->block_node + ranges[r].first, (int)i, ranges[r].nr);
	}
	e->nr_blocks = end;
	e->block_size = ibsp_topology__block_size_bytes(t);
	return 0;
}

/* Free memory and watermarks per node index, from the topology. */
static int init_capacity(struct ibsp_engine *e)
{
	const struct ibsp_topology *topo = e->topo;
	uint32_t nr_nodes = ibsp_topology__nr_nodes(topo);
	uint32_t n = nr_nodes ? nr_nodes : 1;

	e->free_bytes = calloc(n, sizeof(uint64_t));
	e->wmark_bytes = calloc(n, sizeof(uint64_t));
	e->reclaim_bytes = calloc(n, sizeof(uint64_t));
	e->pressure = calloc(n, sizeof(bool));
	e->cold_next = calloc(n, sizeof(uint64_t));
	e->top_tier = calloc(n, sizeof(bool));
	e->select_memo = calloc((size_t)n * IBSP_MAX_ACC_NODES, 1);
	if (!e->free_bytes || !e->wmark_bytes || !e->reclaim_bytes || !e->pressure ||
	    !e->cold_next || !e->top_tier || !e->select_memo)
		return -ENOMEM;
	for (uint32_t i = 0; i < nr_nodes; i++) {
		e->free_bytes[i] = ibsp_topology__mem_free_kb(topo, ibsp_node_idx((int)i)) << 10;
		e->top_tier[i] = ibsp_topology__is_top_tier(topo, ibsp_node_idx((int)i));
	}
	ibsp_engine__set_watermarks(e);
	return 0;
}

/*
 * Live, the dense array starts sized for the pages a few seconds of a busy
 * host reach (`run -a` on the shared VM: 100 k pages after 2 s, 226 k after
 * 6 s), so the daemon's first seconds do not copy the entries at each
 * doubling (`memmove` 3-7% of its CPU): past 4 MiB that is the entries'
 * whole bound, mapped at once (only what is written becomes resident). The
 * index is left to grow: started at 512 Ki slots, its TLB misses made each
 * sample's slot prefetch cost more than the rehashes saved while the table
 * held ~17 k pages (`resolve_chunk` 9-15% of the daemon's CPU against ~1.5%).
 */
#define LIVE_START_PAGES (384ULL * 1024)

struct ibsp_engine *ibsp_engine__new(const struct ibsp_topology *topo,
				     const struct ibsp_engine_opts *opts)
{
	struct ibsp_engine *e = calloc(1, sizeof(*e));
	int ret = -ENOMEM;

	if (!e)
		goto err;
	e->topo = topo;
	e->st.noise = -1; /* not known yet */
	e->st.near_agreement = -1;
	e->st.near_slots = IBSP_NEAR_START_SLOTS;
	e->st.owner_agreement = -1;
	IBSP_OPTS_COPY(e->opts, opts);
	ibsp_engine_opts__fill_defaults(&e->opts);
	ret = ibsp_engine_opts__check(&e->opts);
	if (!ret)
		ret = build_cpu_map(e);
	if (!ret)
		ret = build_block_map(e);
	if (!ret)
		ret = init_capacity(e);
	if (!ret)
		ret = ibsp_engine__start_policy(e);
	if (ret)
		goto err;
	ret = -ENOMEM;
	e->moved = ibsp_moved_map__new();
	e->ht = ibsp_heat_table__new(e->opts.max_pages, e->nr_acc);
	e->near = ibsp_near_table__new(e->nr_acc);
	e->threads = ibsp_thread_table__new(e->nr_acc);
	if (!e->ht && errno == EINVAL) {
		pr_err("engine: max_pages %llu is out of range\n",
		       (unsigned long long)e->opts.max_pages);
		ret = -EINVAL;
	}
	if (!e->ht || !e->moved || !e->near || !e->threads ||
	    (e->opts.resolver && ibsp_heat_table__presize(e->ht, LIVE_START_PAGES)))
		goto err;
	e->ht->shift = e->opts.decay_shift;
	if (e->opts.simulate)
		e->ht->spill = e->moved; /* records of evicted moved pages only (heat.c) */
	else {
		e->moved->st = &e->st; /* a record per move: the map counts the pages moved */
		e->moved->cap = e->opts.max_pages; /* as many moved pages as tracked ones */
		e->moved->keep = e->opts.pingpong_intervals;
	}
	return e;
err:
	ibsp_engine__delete(e);
	errno = -ret;
	return NULL;
}

void ibsp_engine__delete(struct ibsp_engine *e)
{
	if (!e)
		return;
	ibsp_heat_table__delete(e->ht);
	ibsp_near_table__delete(e->near);
	ibsp_thread_table__delete(e->threads);
	ibsp_moved_map__delete(e->moved);
	free(e->view.priv);
	free(e->cpu_slot);
	free(e->block_node);
	free(e->free_bytes);
	free(e->wmark_bytes);
	free(e->reclaim_bytes);
	free(e->cold_next);
	free(e->select_memo);
	free(e->pressure);
	free(e->top_tier);
	free(e->cand);
	free(e->cold);
	free(e->unres);
	free(e->plan);
	free(e->plan_heat);
	free(e);
}

/*
 * Key, page node index (-1 unknown) and accessor slot of @s.
 * Return: 0, or an enum ibsp_unresolved + 1.
 */
static int resolve(const struct ibsp_engine *e, const struct ibsp_sample *s, uint64_t *key,
		   int *node, int *slot)
{
	bool huge = s->page_shift == PAGE_SHIFT_2M;

	if (s->drop)
		return IBSP_UNRES_INVALID + 1;
	if (!(s->flags & IBSP_S_CPU_VALID) || (uint32_t)s->cpu >= e->nr_cpu_slots ||
	    e->cpu_slot[s->cpu] < 0)
		return IBSP_UNRES_NO_CPU + 1;
	*slot = e->cpu_slot[s->cpu];
	*node = -1;
	if ((s->flags & IBSP_S_PADDR_VALID) && e->nr_blocks) {
		uint64_t b = s->paddr / e->block_size;

		if (b < e->nr_blocks && e->block_node[b] >= 0) {
			uint64_t pfn = s->paddr >> PAGE_SHIFT_4K;

			*node = e->block_node[b];
			*key = huge ? KEY_PFN | KEY_HUGE | (pfn & ~511ULL) : KEY_PFN | pfn;
			return 0;
		}
		if (!(s->flags & IBSP_S_VADDR_VALID))
			return IBSP_UNRES_PADDR_UNMAPPED + 1;
	}
	if ((s->flags & (IBSP_S_VADDR_VALID | IBSP_S_TID_VALID)) ==
	    (IBSP_S_VADDR_VALID | IBSP_S_TID_VALID)) {
		uint64_t vpn = s->vaddr >> PAGE_SHIFT_4K;

		if (s->vaddr >= USER_VA_END || s->pid >= KEY_PID_MAX)
			return IBSP_UNRES_KERNEL + 1;
		if (huge)
			vpn &= ~511ULL;
		*key = KEY_VIRT | (huge ? KEY_HUGE : 0) | (uint64_t)s->pid << KEY_PID_SHIFT | vpn;
		return 0;
	}
	return IBSP_UNRES_NO_ADDRESS + 1;
}

int ibsp_engine__resolve(const struct ibsp_engine *e, const struct ibsp_sample *s,
			 struct ibsp_page_ref *ref)
{
	int node, slot;
	uint64_t key;

	if (resolve(e, s, &key, &node, &slot))
		return -ENOENT;
	ref->key = key;
	ref->bytes = key & KEY_HUGE ? 1U << PAGE_SHIFT_2M : 1U << PAGE_SHIFT_4K;
	ref->node = ibsp_node_idx(node);
	ref->acc = (uint32_t)slot;
	return 0;
}

/* Does @s name a mapping move_pages() can use: a pid (< KEY_PID_MAX) and a user address? */
static inline bool has_mapping(const struct ibsp_sample *s)
{
	return (s->flags & (IBSP_S_VADDR_VALID | IBSP_S_TID_VALID)) ==
		   (IBSP_S_VADDR_VALID | IBSP_S_TID_VALID) &&
	       s->vaddr < USER_VA_END && s->pid < KEY_PID_MAX;
}

/* Take @s's mapping as @he's alias (HE_ALIAS) when it names one move_pages() can use. */
static inline void note_alias(struct ibsp_heat_table *t, struct ibsp_heat_entry *he,
			      const struct ibsp_sample *s)
{
	uint64_t mask = he->key & KEY_HUGE ? (1ULL << PAGE_SHIFT_2M) - 1 : 4095;

	if (!has_mapping(s))
		return;
	ibsp_heat_table__set_alias(t, he, s->pid, s->vaddr & ~mask);
}

static void init_entry(struct ibsp_engine *e, struct ibsp_heat_entry *he,
		       const struct ibsp_sample *s, int node)
{
	const struct ibsp_moved_rec *r;
	uint64_t mk;

	he->node = (int8_t)node;
	he->prev_node = -1;
	note_alias(e->ht, he, s);
	mk = ibsp_engine__moved_key(e, he);
	if (mk && e->moved->count && (r = ibsp_moved_map__find(e->moved, mk))) {
		he->last_move = r->last_move;
		he->prev_node = r->prev_node;
		he->nr_moves = r->nr_moves < NR_MOVES_MAX ? r->nr_moves : NR_MOVES_MAX;
		if (e->opts.simulate) {
			he->node = r->node;
			he->flags |= HE_MOVED;
		}
	}
}

/* Samples resolved ahead of their table updates, so the slots can be prefetched. */
#define ADD_CHUNK 64

static void add_one(struct ibsp_engine *e, const struct ibsp_sample *s, uint64_t key, int node,
		    int slot, uint64_t near_key, struct ibsp_near *near_set)
{
	struct ibsp_engine_stats *st = &e->st;
	const struct ibsp_near *n = NULL;
	struct ibsp_heat_entry *he;
	bool is_new;
	uint32_t h, pos;

	he = ibsp_heat_table__get_pos(e->ht, key, &is_new, &pos);
	if (is_new) {
		init_entry(e, he, s, node);
	} else {
		if (node >= 0 && !(he->flags & (HE_MOVED | HE_INFLIGHT)) && he->node != node) {
			he->node = (int8_t)node;
			ibsp_heat_entry__evidence_reset(he);
		}
		if (s->pid != he->pid) /* the latest accessor's mapping: the likeliest to exist */
			note_alias(e->ht, he, s);
	}
	h = he->heat[slot] + IBSP_HEAT_ONE;
	he->heat[slot] = h < he->heat[slot] ? UINT32_MAX : h;
	he->last_acc = (uint8_t)slot;
	he->idle = 0;
	if (near_key)
		n = ibsp_near_table__add(e->near, e->ht, near_set, near_key, slot);
	ibsp_engine__note_leave(e, he, slot, n);
	if ((s->flags & IBSP_S_TID_VALID) && s->tid)
		ibsp_engine__note_thread(e, he, pos, s->tid, slot);
	if (he->node >= 0) {
		st->placed_accesses++;
		st->local_accesses += he->node == e->acc_node[slot];
	}
}

/* A chunk of samples, resolved: the keys to update and what each update needs. */
struct add_chunk {
	uint64_t keys[ADD_CHUNK];
	uint64_t near_keys[ADD_CHUNK];		/* the neighbourhood's key (near.h); 0: none */
	struct ibsp_near *near_sets[ADD_CHUNK]; /* its set, told when it is prefetched */
	uint32_t idx[ADD_CHUNK];		/* the sample, from the chunk's first */
	int8_t nodes[ADD_CHUNK], slots[ADD_CHUNK];
	uint32_t n;
};

/* The neighbourhood of @s, a sample of the page @key: 0 for a 2 MiB page or without a mapping. */
static inline uint64_t near_key_of(const struct ibsp_sample *s, uint64_t key)
{
	if ((key & KEY_HUGE) || !has_mapping(s))
		return 0;
	return ibsp_near__key(s->pid, s->vaddr);
}

/* Resolve @s[0, @nr) into @c, each key's index slot prefetched; count the unresolved. */
static void resolve_chunk(struct ibsp_engine *e, const struct ibsp_sample *s, size_t nr,
			  struct add_chunk *c)
{
	c->n = 0;
	for (size_t i = 0; i < nr; i++) {
		int node, slot, why;
		uint64_t key = 0;

		why = resolve(e, &s[i], &key, &node, &slot);
		if (why) {
			e->st.unresolved[why - 1]++;
			continue;
		}
		__builtin_prefetch(&e->ht->slots[ibsp_heat_hash(key, e->ht->bits)]);
		c->near_keys[c->n] = near_key_of(&s[i], key);
		c->keys[c->n] = key;
		c->nodes[c->n] = (int8_t)node;
		c->slots[c->n] = (int8_t)slot;
		c->idx[c->n++] = (uint32_t)i;
	}
	e->st.accesses += c->n;
}

/*
 * Prefetch the entries of a chunk's keys (both ends), their owner votes and
 * their neighbourhoods' sets (near.h; each set noted for its update), a
 * chunk before their updates: the
 * chunk's index slots, prefetched a chunk before, have arrived, and the
 * probes find the entries. A stale position (an entry moved or gone by the
 * time its update runs) costs only a wasted prefetch.
 *
 * History: loading the entries (not prefetching them) right before their
 * chunk's updates, as this did until 2026-12-01, made their misses overlap
 * each other but not the updates; a prefetch of the entry 8 samples ahead had
 * left the miss where it was (before the arrays had huge pages). Prefetching
 * a whole chunk ahead: the 10 M-sample, 1 M-page replay 1.45 -> 1.32 s of CPU
 * (--threads 1, 5 alternating runs on the Intel VM; docs/performance.md).
 */
static void prefetch_entries(const struct ibsp_heat_table *t, const struct ibsp_near_table *nt,
			     struct add_chunk *c)
{
	for (uint32_t k = 0; k < c->n; k++) {
		if (c->near_keys[k]) {
			c->near_sets[k] = ibsp_near_table__set(nt, c->near_keys[k]);
			__builtin_prefetch(c->near_sets[k]);
		}
	}

	for (uint32_t k = 0; k < c->n; k++) {
		uint64_t i = ibsp_heat_hash(c->keys[k], t->bits);
		uint32_t tag = ibsp_heat_tag(t, c->keys[k]), v;

		/* The first slot of the probe chain with the key's tag: nearly always its entry. */
		while ((v = t->slots[i]) && (v & ~t->pos_mask) != tag)
			i = (i + 1) & t->mask;
		if (v) {
			ibsp_heat_table__prefetch_at(t, (v & t->pos_mask) - 1);
			__builtin_prefetch(&t->owner[(v & t->pos_mask) - 1]);
		}
	}
}

/*
 * A pipeline of three chunks: chunk k+2 is resolved (each key's index slot
 * prefetched), chunk k+1's entries are prefetched through those slots
 * (prefetch_entries()), and chunk k's updates run one by one. Resolving reads
 * nothing of the table and prefetching changes nothing: the updates' order
 * and results are the samples'.
 */
void ibsp_engine__add(struct ibsp_engine *e, const struct ibsp_sample *s, size_t nr)
{
	struct ibsp_engine_stats *st = &e->st;
	struct add_chunk c[3];
	size_t nr_chunks = (nr + ADD_CHUNK - 1) / ADD_CHUNK;

	st->samples += nr;
	for (size_t k = 0; k < nr_chunks + 2; k++) {
		if (k < nr_chunks) {
			size_t b = k * ADD_CHUNK;

			resolve_chunk(e, s + b, nr - b < ADD_CHUNK ? nr - b : ADD_CHUNK, &c[k % 3]);
		}
		if (k >= 1 && k - 1 < nr_chunks)
			prefetch_entries(e->ht, e->near, &c[(k - 1) % 3]);
		if (k >= 2) {
			const struct add_chunk *a = &c[(k - 2) % 3];
			size_t base = (k - 2) * ADD_CHUNK;

			for (uint32_t j = 0; j < a->n; j++)
				add_one(e, &s[base + a->idx[j]], a->keys[j], a->nodes[j],
					a->slots[j], a->near_keys[j], a->near_sets[j]);
		}
	}
	st->pages_tracked = e->ht->count;
	if (st->pages_tracked > st->pages_tracked_peak)
		st->pages_tracked_peak = st->pages_tracked;
	st->evictions = e->ht->evictions;
}

struct ibsp_node_id ibsp_engine__page_node(const struct ibsp_engine *e, const struct ibsp_sample *s)
{
	const struct ibsp_heat_entry *he;
	int node, slot;
	uint64_t key;

	if (resolve(e, s, &key, &node, &slot))
		return ibsp_node_id(-ENOENT);
	he = ibsp_heat_table__find(e->ht, key);
	if (he && he->node >= 0)
		node = he->node;
	return node >= 0 ? ibsp_topology__node_id(e->topo, ibsp_node_idx(node))
			 : ibsp_node_id(-ENOENT);
}

void ibsp_engine__complete(struct ibsp_engine *e, const struct ibsp_migration *m,
			   struct ibsp_node_id final_node)
{
	int src = m->src_idx.idx, dst = m->dst_idx.idx;
	/* move_pages' status is a node id: the one conversion here. */
	int fin = final_node.id >= 0 ? ibsp_topology__index_of(e->topo, final_node).idx : -1;
	struct ibsp_heat_entry *he = ibsp_heat_table__find(e->ht, m->key);

	if (he) {
		ibsp_heat_table__touch(e->ht, he);
		he->flags &= (uint8_t)~HE_INFLIGHT;
	}
	/*
	 * A page that moved left its frame: its PFN entry names nothing now, and a
	 * late sample of that frame (a fault taken before the move) must not put
	 * it back on the old node with the heat it had. The next samples make the
	 * entry of its new frame, which inherits the move history by its mapping.
	 */
	if (he && (he->key & KEY_PFN) && fin >= 0 && fin != src && !e->opts.simulate) {
		ibsp_heat_table__del(e->ht, he);
		he = NULL;
	}
	if (fin == dst)
		return;
	/* Undo the planned accounting, then apply what really happened. */
	if (src >= 0 && dst >= 0) {
		e->free_bytes[dst] += m->bytes;
		e->free_bytes[src] -= e->free_bytes[src] >= m->bytes ? m->bytes : 0;
	}
	if (fin < 0) {
		e->st.failed++;
		fin = src;
	} else if (src >= 0) {
		e->free_bytes[src] += m->bytes;
		e->free_bytes[fin] -= e->free_bytes[fin] >= m->bytes ? m->bytes : 0;
	}
	if (he && fin >= 0)
		he->node = (int8_t)fin;
}
