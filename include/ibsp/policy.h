/* SPDX-License-Identifier: MIT */
/*
 * The policy interface. The engine defines it and runs it, as DAMON's core
 * runs a struct damon_operations: a policy is a set of operations that look
 * at a read-only view of the pages and the nodes and say which pages are
 * candidates and where each should go. The engine owns every piece of
 * state and does everything else: resolution, the heat table and its decay
 * and eviction, the live node lookup, the moved map and the ping-pong
 * guard, the byte budget, free memory, the plan and the statistics.
 *
 * One interval (ibsp_engine__tick()):
 *
 *  1. For every tracked page with a known node and some heat, select():
 *     not a candidate, a skip (counted under the reason it sets), or a
 *     candidate of some kind (the pick). The engine then drops candidates
 *     under the min_heat floor, moved within pingpong_intervals, or with no
 *     mapping to move them by.
 *  2. The engine fits the candidates to the byte budget (an adaptive heat
 *     threshold) and orders them hottest first.
 *  3. For each, while the budget lasts, decide(): a destination and a
 *     reason, or a skip reason. The engine checks the destination against
 *     its watermark and applies the move before it asks about the next
 *     page, so the view's free memory always counts the moves planned.
 *  4. The engine decays every page's heat and trims the table.
 *
 * A policy is found by name (include/ibsp/policies.h) and handed to the
 * engine in struct ibsp_engine_opts; docs/policy.md says how to add one.
 */
#ifndef IBSP_POLICY_H
#define IBSP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ibsp/topology.h"

struct ibsp_engine_opts;

/** enum ibsp_skip - why a hot page was not planned for migration in an interval */
enum ibsp_skip {
	IBSP_SKIP_BELOW_THRESHOLD = 0, /* heat under the (adaptive) threshold */
	IBSP_SKIP_PINGPONG = 1,	       /* migrated within the last pingpong_intervals */
	IBSP_SKIP_BUDGET = 2,	       /* the interval's byte budget was spent */
	IBSP_SKIP_CAPACITY = 3,	       /* every acceptable destination is at its watermark */
	IBSP_SKIP_NODE_UNKNOWN = 4,    /* the page's node could not be resolved */
	IBSP_SKIP_NO_MAJORITY = 5,     /* a top-tier page: no accessor node holds min_share */
	IBSP_SKIP_NO_MAPPING = 6,      /* known only by PFN: no (pid, vaddr) to move it by */
	IBSP_SKIP_UNDECIDED = 7,       /* no majority yet, and too few samples for the fallback */
	IBSP_SKIP_HYSTERESIS = 8,      /* a top-tier page whose new majority is not yet clear
					* enough, or not worth a move */
	IBSP_SKIP__MAX
};

/** ibsp_skip__name() - "below_threshold", "pingpong", "budget", "capacity", ... */
const char *ibsp_skip__name(enum ibsp_skip why);

/** enum ibsp_reason - why a destination was chosen */
enum ibsp_reason {
	IBSP_REASON_MAJORITY = 0,      /* one accessor node holds >= min_share of the heat */
	IBSP_REASON_NEAREST = 1,       /* no majority: nearest to the weighted accessors */
	IBSP_REASON_CAPACITY_NEXT = 2, /* the first choice was full; the next nearest */
	IBSP_REASON_LAST_ACCESSOR = 3, /* last-accessor policy */
	IBSP_REASON_FIXED = 4,	       /* fixed-node policy */
	IBSP_REASON_FOLLOW = 5,	       /* a top-tier page follows its accessors to another node */
	IBSP_REASON_DEMOTE = 6,	       /* a cold top-tier page makes room for a hotter one */
	IBSP_REASON_OWNER = 7,	       /* a top-tier page follows its owner thread's move */
	IBSP_REASON__MAX
};

/** ibsp_reason__name() - "majority", "nearest", "capacity_next", ... */
const char *ibsp_reason__name(enum ibsp_reason why);

/** enum ibsp_pick - what select() makes of a page */
enum ibsp_pick {
	IBSP_PICK_NONE = 0,    /* not a candidate; nothing is counted */
	IBSP_PICK_SKIP = 1,    /* not a candidate; counted under the reason select() set */
	IBSP_PICK_PROMOTE = 2, /* a candidate (a lower-tier page, for most policies) */
	IBSP_PICK_FOLLOW = 3,  /* a candidate: a top-tier page to move within the top tier */
};

