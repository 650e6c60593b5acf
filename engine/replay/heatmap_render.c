// SPDX-License-Identifier: MIT
/*
 * The heat map's renderers (ibsp/heatmap.h): ANSI 256-colour blocks for a
 * terminal, and a standalone SVG document. Both colour a cell by its count
 * on a log scale (view COUNT) or by its dominant accessor node (view NODE,
 * where cells whose pages sit on another node than their accessors' are
 * marked), and both mark the decisions of replay --decisions.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ibsp/heatmap.h"

#define LEVELS	 10
#define NR_HUES	 8
#define LABEL_W	 190 /* SVG: the row labels' column */
#define TOP	 48
#define BOTTOM	 96
#define RIGHT	 16
#define MIN_W	 920
#define NO_NODE	 244 /* ANSI grey: accessor node unknown */
#define GAP_MARK '~'

/* Dark to bright, the same colours in ANSI 256 and in the SVG. */
static const int level_ansi[LEVELS] = { 17, 54, 90, 126, 161, 196, 202, 208, 214, 226 };
static const char *const level_rgb[LEVELS] = { "#00005f", "#5f0087", "#870087", "#af0087",
					       "#d7005f", "#ff0000", "#ff5f00", "#ff8700",
					       "#ffaf00", "#ffff00" };
/* One hue per accessor node (by node id, modulo). */
static const int hue_ansi[NR_HUES] = { 33, 40, 208, 129, 44, 220, 201, 250 };
static const char *const hue_rgb[NR_HUES] = { "#0087ff", "#00d700", "#ff8700", "#af00ff",
					      "#00d7d7", "#ffd700", "#ff00ff", "#bcbcbc" };

/* The colour level of @count: 0 for 1, LEVELS - 1 for the largest, log scale between. */
static int level_of(const struct ibsp_heatmap *h, uint32_t count)
{
	int l;

	if (h->max_count <= 1)
		return LEVELS - 1;
	l = (int)(log((double)count) / log((double)h->max_count) * (LEVELS - 1) + 0.5);
	return l < 0 ? 0 : l >= LEVELS ? LEVELS - 1 : l;
}

/* The smallest count drawn in level @l. */
static uint32_t level_floor(const struct ibsp_heatmap *h, int l)
{
	if (h->max_count <= 1 || l == 0)
		return 1;
	return (uint32_t)ceil(exp(((double)l - 0.5) / (LEVELS - 1) * log((double)h->max_count)));
}

static int hue_of(int node)
{
	return node < 0 ? -1 : node % NR_HUES;
}

/* The decisions of cell @i: bit 0 promotions, bit 1 demotions (marks are sorted). */
static unsigned int marks_at(const struct ibsp_heatmap *h, uint32_t row, uint32_t col)
{
	unsigned int bits = 0;
	uint32_t lo = 0, hi = h->nr_marks;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct ibsp_heatmap_mark *m = &h->marks[mid];

		if (m->row < row || (m->row == row && m->col < col))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < h->nr_marks && h->marks[lo].row == row && h->marks[lo].col == col; lo++)
		bits |= h->marks[lo].demote ? 2 : 1;
	return bits;
}

static void row_label(const struct ibsp_heatmap *h, uint32_t r, char *buf, size_t len)
{
	const struct ibsp_heatmap_row *row = &h->row[r];

	if (row->pid == IBSP_HEATMAP_PHYS)
		snprintf(buf, len, "phys 0x%012llx", (unsigned long long)row->start);
	else
		snprintf(buf, len, "%6u 0x%012llx", row->pid, (unsigned long long)row->start);
}

/* One cell; the colour escape only when it changes (*@sgr: the last one, -1 none). */
static void ansi_cell(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view, uint32_t r,
		      uint32_t c, int *sgr, FILE *f)
{
	static const char glyph[4] = { ' ', '^', 'v', '*' };
	size_t i = (size_t)r * h->cols + c;
	unsigned int m = h->nr_marks ? marks_at(h, r, c) : 0;
	char g = glyph[m];
	int bg;

	if (!h->count[i]) {
		if (*sgr != -1)
			fputs("\033[0m", f);
		*sgr = -1;
		fputc(g, f);
		return;
	}
	if (view == IBSP_HEATMAP_COUNT) {
		bg = level_ansi[level_of(h, h->count[i])];
	} else {
		enum ibsp_heatmap_place p = ibsp_heatmap__place(h, i);

		bg = hue_of(h->acc_node[i]) < 0 ? NO_NODE : hue_ansi[hue_of(h->acc_node[i])];
		if (!m && p != IBSP_HEATMAP_LOCAL)
			g = p == IBSP_HEATMAP_WRONG_NODE ? '!' : '.';
	}
	if (*sgr != bg * 2 + (g == '!' || g == '.'))
		fprintf(f, "\033[48;5;%d;38;5;%dm", bg, g == '!' || g == '.' ? 16 : 231);
	*sgr = bg * 2 + (g == '!' || g == '.');
	fputc(g, f);
}

