// SPDX-License-Identifier: MIT
/*
 * The heat map's aggregation (ibsp/heatmap.h). One pass over the samples
 * in file order (a cell does not care about order) into an open-addressing
 * hash of occupied cells keyed by (pid, region, time bin), each with its
 * sample count per accessor slot and per page node, as the engine resolves
 * them. Then the cells are sorted by region, the hottest regions chosen,
 * and the grid filled. The time bins come from the recording's SAMPLE_TIME
 * feature, or from a first pass over the times when it has none.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ibsp/engine.h"
#include "ibsp/heatmap.h"
#include "ibsp/perf_file.h"
#include "log_print.h"
#include "util.h"

#define BATCH	  4096
#define MAX_SLOTS 8 /* page nodes a cell tells apart (node index); more count as unknown */

struct cell {
	uint64_t region; /* address >> region_shift */
	uint32_t pid;	 /* 0: an empty slot is marked by n == 0 */
	uint32_t col;
	uint32_t n;
	uint32_t acc[IBSP_MAX_ACC_NODES]; /* by the engine's accessor slot */
	uint32_t mem[MAX_SLOTS];	  /* by page node index */
};

struct agg {
	const struct ibsp_heatmap_opts *o;
	struct ibsp_heatmap *h;
	struct ibsp_engine *eng; /* NULL: the recording has no topology, nodes unknown */
	struct cell *cells;
	size_t cap, used;
	uint64_t last_ns;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t slot_of(const struct agg *a, uint32_t pid, uint64_t region, uint32_t col)
{
	return mix(region * 0x9e3779b97f4a7c15ULL + ((uint64_t)pid << 20) + col) & (a->cap - 1);
}

static int grow(struct agg *a)
{
	struct cell *old = a->cells;
	size_t old_cap = a->cap;

	a->cap = old_cap ? old_cap * 2 : 1 << 12;
	a->cells = calloc(a->cap, sizeof(*a->cells));
	if (!a->cells) {
		a->cells = old;
		a->cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++) {
		size_t k;

		if (!old[i].n)
			continue;
		k = slot_of(a, old[i].pid, old[i].region, old[i].col);
		while (a->cells[k].n)
			k = (k + 1) & (a->cap - 1);
		a->cells[k] = old[i];
	}
	free(old);
	return 0;
}

/* The cell of (@pid, @region, @col), made if new; NULL on ENOMEM. */
static struct cell *cell_get(struct agg *a, uint32_t pid, uint64_t region, uint32_t col)
{
	size_t k;

	if ((a->used + 1) * 4 > a->cap * 3 && grow(a))
		return NULL;
	k = slot_of(a, pid, region, col);
	while (a->cells[k].n) {
		struct cell *c = &a->cells[k];

		if (c->region == region && c->pid == pid && c->col == col)
			return c;
		k = (k + 1) & (a->cap - 1);
	}
	a->used++;
	a->cells[k] = (struct cell){ .region = region, .pid = pid, .col = col };
	return &a->cells[k];
}

/* The region of @s: (pid, vaddr), or physical; false when it has neither (or another pid). */
static bool region_of(const struct agg *a, const struct ibsp_sample *s, uint32_t *pid,
		      uint64_t *region)
{
	if ((s->flags & (IBSP_S_VADDR_VALID | IBSP_S_TID_VALID)) ==
	    (IBSP_S_VADDR_VALID | IBSP_S_TID_VALID)) {
		*pid = s->pid;
		*region = s->vaddr >> a->h->region_shift;
	} else if (s->flags & IBSP_S_PADDR_VALID) {
		*pid = IBSP_HEATMAP_PHYS;
		*region = s->paddr >> a->h->region_shift;
	} else {
		return false;
	}
	return !a->o->pid || *pid == (uint32_t)a->o->pid;
}

static int add_sample(struct agg *a, const struct ibsp_sample *s)
{
	const struct ibsp_heatmap *h = a->h;
	struct ibsp_page_ref ref;
	uint64_t region, bin;
	struct cell *c;
	uint32_t pid;

	if (!(s->flags & IBSP_S_TIME_VALID) || !region_of(a, s, &pid, &region))
		return 0;
	bin = s->time_ns > h->first_ns ? (s->time_ns - h->first_ns) / h->bin_ns : 0;
	c = cell_get(a, pid, region, bin < h->cols ? (uint32_t)bin : h->cols - 1);
	if (!c)
		return -ENOMEM;
	c->n++;
	a->h->in_scope++;
	if (a->eng && !ibsp_engine__resolve(a->eng, s, &ref)) {
		if (ref.acc < IBSP_MAX_ACC_NODES)
			c->acc[ref.acc]++;
		if (ref.node.idx >= 0 && ref.node.idx < MAX_SLOTS)
			c->mem[ref.node.idx]++;
	}
	return 0;
}

/* No SAMPLE_TIME feature: a first pass for the span of the sample times. */
static int time_pass(const char *path, struct ibsp_sample *buf, uint64_t *first, uint64_t *last)
{
	struct ibsp_perf_reader_opts ro = { .sz = sizeof(ro), .unordered = true };
	struct ibsp_perf_reader *r;
	long n;
	int ret = ibsp_perf_reader__open(path, &ro, &r);

	if (ret)
		return ret;
	*first = UINT64_MAX;
	*last = 0;
	while ((n = ibsp_perf_reader__read(r, buf, BATCH)) > 0) {
		for (long i = 0; i < n; i++) {
			if (!(buf[i].flags & IBSP_S_TIME_VALID))
				continue;
			*first = buf[i].time_ns < *first ? buf[i].time_ns : *first;
			*last = buf[i].time_ns > *last ? buf[i].time_ns : *last;
		}
	}
	ibsp_perf_reader__close(r);
	if (*first > *last)
		*first = *last = 0;
	return n < 0 ? (int)n : 0;
}

/* The smallest 1, 2, 2.5 or 5 times a power of ten (ns) not under @ns: round axis labels. */
static uint64_t nice_bin_ns(uint64_t ns)
{
	for (uint64_t p = 1;; p *= 10) {
		if (ns <= p)
			return p;
		if (ns <= 2 * p)
			return 2 * p;
		if (p >= 10 && ns <= p / 2 * 5)
			return p / 2 * 5;
		if (ns <= 5 * p)
			return 5 * p;
		if (p > UINT64_MAX / 100)
			return ns;
	}
}

/* The time bins, the nodes, and the engine that resolves each sample's nodes. */
static int setup(struct agg *a, const char *path, struct ibsp_perf_reader *r,
		 struct ibsp_sample *buf)
{
	const struct ibsp_recording_info *info = ibsp_perf_reader__info(r);
	struct ibsp_heatmap *h = a->h;
	uint64_t first = info->first_sample_ns, last = info->last_sample_ns;
	int ret = 0;

