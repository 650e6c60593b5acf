/* SPDX-License-Identifier: MIT */
/*
 * What a page's samples say about where it should be: the leave evidence of a
 * page on a top-tier node (two CUSUMs, and its evidence of being private
 * there), the count of a page's samples elsewhere, and the engine's estimate
 * of the host's sampling noise drawn from them. Updated with every sample
 * (engine.c) and read by the policies through struct ibsp_page_view.
 */
#ifndef IBSP_ENGINE_EVIDENCE_H
#define IBSP_ENGINE_EVIDENCE_H

#include "engine_internal.h"
#include "near.h"

/*
 * The evidence that a page on a top-tier node should leave it, as a CUSUM
 * over its samples (Page's test), in half steps: +LEAVE_UP (2) for a sample
 * from the top-tier node that leads its heat among the others (ties count;
 * ibsp_engine__lead_elsewhere()), -LEAVE_DOWN (6) for one from its own node,
 * -LEAVE_DOWN_OTHER (1) for one from another top-tier node that holds at
 * least half the leader's heat, held in [0, 255]. It is the log-likelihood
 * ratio, in steps of log(1.8) = 0.59 (two units), of "90% of its accesses
 * come from one node elsewhere" against "its accesses are shared evenly with
 * its own node": a sample from elsewhere adds log(0.9/0.5), one from its own
 * node log(0.1/0.5) = -1.61, about -3 steps. Unlike the decayed heat, whose
 * evidence is capped by the decay (a page with 2-3 samples per interval never
 * holds more than ~10), it grows without bound while the samples keep
 * pointing away, and it forgets the node's old users at once: a page whose
 * users moved drifts up by ~0.6 step a sample, a page shared 50/50 drifts
 * down by 1 a sample and one whose users are on its node by ~2.5. The policy
 * reads it as pg->leave; a move, or a sample that finds the page on another
 * node, resets it.
 *
 * Only the leading other node counts up: with four sockets, a page shared
 * four ways sits on a node with 25% of its samples, and +1 for each of the
 * three others' 75% against -3 for its own 25% would be a walk with no drift,
 * crossing any threshold in time. Even so, the leader among three nodes that
 * share evenly changes with every few samples, so such a page still drifted
 * up to a false alarm now and then (0-7 of ~1,900 pages moved twice on an
 * all-shared 4-socket recording). Under "one node took over", a sample from
 * a third node is rare (about -2 nats); one from a node close to the leader
 * (half its heat or more) is what sharing looks like, and counts half a step
 * down. A node far below the leader (the old users' leftovers after a switch)
 * counts nothing, so a switch is seen as fast as before. With two sockets the
 * other node always leads, and nothing changes.
 *
 * On a lower-tier node, or while its node is unknown (live, before the
 * engine locates it), the same byte counts the page's samples instead
 * (pg->seen; locating it on a top-tier node resets it): the decayed heat
 * of a page with r samples an interval never exceeds ~4r, so a threshold on
 * it (the policy's fallback for a page with no majority) would never be
 * reached below r = 2 and takes 5 intervals at r = 2.7; a count of samples
 * does not depend on the rate.
 */
#define LEAVE_UP	 2
#define LEAVE_DOWN	 6
#define LEAVE_DOWN_OTHER 1

/*
 * The evidence that a page on a top-tier node is private there (he->stay, 4
 * bits, pg->stay): +1 for a sample from its own node while no excursion is
 * under way, -3 for each sample of an excursion that came back (when the
 * sample from its own node that ends it arrives), and 0 after a sample from
 * a third node close to the leader; it does not change during an
 * excursion, so the policy reads what the page had shown before it. Like the
 * CUSUM, in steps of log(1.8) of "90% from its own node" against "shared
 * evenly": a page with 10% noise gains ~0.6 a sample, one shared 50/50 loses
 * ~1. Where the page had shown itself private, an excursion needs less
 * evidence to be a move of its users (locality's follow_leave()).
 */