static void ansi_axis(const struct ibsp_heatmap *h, FILE *f)
{
	char line[1024];
	size_t w = h->cols < sizeof(line) - 16 ? h->cols : sizeof(line) - 16;

	memset(line, ' ', sizeof(line));
	for (uint32_t c = 0; c < w; c += 10) {
		char t[16];
		int n = snprintf(t, sizeof(t), "|%.4g", (double)c * (double)h->bin_ns / 1e9);

		if (c + (size_t)n <= w + 8)
			memcpy(line + c, t, (size_t)n);
	}
	line[w + 8] = 0;
	fprintf(f, "%22s %s\n", "time (s)", line);
}

static void ansi_legend(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view, FILE *f)
{
	if (view == IBSP_HEATMAP_COUNT) {
		fputs("samples per cell (log scale):", f);
		for (int l = 0; l < LEVELS; l++)
			fprintf(f, " \033[48;5;%dm \033[0m>=%u", level_ansi[l], level_floor(h, l));
	} else {
		fputs("dominant accessor node:", f);
		for (uint32_t n = 0; n < h->nr_nodes; n++)
			if (h->node_cpus[n])
				fprintf(f, " \033[48;5;%dm \033[0m %d",
					hue_ansi[hue_of(h->node_ids[n])], h->node_ids[n]);
		fprintf(f,
			" \033[48;5;%dm \033[0m unknown;  its pages: ! on another CPU node, . on "
			"a CPU-less node",
			NO_NODE);
	}
	fputc('\n', f);
	if (h->decisions)
		fprintf(f,
			"decisions: ^ promotion, v demotion, * both (%llu of %llu in these rows)\n",
			(unsigned long long)h->decisions_shown, (unsigned long long)h->decisions);
	fprintf(f,
		"%c before a row: address space without samples (or another pid) left out above\n",
		GAP_MARK);
}

int ibsp_heatmap__write_ansi(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view, FILE *f)
{
	fprintf(f,
		"%llu samples, %llu in the %u hottest of %llu regions of %llu KiB shown; "
		"%u bins of %.3g s\n",
		(unsigned long long)h->samples, (unsigned long long)h->shown, h->rows,
		(unsigned long long)h->regions, (1ULL << h->region_shift) >> 10, h->cols,
		(double)h->bin_ns / 1e9);
	fprintf(f, "%6s %-14s\n", "pid", "region");
	for (uint32_t r = 0; r < h->rows; r++) {
		char label[48];
		int sgr = -1;

		row_label(h, r, label, sizeof(label));
		fprintf(f, "%s %c", label, h->row[r].gap ? GAP_MARK : '|');
		for (uint32_t c = 0; c < h->cols; c++)
			ansi_cell(h, view, r, c, &sgr, f);
		fputs("\033[0m|\n", f);
	}
	ansi_axis(h, f);
	ansi_legend(h, view, f);
	return ferror(f) ? -EIO : 0;
}

/* SVG geometry: cell size and the label every how many rows. */
struct svg_geo {
	int cw, ch, w, h, label_every, font;
};

static struct svg_geo svg_geo(const struct ibsp_heatmap *h)
{
	struct svg_geo g;
	uint32_t rows = h->rows ? h->rows : 1;

	g.cw = h->cols >= 900 ? 1 : (int)(900 / h->cols);
	g.cw = g.cw > 16 ? 16 : g.cw;
	g.ch = rows >= 700 ? 1 : (int)(700 / rows);
	g.ch = g.ch > 18 ? 18 : g.ch < 1 ? 1 : g.ch;
	g.font = g.ch >= 9 ? (g.ch > 12 ? 11 : g.ch - 1) : 8;
	g.label_every = g.ch >= 9 ? 1 : (9 + g.ch - 1) / g.ch;
	g.w = LABEL_W + (int)h->cols * g.cw + RIGHT;
	g.w = g.w < MIN_W ? MIN_W : g.w; /* room for the title and the legend */
	g.h = TOP + (int)h->rows * g.ch + BOTTOM;
	return g;
}