	if (!info->has_sample_time && (ret = time_pass(path, buf, &first, &last)))
		return ret;
	h->first_ns = first;
	h->bin_ns = nice_bin_ns((last - first) / h->cols + 1);
	h->cols = (uint32_t)((last - first) / h->bin_ns + 1);
	if (!info->topo || !ibsp_topology__nr_nodes(info->topo)) {
		pr_warn("%s: no NUMA_TOPOLOGY feature: the nodes of the accesses are unknown\n",
			path);
		return 0;
	}
	h->nr_nodes = ibsp_topology__nr_nodes(info->topo);
	h->node_ids = calloc(h->nr_nodes, sizeof(int));
	h->node_cpus = calloc(h->nr_nodes, sizeof(bool));
	if (!h->node_ids || !h->node_cpus)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->nr_nodes; i++) {
		h->node_ids[i] = ibsp_topology__node_id(info->topo, ibsp_node_idx((int)i)).id;
		h->node_cpus[i] = ibsp_topology__nr_cpus(info->topo, ibsp_node_idx((int)i)) > 0;
	}
	ret = ibsp_topology__set_top_tier(info->topo, NULL);
	if (ret)
		return ret;
	a->eng = ibsp_engine__new(
	    info->topo,
	    &(struct ibsp_engine_opts){ .sz = sizeof(struct ibsp_engine_opts), .simulate = true });
	return a->eng ? 0 : -errno;
}

static int read_pass(struct agg *a, const char *path)
{
	struct ibsp_perf_reader_opts ro = { .sz = sizeof(ro), .unordered = true };
	struct ibsp_sample *buf = malloc(BATCH * sizeof(*buf));
	struct ibsp_perf_reader *r = NULL;
	long n = 0;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = ibsp_perf_reader__open(path, &ro, &r);
	if (!ret)
		ret = setup(a, path, r, buf);
	while (!ret && (n = ibsp_perf_reader__read(r, buf, BATCH)) > 0) {
		a->h->samples += (uint64_t)n;
		for (long i = 0; !ret && i < n; i++)
			ret = add_sample(a, &buf[i]);
	}
	if (!ret && n < 0)
		ret = (int)n;
	ibsp_perf_reader__close(r);
	free(buf);
	return ret;
}

static int by_region(const void *x, const void *y)
{
	const struct cell *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->region != b->region)
		return a->region < b->region ? -1 : 1;
	return (a->col > b->col) - (a->col < b->col);
}

static int by_samples(const void *x, const void *y)
{
	const struct ibsp_heatmap_row *a = x, *b = y;

	if (a->samples != b->samples)
		return a->samples > b->samples ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->start > b->start) - (a->start < b->start);
}