/** enum ibsp_scope - which pages select() is asked about */
enum ibsp_scope {
	IBSP_SCOPE_ALL = 0,	   /* every page with a known node and some heat */
	IBSP_SCOPE_LOWER_TIER = 1, /* only those on a lower-tier node; no other is a candidate */
};

/** enum ibsp_move_kind - the direction of a decision */
enum ibsp_move_kind {
	IBSP_MOVE_PROMOTE = 0, /* to a faster node, or within the top tier */
	IBSP_MOVE_DEMOTE = 1,  /* to a lower tier, to make room (only through @demote) */
};

/**
 * struct ibsp_page_view - one page, as a policy sees it (read-only)
 *
 * Nodes are node indices into the topology, -1 when unknown; accessor slots
 * index @heat (see struct ibsp_policy_view's @acc_node).
 */
struct ibsp_page_view {
	const uint32_t *heat; /* [nr_acc] decayed accesses per accessor slot, IBSP_HEAT_ONE units */
	uint64_t total;	      /* the sum of @heat */
	uint32_t bytes;	      /* 4096, or 2 MiB for a huge-page entry */
	struct ibsp_node_idx node;	/* where it is (always known to select() and decide()) */
	struct ibsp_node_idx prev_node; /* where it was before its last move; -1 */
	int last_acc;			/* accessor slot of its latest sample */
	uint32_t last_move;		/* interval of its last move; 0 = never */
	uint32_t nr_moves;		/* moves planned for it so far (saturates at 15) */
	uint32_t idle;			/* intervals since its latest sample (saturates at 255) */
	int last_reason;		/* enum ibsp_reason of its last move; -1 = never moved */
	enum ibsp_pick pick;		/* for decide(): what select() said */
	uint32_t leave; /* on a top-tier node: evidence to leave it, a CUSUM in steps of log(1.8) */
	uint32_t drift; /* the same, slow: 70% elsewhere against 50/50, steps of log(1.4)/2 */
	uint32_t seen;	/* on a lower-tier node: samples since it came there (saturates at 255) */
	uint32_t stay;	/* on a top-tier node: evidence that it is private there, as it stood when
			 * the leave evidence last rose from 0: +1 a sample from its own node, -3
			 * for each of an excursion that came back, in [0, 15] */
	int near;	/* for a first decision (never moved; on a lower-tier node with under
		   * 2 x min_heat samples, or on a top-tier node during an excursion), while
		   * view.near_agrees: the accessor slot that the samples of the page's
		   * neighbours (the rest of its 64 KiB of address space) lead clearly; -1 */
	int owner; /* on a top-tier node, while view.owner_agrees: the accessor slot that is the
		    * home of the thread that owns the page (two thirds of its samples or more),
		    * where that is not the page's node and the page's latest sample came from
		    * there: its user has moved; -1 */
};

/*
 * IBSP_FIRST_MOVE_LEAVE - leave evidence (pg->leave, in the engine's half
 * steps: +2 for a sample from the leading other node, -6 for one from the
 * page's own) with which a page the engine never moved, on a top-tier node,
 * is still a candidate below the floor; locality's first move needs it.
 */
#define IBSP_FIRST_MOVE_LEAVE 8

/*
 * IBSP_LOW_NOISE_DIV - view.low_noise holds while the engine's noise estimate
 * is below 1 / IBSP_LOW_NOISE_DIV; the engine then counts a page on a lower-tier
 * node a candidate below the floor from its first sample, not min_heat.
 */
#define IBSP_LOW_NOISE_DIV 8

/* Is a noise estimate (ibsp_engine__noise(); -1 unknown) low, as view.low_noise says? */
static inline bool ibsp_noise__is_low(double noise)
{
	return noise >= 0 && noise * IBSP_LOW_NOISE_DIV < 1;
}

/*
 * IBSP_NEAR_AGREE_DIV - view.near_agrees holds while the pages that had shown
 * themselves private agree with their neighbours' lead but for 1 in
 * IBSP_NEAR_AGREE_DIV of their samples: the neighbours are then wrong no more
 * often than a first sample is where the noise is low (IBSP_LOW_NOISE_DIV),
 * and a first decision counts them as one more sample.
 */
#define IBSP_NEAR_AGREE_DIV 8