/*
 * The slow evidence (he->drift, pg->drift): the same walk for "70% of the
 * accesses come from the leading node elsewhere" against "shared evenly with
 * its own node", in steps of log(1.4)/2 = 0.168 nats: +DRIFT_UP (2) for a
 * sample from the leading node elsewhere (log(0.7/0.5) = 0.34), -DRIFT_DOWN
 * (3) for one from its own node or from a third node holding at least half
 * the leader's heat (log(0.3/0.5) = -0.51: either is what sharing looks
 * like), held in [0, 255]. A page whose users are 70/30 on the other socket
 * drifts up by 0.5 a sample: the leave walk above, which tests 90%, drifts
 * down on it (-0.4 a sample) and never fires, so a page placed on the wrong
 * socket by its first few samples stayed there for good.
 */
#define DRIFT_UP   2
#define DRIFT_DOWN 3

/* The most heat an accessor slot other than the page's own node holds. */
static inline uint32_t ibsp_engine__lead_elsewhere(const struct ibsp_engine *e,
						   const struct ibsp_heat_entry *he)
{
	uint32_t lead = 0;

	for (uint32_t s = 0; s < e->nr_acc; s++) {
		if (e->acc_node[s] != he->node && he->heat[s] > lead)
			lead = he->heat[s];
	}
	return lead;
}

/* @he's leave evidence less @n, never below 0. */
static inline void ibsp_heat_entry__leave_less(struct ibsp_heat_entry *he, uint8_t n)
{
	he->leave = he->leave > n ? (uint8_t)(he->leave - n) : 0;
}

/* @he's slow evidence less DRIFT_DOWN, never below 0. */
static inline void ibsp_heat_entry__drift_down(struct ibsp_heat_entry *he)
{
	he->drift = he->drift > DRIFT_DOWN ? he->drift - DRIFT_DOWN : 0;
}

/* A move, or a sample that finds the page on another node: no evidence yet. */
static inline void ibsp_heat_entry__evidence_reset(struct ibsp_heat_entry *he)
{
	he->leave = 0;
	he->drift = 0;
	he->stay = 0;
}

/*
 * A page located (live) on a top-tier node had its samples counted (seen);
 * weigh them against that node now, from its heat: about the sum of the
 * steps they would have made (order-blind, where the CUSUM itself is at
 * least its last sum), so the evidence already gathered is not thrown away
 * (heat/live_resolution: 10 samples from socket 1 of a page found on socket
 * 0 follow).
 */
static inline void ibsp_engine__seed_leave(const struct ibsp_engine *e, struct ibsp_heat_entry *he)
{
	int64_t up = ibsp_engine__lead_elsewhere(e, he) / IBSP_HEAT_ONE, down = 0, sum;

	for (uint32_t s = 0; s < e->nr_acc; s++) {
		if (e->acc_node[s] == he->node)
			down += he->heat[s] / IBSP_HEAT_ONE;
	}
	sum = LEAVE_UP * up - LEAVE_DOWN * down;
	he->leave = sum <= 0 ? 0 : sum >= UINT8_MAX ? UINT8_MAX : (uint8_t)sum;
}

/*
 * The host's sampling noise, as the engine sees it (ibsp_engine__noise()):
 * of the samples of top-tier pages whose evidence of being private there
 * (he->stay) was at least NOISE_STAY (a page shared 50/50 drifts down by a
 * step a sample, so it seldom holds 4), the share of excursions that came
 * back, that is samples from another node followed by one from the page's
 * own again. A thread that moves to another socket starts excursions that do
 * not come back, so its pages do not count as noise (a struct ibsp_share:
 * the latest ~SHARE_WINDOW such samples, told from SHARE_MIN).
 */
#define NOISE_STAY 4

static inline void ibsp_engine__note_noise(struct ibsp_engine *e, bool blip)
{
	ibsp_share__note(&e->noise, blip);
}

/*
 * The excursions of private-looking pages (he->stay >= IBSP_TRUSTED_STAY; a
 * page shared 50/50 holds that about one sample in 130), while no sample from
 * home has come: how many reached k samples from elsewhere, and how many a
 * sample from home ended at k (its stay is cut then, so it counts no more).
 * back[k] / reach[k] is the hazard at k: an excursion of noise ends soon
 * (its hazard is the owner's share), one of a page whose users moved ends
 * only by noise, at a rate that does not depend on k. Where the hazard has
 * fallen to that plateau, the excursions still under way are moves
 * (trusted_leave() in tick.c). A page that goes cold or a
 * recording that ends only stops an excursion's count, so such censoring
 * does not bias the hazard. Halved past SHARE_WINDOW, as the noise estimate.
 */