static int by_address(const void *x, const void *y)
{
	const struct ibsp_heatmap_row *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->start > b->start) - (a->start < b->start);
}

/* Pack the cells, sorted by region, and list every region with its samples. */
static int list_regions(struct agg *a, struct ibsp_heatmap_row **out, size_t *nr)
{
	struct ibsp_heatmap_row *rows;
	size_t k = 0, m = 0;

	for (size_t i = 0; i < a->cap; i++)
		if (a->cells[i].n)
			a->cells[k++] = a->cells[i];
	if (k > 1) /* no cells: a->cells may be NULL, which qsort may not be given */
		qsort(a->cells, k, sizeof(*a->cells), by_region);
	rows = calloc(k ? k : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const struct cell *c = &a->cells[i];
		uint64_t start = c->region << a->h->region_shift;

		if (!m || rows[m - 1].pid != c->pid || rows[m - 1].start != start)
			rows[m++] = (struct ibsp_heatmap_row){ .pid = c->pid, .start = start };
		rows[m - 1].samples += c->n;
	}
	a->used = k;
	*out = rows;
	*nr = m;
	return 0;
}

/* The index of the largest of @n counts, or -1 when all are 0. */
static int dominant(const uint32_t *v, uint32_t n)
{
	int best = -1;

	for (uint32_t i = 0; i < n; i++)
		if (v[i] && (best < 0 || v[i] > v[best]))
			best = (int)i;
	return best;
}

static void fill_cell(struct agg *a, size_t i, const struct cell *c)
{
	struct ibsp_heatmap *h = a->h;
	int acc = a->eng ? dominant(c->acc, ibsp_engine__nr_acc(a->eng)) : -1;
	int mem = dominant(c->mem, h->nr_nodes < MAX_SLOTS ? h->nr_nodes : MAX_SLOTS);

	h->count[i] += c->n;
	h->shown += c->n;
	if (h->count[i] > h->max_count)
		h->max_count = h->count[i];
	h->acc_node[i] =
	    (int16_t)(acc < 0 ? -1 : h->node_ids[ibsp_engine__acc_node(a->eng, (uint32_t)acc).idx]);
	h->mem_node[i] = (int16_t)(mem < 0 ? -1 : h->node_ids[mem]);
}

enum ibsp_heatmap_place ibsp_heatmap__place(const struct ibsp_heatmap *h, size_t i)
{
	if (!h->count[i] || h->acc_node[i] < 0 || h->mem_node[i] < 0 ||
	    h->acc_node[i] == h->mem_node[i])
		return IBSP_HEATMAP_LOCAL;
	for (uint32_t n = 0; n < h->nr_nodes; n++)
		if (h->node_ids[n] == h->mem_node[i])
			return h->node_cpus[n] ? IBSP_HEATMAP_WRONG_NODE : IBSP_HEATMAP_LOWER_TIER;
	return IBSP_HEATMAP_LOCAL;
}

/* The row of the region holding @addr of @pid, or -1 when it is not shown. */
static long find_row(const struct ibsp_heatmap *h, uint32_t pid, uint64_t addr)
{
	struct ibsp_heatmap_row key = { .pid = pid,
					.start = addr >> h->region_shift << h->region_shift };
	const struct ibsp_heatmap_row *r =
	    bsearch(&key, h->row, h->rows, sizeof(*h->row), by_address);

	return r ? r - h->row : -1;
}

/* Keep the hottest regions, in address order, and fill their cells. */
static int fill_grid(struct agg *a)
{
	struct ibsp_heatmap *h = a->h;
	struct ibsp_heatmap_row *rows;
	size_t nr, cells;
	int ret = list_regions(a, &rows, &nr);

	if (ret)
		return ret;
	h->regions = nr;
	qsort(rows, nr, sizeof(*rows), by_samples);
	h->rows = nr < h->rows ? (uint32_t)nr : h->rows;
	qsort(rows, h->rows, sizeof(*rows), by_address);
	for (uint32_t i = 0; i < h->rows; i++)
		rows[i].gap = i && (rows[i].pid != rows[i - 1].pid ||
				    rows[i].start != rows[i - 1].start + (1ULL << h->region_shift));
	h->row = rows;
	cells = (size_t)h->rows * h->cols;
	h->count = calloc(cells ? cells : 1, sizeof(*h->count));
	h->acc_node = malloc((cells ? cells : 1) * sizeof(*h->acc_node));
	h->mem_node = malloc((cells ? cells : 1) * sizeof(*h->mem_node));
	if (!h->count || !h->acc_node || !h->mem_node)
		return -ENOMEM;
	memset(h->acc_node, 0xff, cells * sizeof(*h->acc_node));
	memset(h->mem_node, 0xff, cells * sizeof(*h->mem_node));
	for (size_t i = 0; i < a->used; i++) {
		const struct cell *c = &a->cells[i];
		long r = find_row(h, c->pid, c->region << h->region_shift);

		if (r >= 0)
			fill_cell(a, (size_t)r * h->cols + c->col, c);
	}
	return 0;
}

