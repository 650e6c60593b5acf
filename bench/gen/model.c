// SPDX-License-Identifier: MIT
/*
 * ibsp-gen's model: the synthetic hosts (nodes, CPUs, memory, block map, SLIT
 * distances), the pages (class, owner, process, virtual and physical place)
 * and the alias tables that pick a page for each sample by its weight.
 *
 * Only integer arithmetic and IEEE basic operations: the same options give
 * the same bytes on every x86-64 build (libm's pow/exp/log may differ).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "topology_build.h"
#include "util.h"

#define GIB (1ULL << 30)

/* One synthetic host. CPUs of a node are contiguous; memory is one range per node. */
struct topo_def {
	const char *name;
	uint32_t nr_nodes;
	struct {
		uint32_t first_cpu, nr_cpus; /* nr_cpus 0: a CPU-less (CXL) node */
		uint64_t mem_gib, free_gib;
	} node[GEN_MAX_NODES];
	uint32_t dist[GEN_MAX_NODES][GEN_MAX_NODES]; /* SLIT, by node index */
};

static const struct topo_def topo_defs[] = {
	{
	    /* Two sockets, one CXL expander hanging off socket 0. */
	    .name = "2s-cxl",
	    .nr_nodes = 3,
	    .node = { { 0, 16, 32, 24 }, { 16, 16, 32, 24 }, { 0, 0, 64, 62 } },
	    .dist = { { 10, 21, 24 }, { 21, 10, 34 }, { 24, 34, 10 } },
	},
	{
	    /* Four sockets; CXL node 4 hangs off socket 0, node 5 off socket 2. */
	    .name = "4s-2cxl",
	    .nr_nodes = 6,
	    .node = { { 0, 8, 32, 24 },
		      { 8, 8, 32, 24 },
		      { 16, 8, 32, 24 },
		      { 24, 8, 32, 24 },
		      { 0, 0, 64, 62 },
		      { 0, 0, 64, 62 } },
	    .dist = { { 10, 21, 21, 21, 24, 34 },
		      { 21, 10, 21, 21, 34, 34 },
		      { 21, 21, 10, 21, 34, 24 },
		      { 21, 21, 21, 10, 34, 34 },
		      { 24, 34, 34, 34, 10, 44 },
		      { 34, 34, 24, 34, 44, 10 } },
	},
};

