/* SPDX-License-Identifier: MIT */
/*
 * The promotion engine: resolution of samples to (page, page node, accessor
 * node), a bounded heat table that keeps each page's decayed access count
 * per accessor node, and the interval pass that runs a policy (the
 * interface: ibsp/policy.h) and plans migrations.
 *
 * Data flow: samples -> ibsp_engine__add() (resolve, heat) -> once per
 * interval ibsp_engine__tick() (the policy's candidates and destinations;
 * the engine's threshold, budget, capacity and ping-pong guard) -> planned
 * migrations -> the caller moves pages (live) or applies them to a
 * simulated placement (replay), and reports each outcome with
 * ibsp_engine__complete().
 *
 * Nothing here allocates per sample. See docs/policy.md for the rules.
 */
#ifndef IBSP_ENGINE_H
#define IBSP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/policy.h"
#include "ibsp/sample.h"
#include "ibsp/topology.h"

/* Accessor nodes (nodes with CPUs) one heat entry can tell apart. */
#define IBSP_MAX_ACC_NODES 16

/** enum ibsp_unresolved - why a sample did not count toward any page's heat */
enum ibsp_unresolved {
	IBSP_UNRES_INVALID = 0,	       /* the decoder refused it (see enum ibsp_drop_reason) */
	IBSP_UNRES_NO_CPU = 1,	       /* no CPU field, or a CPU no node lists */
	IBSP_UNRES_NO_ADDRESS = 2,     /* neither a physical address nor (pid, vaddr) */
	IBSP_UNRES_PADDR_UNMAPPED = 3, /* physical address outside every memory block, no vaddr */
	IBSP_UNRES_KERNEL = 4,	       /* a kernel address without a physical one: not movable */
	IBSP_UNRES__MAX
};

/** ibsp_unresolved__name() - "invalid", "no_cpu", "no_address", "paddr_unmapped", "kernel" */
const char *ibsp_unresolved__name(enum ibsp_unresolved why);

/**
 * struct ibsp_migration - one planned migration, 56 bytes
 *
 * A tick plans up to its budget's pages (64 Ki at the default rate), so the
 * record holds only what moving the page and reporting it need. The time is
 * the tick's; the page's heat when it was planned is kept apart, only when
 * asked for (ibsp_engine_opts.plan_heat, ibsp_engine__plan_heat()).
 */
struct ibsp_migration {
	uint64_t vaddr;		      /* page-aligned virtual address in @pid */
	uint64_t pfn;		      /* page frame number; valid if @has_pfn */
	uint64_t key;		      /* heat-table key, for ibsp_engine__complete() */
	uint32_t pid;		      /* the process whose mapping move_pages() acts on */
	uint32_t bytes;		      /* 4096, or 2 MiB for a huge-page entry */
	struct ibsp_node_id src_node; /* the node the page is on */
	struct ibsp_node_id dst_node; /* the node it should move to (move_pages' nodes[]) */
	struct ibsp_node_idx src_idx; /* @src_node's index in the engine's topology */
	struct ibsp_node_idx dst_idx; /* @dst_node's index */
	uint8_t reason;		      /* enum ibsp_reason */
	bool has_pfn;		      /* the page was keyed by its PFN */
};

#define IBSP_HEAT_ONE 16 /* heat units per sample: 4 fraction bits survive decay */

/**
 * struct ibsp_resolver_ops - live node resolution for pages that have no
 * physical address (move_pages(2) with nodes == NULL)
 * @query: fill @status[i] with the node of @vaddrs[i] in @pid, or a negative
 *         errno per page; return 0 or a negative errno for the whole call
 *         (-ESRCH: the process is gone).
 */
struct ibsp_resolver_ops {
	int (*query)(void *ctx, uint32_t pid, uint32_t nr, const uint64_t *vaddrs, int *status);
	void *ctx;
};

