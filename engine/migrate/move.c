// SPDX-License-Identifier: MIT
/*
 * One drain of the migration worker: the requests it took from the queue.
 *
 * 1. Invalid requests are refused without a call (class "invalid").
 * 2. The rest is sorted by (pid, destination node, vaddr) (keysort.c) and moved in runs
 *    of one pid and one node, each in chunks of at most `batch` pages (and,
 *    under a rate limit, at most the burst's bytes): one move_pages call per
 *    chunk, after the chunk's bytes came out of the token bucket.
 * 3. Every page is accounted from its own status where the kernel wrote
 *    one; the pages it left untouched get the call's error, or, after a
 *    positive return, the node a query (move_pages with nodes NULL) finds
 *    them on.
 *
 * Right before each call, check_pid (when set) may refuse the pid: the
 * call's pages and the pid's remaining pages of the drain fail with its
 * errno, without a call.
 *
 * move_pages contract (Linux 6.1 mm/migrate.c do_pages_move, man 2
 * move_pages): status[i] is the node the page is on, or a negative errno
 * for that page. The call returns 0; or a positive count of pages not
 * migrated; or -1 with errno for the call. In both failing cases the
 * kernel may already have stored the status of the pages before the one
 * it stopped at (a page already on its node, or one with its own error,
 * is stored at once), so status is pre-filled with a sentinel and only
 * the untouched pages get the call's outcome. After a positive return the
 * kernel has migrated some of the untouched pages and says nothing of
 * which (do_pages_move stores no status for the batch it was moving):
 * the query tells, and a page it finds on its destination is moved
 * ("recovered"); one it finds elsewhere ends on that node; one it cannot
 * locate is not_migrated (-EAGAIN).
 *
 * A whole-call errno has a scope: ESRCH and EPERM concern the pid (no more
 * calls for it in this drain), ENODEV (the node has no memory) and EACCES
 * (the node is outside the target's cpuset) concern the pid's run to that
 * node (no more calls for the run), anything else only that call.
 */
#include <errno.h>

#include "migrate_internal.h"

#define STATUS_UNTOUCHED INT32_MIN
#define PAGE_4K		 4096u
#define PAGE_2M		 (2u << 20)
#define USER_VA_LIMIT	 (1ull << 57) /* above any user address (5-level paging) */

enum err_scope { SCOPE_CALL, SCOPE_RUN, SCOPE_PID };

static enum err_scope scope_of(int err)
{
	switch (err) {
	case ESRCH:
	case EPERM:
		return SCOPE_PID;
	case ENODEV:
	case EACCES:
		return SCOPE_RUN;
	default:
		return SCOPE_CALL;
	}
}

static bool request_valid(const struct ibsp_migrator *mg, const struct ibsp_migration *m)
{
	if (!m->pid || !m->vaddr || m->vaddr >= USER_VA_LIMIT)
		return false;
	if (m->bytes != PAGE_4K && m->bytes != PAGE_2M)
		return false;
	if (m->vaddr % m->bytes)
		return false;
	return m->dst_node.id >= 0 && m->dst_node.id < IBSP_MIG_MAX_NODES &&
	       (mg->o.node_mask >> m->dst_node.id & 1);
}

/* Queue one result (under the lock; the worker only takes requests whose results fit). */
static void put_result(struct ibsp_migrator *mg, const struct ibsp_migration *m, int final)
{
	uint32_t at = mg->res_head + mg->res_len++;

	if (at >= mg->o.queue_len)
		at -= mg->o.queue_len;
	mg->res[at].m = *m;
	mg->res[at].final_node = final;
	mg->st.results++;
}

/*
 * Account one page (under the lock) and queue its result: @final is a node,
 * or a negative errno whose class is @cls.
 */
static void account(struct ibsp_migrator *mg, const struct ibsp_migration *m, int final,
		    enum ibsp_mig_err cls)
{
	struct ibsp_migrator_stats *st = &mg->st;

