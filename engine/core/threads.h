/* SPDX-License-Identifier: MIT */
/*
 * Who uses a page, by thread: every sample names the thread that made it
 * (pid/tid), and most memory is private to one thread. The engine keeps
 * two things from that.
 *
 * - Each thread's home: told at each tick from the thread's samples since
 *   its home was last told (THREAD_HOME_MIN or more; a slow thread's add up
 *   over intervals), the accessor node of THREAD_HOME_DIV - 1 in
 *   THREAD_HOME_DIV of them. A change of home is a move. A thread runs on
 *   many more pages than one, so its home is known, and a move of it seen,
 *   from its samples on all of them: within an interval or two, where a
 *   page sampled a few times a minute would need minutes of its own. The
 *   tick visits only the threads sampled since (t->queue), so its cost
 *   follows the threads that run, not the table's size.
 * - Each page's owner (the heat table's side array t->owner): a vote among
 *   the threads of its samples, +1 for a sample of the owner, -OWNER_DOWN
 *   for another thread's, a new owner when it falls to 0. It holds
 *   OWNER_MIN or more only where one thread makes some two thirds of the
 *   page's samples or more (at 2/3, +1 and -2 cancel), never on a page that
 *   threads share evenly.
 *
 * When a page's owner has moved its home from the page's node to another
 * top-tier node, and the page's latest sample came from there, the page's
 * user has moved: pg->owner says so to the policy (page_owner() in
 * tick_internal.h), which then need not wait for the page's own heat to
 * turn. The engine measures first whether threads say anything on this host
 * (ibsp_engine__note_owner(), view.owner_agrees): of the samples from home
 * of pages that had shown themselves private on a top-tier node, made by
 * their owner with a home, the share where that home is the page's node. A
 * recording whose thread ids name CPUs (each page used from many of them)
 * gives no owners and leaves it unknown.
 *
 * The table is direct-mapped: a thread that collides replaces the one
 * there, which then has no home until it has THREAD_HOME_MIN samples again.
 */
#ifndef IBSP_ENGINE_THREADS_H
#define IBSP_ENGINE_THREADS_H

#include "engine_internal.h"
#include "evidence.h"

#define THREAD_BITS	 12	   /* 4 Ki threads: 64 KiB with up to 4 accessor nodes */
#define THREAD_HOME_MIN	 8	   /* samples before a thread's home is told */
#define THREAD_HOME_DIV	 8	   /* and 7 in 8 of them from one node */
#define OWNER_TID	 0xffffffu /* the owner's tid (pid_max <= 2^22), low bits of t->owner[] */
#define OWNER_VOTE_SHIFT 24
#define OWNER_MAX	 15 /* the vote saturates */
#define OWNER_DOWN	 2  /* another thread's sample takes this many away */
#define OWNER_MIN	 4u /* a vote from which the page is its owner's */

/*
 * One thread: its tid (0: empty), its home and the home before it (accessor
 * slots, -1: none yet), and its samples per accessor slot since its home was
 * last told (ibsp_thread_table__tick()).
 */
struct ibsp_thread {
	uint32_t tid;
	int8_t home;
	int8_t prev;
	uint8_t queued; /* its slot is in t->queue */
	uint8_t pad;
	uint16_t cnt[]; /* [nr_acc] */
};

struct ibsp_thread_table {
	char *slots;
	uint32_t stride; /* bytes per slot */
	uint32_t mask;
	uint32_t nr_acc;
	uint32_t nr_queued;
	uint16_t *queue; /* the slots with samples not yet told, once each */
	uint64_t moves;	 /* threads whose home changed */
};

struct ibsp_thread_table *ibsp_thread_table__new(uint32_t nr_acc);
void ibsp_thread_table__delete(struct ibsp_thread_table *t);
/* Once an interval: tell the homes of the threads with THREAD_HOME_MIN samples since. */
void ibsp_thread_table__tick(struct ibsp_thread_table *t);

static inline uint32_t ibsp_thread_table__index(const struct ibsp_thread_table *t, uint32_t tid)
{
	return (uint32_t)(((uint64_t)tid * 0x9e3779b97f4a7c15ULL) >> 40) & t->mask;
}