static int by_mark(const void *x, const void *y)
{
	const struct ibsp_heatmap_mark *a = x, *b = y;

	if (a->row != b->row)
		return a->row < b->row ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return (int)a->demote - (int)b->demote;
}

/* One decision line: its mark, or none when its region is not shown. -EINVAL: not one. */
static int parse_decision(struct ibsp_heatmap *h, const char *line, struct ibsp_heatmap_mark *m,
			  bool *shown)
{
	json_t *o = json_loads(line, 0, NULL);
	json_int_t t, pid;
	const char *vaddr, *reason;
	uint64_t bin;
	long r;

	if (!o || json_unpack(o, "{s:I, s:I, s:s, s:s}", "time_ns", &t, "pid", &pid, "vaddr",
			      &vaddr, "reason", &reason)) {
		json_decref(o);
		return -EINVAL;
	}
	r = find_row(h, (uint32_t)pid, strtoull(vaddr, NULL, 16));
	bin = (uint64_t)t > h->first_ns ? ((uint64_t)t - h->first_ns) / h->bin_ns : 0;
	*shown = r >= 0;
	*m = (struct ibsp_heatmap_mark){ .row = (uint32_t)r,
					 .col = bin < h->cols ? (uint32_t)bin : h->cols - 1,
					 .count = 1,
					 .demote = !strcmp(reason, "demote") };
	json_decref(o);
	return 0;
}

/* Sort the marks by cell and kind, and merge those of one cell and kind. */
static void merge_marks(struct ibsp_heatmap *h)
{
	uint32_t k = 0;

	if (h->nr_marks > 1)
		qsort(h->marks, h->nr_marks, sizeof(*h->marks), by_mark);
	for (uint32_t i = 0; i < h->nr_marks; i++) {
		if (k && !by_mark(&h->marks[k - 1], &h->marks[i]))
			h->marks[k - 1].count++;
		else
			h->marks[k++] = h->marks[i];
	}
	h->nr_marks = k;
}

/* Mark the decisions of @path (replay --decisions) on the rows shown. */
static int mark_decisions(struct ibsp_heatmap *h, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, room = 0;
	int ret = 0;

	if (!f) {
		ret = -errno;
		pr_err("%s: cannot open: %s\n", path, strerror(-ret));
		return ret;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		struct ibsp_heatmap_mark m;
		bool shown;

		lineno++;
		ret = parse_decision(h, line, &m, &shown);
		if (ret) {
			pr_err("%s:%zu: not a decision (replay --decisions): %.60s\n", path, lineno,
			       line);
			break;
		}
		h->decisions++;
		if (!shown)
			continue;
		if (h->nr_marks == room) {
			struct ibsp_heatmap_mark *n;

			room = room ? room * 2 : 1024;
			n = realloc(h->marks, room * sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
				break;
			}
			h->marks = n;
		}
		h->marks[h->nr_marks++] = m;
		h->decisions_shown++;
	}
	free(line);
	fclose(f);
	if (!ret)
		merge_marks(h);
	return ret;
}

int ibsp_heatmap__build(const char *path, const struct ibsp_heatmap_opts *opts,
			struct ibsp_heatmap **out)
{
	struct ibsp_heatmap_opts o;
	struct agg a = { .o = &o };
	int ret;

	IBSP_OPTS_COPY(o, opts);
	*out = NULL;
	if (o.region_shift && (o.region_shift < 12 || o.region_shift > 40))
		return -EINVAL;
	a.h = calloc(1, sizeof(*a.h));
	if (!a.h)
		return -ENOMEM;
	a.h->cols = o.cols ? o.cols : 80;
	a.h->rows = o.rows ? o.rows : 32;
	a.h->region_shift = o.region_shift ? o.region_shift : 21;
	ret = read_pass(&a, path);
	if (!ret)
		ret = fill_grid(&a);
	if (!ret && o.decisions)
		ret = mark_decisions(a.h, o.decisions);
	ibsp_engine__delete(a.eng);
	free(a.cells);
	if (ret) {
		ibsp_heatmap__delete(a.h);
		return ret;
	}
	*out = a.h;
	return 0;
}

void ibsp_heatmap__delete(struct ibsp_heatmap *h)
{
	if (!h)
		return;
	free(h->row);
	free(h->count);
	free(h->acc_node);
	free(h->mem_node);
	free(h->node_ids);
	free(h->node_cpus);
	free(h->marks);
	free(h);
}
