// SPDX-License-Identifier: MIT
/*
 * ibsp-gen's ground truth, JSON Lines: one "meta" line (the host and the run),
 * then one "page" line per page with the samples actually generated for it,
 * by accessor node. Formatted by hand: a million pages take a fraction of a
 * second. Format: docs/generator.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"

struct line {
	char b[8192]; /* the meta line of 8 nodes is ~2 KiB */
	size_t len;
};

static void put_s(struct line *l, const char *s)
{
	size_t n = strlen(s);

	if (l->len + n < sizeof(l->b)) {
		memcpy(l->b + l->len, s, n);
		l->len += n;
	}
}

static void put_u(struct line *l, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && l->len + 1 < sizeof(l->b))
		l->b[l->len++] = tmp[--n];
}

static void put_x(struct line *l, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put_s(l, "0x");
	while (n && l->len + 1 < sizeof(l->b))
		l->b[l->len++] = tmp[--n];
}

static void put_pattern(struct line *l, const struct gen_opts *o)
{
	int first = 1;

	for (int c = 0; c < GEN_NR_CLASSES; c++) {
		if (!o->pct[c])
			continue;
		if (!first)
			put_s(l, ",");
		first = 0;
		put_s(l, gen_class_name(c));
		put_s(l, ":");
		put_u(l, o->pct[c]);
	}
}

/* The id of the node at index @i. */
static uint64_t node_id(const struct gen_model *m, uint32_t i)
{
	return (uint64_t)ibsp_topology__node_id(m->topo, ibsp_node_idx((int)i)).id;
}

static void meta_line(FILE *f, const struct gen_opts *o, const struct gen_model *m)
{
	const struct ibsp_topology *t = m->topo;
	uint32_t nr = ibsp_topology__nr_nodes(t);
	struct line l = { .len = 0 };

	put_s(&l, "{\"type\":\"meta\",\"topology\":\"");
	put_s(&l, o->topology);
	put_s(&l, "\",\"seed\":");
	put_u(&l, o->seed);
	put_s(&l, ",\"samples\":");
	put_u(&l, o->samples);
	put_s(&l, ",\"pages\":");
	put_u(&l, o->pages);
	put_s(&l, ",\"duration_ms\":");
	put_u(&l, o->duration_ms);
	put_s(&l, ",\"phase_ms\":");
	if (m->has_phase) {
		put_u(&l, o->duration_ms / 2);
		if (o->duration_ms % 2)
			put_s(&l, ".5");
	} else {
		put_s(&l, "null");
	}
	put_s(&l, ",\"start_ns\":");
	put_u(&l, GEN_START_NS);
	put_s(&l, ",\"procs\":");
	put_u(&l, o->procs);
	put_s(&l, ",\"pattern\":\"");
	put_pattern(&l, o);
	put_s(&l, "\",\"phase_swap\":");
	put_s(&l, o->phase_swap ? "true" : "false");
	if (o->pebs)
		put_s(&l, ",\"sampler\":\"pebs\"");
	put_s(&l, ",\"period\":");
	put_u(&l, o->pebs ? GEN_PEBS_PERIOD : GEN_IBS_PERIOD);
	put_s(&l, ",\"nodes\":[");
	for (uint32_t i = 0; i < nr; i++) {
		struct ibsp_node_idx n = ibsp_node_idx((int)i);

		put_s(&l, i ? ",{\"id\":" : "{\"id\":");
		put_u(&l, node_id(m, i));
		put_s(&l, ",\"cpus\":\"");
		put_s(&l, ibsp_topology__cpulist(t, n));
		put_s(&l, "\",\"top_tier\":");
		put_s(&l, ibsp_topology__is_top_tier(t, n) ? "true" : "false");
		put_s(&l, ",\"mem_total_kb\":");
		put_u(&l, ibsp_topology__mem_total_kb(t, n));
		put_s(&l, ",\"mem_free_kb\":");
		put_u(&l, ibsp_topology__mem_free_kb(t, n));
		put_s(&l, ",\"phys_start\":\"");
		put_x(&l, m->node_base[i]);
		put_s(&l, "\",\"phys_end\":\"");
		put_x(&l, m->node_base[i] + m->node_bytes[i]);
		put_s(&l, "\"}");
	}
	put_s(&l, "],\"distance\":[");
	for (uint32_t i = 0; i < nr; i++) {
		put_s(&l, i ? ",[" : "[");
		for (uint32_t k = 0; k < nr; k++) {
			if (k)
				put_s(&l, ",");
			put_u(&l, ibsp_topology__distance(t, ibsp_node_idx((int)i),
							  ibsp_node_idx((int)k)));
		}
		put_s(&l, "]");
	}
	put_s(&l, "]}\n");
	fwrite(l.b, 1, l.len, f);
}

static void page_line(FILE *f, const struct gen_opts *o, const struct gen_model *m, uint64_t i)
{
	const struct gen_page *pg = &m->pages[i];
	const uint32_t *cnt = &m->counts[i * m->nr_top];
	struct line l = { .len = 0 };
	uint64_t total = 0;

	for (uint32_t k = 0; k < m->nr_top; k++)
		total += cnt[k];
	put_s(&l, "{\"type\":\"page\",\"pid\":");
	put_u(&l, pg->pid);
	put_s(&l, ",\"vaddr\":\"");
	put_x(&l, pg->vaddr);
	put_s(&l, "\",\"pfn\":");
	put_u(&l, pg->paddr / GEN_PAGE_BYTES);
	put_s(&l, pg->thp ? ",\"size\":2097152,\"node\":" : ",\"size\":4096,\"node\":");
	put_u(&l, node_id(m, pg->node));
	put_s(&l, ",\"class\":\"");
	put_s(&l, gen_class_name(pg->cls));
	put_s(&l, "\",\"owner\":");
	if (pg->cls == GEN_SHARED) {
		put_s(&l, "-1");
	} else {
		put_u(&l, node_id(m, m->top[pg->owner]));
		if (pg->cls == GEN_PHASE && o->phase_swap) {
			put_s(&l, ",\"owner2\":");
			put_u(&l, node_id(m, m->top[pg->owner2]));
		}
	}
	if (pg->cls == GEN_PHASE && !o->phase_swap)
		put_s(&l, pg->late_half ? ",\"half\":2" : ",\"half\":1");
	put_s(&l,
	      pg->cls == GEN_COLD ? ",\"hot\":false,\"samples\":" : ",\"hot\":true,\"samples\":");
	put_u(&l, total);
	put_s(&l, ",\"per_node\":{");
	for (uint32_t k = 0; k < m->nr_top; k++) {
		put_s(&l, k ? ",\"" : "\"");
		put_u(&l, node_id(m, m->top[k]));
		put_s(&l, "\":");
		put_u(&l, cnt[k]);
	}
	put_s(&l, "}}\n");
	fwrite(l.b, 1, l.len, f);
}

int gen_truth_write(const char *path, const struct gen_opts *o, const struct gen_model *m)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -errno;
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	meta_line(f, o, m);
	for (uint64_t i = 0; i < m->nr_pages; i++)
		page_line(f, o, m, i);
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