/** struct ibsp_engine_opts - engine and policy settings; start with sz = sizeof */
struct ibsp_engine_opts {
	size_t sz;
	struct ibsp_policy policy;   /* from ibsp_policy__find() (policies.h); no ops: none */
	uint32_t interval_ms;	     /* policy interval; 0 = 1000 */
	uint64_t rate_bytes_per_s;   /* migration budget; 0 = unlimited */
	uint32_t min_share_bp;	     /* majority share, basis points; 0 = 6000 */
	uint32_t min_heat;	     /* threshold floor, samples (decayed); 0 = 2 */
	uint32_t fallback_heat;	     /* samples (counted since it came to its node, not decayed)
				 * before a page with no majority goes to the nearest node;
				 * 0 = 4 * min_heat; at most 255 count */
	uint32_t decay_shift;	     /* heat -= heat >> decay_shift per interval; 0 = 2 */
	uint32_t pingpong_intervals; /* no second move within this many intervals; 0 = 10 */
	uint32_t watermark_bp;	     /* keep this share of a node's memory free; 0 = 200 */
	uint64_t max_pages;	     /* heat-table bound; 0 = the default (786432 pages) */
	bool no_follow;		     /* top-tier pages on another node than their accessors'
				      * stay (they follow them by default) */
	bool simulate;		     /* replay: planned moves take effect at once, and the
				    * recorded placement of a moved page is ignored */
	const struct ibsp_resolver_ops *resolver; /* live only; NULL offline */
	bool no_demote;				  /* never demote cold pages to make room */
	uint32_t demote_idle_intervals;		  /* a page is cold after this many intervals
					     * without a sample; 0 = 4 */
	bool plan_heat; /* keep each planned move's heat for ibsp_engine__plan_heat() */
};

/** struct ibsp_engine_stats - counters since the engine was created */
struct ibsp_engine_stats {
	uint64_t samples;		      /* samples offered */
	uint64_t accesses;		      /* samples that added heat */
	uint64_t unresolved[IBSP_UNRES__MAX]; /* samples that did not, by reason */
	uint64_t local_accesses;	      /* accesses whose page was on the accessor's node */
	uint64_t placed_accesses;	      /* accesses whose page node was known */
	uint64_t pages_tracked;		      /* entries in the heat table now */
	uint64_t pages_tracked_peak;	      /* the most it held (before a trim) */
	uint64_t evictions;		      /* entries evicted to make room */
	uint64_t intervals;		      /* ticks run */
	uint64_t considered;		/* hot pages with a known node a tick looked at (summed) */
	uint64_t threshold;		/* last effective threshold, in heat units */
	uint64_t planned;		/* migrations planned */
	uint64_t planned_bytes;		/* their bytes */
	uint64_t failed;		/* reported failed by ibsp_engine__complete() */
	uint64_t pingpong;		/* moves back to the node a page last left */
	uint64_t skips[IBSP_SKIP__MAX]; /* candidate-intervals skipped, by reason */
	uint64_t resolve_queries; /* live: pages whose node was asked (move_pages, nodes NULL) */
	uint64_t resolve_failed;  /* of them: no page there (unmapped, not present) */
	uint64_t interval_planned_bytes; /* bytes planned by the last tick */
	uint64_t interval_budget_bytes;	 /* the last tick's budget (0 = unlimited) */
	uint64_t demoted;		 /* demotions planned (included in @planned) */
	uint64_t demoted_bytes;		 /* their bytes (included in @planned_bytes) */
	uint64_t pages_moved;		 /* distinct pages moved (simulate: by page key; live: by
				  * mapping) */
	uint64_t moved_twice;		 /* of those, pages moved more than once */
	uint64_t alias_merges;		 /* entries keyed without a PFN folded into their page's
				  * PFN entry (one page, one entry) */
	double noise;		 /* ibsp_engine__noise() at the last tick: -1 while unknown */
	uint32_t trusted_follow; /* samples from elsewhere from which a private page's
				  * excursion is a move of its users, as last told; 0: none */
	double near_agreement;	 /* at the last tick, the share of settled pages' samples whose
				  * neighbours lead to the page's own node, of those whose
				  * neighbours lead clearly (engine/core/near.h); -1 unknown */
	double owner_agreement;	 /* at the last tick, the share of private pages' samples from
				  * home made by their owner thread whose home is that node, of
				  * those whose owner has a home (engine/core/threads.h); -1 unknown */
	uint64_t thread_moves;	 /* threads whose home node changed (engine/core/threads.h) */
	/* The host's flags at the last tick, as the policy saw them (view.low_noise,
	 * near_agrees, owner_agrees): told from @noise and the agreements once those are
	 * known, and before that as soon as their samples are clear (docs/policy.md) */
	bool low_noise;	     /* under 1/8 of a private page's samples are from elsewhere */
	bool near_believed;  /* a first decision counts the neighbours' leader as a sample */
	bool owner_believed; /* a private page follows its owner thread's move */
	uint32_t near_slots; /* the neighbourhoods' table (engine/core/near.h): from
			      * IBSP_NEAR_START_SLOTS, doubled at a tick (up to 32 Ki) where
			      * first decisions miss their neighbourhoods, over a quarter of its
			      * slots were replaced in the interval and the neighbours may help */
};

