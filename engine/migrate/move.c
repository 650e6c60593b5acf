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
 *    one; the pages it left untouched get the call's outcome.
 *
 * move_pages contract (Linux 6.1 mm/migrate.c do_pages_move, man 2
 * move_pages): status[i] is the node the page is on, or a negative errno
 * for that page. The call returns 0; or a positive count of pages not
 * migrated; or -1 with errno for the call. In both failing cases the
 * kernel may already have stored the status of the pages before the one
 * it stopped at (a page already on its node, or one with its own error,
 * is stored at once), so status is pre-filled with a sentinel and only
 * the untouched pages get the call's outcome.
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
	return m->dst_node >= 0 && m->dst_node < IBSP_MIG_MAX_NODES &&
	       (mg->o.node_mask >> m->dst_node & 1);
}

/* Queue one result (under the lock; the worker only takes requests whose results fit). */
static void put_result(struct ibsp_migrator *mg, const struct ibsp_migration *m, int final)
{
	uint32_t at = mg->res_head + mg->res_len++;

	if (at >= mg->o.queue_len)
		at -= mg->o.queue_len;
	mg->res[at].m = *m;
	mg->res[at].final_node = final;
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
		if (final == m->dst_node) {
			st->moved++;
			st->moved_bytes += m->bytes;
		} else {
			st->moved_elsewhere++;
		}
		if (m->src_node >= 0 && m->src_node < IBSP_MIG_MAX_NODES &&
		    final < IBSP_MIG_MAX_NODES)
			st->matrix[m->src_node][final]++;
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
				.group = (uint64_t)w[i].pid << 16 | (uint16_t)w[i].dst_node,
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

/*
 * Account a chunk of @n pages after its call returned @ret (errno @err):
 * each page by its own status if the kernel wrote one, else by the call.
 * Return: false when the migrator is stopping.
 */
static bool account_chunk(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n,
			  long ret, int err)
{
	bool go_on;

	pthread_mutex_lock(&mg->lock);
	if (mg->o.dry_run) {
		mg->st.dry_run += n;
		for (uint32_t i = 0; i < n; i++)
			put_result(mg, req_of(mg, &k[i]), -ENOEXEC);
	} else {
		mg->st.syscalls++;
		for (uint32_t i = 0; i < n; i++) {
			const struct ibsp_migration *m = req_of(mg, &k[i]);
			int s = mg->status[i];

			if (s >= 0)
				account(mg, m, s, IBSP_MIG_OTHER);
			else if (s != STATUS_UNTOUCHED)
				account(mg, m, s, ibsp_mig_err__from_errno(-s));
			else if (ret < 0)
				account(mg, m, -err, ibsp_mig_err__from_errno(err));
			else /* a positive return (or a kernel that skipped a page): not moved */
				account(mg, m, -EAGAIN, IBSP_MIG_NOT_MIGRATED);
		}
	}
	go_on = !mg->stop;
	pthread_mutex_unlock(&mg->lock);
	return go_on;
}

/* One move_pages call for @n pages of one pid and node. Return: false when stopping. */
static bool call_chunk(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n,
		       long *ret, int *err)
{
	const struct ibsp_migration *m = req_of(mg, &k[0]);
	uint64_t bytes = 0;

	*ret = 0;
	*err = 0;
	if (mg->o.dry_run)
		return true;
	for (uint32_t i = 0; i < n; i++) {
		mg->pages[i] = (void *)(uintptr_t)k[i].vaddr;
		mg->nodes[i] = m->dst_node;
		mg->status[i] = STATUS_UNTOUCHED;
		bytes += req_of(mg, &k[i])->bytes;
	}
	if (!ibsp_mig_bucket__take(mg, bytes))
		return false;
	errno = 0;
	*ret = mg->o.move_pages((int)m->pid, n, mg->pages, mg->nodes, mg->status, mg->o.flags);
	*err = *ret < 0 ? (errno ? errno : EIO) : 0;
	return true;
}

/*
 * Move @n requests of one pid and one node (sorted by address) in chunks.
 * Return: -1 when stopping; else a pid-wide errno that ends the pid's calls, or 0.
 */
static int move_run(struct ibsp_migrator *mg, const struct ibsp_mig_key *k, uint32_t n)
{
	for (uint32_t base = 0, c; base < n; base += c) {
		long ret;
		int err;

		c = chunk_len(mg, k + base, n - base);
		if (!call_chunk(mg, k + base, c, &ret, &err) ||
		    !account_chunk(mg, k + base, c, ret, err))
			return -1;
		if (ret < 0 && scope_of(err) != SCOPE_CALL) {
			account_same(mg, k + base + c, n - base - c, -err,
				     ibsp_mig_err__from_errno(err));
			return scope_of(err) == SCOPE_PID ? err : 0;
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