/*
 * IBSP_NEAR_LEAVE - the neighbours' weight in leave evidence (half steps of
 * log(1.8) / 2 = 0.29 nats): where they agree 7 times in 8, their lead is
 * worth log(7) = 1.95 nats, as a sample is where the noise is 1/8, and 6.6
 * half steps. A page the engine never moved needs IBSP_FIRST_MOVE_LEAVE less
 * this for a first move to its neighbours' node (one sample from there), and
 * more by this to leave a node they lead to.
 */
#define IBSP_NEAR_LEAVE 6

/* Is an agreement (engine stats' near_agreement; -1 unknown) high, as view.near_agrees says? */
static inline bool ibsp_near__agrees(double agreement)
{
	return agreement >= 0 && (1 - agreement) * IBSP_NEAR_AGREE_DIV <= 1;
}

/*
 * IBSP_OWNER_AGREE_DIV - view.owner_agrees holds while the pages that had
 * shown themselves private on a top-tier node have their owner thread's home
 * there but for 1 in IBSP_OWNER_AGREE_DIV of their owner's samples from home.
 */
#define IBSP_OWNER_AGREE_DIV 8

/* Is an agreement (engine stats' owner_agreement; -1 unknown) high, as view.owner_agrees says? */
static inline bool ibsp_owner__agrees(double agreement)
{
	return agreement >= 0 && (1 - agreement) * IBSP_OWNER_AGREE_DIV <= 1;
}

/*
 * IBSP_TRUSTED_STAY - a page on a top-tier node with at least this evidence
 * of being private there (pg->stay) may follow on view.trusted_leave.
 */
#define IBSP_TRUSTED_STAY 8

/**
 * struct ibsp_policy_view - the engine, as a policy sees it (read-only but
 * for @priv): the nodes, the settings, the policy's argument and state
 */
struct ibsp_policy_view {
	const struct ibsp_topology *topo;     /* ids, distances, tiers, by node index */
	const uint64_t *free_bytes;	      /* [node index] free memory, planned moves counted */
	const uint64_t *watermark_bytes;      /* [node index] what a destination must keep free */
	const uint64_t *reclaimable_bytes;    /* [node index] bytes of cold pages the engine may
					      * demote there to make room (0 without demotion) */
	const bool *top_tier;		      /* [node index] a promotion destination */
	uint32_t nr_acc;		      /* accessor slots: nodes with CPUs */
	const struct ibsp_node_idx *acc_node; /* [slot] the accessor's node */
	const struct ibsp_engine_opts *opts;  /* thresholds, shares, rebalance */
	uint32_t interval;		      /* intervals so far, this one included */
	bool low_noise; /* the engine's noise estimate (ibsp_engine__noise()) is known and below
			 * 1 / IBSP_LOW_NOISE_DIV: a page's first sample is seldom wrong */
	uint32_t trusted_leave; /* leave evidence (half steps) at which the pure excursions of
				 * pages with pg->stay >= IBSP_TRUSTED_STAY are, on this host,
				 * moves of their users rather than noise; 0: none is */
	bool near_agrees;	/* the pages of this host agree with their neighbours (pg->near)
				 * at least 1 - 1 / IBSP_NEAR_AGREE_DIV of the time */
	bool owner_agrees;	/* the private pages of this host have their owner thread's home on
			    * their node at least 1 - 1 / IBSP_OWNER_AGREE_DIV of the time */
	int arg;		/* the parsed argument of "name:ARG"; -1 */
	void *priv;		/* ops->priv_size bytes, zeroed at the start */
};

/** ibsp_policy_view__has_room() - can the node at @i take @bytes above its watermark? */
static inline bool ibsp_policy_view__has_room(const struct ibsp_policy_view *v,
					      struct ibsp_node_idx i, uint64_t bytes)
{
	return v->free_bytes[i.idx] >= v->watermark_bytes[i.idx] + bytes;
}

/** ibsp_policy_view__is_top_tier() - is the node at @i a promotion destination? */
static inline bool ibsp_policy_view__is_top_tier(const struct ibsp_policy_view *v,
						 struct ibsp_node_idx i)
{
	return v->top_tier[i.idx];
}

/**
 * ibsp_policy_view__can_take() - has the node at @i room for @bytes, now or
 * once the engine has demoted some of its cold pages?
 */
static inline bool ibsp_policy_view__can_take(const struct ibsp_policy_view *v,
					      struct ibsp_node_idx i, uint64_t bytes)
{
	return v->free_bytes[i.idx] + v->reclaimable_bytes[i.idx] >=
	       v->watermark_bytes[i.idx] + bytes;
}

