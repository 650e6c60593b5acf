// SPDX-License-Identifier: MIT
/*
 * The policy, run once per interval over the whole heat table:
 *
 *  1. Candidates: pages on a lower-tier node with heat >= min_heat (and,
 *     with rebalance, top-tier pages whose majority accessor node is another
 *     node); last-accessor also takes any page that is not on its last
 *     accessor's node, as NUMA balancing does. A page moved within the last
 *     pingpong_intervals is not a candidate.
 *  2. Budget: the threshold adapts (a heat histogram, as Memtis does) so
 *     the planned bytes fit rate x interval, hottest pages first.
 *  3. Destination (policy/destination.c) within each node's watermark.
 *  4. Decay, after the decisions: heat -= heat >> decay_shift per accessor node
 *     (integer math), so an interval's samples count in full once.
 *
 * See docs/policy.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "policy_internal.h"

/*
 * Heat histogram: bucket = 4 * floor(log2(h)) + the next two bits, so each
 * power of two is split in four (~19% wide buckets). 64 * 4 buckets cover u64.
 */
#define NR_BUCKETS 256

static unsigned int bucket_of(uint64_t h)
{
	unsigned int msb;

	if (h < 4)
		return (unsigned int)h;
	msb = 63 - (unsigned int)__builtin_clzll(h);
	return msb * 4 + (unsigned int)((h >> (msb - 2)) & 3);
}