static inline void ibsp_engine__note_excursion(struct ibsp_engine *e, uint32_t k, bool back)
{
	if (k < 1 || k > EXC_MAX)
		return;
	if (back) {
		e->exc_back[k]++;
		return;
	}
	if (++e->exc_reach[k] >= SHARE_WINDOW) {
		for (uint32_t i = 0; i <= EXC_MAX; i++) {
			e->exc_reach[i] /= 2;
			e->exc_back[i] /= 2;
		}
	}
}

/*
 * A sample from home of a page whose home is clear (@he; @home its node):
 * do its neighbours (@n, the page left out) lead clearly, and to @home? The
 * counts are a struct ibsp_share, as the noise estimate's (near.h).
 */
static inline void ibsp_engine__note_near(struct ibsp_engine *e, const struct ibsp_heat_entry *he,
					  const struct ibsp_near *n, int home)
{
	int lead = ibsp_near__leader(n, he, e->nr_acc);

	if (lead < 0)
		return;
	ibsp_share__note(&e->near_agree, e->acc_node[lead] == home);
}

/* @he's sample from accessor slot @slot; @n: its neighbourhood, counted already (or NULL). */
static inline void ibsp_engine__note_leave(struct ibsp_engine *e, struct ibsp_heat_entry *he,
					   int slot, const struct ibsp_near *n)
{
	int acc = e->acc_node[slot];

	if (he->node < 0 || !e->top_tier[he->node]) {
		he->seen += he->seen < UINT8_MAX;
		if (n && he->heat[slot] >= NEAR_OWN_MIN * IBSP_HEAT_ONE &&
		    (uint64_t)he->heat[slot] * NEAR_OWN_DIV >=
			entry_total(he, e->nr_acc) * (NEAR_OWN_DIV - 1))
			ibsp_engine__note_near(e, he, n, acc);
		return;
	}
	if (acc == he->node) {
		if (he->stay >= NOISE_STAY) {
			ibsp_engine__note_noise(e, he->leave != 0);
			if (n)
				ibsp_engine__note_near(e, he, n, he->node);
		}
		if (he->leave) { /* an excursion came back: 3 steps for each of its samples */
			uint32_t cut = 3U * ((he->leave + 1U) / 2U);

			if (he->stay >= IBSP_TRUSTED_STAY)
				ibsp_engine__note_excursion(e, (he->leave + 1U) / 2U, true);
			he->stay = he->stay > cut ? (uint8_t)(he->stay - cut) : 0;
		} else {
			he->stay += he->stay < STAY_MAX;
		}
		ibsp_heat_entry__leave_less(he, LEAVE_DOWN);
		ibsp_heat_entry__drift_down(he);
	} else if (acc >= 0 && e->top_tier[acc]) {
		uint32_t lead = ibsp_engine__lead_elsewhere(e, he), h = he->heat[slot];

		if (h >= lead) {
			if (he->stay >= NOISE_STAY && !he->leave)
				ibsp_engine__note_noise(e, false);
			if (he->stay >= IBSP_TRUSTED_STAY)
				ibsp_engine__note_excursion(e, (he->leave + LEAVE_UP + 1U) / 2U,
							    false);
			he->leave =
			    he->leave <= UINT8_MAX - LEAVE_UP ? he->leave + LEAVE_UP : UINT8_MAX;
			he->drift = he->drift <= 255 - DRIFT_UP ? he->drift + DRIFT_UP : 255;
		} else if (2 * (uint64_t)h >= lead) {
			he->stay = 0; /* a third node close to the leader: sharing */
			ibsp_heat_entry__leave_less(he, LEAVE_DOWN_OTHER);
			ibsp_heat_entry__drift_down(he);
		}
	}
}

#endif /* IBSP_ENGINE_EVIDENCE_H */