/** ibsp_policy_view__slot_of() - the accessor slot of the node at @i, or -1 (no CPUs) */
static inline int ibsp_policy_view__slot_of(const struct ibsp_policy_view *v,
					    struct ibsp_node_idx i)
{
	for (uint32_t s = 0; s < v->nr_acc; s++) {
		if (ibsp_node_idx__eq(v->acc_node[s], i))
			return (int)s;
	}
	return -1;
}

/** struct ibsp_decision - where decide() sends a page */
struct ibsp_decision {
	struct ibsp_node_idx dst; /* where, or -1: not moved, counted under @skip */
	enum ibsp_move_kind kind; /* promote (the engine sets it before decide()) */
	enum ibsp_reason reason;  /* why @dst */
	enum ibsp_skip skip;	  /* why not, when @dst < 0 */
};

/**
 * struct ibsp_policy_ops - a policy
 * @name: what ibsp_policy__find() matches: "locality", "fixed-node"
 * @priv_size: bytes of state the engine keeps for the policy (@priv), zeroed
 * @parse: the ARG of "name:ARG" into *@arg: 0 or -EINVAL; NULL when the
 *         policy takes no argument (and then a name with one is refused)
 * @start: check the argument against the topology and fill @priv, once, when
 *         the engine is created: 0, or a negative errno with the reason in
 *         @why (the engine logs it; a policy never prints); may be NULL
 * @scope: which pages select() needs to see, asked once after @start; the
 *         engine leaves the others out of the scan. NULL: IBSP_SCOPE_ALL
 * @select: is @pg a candidate this interval? For IBSP_PICK_SKIP, set *@skip.
 *          NULL: never (the engine then does not look for candidates at all).
 *          For a page whose total is below the floor (opts->min_heat samples)
 *          the answer must not depend on its heat (only on whether it has
 *          some), its idle count, the interval or the free memory: the
 *          engine asks once when a page falls below the floor and counts
 *          that answer at each tick until a sample or a move changes the page
 *          (engine/core/scan.c). Three kinds of page below the floor are asked
 *          at every tick instead, and may be answered from their heat: one
 *          on a lower-tier node with min_heat samples since it came there
 *          (pg->seen; 1 while view.low_noise), one the engine never moved, on
 *          a top-tier node, with pg->leave >= IBSP_FIRST_MOVE_LEAVE, and one
 *          on a top-tier node with pg->stay >= IBSP_TRUSTED_STAY and
 *          pg->leave >= view.trusted_leave (when that is not 0). It must not
 *          change @priv.
 * @select_by_place: true when select()'s answer (the pick, and the skip it
 *          sets) for a page on a lower-tier node, and for any page whose
 *          total is below the floor (but the top-tier pages with the evidence
 *          above), depends only on the page's node and its
 *          latest accessor slot (pg->node, pg->last_acc): the engine then
 *          asks once per such pair each interval, and gives the other pages
 *          of the pair the same answer without calling select()
 * @decide: where candidate @pg should go; called hottest first, @d->dst -1
 *          and @d->kind IBSP_MOVE_PROMOTE on entry. A destination equal to
 *          the page's node means "stay" and is not counted. A destination
 *          without room but with enough reclaimable bytes (can_take()) makes
 *          the engine demote cold pages there first.
 * @demote: where cold top-tier page @pg goes when the engine makes room on
 *          its node (kind IBSP_MOVE_DEMOTE, reason IBSP_REASON_DEMOTE on
 *          entry): a lower-tier node with room, or -1. NULL: the policy
 *          never demotes (and the engine never reclaims for it)
 */
struct ibsp_policy_ops {
	const char *name;
	size_t priv_size;
	int (*parse)(const char *text, int *arg);
	int (*start)(const struct ibsp_policy_view *v, char *why, size_t why_len);
	enum ibsp_scope (*scope)(const struct ibsp_policy_view *v);
	enum ibsp_pick (*select)(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
				 enum ibsp_skip *skip);
	bool select_by_place;
	void (*decide)(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
		       struct ibsp_decision *d);
	void (*demote)(const struct ibsp_policy_view *v, const struct ibsp_page_view *pg,
		       struct ibsp_decision *d);
};

/** struct ibsp_policy - a chosen policy: its operations and its argument */
struct ibsp_policy {
	const struct ibsp_policy_ops *ops; /* NULL: no policy, nothing is ever planned */
	int arg;			   /* from @ops->parse, e.g. fixed-node's node id; -1 */
};

#endif /* IBSP_POLICY_H */