	if (final >= 0) {
		if (final == m->dst_node.id) {
			st->moved++;
			st->moved_bytes += m->bytes;
		} else {
			st->moved_elsewhere++;
		}
		if (m->src_node.id >= 0 && m->src_node.id < IBSP_MIG_MAX_NODES &&
		    final < IBSP_MIG_MAX_NODES)
			st->matrix[m->src_node.id][final]++;
	} else {
		st->failed++;
		st->by_err[cls]++;
	}
	put_result(mg, m, final);
}

/* The request behind a key. */
static const struct ibsp_migration *req_of(const struct ibsp_migrator *mg,
					   const struct ibsp_mig_key *k)
{
	return &mg->work_buf[k->idx];
}

/* Account @n pages with one outcome: a call's error that spares further calls. */
static void account_same(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n,
			 int final, enum ibsp_mig_err cls)
{
	if (!n)
		return;
	pthread_mutex_lock(&mg->lock);
	for (uint32_t i = 0; i < n; i++)
		account(mg, req_of(mg, &k[i]), final, cls);
	pthread_mutex_unlock(&mg->lock);
}

/* Refuse the invalid requests of the drain; key the valid ones. Return: how many. */
static uint32_t refuse_invalid(struct ibsp_migrator *mg, uint32_t n)
{
	const struct ibsp_migration *w = mg->work_buf;
	uint32_t nv = 0;

	pthread_mutex_lock(&mg->lock);
	for (uint32_t i = 0; i < n; i++) {
		if (request_valid(mg, &w[i]))
			mg->keys[nv++] = (struct ibsp_mig_key){
				.group = (uint64_t)w[i].pid << 16 | (uint16_t)w[i].dst_node.id,
				.vaddr = w[i].vaddr,
				.idx = i,
			};
		else
			account(mg, &w[i], -EINVAL, IBSP_MIG_INVALID);
	}
	pthread_mutex_unlock(&mg->lock);
	return nv;
}

/* Pages in the next call: up to `batch`, and up to the burst under a rate limit (at least 1). */
static uint32_t chunk_len(const struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n)
{
	uint64_t cap = mg->o.rate_bytes_per_s ? mg->o.burst_bytes : UINT64_MAX;
	uint64_t bytes = req_of(mg, &k[0])->bytes;
	uint32_t i = 1;

	while (i < n && i < mg->o.batch && bytes + req_of(mg, &k[i])->bytes <= cap)
		bytes += req_of(mg, &k[i++])->bytes;
	return i;
}

/* How a chunk's call went. */
struct chunk_call {
	long ret;     /* move_pages' return; -1 when refused */
	int err;      /* its errno, or check_pid's when refused */
	bool refused; /* check_pid refused the pid: no call */
	bool located; /* after a positive return: mg->where holds the query's nodes */
};

/* An untouched page after a positive return: where the query found it, if it did. */
static void account_unsettled(struct ibsp_migrator *mg, const struct ibsp_migration *m,
			      const struct chunk_call *c, uint32_t i)
{
	int w = c->located ? mg->where[i] : -1;

	if (w < 0) {
		account(mg, m, -EAGAIN, IBSP_MIG_NOT_MIGRATED);
		return;
	}
	mg->st.recovered += w == m->dst_node.id;
	account(mg, m, w, IBSP_MIG_OTHER);
}

/*
 * Account a chunk of @n pages after its call @c: each page by its own
 * status if the kernel wrote one, else by the call.
 * Return: false when the migrator is stopping.
 */
static bool account_chunk(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n,
			  const struct chunk_call *c)
{
	bool go_on;

	pthread_mutex_lock(&mg->lock);
	if (mg->o.dry_run) {
		mg->st.dry_run += n;
		for (uint32_t i = 0; i < n; i++)
			put_result(mg, req_of(mg, &k[i]), -ENOEXEC);
	} else {
		mg->st.syscalls += !c->refused;
		mg->st.pid_refused += c->refused;
		for (uint32_t i = 0; i < n; i++) {
			const struct ibsp_migration *m = req_of(mg, &k[i]);
			int s = mg->status[i];

			if (s >= 0)
				account(mg, m, s, IBSP_MIG_OTHER);
			else if (s != STATUS_UNTOUCHED)
				account(mg, m, s, ibsp_mig_err__from_errno(-s));
			else if (c->ret < 0)
				account(mg, m, -c->err, ibsp_mig_err__from_errno(c->err));
			else /* a positive return (or a kernel that skipped a page) */
				account_unsettled(mg, m, c, i);
		}
	}
	go_on = !mg->stop;
	pthread_mutex_unlock(&mg->lock);
	return go_on;
}