/* The smallest heat that falls in bucket @b. */
static uint64_t bucket_floor(unsigned int b)
{
	unsigned int msb = b / 4;

	if (b < 4)
		return b;
	return (1ULL << msb) | ((uint64_t)(b & 3) << (msb - 2));
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t size)
{
	uint64_t n = *cap ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static uint32_t entry_bytes(const struct heat_entry *he)
{
	return he->key & KEY_HUGE ? 1U << PAGE_SHIFT_2M : 1U << PAGE_SHIFT_4K;
}

static uint64_t decay(struct heat_entry *he, uint32_t nr_acc, uint32_t shift)
{
	uint64_t total = 0;

	for (uint32_t s = 0; s < nr_acc; s++) {
		he->heat[s] -= he->heat[s] >> shift;
		/* A single remaining unit would never decay to 0 with shift >= 1. */
		if (he->heat[s] == 1)
			he->heat[s] = 0;
		total += he->heat[s];
	}
	return total;
}

/* Majority slot of @he and its share in basis points. */
static unsigned int majority(const struct heat_entry *he, uint32_t nr_acc, uint64_t total,
			     uint32_t *share_bp)
{
	unsigned int best = 0;

	for (uint32_t s = 1; s < nr_acc; s++) {
		if (he->heat[s] > he->heat[best])
			best = s;
	}
	*share_bp = total ? (uint32_t)(he->heat[best] * 10000ULL / total) : 0;
	return best;
}

enum verdict { NOT_CANDIDATE, CANDIDATE, CANDIDATE_REBALANCE };

/*
 * Is @he, on a known node, a candidate by location? Counts the skips that
 * follow from the page itself (not from the budget or capacity).
 */
static enum verdict classify(struct ibsp_engine *e, const struct heat_entry *he, uint64_t total)
{
	const struct ibsp_engine_opts *o = &e->opts;
	bool lower = !e->topo->nodes[he->node].top_tier;
	enum verdict v = NOT_CANDIDATE;
	uint32_t share;
	unsigned int m;

	switch (o->policy) {
	case IBSP_POLICY_LOCALITY:
		if (lower) {
			v = CANDIDATE;
			break;
		}
		if (!o->rebalance)
			return NOT_CANDIDATE;
		m = majority(he, e->nr_acc, total, &share);
		if (e->acc_node[m] == he->node)
			return NOT_CANDIDATE;
		if (share < o->min_share_bp) {
			if (total >= (uint64_t)o->min_heat * IBSP_HEAT_ONE)
				e->st.skips[IBSP_SKIP_NO_MAJORITY]++;
			return NOT_CANDIDATE;
		}
		v = CANDIDATE_REBALANCE;
		break;
	case IBSP_POLICY_FIXED_NODE:
		if (!lower || he->node == e->fixed_idx)
			return NOT_CANDIDATE;
		v = CANDIDATE;
		break;
	case IBSP_POLICY_LAST_ACCESSOR:
		if (e->acc_node[he->last_acc] == he->node)
			return NOT_CANDIDATE;
		v = CANDIDATE;
		break;
	default:
		return NOT_CANDIDATE;
	}
	if (total < (uint64_t)o->min_heat * IBSP_HEAT_ONE) {
		e->st.skips[IBSP_SKIP_BELOW_THRESHOLD]++;
		return NOT_CANDIDATE;
	}
	if (he->last_move && e->interval - he->last_move < o->pingpong_intervals) {
		e->st.skips[IBSP_SKIP_PINGPONG]++;
		return NOT_CANDIDATE;
	}
	if (!(he->flags & HE_ALIAS)) {
		e->st.skips[IBSP_SKIP_NO_MAPPING]++;
		return NOT_CANDIDATE;
	}
	return v;
}

static int add_cand(struct ibsp_engine *e, const struct heat_entry *he, uint64_t total,
		    enum verdict v)
{
	struct cand *c;

	if (grow((void **)&e->cand, &e->cap_cand, e->nr_cand + 1, sizeof(*e->cand)))
		return -ENOMEM;
	c = &e->cand[e->nr_cand++];
	c->total = total;
	c->key = he->key;
	c->idx = (uint32_t)(he - e->ht.slots);
	c->rebalance = v == CANDIDATE_REBALANCE;
	return 0;
}

static int cmp_unres(const void *a, const void *b, void *ctx)
{
	const struct heat_entry *slots = ctx;
	const struct heat_entry *x = &slots[*(const uint32_t *)a],
				*y = &slots[*(const uint32_t *)b];

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/* Live: ask where hot pages without a physical address live, per pid, in batches. */
static int resolve_unknown(struct ibsp_engine *e)
{
	const struct ibsp_resolver_ops *ops = e->opts.resolver;
	enum { BATCH = 512 };
	uint64_t vaddrs[BATCH];
	int status[BATCH];

	qsort_r(e->unres, e->nr_unres, sizeof(*e->unres), cmp_unres, e->ht.slots);
	for (uint64_t i = 0; i < e->nr_unres;) {
		uint32_t pid = e->ht.slots[e->unres[i]].pid, n = 0;
		int ret;

		while (i + n < e->nr_unres && n < BATCH &&
		       e->ht.slots[e->unres[i + n]].pid == pid) {
			vaddrs[n] = e->ht.slots[e->unres[i + n]].vaddr;
			n++;
		}
		ret = ops->query(ops->ctx, pid, n, vaddrs, status);
		for (uint32_t k = 0; k < n; k++) {
			struct heat_entry *he = &e->ht.slots[e->unres[i + k]];
			int idx = ret		   ? -1
				  : status[k] >= 0 ? ibsp_topology__index_of(e->topo, status[k])
						   : -1;

			if (idx < 0) {
				e->st.resolve_failed++;
				e->st.skips[IBSP_SKIP_NODE_UNKNOWN]++;
				continue;
			}
			he->node = (int8_t)idx;
		}
		i += n;
	}
	/* Now classify the resolved ones like the rest. */
	for (uint64_t i = 0; i < e->nr_unres; i++) {
		struct heat_entry *he = &e->ht.slots[e->unres[i]];
		uint64_t total = 0;
		enum verdict v;

		if (he->node < 0)
			continue;
		for (uint32_t s = 0; s < e->nr_acc; s++)
			total += he->heat[s];
		e->st.considered++;
		v = classify(e, he, total);
		if (v != NOT_CANDIDATE && add_cand(e, he, total, v))
			return -ENOMEM;
	}
	return 0;
}

/*
 * End of the interval: decay every entry, and when the table is nearly
 * full, first drop the coldest (by this interval's heat, @hist) down to 7/8
 * of its bound.
 */
static void age(struct ibsp_engine *e, const uint64_t *hist)
{
	uint64_t target = e->ht.max - e->ht.max / 8, excess = 0, sum = 0, cut = 0;
	unsigned int b;

	if (e->ht.count > e->ht.max - e->ht.max / 16) {
		excess = e->ht.count - target;
		for (b = 0; b < NR_BUCKETS && sum < excess; b++)
			sum += hist[b];
		cut = b < NR_BUCKETS ? bucket_floor(b) : 0; /* buckets below b go */
	}
	/* Walk down, so backward shifts move entries into slots already seen. */
	for (uint64_t i = e->ht.mask + 1; i-- > 0;) {
		struct heat_entry *he = &e->ht.slots[i];

		if (!he->key)
			continue;
		if (cut) {
			uint64_t total = 0;

			for (uint32_t s = 0; s < e->nr_acc; s++)
				total += he->heat[s];
			if (total < cut) {
				heat_table__del(&e->ht, he);
				e->ht.evictions++;
				/* Slot i now holds an entry from above, already aged
				 * (at the wrap-around, one that skips this aging). */
				continue;
			}
		}
		decay(he, e->nr_acc, e->opts.decay_shift);
	}
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* Keep the hottest candidates whose bytes just cover @budget; return the threshold. */
static uint64_t fit_budget(struct ibsp_engine *e, uint64_t budget, uint64_t floor_heat)
{
	uint64_t bytes[NR_BUCKETS] = { 0 }, total = 0, cum = 0, thr;
	uint64_t kept = 0;
	int b;

	for (uint64_t i = 0; i < e->nr_cand; i++) {
		uint32_t sz = entry_bytes(&e->ht.slots[e->cand[i].idx]);

		/* A page larger than the whole budget can never go: not a peer in the race. */
		if (sz > budget) {
			e->st.skips[IBSP_SKIP_BUDGET]++;
			continue;
		}
		bytes[bucket_of(e->cand[i].total)] += sz;
		total += sz;
		e->cand[kept++] = e->cand[i];
	}
	e->nr_cand = kept;
	kept = 0;
	if (total <= budget)
		return floor_heat;
	for (b = NR_BUCKETS - 1; b > 0; b--) {
		cum += bytes[b];
		if (cum >= budget)
			break;
	}
	thr = bucket_floor((unsigned int)b);
	if (thr < floor_heat)
		thr = floor_heat;
	for (uint64_t i = 0; i < e->nr_cand; i++) {
		if (e->cand[i].total >= thr)
			e->cand[kept++] = e->cand[i];
		else
			e->st.skips[IBSP_SKIP_BELOW_THRESHOLD]++;
	}
	e->nr_cand = kept;
	return thr;
}

long ibsp_policy__tick(struct ibsp_engine *e, uint64_t now_ns)
{
	const struct ibsp_engine_opts *o = &e->opts;
	uint64_t hist[NR_BUCKETS] = { 0 };
	uint64_t budget = UINT64_MAX, planned_bytes = 0, floor_heat;
	long nr_plan = 0;

	e->interval++;
	e->st.intervals++;
	e->nr_cand = 0;
	e->nr_unres = 0;
	floor_heat = (uint64_t)o->min_heat * IBSP_HEAT_ONE;
	if (o->rate_bytes_per_s)
		budget = o->rate_bytes_per_s * o->interval_ms / 1000;

	for (uint64_t i = 0; i <= e->ht.mask; i++) {
		struct heat_entry *he = &e->ht.slots[i];
		uint64_t total;
		enum verdict v;

		if (!he->key)
			continue;
		total = 0;
		for (uint32_t s = 0; s < e->nr_acc; s++)
			total += he->heat[s];
		hist[bucket_of(total)]++;
		if (o->policy == IBSP_POLICY_NONE || !total)
			continue;
		if (he->node < 0) {
			if (total < floor_heat)
				continue;
			if (!o->resolver) {
				e->st.skips[IBSP_SKIP_NODE_UNKNOWN]++;
				continue;
			}
			if (grow((void **)&e->unres, &e->cap_unres, e->nr_unres + 1,
				 sizeof(*e->unres)))
				return -ENOMEM;
			e->unres[e->nr_unres++] = (uint32_t)i;
			continue;
		}
		if (total >= floor_heat)
			e->st.considered++;
		v = classify(e, he, total);
		if (v != NOT_CANDIDATE && add_cand(e, he, total, v))
			return -ENOMEM;
	}
	if (e->nr_unres && resolve_unknown(e))
		return -ENOMEM;

	e->st.threshold = fit_budget(e, budget, floor_heat);
	if (e->nr_cand > 1)
		qsort(e->cand, e->nr_cand, sizeof(*e->cand), cmp_cand);
	if (grow((void **)&e->plan, &e->cap_plan, e->nr_cand + 1, sizeof(*e->plan)))
		return -ENOMEM;

	for (uint64_t i = 0; i < e->nr_cand; i++) {
		struct heat_entry *he = &e->ht.slots[e->cand[i].idx];
		struct ibsp_migration *m = &e->plan[nr_plan];
		uint32_t bytes = entry_bytes(he);
		enum ibsp_reason reason;
		int dst;

		if (planned_bytes + bytes > budget) {
			e->st.skips[IBSP_SKIP_BUDGET]++;
			continue;
		}
		dst = ibsp_policy__destination(e, he, e->cand[i].total, e->cand[i].rebalance, bytes,
					       &reason);
		if (dst < 0) {
			e->st.skips[dst == DEST_UNDECIDED ? IBSP_SKIP_UNDECIDED
							  : IBSP_SKIP_CAPACITY]++;
			continue;
		}
		if (dst == he->node)
			continue;
		memset(m, 0, sizeof(*m));
		m->time_ns = now_ns;
		m->vaddr = he->vaddr;
		m->pid = he->pid;
		m->key = he->key;
		m->has_pfn = he->key & KEY_PFN;
		m->pfn = m->has_pfn ? he->key & ~(KEY_PFN | KEY_HUGE) : 0;
		m->bytes = bytes;
		m->src_node = (int16_t)e->topo->nodes[he->node].node.id;
		m->dst_node = (int16_t)e->topo->nodes[dst].node.id;
		m->reason = (uint8_t)reason;
		m->nr_acc = (uint8_t)e->nr_acc;
		memcpy(m->heat, he->heat, sizeof(m->heat));
		e->free_bytes[dst] -= bytes;
		e->free_bytes[he->node] += bytes;
		ibsp_engine__note_move(e, he, dst);
		planned_bytes += bytes;
		nr_plan++;
	}
	e->st.planned += (uint64_t)nr_plan;
	e->st.planned_bytes += planned_bytes;
	e->st.interval_planned_bytes = planned_bytes;
	e->st.interval_budget_bytes = o->rate_bytes_per_s ? budget : 0;
	age(e, hist);
	return nr_plan;
}