/* The neighbourhoods' table's slots at the start (ibsp_engine_stats.near_slots). */
#define IBSP_NEAR_START_SLOTS 8192

struct ibsp_engine;

/**
 * ibsp_engine__new() - an engine for @topo
 * @topo: the topology (with its top tier chosen); the engine keeps a pointer,
 *        so it must outlive the engine
 *
 * Return: the engine, or NULL with errno set (EINVAL: bad options or a
 * topology the engine cannot serve, logged with the reason).
 */
struct ibsp_engine *ibsp_engine__new(const struct ibsp_topology *topo,
				     const struct ibsp_engine_opts *opts);

/** ibsp_engine__delete() - free the engine; NULL is accepted */
void ibsp_engine__delete(struct ibsp_engine *e);

/**
 * ibsp_engine__add() - account @nr samples (resolution and heat)
 *
 * Samples are expected in time order; call ibsp_engine__tick() whenever the
 * clock passes an interval boundary.
 */
void ibsp_engine__add(struct ibsp_engine *e, const struct ibsp_sample *s, size_t nr);

/**
 * ibsp_engine__tick() - run the policy once: decay, choose, plan
 * @now_ns: the end of the interval (recording clock in replay); the plan's
 *          time, which the records do not repeat
 * @plan: receives a pointer to this interval's migrations, valid until the
 *        next tick, hottest first (their heat: ibsp_engine__plan_heat())
 *
 * Return: the number of planned migrations, or a negative errno.
 */
long ibsp_engine__tick(struct ibsp_engine *e, uint64_t now_ns, const struct ibsp_migration **plan);

/**
 * ibsp_engine__complete() - report where a planned page really ended up
 * @final_node: the node from move_pages' status, or a negative errno (in .id)
 *
 * In simulate mode ticks already applied the moves; this is for live runs,
 * where every planned migration must be reported once (a move not made: its
 * source node): until then the page is not planned again and its samples do
 * not change its node (they may be faults taken before the move).
 */
void ibsp_engine__complete(struct ibsp_engine *e, const struct ibsp_migration *m,
			   struct ibsp_node_id final_node);

/*
 * Per-node state, by node index (the topology's): ibsp_topology__nr_nodes()
 * nodes, and ibsp_topology__node_id() names them.
 */

/** ibsp_engine__set_free() - the current free bytes of the node at @i (live refresh); -ENOENT */
int ibsp_engine__set_free(struct ibsp_engine *e, struct ibsp_node_idx i, uint64_t free_bytes);

/** ibsp_engine__free_bytes() - the engine's view of the free memory of the node at @i */
uint64_t ibsp_engine__free_bytes(const struct ibsp_engine *e, struct ibsp_node_idx i);