/* After a positive return: where are the chunk's @n pages now? */
static bool locate_pages(struct ibsp_migrator *mg, uint32_t pid, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		mg->where[i] = -ENOENT;
	return mg->o.move_pages((int)pid, n, mg->pages, NULL, mg->where, 0) >= 0;
}

/*
 * One move_pages call for @n pages of one pid and node, after the bucket
 * gave their bytes and check_pid let the pid through. Return: false when
 * stopping.
 */
static bool call_chunk(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n,
		       struct chunk_call *c)
{
	const struct ibsp_migration *m = req_of(mg, &k[0]);
	uint64_t bytes = 0;

	*c = (struct chunk_call){ .ret = 0 };
	if (mg->o.dry_run)
		return true;
	for (uint32_t i = 0; i < n; i++) {
		mg->pages[i] = (void *)(uintptr_t)k[i].vaddr;
		mg->nodes[i] = m->dst_node.id;
		mg->status[i] = STATUS_UNTOUCHED;
		bytes += req_of(mg, &k[i])->bytes;
	}
	if (!ibsp_mig_bucket__take(mg, bytes))
		return false;
	c->err = mg->o.check_pid ? -mg->o.check_pid(mg->o.check_ctx, m->pid) : 0;
	if (c->err) {
		c->refused = true;
		c->ret = -1;
		return true;
	}
	errno = 0;
	c->ret = mg->o.move_pages((int)m->pid, n, mg->pages, mg->nodes, mg->status, mg->o.flags);
	c->err = c->ret < 0 ? (errno ? errno : EIO) : 0;
	if (c->ret > 0)
		c->located = locate_pages(mg, m->pid, n);
	return true;
}

/*
 * Move @n requests of one pid and one node (sorted by address) in chunks.
 * Return: -1 when stopping; else a pid-wide errno that ends the pid's calls, or 0.
 */
static int move_run(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n)
{
	for (uint32_t base = 0, len; base < n; base += len) {
		struct chunk_call c;
		enum err_scope scope;

		len = chunk_len(mg, k + base, n - base);
		if (!call_chunk(mg, k + base, len, &c) || !account_chunk(mg, k + base, len, &c))
			return -1;
		scope = c.refused ? SCOPE_PID : scope_of(c.err);
		if (c.ret < 0 && scope != SCOPE_CALL) {
			account_same(mg, k + base + len, n - base - len, -c.err,
				     ibsp_mig_err__from_errno(c.err));
			return scope == SCOPE_PID ? c.err : 0;
		}
	}
	return 0;
}

/* Move @n requests of one pid (sorted), one run per node. Return: -1 when stopping. */
static int move_pid(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n)
{
	int pid_err = 0;

	for (uint32_t i = 0, j; i < n; i = j) {
		for (j = i; j < n && k[j].group == k[i].group;)
			j++;
		if (pid_err) {
			account_same(mg, k + i, j - i, -pid_err, ibsp_mig_err__from_errno(pid_err));
			continue;
		}
		pid_err = move_run(mg, k + i, j - i);
		if (pid_err < 0)
			return -1;
	}
	return 0;
}

void ibsp_mig_drain(struct ibsp_migrator *mg, uint32_t n)
{
	uint32_t nv = refuse_invalid(mg, n);
	const struct ibsp_mig_key *k = ibsp_mig_keys__sort(mg->keys, mg->keys_tmp, nv);

	for (uint32_t i = 0, j; i < nv; i = j) {
		for (j = i; j < nv && k[j].group >> 16 == k[i].group >> 16;)
			j++;
		if (move_pid(mg, k + i, j - i) < 0)
			return;
	}
}
