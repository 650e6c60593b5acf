// SPDX-License-Identifier: MIT
/*
 * One page, one entry. A sample with a physical address heats the page's
 * PFN entry; a sample of the same page without one (IBS drops
 * DcPhyAddrValid now and then, a page-fault sample has none) can only be
 * keyed by (pid, virtual page), KEY_VIRT, and would heat a second entry
 * that has no node in a recording and splits the page's heat live.
 *
 * At the start of every interval pass, while the table holds KEY_VIRT
 * entries, each PFN entry's alias (the pid and page-aligned vaddr of its
 * latest accessor, HE_ALIAS) names the KEY_VIRT key the same page would
 * have without its PFN: that entry, when present, is folded into the PFN
 * entry (heat added per accessor node, the latest accessor and the idle
 * count from the side sampled last, the move history from the later move)
 * and deleted.
 *
 * The limit: a PFN entry remembers only its latest accessor's mapping, so a
 * frame that several processes map (or one process at two addresses) takes
 * in the KEY_VIRT entry of that mapping only; the others stay apart until
 * one of their samples with a physical address makes them the alias.
 * Entries of different page sizes (a 2 MiB entry, a 4 KiB virtual one) are
 * not folded either: their keys differ as the samples' page sizes do.
 */
#include <stdlib.h>

#include "engine_internal.h"
#include "evidence.h"

/* A KEY_VIRT entry and the PFN entry it folds into, by key: deletions move slots. */
struct fold {
	uint64_t pfn_key;
	uint64_t virt_key;
	uint64_t order; /* the PFN entry's index slot */
};

/* The KEY_VIRT key of @he's alias mapping, or 0 when it has none. */
static uint64_t alias_key(const struct ibsp_heat_table *t, const struct ibsp_heat_entry *he)
{
	uint64_t vaddr;

	/* HE_ALIAS: pid < KEY_PID_MAX (the width of he->pid) and a user vaddr. */
	if (!(he->key & KEY_PFN) || !(he->flags & HE_ALIAS))
		return 0;
	vaddr = ibsp_heat_table__vaddr(t, he);
	if (vaddr >= USER_VA_END)
		return 0;
	return KEY_VIRT | (he->key & KEY_HUGE) | (uint64_t)he->pid << KEY_PID_SHIFT |
	       ((vaddr >> PAGE_SHIFT_4K) & KEY_VPN_MASK);
}

/*
 * The leave/seen byte means what the entry's node makes it mean
 * (ibsp_engine__note_leave()): on a top-tier node the CUSUM, elsewhere a
 * count of samples. Counts add up; a CUSUM is kept from @v only when @v
 * was on the same top-tier node (live, a located KEY_VIRT entry), since
 * its samples were weighed against that node. A count of @v's samples is
 * no evidence for @p's CUSUM: taking it as such made pages whose samples
 * partly lack a physical address leave their node on no evidence.
 */
static void fold_leave(const struct ibsp_engine *e, struct ibsp_heat_entry *p,
		       const struct ibsp_heat_entry *v)
{
	bool p_top = p->node >= 0 && e->top_tier[p->node];
	bool v_top = v->node >= 0 && e->top_tier[v->node];

	if (!p_top) {
		uint32_t n = (uint32_t)p->seen + (v_top ? 0 : v->seen);

		p->seen = n > UINT8_MAX ? UINT8_MAX : (uint8_t)n;
	} else if (v->node == p->node) {
		p->leave = v->leave > p->leave ? v->leave : p->leave;
		p->drift = v->drift > p->drift ? v->drift : p->drift;
	}
}

/* Add @v's heat and history to @p. */
static void fold_into(const struct ibsp_engine *e, struct ibsp_heat_entry *p,
		      const struct ibsp_heat_entry *v)
{
	uint32_t nr_acc = e->nr_acc;

	/*
	 * The side sampled in a later interval holds the latest sample; within
	 * one interval (no sample times here) the side with more heat likely does.
	 */
	if (v->idle < p->idle ||
	    (v->idle == p->idle && entry_total(v, nr_acc) > entry_total(p, nr_acc)))
		p->last_acc = v->last_acc;
	if (v->idle < p->idle)
		p->idle = v->idle;
	for (uint32_t s = 0; s < nr_acc; s++) {
		uint32_t h = p->heat[s] + v->heat[s];

		p->heat[s] = h < p->heat[s] ? UINT32_MAX : h;
	}
	/* Live, a located KEY_VIRT entry may have been moved by its mapping. */
	if (v->last_move > p->last_move) {
		p->last_move = v->last_move;
		p->prev_node = v->prev_node;
		p->last_reason = v->last_reason;
	}
	if (v->nr_moves > p->nr_moves)
		p->nr_moves = v->nr_moves;
	fold_leave(e, p, v);
}

static int cmp_fold(const void *a, const void *b)
{
	const struct fold *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * The pairs to fold, found without changing the table, in the index's slot
 * order of their PFN entries (of two PFN entries with one alias, the first
 * in that order takes it); NULL on no memory. The walk is over the dense
 * array: what is tracked.
 */
static struct fold *collect(struct ibsp_heat_table *t, uint64_t *nr)
{
	uint64_t cap = t->nr_virt < 1024 ? t->nr_virt : 1024, n = 0;
	struct fold *f = malloc(cap * sizeof(*f));

	if (!f)
		return NULL;
	for (uint64_t i = 0; i < t->count; i++) {
		const struct ibsp_heat_entry *he = ibsp_heat_table__at(t, i);
		uint64_t vk = alias_key(t, he);

		if (!vk || !ibsp_heat_table__find(t, vk))
			continue;
		if (n == cap) {
			struct fold *g = realloc(f, 2 * cap * sizeof(*f));

			if (!g)
				break;
			f = g;
			cap *= 2;
		}
		f[n++] = (struct fold){ .pfn_key = he->key,
					.virt_key = vk,
					.order = ibsp_heat_table__slot_of(t, he->key) };
	}
	if (n > 1)
		qsort(f, n, sizeof(*f), cmp_fold);
	*nr = n;
	return f;
}

void ibsp_engine__fold_aliases(struct ibsp_engine *e)
{
	struct ibsp_heat_table *t = e->ht;
	struct fold *f;
	uint64_t n = 0;

	/* Live under a page-fault sampler every entry is KEY_VIRT: no pass at all. */
	if (!t->nr_virt || !t->nr_pfn)
		return;
	/* Out of memory: the entries stay apart for one more interval. */
	f = collect(t, &n);
	if (!f)
		return;
	for (uint64_t i = 0; i < n; i++) {
		struct ibsp_heat_entry *v = ibsp_heat_table__find(t, f[i].virt_key), *p;

		/* Two PFN entries with one alias (a process remapped the address): the first took it. */
		if (!v)
			continue;
		p = ibsp_heat_table__find(t, f[i].pfn_key);
		ibsp_heat_table__touch(t, p);
		fold_into(e, p, v);
		ibsp_heat_table__del(t, v);
		e->st.alias_merges++;
	}
	free(f);
}