const char *gen_class_name(enum gen_class c)
{
	static const char *const names[GEN_NR_CLASSES] = { "private", "shared", "cold", "phase",
							   "zipf" };

	return (unsigned int)c < GEN_NR_CLASSES ? names[c] : "?";
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

/* ln(x) for x >= 1: x = m * 2^e, ln(m) = 2 atanh((m - 1) / (m + 1)), m in [1, 2). */
static double det_ln(double x)
{
	double z, z2, term, sum = 0;
	int e = 0;

	while (x >= 2) {
		x /= 2; /* exact */
		e++;
	}
	z = (x - 1) / (x + 1); /* <= 1/3 */
	z2 = z * z;
	term = z;
	for (int k = 1; k < 80; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return e * 0.6931471805599453 + 2 * sum;
}

/* exp(y) for y <= 0: y = -n ln2 + r, r in (-ln2, 0]; Taylor series for exp(r). */
static double det_exp(double y)
{
	double sum = 1, term = 1;
	int n = 0;

	while (y < -0.6931471805599453 && n < 1100) {
		y += 0.6931471805599453;
		n++;
	}
	for (int k = 1; k < 30; k++) {
		term *= y / k;
		sum += term;
	}
	while (n--)
		sum /= 2; /* exact until subnormal */
	return sum;
}

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Node @i of @d into m->topo (id i, its CPUs, memory and one block range) and the model. */
static int build_node(const struct topo_def *d, uint32_t i, uint64_t base, struct gen_model *m)
{
	struct ibsp_node_idx n = ibsp_node_idx((int)i);
	struct ibsp_topology *t = m->topo;
	char cpus[32] = "";
	int ret;

	ibsp_topology__set_node_id(t, n, ibsp_node_id((int)i));
	ibsp_topology__set_mem_kb(t, n, d->node[i].mem_gib * GIB / 1024,
				  d->node[i].free_gib * GIB / 1024);
	if (d->node[i].nr_cpus)
		snprintf(cpus, sizeof(cpus), "%u-%u", d->node[i].first_cpu,
			 d->node[i].first_cpu + d->node[i].nr_cpus - 1);
	ret = ibsp_topology__set_cpulist(t, n, cpus);
	if (!ret)
		ret = ibsp_topology__add_range(t, n, base / GEN_BLOCK_BYTES,
					       d->node[i].mem_gib * GIB / GEN_BLOCK_BYTES);
	if (ret)
		return ret;
	m->node_base[i] = base;
	m->node_bytes[i] = d->node[i].mem_gib * GIB;
	m->first_cpu[i] = d->node[i].first_cpu;
	m->nr_cpus[i] = d->node[i].nr_cpus;
	m->nr_cpus_total += d->node[i].nr_cpus;
	return 0;
}

/* --free-mib: the free memory of the nodes it names. */
static int set_free_mib(const struct gen_opts *o, const struct topo_def *d, struct ibsp_topology *t,
			char *err, size_t err_len)
{
	for (uint32_t f = 0; f < o->nr_free; f++) {
		struct ibsp_node_idx idx =
		    ibsp_topology__index_of(t, ibsp_node_id(o->free_mib[f].node));
		uint64_t total_kb = ibsp_topology__mem_total_kb(t, idx);

		if (!ibsp_node_idx__valid(idx))
			return fail(err, err_len, "--free-mib: topology %s has no node %d", d->name,
				    o->free_mib[f].node);
		if (o->free_mib[f].mib * 1024 > total_kb)
			return fail(err, err_len,
				    "--free-mib: %" PRIu64
				    " MiB free on node %d is more than its %" PRIu64 " MiB",
				    o->free_mib[f].mib, o->free_mib[f].node, total_kb / 1024);
		ibsp_topology__set_mem_kb(t, idx, total_kb, o->free_mib[f].mib * 1024);
	}
	return 0;
}

static int build_topology(const struct gen_opts *o, const struct topo_def *d, struct gen_model *m,
			  char *err, size_t err_len)
{
	struct ibsp_topology *t = ibsp_topology__new(d->nr_nodes);
	uint32_t dist[GEN_MAX_NODES * GEN_MAX_NODES];
	uint64_t base = 0;
	int ret;

	if (!t)
		return -ENOMEM;
	m->topo = t;
	ibsp_topology__set_block_size(t, GEN_BLOCK_BYTES);
	for (uint32_t i = 0; i < d->nr_nodes; i++) {
		ret = build_node(d, i, base, m);
		if (ret)
			return ret;
		base += m->node_bytes[i];
		for (uint32_t k = 0; k < d->nr_nodes; k++)
			dist[i * d->nr_nodes + k] = d->dist[i][k];
	}
	ret = ibsp_topology__set_distances(t, dist);
	if (!ret)
		ret = set_free_mib(o, d, t, err, err_len);
	if (!ret)
		ret = ibsp_topology__set_top_tier(t, NULL);
	if (ret)
		return ret;
	memset(m->top_pos, -1, sizeof(m->top_pos));
	for (uint32_t i = 0; i < d->nr_nodes; i++) {
		if (ibsp_topology__is_top_tier(t, ibsp_node_idx((int)i))) {
			m->top_pos[i] = (int8_t)m->nr_top;
			m->top[m->nr_top++] = (uint8_t)i;
		} else {
			m->lower[m->nr_lower++] = (uint8_t)i;
		}
	}
	/* A CPU-less node hangs off the nearest socket (lowest index on a tie). */
	for (uint32_t i = 0; i < d->nr_nodes; i++) {
		uint32_t best = m->top[0];

		for (uint32_t k = 1; k < m->nr_top; k++)
			if (d->dist[i][m->top[k]] < d->dist[i][best])
				best = m->top[k];
		m->attach[i] = m->top_pos[i] >= 0 ? (uint8_t)i : (uint8_t)best;
	}
	return 0;
}

/* Pages per class: the floor of each share, then one more each to the largest remainders. */
static void class_sizes(const struct gen_opts *o, uint64_t n, uint64_t out[GEN_NR_CLASSES])
{
	bool bumped[GEN_NR_CLASSES] = { 0 };
	uint64_t given = 0;

	for (int c = 0; c < GEN_NR_CLASSES; c++) {
		out[c] = n * o->pct[c] / 100;
		given += out[c];
	}
	/* The remainders sum to (n - given) * 100, each below 100: enough classes have one. */
	while (given < n) {
		int best = -1;

		for (int c = 0; c < GEN_NR_CLASSES; c++)
			if (o->pct[c] && !bumped[c] &&
			    (best < 0 || n * o->pct[c] % 100 > n * o->pct[best] % 100))
				best = c;
		out[best]++;
		bumped[best] = true;
		given++;
	}
}

/* Walker's alias table (Vose's construction) for weights @w[0..n). */
static int alias_build(const double *w, uint64_t n, struct gen_alias_entry *tab)
{
	uint32_t *small = malloc(n * sizeof(*small)), *large = malloc(n * sizeof(*large));
	double *p = malloc(n * sizeof(*p)), total = 0;
	uint64_t ns = 0, nl = 0, some_positive = 0;

	if (!small || !large || !p) {
		free(small);
		free(large);
		free(p);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++)
		total += w[i];
	for (uint64_t i = 0; i < n; i++) {
		p[i] = w[i] * (double)n / total;
		if (w[i] > 0)
			some_positive = i;
		if (p[i] < 1)
			small[ns++] = (uint32_t)i;
		else
			large[nl++] = (uint32_t)i;
	}
	while (ns && nl) {
		uint32_t s = small[--ns], l = large[nl - 1];
		double v = p[s] * 4294967296.0;

		tab[s].thr = v >= 4294967295.0 ? UINT32_MAX : (uint32_t)v;
		tab[s].alias = l;
		p[l] = (p[l] + p[s]) - 1;
		if (p[l] < 1) {
			nl--;
			small[ns++] = l;
		}
	}
	/* What is left has p == 1 up to rounding: it keeps its own slot. */
	while (nl) {
		uint32_t l = large[--nl];

		tab[l] = (struct gen_alias_entry){ .thr = UINT32_MAX, .alias = l };
	}
	while (ns) {
		uint32_t s = small[--ns];

		tab[s] = (struct gen_alias_entry){ .thr = UINT32_MAX, .alias = s };
	}
	/* A page of weight 0 is never picked, whatever rounding did. */
	for (uint64_t i = 0; i < n; i++) {
		if (w[i] > 0)
			continue;
		tab[i].thr = 0;
		if (!(w[tab[i].alias] > 0))
			tab[i].alias = (uint32_t)some_positive;
	}
	free(small);
	free(large);
	free(p);
	return 0;
}

/* Class of every page: the classes' pages in a seeded random order. */
static int assign_classes(const struct gen_opts *o, struct gen_rng *rng, struct gen_model *m)
{
	uint64_t at = 0, rank[GEN_NR_CLASSES] = { 0 }, nr_thp;

	class_sizes(o, m->nr_pages, m->class_pages);
	for (int c = 0; c < GEN_NR_CLASSES; c++)
		for (uint64_t k = 0; k < m->class_pages[c]; k++)
			m->pages[at++].cls = (uint8_t)c;
	for (uint64_t i = m->nr_pages - 1; i > 0; i--) {
		uint64_t j = gen_rng_below(rng, i + 1);
		uint8_t c = m->pages[i].cls;

		m->pages[i].cls = m->pages[j].cls;
		m->pages[j].cls = c;
	}
	nr_thp = (uint64_t)(o->thp * (double)m->class_pages[GEN_PRIVATE] + 0.5);
	for (uint64_t i = 0; i < m->nr_pages; i++) {
		struct gen_page *pg = &m->pages[i];
		uint64_t r = rank[pg->cls]++;

		pg->owner = (uint8_t)(r % m->nr_top);
		pg->owner2 = (uint8_t)((pg->owner + 1) % m->nr_top);
		pg->late_half = pg->cls == GEN_PHASE && r >= m->class_pages[GEN_PHASE] / 2;
		pg->thp = pg->cls == GEN_PRIVATE && r < nr_thp;
		pg->pid = GEN_PID_BASE + (uint32_t)(i % o->procs);
	}
	return 0;
}

static uint64_t page_bytes(const struct gen_page *pg)
{
	return pg->thp ? GEN_THP_BYTES : GEN_PAGE_BYTES;
}

/*
 * Initial node, frame and virtual address of every page. Physical: from 16 MiB
 * into the node, the 2 MiB pages first (so they stay 2 MiB aligned), then the
 * 4 KiB pages, each in page order. Virtual: the same per process from the
 * process's base.
 */
static int place_pages(const struct gen_opts *o, struct gen_rng *rng, struct gen_model *m,
		       char *err, size_t err_len)
{
	uint64_t cursor[GEN_MAX_NODES], next_lower = 0, *vcur;
	const uint64_t mixed_thr = gen_prob_thr(0.3);
	int ret = 0;

	for (uint64_t i = 0; i < m->nr_pages; i++) {
		struct gen_page *pg = &m->pages[i];

		if (o->initial_mixed && (gen_rng_next(rng) >> 11) < mixed_thr)
			pg->node = m->top[gen_rng_below(rng, m->nr_top)];
		else
			pg->node = m->lower[next_lower++ % m->nr_lower];
	}
	for (uint32_t k = 0; k < ibsp_topology__nr_nodes(m->topo); k++)
		cursor[k] = m->node_base[k] + GEN_NODE_SKIP;
	for (int thp = 1; thp >= 0; thp--)
		for (uint64_t i = 0; i < m->nr_pages; i++) {
			struct gen_page *pg = &m->pages[i];

			if (pg->thp != thp)
				continue;
			pg->paddr = cursor[pg->node];
			cursor[pg->node] += page_bytes(pg);
		}
	for (uint32_t k = 0; k < ibsp_topology__nr_nodes(m->topo); k++)
		if (cursor[k] > m->node_base[k] + m->node_bytes[k])
			return fail(
			    err, err_len,
			    "--pages/--thp: node %u (%" PRIu64 " MiB) cannot hold the %" PRIu64
			    " MiB of pages placed on it",
			    k, m->node_bytes[k] >> 20,
			    (uint64_t)((cursor[k] - m->node_base[k] - GEN_NODE_SKIP) >> 20));

	vcur = malloc(o->procs * sizeof(*vcur));
	if (!vcur)
		return -ENOMEM;
	for (uint32_t p = 0; p < o->procs; p++)
		vcur[p] = GEN_VADDR_BASE + p * GEN_PROC_SPAN;
	for (int thp = 1; thp >= 0; thp--)
		for (uint64_t i = 0; i < m->nr_pages; i++) {
			struct gen_page *pg = &m->pages[i];

			if (pg->thp != thp)
				continue;
			pg->vaddr = vcur[i % o->procs];
			vcur[i % o->procs] += page_bytes(pg);
		}
	for (uint32_t p = 0; p < o->procs && !ret; p++)
		if (vcur[p] - (GEN_VADDR_BASE + p * GEN_PROC_SPAN) > GEN_PROC_SPAN)
			ret =
			    fail(err, err_len,
				 "--pages/--thp: process %u needs more than its 64 GiB of virtual "
				 "space",
				 GEN_PID_BASE + p);
	free(vcur);
	return ret;
}

/*
 * Sampling weights: 1 for a hot page, --cold-weight for a cold one, Zipf
 * (rank^-s, scaled so the class's weights sum to its page count) for zipf
 * pages. Phase pages weigh 1 in their half and 0 in the other, unless
 * --phase-swap keeps them hot throughout.
 */
static int build_tables(const struct gen_opts *o, struct gen_model *m, char *err, size_t err_len)
{
	uint64_t n = m->nr_pages, zrank = 0;
	double *w[2], zsum = 0, total[2] = { 0, 0 };
	int ret = -ENOMEM;

	m->has_phase = m->class_pages[GEN_PHASE] > 0;
	m->two_tables = m->has_phase && !o->phase_swap;
	w[0] = malloc(n * sizeof(double));
	w[1] = m->two_tables ? malloc(n * sizeof(double)) : w[0];
	if (!w[0] || !w[1])
		goto out;
	for (uint64_t r = 0; r < m->class_pages[GEN_ZIPF]; r++)
		zsum += det_exp(-o->zipf_s * det_ln((double)(r + 1)));
	for (uint64_t i = 0; i < n; i++) {
		const struct gen_page *pg = &m->pages[i];
		double v = 1;

		switch (pg->cls) {
		case GEN_COLD:
			v = o->cold_weight;
			break;
		case GEN_ZIPF:
			v = det_exp(-o->zipf_s * det_ln((double)(++zrank))) *
			    (double)m->class_pages[GEN_ZIPF] / zsum;
			break;
		case GEN_PHASE:
			if (m->two_tables) {
				w[0][i] = pg->late_half ? 0 : 1;
				w[1][i] = pg->late_half ? 1 : 0;
				total[0] += w[0][i];
				total[1] += w[1][i];
				continue;
			}
			break;
		default:
			break;
		}
		w[0][i] = v;
		if (m->two_tables)
			w[1][i] = v;
		total[0] += v;
		total[1] += v;
	}
	if (!(total[0] > 0) || !(total[1] > 0)) {
		if (m->two_tables && m->class_pages[GEN_PHASE] < 2)
			ret = fail(err, err_len,
				   "--pages: the phase class needs 2 pages or more (one per half)");
		else
			ret = fail(err, err_len,
				   "--pattern/--cold-weight: no page has a sampling weight above 0 "
				   "in some part of the run");
		goto out;
	}
	for (int t = 0; t < 1 + m->two_tables; t++) {
		m->table[t] = malloc(n * sizeof(*m->table[t]));
		if (!m->table[t])
			goto out;
		ret = alias_build(w[t], n, m->table[t]);
		if (ret)
			goto out;
	}
	if (!m->two_tables)
		m->table[1] = m->table[0];
	ret = 0;
out:
	if (w[1] != w[0])
		free(w[1]);
	free(w[0]);
	return ret;
}

int gen_model_build(const struct gen_opts *o, struct gen_rng *rng, struct gen_model *m, char *err,
		    size_t err_len)
{
	const struct topo_def *d = NULL;
	int ret;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < IBSP_ARRAY_SIZE(topo_defs); i++)
		if (!strcmp(topo_defs[i].name, o->topology))
			d = &topo_defs[i];
	if (!d)
		return fail(err, err_len, "--topology: unknown topology '%s' (2s-cxl, 4s-2cxl)",
			    o->topology);
	ret = build_topology(o, d, m, err, err_len);
	if (ret)
		return ret;
	m->nr_pages = o->pages;
	m->duration_ns = o->duration_ms * 1000000ULL;
	m->mid_ns = m->duration_ns / 2;
	m->pages = calloc(m->nr_pages, sizeof(*m->pages));
	m->counts = calloc(m->nr_pages * m->nr_top, sizeof(*m->counts));
	if (!m->pages || !m->counts)
		return -ENOMEM;
	ret = assign_classes(o, rng, m);
	if (!ret)
		ret = place_pages(o, rng, m, err, err_len);
	if (!ret)
		ret = build_tables(o, m, err, err_len);
	return ret;
}

void gen_model_free(struct gen_model *m)
{
	if (m->table[1] != m->table[0])
		free(m->table[1]);
	free(m->table[0]);
	free(m->pages);
	free(m->counts);
	ibsp_topology__delete(m->topo);
	memset(m, 0, sizeof(*m));
}