/** ibsp_engine__watermark_bytes() - the free memory a destination at @i must keep */
uint64_t ibsp_engine__watermark_bytes(const struct ibsp_engine *e, struct ibsp_node_idx i);

/** ibsp_engine__acc_node() - the node index of accessor slot @slot (heat index); -1 */
struct ibsp_node_idx ibsp_engine__acc_node(const struct ibsp_engine *e, uint32_t slot);

/** ibsp_engine__nr_acc() - number of accessor slots (nodes with CPUs) */
uint32_t ibsp_engine__nr_acc(const struct ibsp_engine *e);

/**
 * ibsp_engine__plan_heat() - the heat of the last tick's move @i when it was planned
 *
 * The page's decayed sample count per accessor slot (ibsp_engine__nr_acc()
 * of them, indexed like ibsp_engine__acc_node()), in 1/IBSP_HEAT_ONE
 * samples; valid until the next tick.
 *
 * Return: the counts, or NULL if the engine was made without
 * ibsp_engine_opts.plan_heat or the last tick planned fewer than @i + 1 moves.
 */
const uint32_t *ibsp_engine__plan_heat(const struct ibsp_engine *e, long i);

/** ibsp_engine__stats() - counters so far */
const struct ibsp_engine_stats *ibsp_engine__stats(const struct ibsp_engine *e);

/**
 * ibsp_engine__noise() - the host's sampling noise as the engine sees it
 *
 * Of the samples of pages that had shown 4 samples in a row from the node
 * they sit on (private pages), the share that came from another node and
 * was followed by one from that node again: threads touching other threads'
 * pages, or running on another socket for a while. A page whose users moved
 * does not count. It follows the latest ~65,000 such samples.
 *
 * Return: the share in [0, 1], or -1 while fewer than 512 samples count.
 */
double ibsp_engine__noise(const struct ibsp_engine *e);

/**
 * ibsp_engine__set_opts() - new settings from the next tick on (a daemon's reload)
 *
 * Every field of @opts applies, except those the engine was built for:
 * max_pages (a warning when it differs), simulate and resolver stay. A new
 * policy (or policy argument, no_follow, no_demote) starts afresh; when it
 * cannot start, the settings in effect stay.
 *
 * Return: 0, or a negative errno (-EINVAL: a setting out of range, logged).
 */
int ibsp_engine__set_opts(struct ibsp_engine *e, const struct ibsp_engine_opts *opts);

/** ibsp_engine__opts() - the options in effect (defaults filled in) */
const struct ibsp_engine_opts *ibsp_engine__opts(const struct ibsp_engine *e);

/** struct ibsp_page_ref - the page a sample touched, as the engine keys it */
struct ibsp_page_ref {
	uint64_t key;		   /* heat-table key: the PFN, or (pid, virtual page); never 0 */
	uint32_t bytes;		   /* 4096, or 2 MiB for a huge-page entry */
	struct ibsp_node_idx node; /* the node the sample places it on; -1 */
	uint32_t acc;		   /* accessor slot of the sample's CPU (heat index) */
};

/**
 * ibsp_engine__resolve() - the page @s touched, resolved like ibsp_engine__add() does
 *
 * For the evaluation's oracle: nothing is counted. Return: 0, or -ENOENT
 * when the sample would add no heat (ibsp_engine__add() counts why).
 */
int ibsp_engine__resolve(const struct ibsp_engine *e, const struct ibsp_sample *s,
			 struct ibsp_page_ref *ref);

/**
 * ibsp_engine__page_node() - the engine's view of where the page of @s lives
 *
 * For tests and the evaluation: resolves @s like ibsp_engine__add() without
 * adding heat. Return: a node id, or -ENOENT (in .id) when unknown.
 */
struct ibsp_node_id ibsp_engine__page_node(const struct ibsp_engine *e,
					   const struct ibsp_sample *s);

#endif /* IBSP_ENGINE_H */