static void svg_text(FILE *f, int x, int y, const char *cls, const char *anchor, const char *s)
{
	fprintf(f, "<text class=\"%s\" x=\"%d\" y=\"%d\" text-anchor=\"%s\">", cls, x, y, anchor);
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
	fputs("</text>\n", f);
}

static void svg_cell(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view,
		     const struct svg_geo *g, uint32_t r, uint32_t c, FILE *f)
{
	size_t i = (size_t)r * h->cols + c;
	int x = LABEL_W + (int)c * g->cw, y = TOP + (int)r * g->ch;
	int level = level_of(h, h->count[i]);
	const char *fill = view == IBSP_HEATMAP_COUNT	? level_rgb[level]
			   : hue_of(h->acc_node[i]) < 0 ? "#808080"
							: hue_rgb[hue_of(h->acc_node[i])];
	double t0 = (double)c * (double)h->bin_ns / 1e9;
	enum ibsp_heatmap_place p = ibsp_heatmap__place(h, i);

	fprintf(f, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"",
		x, y, g->cw, g->ch, fill);
	if (view == IBSP_HEATMAP_NODE) /* the count as the opacity */
		fprintf(f, " fill-opacity=\"%.2f\"", 0.3 + 0.7 * level / (LEVELS - 1));
	fprintf(
	    f,
	    "><title>%u samples, %.4g-%.4g s, CPUs of node %d, pages on node %d</title></rect>\n",
	    h->count[i], t0, t0 + (double)h->bin_ns / 1e9, h->acc_node[i], h->mem_node[i]);
	if (view == IBSP_HEATMAP_NODE && p == IBSP_HEATMAP_WRONG_NODE)
		fprintf(f,
			"<rect class=\"wrong\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\"/>\n",
			x + 0.5, y + 0.5, g->cw - 1.0, g->ch - 1.0);
	else if (view == IBSP_HEATMAP_NODE && p == IBSP_HEATMAP_LOWER_TIER)
		fprintf(f, "<rect class=\"lower\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
			x, y, g->cw, g->ch);
}

static void svg_marks(const struct ibsp_heatmap *h, const struct svg_geo *g, FILE *f)
{
	for (uint32_t k = 0; k < h->nr_marks; k++) {
		const struct ibsp_heatmap_mark *m = &h->marks[k];
		double x = LABEL_W + (m->col + 0.5) * g->cw, y = TOP + (double)m->row * g->ch;
		double s = (g->cw < g->ch ? g->cw : g->ch) * 0.3 + 1.5;

		if (m->demote)
			fprintf(f, "<path class=\"demote\" d=\"M%.1f %.1fh%.1fl%.1f %.1fz\">",
				x - s, y + g->ch / 2.0 - s / 2, 2 * s, -s, s);
		else
			fprintf(f, "<path class=\"promote\" d=\"M%.1f %.1fh%.1fl%.1f %.1fz\">",
				x - s, y + g->ch / 2.0 + s / 2, 2 * s, -s, -s);
		fprintf(f, "<title>%u %s</title></path>\n", m->count,
			m->demote ? "demotions" : "promotions");
	}
}

static void svg_axes(const struct ibsp_heatmap *h, const struct svg_geo *g, FILE *f)
{
	int y0 = TOP + (int)h->rows * g->ch;
	uint32_t step = h->cols > 10 ? h->cols / 10 : 1;
	char s[96];

	for (uint32_t r = 0; r < h->rows; r++) {
		if (h->row[r].gap && r)
			fprintf(f,
				"<line class=\"gap\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
				4, TOP + (int)r * g->ch, g->w - RIGHT, TOP + (int)r * g->ch);
		if (r % (uint32_t)g->label_every)
			continue;
		row_label(h, r, s, sizeof(s));
		svg_text(f, LABEL_W - 4, TOP + (int)r * g->ch + g->ch / 2 + g->font / 3, "rowlabel",
			 "end", s);
	}
	for (uint32_t c = 0; c <= h->cols; c += step) {
		int x = LABEL_W + (int)c * g->cw;

		fprintf(f, "<line class=\"tick\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", x,
			y0, x, y0 + 4);
		snprintf(s, sizeof(s), "%.4g", (double)c * (double)h->bin_ns / 1e9);
		svg_text(f, x, y0 + 16, "xlabel", "middle", s);
	}
	svg_text(f, LABEL_W + (int)h->cols * g->cw / 2, y0 + 32, "axis", "middle",
		 "time since the first sample (s)");
	snprintf(s, sizeof(s), "pid, region (%llu KiB)", (1ULL << h->region_shift) >> 10);
	svg_text(f, LABEL_W - 4, TOP - 6, "axis", "end", s);
}