static inline struct ibsp_thread *ibsp_thread_table__at(const struct ibsp_thread_table *t,
							uint32_t i)
{
	return (struct ibsp_thread *)(t->slots + (size_t)i * t->stride);
}

static inline struct ibsp_thread *ibsp_thread_table__slot(const struct ibsp_thread_table *t,
							  uint32_t tid)
{
	return ibsp_thread_table__at(t, ibsp_thread_table__index(t, tid));
}

/* Count a sample of thread @tid (not 0) from accessor slot @slot. */
static inline void ibsp_thread_table__add(struct ibsp_thread_table *t, uint32_t tid, int slot)
{
	uint32_t i = ibsp_thread_table__index(t, tid);
	struct ibsp_thread *th = ibsp_thread_table__at(t, i);

	if (!th->queued) {
		th->queued = 1;
		t->queue[t->nr_queued++] = (uint16_t)i;
	}
	if (th->tid != tid) {
		th->tid = tid;
		th->home = th->prev = -1;
		memset(th->cnt, 0, t->nr_acc * sizeof(th->cnt[0]));
	}
	th->cnt[slot] += th->cnt[slot] < UINT16_MAX;
}

/* Thread @tid, or NULL when the table does not hold it. */
static inline const struct ibsp_thread *ibsp_thread_table__find(const struct ibsp_thread_table *t,
								uint32_t tid)
{
	const struct ibsp_thread *th = ibsp_thread_table__slot(t, tid);

	return tid && th->tid == tid ? th : NULL;
}

/* The page at position @pos has a sample of thread @tid (not 0): the owner's vote. */
static inline void ibsp_owner__vote(struct ibsp_heat_table *ht, uint32_t pos, uint32_t tid)
{
	uint32_t o = ht->owner[pos], vote = o >> OWNER_VOTE_SHIFT;

	tid &= OWNER_TID;
	if ((o & OWNER_TID) == tid)
		vote += vote < OWNER_MAX;
	else if (vote > OWNER_DOWN)
		vote -= OWNER_DOWN;
	else
		vote = 0;
	if (!vote && (o & OWNER_TID) != tid) { /* the vote fell to nothing: a new owner */
		ht->owner[pos] = tid | 1u << OWNER_VOTE_SHIFT;
		return;
	}
	ht->owner[pos] = (o & OWNER_TID) | vote << OWNER_VOTE_SHIFT;
}

/* The owner's tid of the page at @pos where its vote holds (OWNER_MIN), or 0. */
static inline uint32_t ibsp_owner__of(const struct ibsp_heat_table *ht, uint32_t pos)
{
	uint32_t o = ht->owner[pos];

	return o >> OWNER_VOTE_SHIFT >= OWNER_MIN ? o & OWNER_TID : 0;
}

/*
 * A private page's sample from home (@node), made by its owner, whose home
 * is accessor slot @home (-1: none known): is the owner at home there too?
 * A struct ibsp_share, as the noise estimate.
 */
static inline void ibsp_engine__note_owner(struct ibsp_engine *e, int home, int node)
{
	if (home < 0)
		return;
	ibsp_share__note(&e->owner_agree, e->acc_node[home] == node);
}

/*
 * @he's sample @slot was made by thread @tid: the page's owner vote and the
 * thread's home (threads.h). A sample from home of a page that had shown
 * itself private on a top-tier node, made by its owner, says first whether
 * the owner's home is the page's node (view.owner_agrees).
 */
static inline void ibsp_engine__note_thread(struct ibsp_engine *e, struct ibsp_heat_entry *he,
					    uint32_t pos, uint32_t tid, int slot)
{
	const struct ibsp_thread *th;

	if (he->node >= 0 && e->top_tier[he->node] && e->acc_node[slot] == he->node &&
	    he->stay >= NOISE_STAY && ibsp_owner__of(e->ht, pos) == (tid & OWNER_TID) &&
	    (th = ibsp_thread_table__find(e->threads, tid)))
		ibsp_engine__note_owner(e, th->home, he->node);
	ibsp_owner__vote(e->ht, pos, tid);
	ibsp_thread_table__add(e->threads, tid, slot);
}

#endif /* IBSP_ENGINE_THREADS_H */