static void svg_legend(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view,
		       const struct svg_geo *g, FILE *f)
{
	int y = TOP + (int)h->rows * g->ch + 50, x = LABEL_W;
	char s[96];

	if (view == IBSP_HEATMAP_COUNT) {
		svg_text(f, x - 4, y + 10, "legend", "end", "samples per cell");
		for (int l = 0; l < LEVELS; l++, x += 64) {
			fprintf(f,
				"<rect class=\"key\" x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
				"fill=\"%s\"/>\n",
				x, y, level_rgb[l]);
			snprintf(s, sizeof(s), "\u2265%u", level_floor(h, l));
			svg_text(f, x + 16, y + 10, "legend", "start", s);
		}
	} else {
		svg_text(f, x - 4, y + 10, "legend", "end", "accessor node");
		for (uint32_t n = 0; n < h->nr_nodes; n++) {
			if (!h->node_cpus[n])
				continue;
			fprintf(f,
				"<rect class=\"key\" x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
				"fill=\"%s\"/>\n",
				x, y, hue_rgb[hue_of(h->node_ids[n])]);
			snprintf(s, sizeof(s), "node %d", h->node_ids[n]);
			svg_text(f, x + 16, y + 10, "legend", "start", s);
			x += 64;
		}
		fprintf(f, "<rect class=\"wrong\" x=\"%d\" y=\"%d\" width=\"12\" height=\"12\"/>\n",
			x, y);
		svg_text(f, x + 16, y + 10, "legend", "start", "pages on another CPU node");
		x += 200;
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"#808080\"/>"
			"<rect class=\"lower\" x=\"%d\" y=\"%d\" width=\"12\" height=\"12\"/>\n",
			x, y, x, y);
		svg_text(f, x + 16, y + 10, "legend", "start", "pages on a CPU-less node");
	}
	if (h->decisions) {
		snprintf(s, sizeof(s),
			 "\u25b2 promotion  \u25bc demotion  (%llu of %llu decisions)",
			 (unsigned long long)h->decisions_shown, (unsigned long long)h->decisions);
		svg_text(f, LABEL_W, y + 30, "legend", "start", s);
	}
}

static void svg_head(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view,
		     const struct svg_geo *g, FILE *f)
{
	char s[256];

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n"
		"<style>text{font-family:monospace;fill:#ddd}"
		".rowlabel{font-size:%dpx}.xlabel,.legend{font-size:11px}.axis{font-size:12px}"
		".title{font-size:13px}.tick{stroke:#aaa}.gap{stroke:#555;stroke-dasharray:2 2}"
		".wrong{fill:none;stroke:#ff0000;stroke-width:1}"
		".lower{fill:url(#lower)}"
		".promote{fill:#ffffff;stroke:#000}.demote{fill:#00ffff;stroke:#000}</style>\n"
		"<defs><pattern id=\"lower\" width=\"4\" height=\"4\" "
		"patternUnits=\"userSpaceOnUse\"><path d=\"M0 4L4 0\" stroke=\"#000\" "
		"stroke-opacity=\"0.6\" stroke-width=\"1\"/></pattern></defs>\n"
		"<rect class=\"bg\" width=\"100%%\" height=\"100%%\" fill=\"#1c1c1c\"/>\n",
		g->w, g->h, g->w, g->h, g->font);
	snprintf(s, sizeof(s),
		 "ibs-promote heatmap (%s): %llu samples, %llu in the %u hottest of %llu regions",
		 view == IBSP_HEATMAP_COUNT ? "accesses" : "accessor node",
		 (unsigned long long)h->samples, (unsigned long long)h->shown, h->rows,
		 (unsigned long long)h->regions);
	svg_text(f, 8, 20, "title", "start", s);
}

int ibsp_heatmap__write_svg(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view, FILE *f)
{
	struct svg_geo g = svg_geo(h);

	svg_head(h, view, &g, f);
	for (uint32_t r = 0; r < h->rows; r++)
		for (uint32_t c = 0; c < h->cols; c++)
			if (h->count[(size_t)r * h->cols + c])
				svg_cell(h, view, &g, r, c, f);
	svg_marks(h, &g, f);
	svg_axes(h, &g, f);
	svg_legend(h, view, &g, f);
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
