// SPDX-License-Identifier: MIT
/*
 * The heat map (engine/replay/heatmap.c, heatmap_render.c; docs/heatmap.md)
 * on the bundled example: the cells against an independent count from the
 * samples, the regions chosen, the decisions of `replay --decisions`
 * marked, and the SVG parsed as XML by python3.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "ibsp/heatmap.h"
#include "ibsp/perf_file.h"

#define EXAMPLE IBSP_FIXTURE_DIR "/example-2s-cxl.data"

static struct ibsp_heatmap *build(uint32_t rows, uint32_t cols, const char *decisions)
{
	struct ibsp_heatmap_opts o = {
		.sz = sizeof(o), .rows = rows, .cols = cols, .decisions = decisions
	};
	struct ibsp_heatmap *h;
	int ret = ibsp_heatmap__build(EXAMPLE, &o, &h);

	cr_assert_eq(ret, 0, "build: %d", ret);
	return h;
}

static uint64_t cell_sum(const struct ibsp_heatmap *h)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < (size_t)h->rows * h->cols; i++)
		sum += h->count[i];
	return sum;
}

/* Every row shown: the cells hold every one of the 36000 samples. */
Test(heatmap, cells_sum_to_the_samples)
{
	struct ibsp_heatmap *h = build(200, 60, NULL);
	uint64_t rows = 0;

	cr_expect_eq(h->samples, 36000);
	cr_expect_eq(h->in_scope, 36000);
	cr_expect_eq(h->regions, 82, "82 regions of 2 MiB in two processes");
	cr_expect_eq(h->rows, 82);
	cr_expect_eq(h->shown, 36000);
	cr_expect_eq(cell_sum(h), 36000);
	cr_expect_eq(h->cols, 60, "60 s in bins of 1 s");
	cr_expect_eq(h->bin_ns, 1000000000ULL);
	for (uint32_t r = 0; r < h->rows; r++) {
		rows += h->row[r].samples;
		if (r)
			cr_expect(h->row[r - 1].pid < h->row[r].pid ||
				      (h->row[r - 1].pid == h->row[r].pid &&
				       h->row[r - 1].start < h->row[r].start),
				  "rows in (pid, address) order");
	}
	cr_expect_eq(rows, 36000);
	cr_expect_not(h->row[0].gap);
	cr_expect(h->row[37].gap && h->row[37].pid == 1001 && h->row[36].pid == 1000,
		  "the second process starts after a gap");
	cr_expect_not(h->row[1].gap, "adjacent regions of one process");
	ibsp_heatmap__delete(h);
}

/* The cells against a count of our own from the samples: region, bin, accessor node. */
Test(heatmap, cells_match_the_samples)
{
	struct ibsp_heatmap *h = build(200, 60, NULL);
	struct ibsp_perf_reader *r;
	struct ibsp_node_id *cpu_node;
	struct ibsp_sample *s;
	int err;
	size_t n = read_all_samples(EXAMPLE, &s, &err), cells = (size_t)h->rows * h->cols;
	uint32_t *count = calloc(cells, sizeof(*count)), (*acc)[2] = calloc(cells, sizeof(*acc));

	cr_assert_eq(err, 0);
	cr_assert_eq(ibsp_perf_reader__open(EXAMPLE, NULL, &r), 0);
	cr_assert_eq(ibsp_topology__cpu_node_map(ibsp_perf_reader__info(r)->topo, 64, &cpu_node),
		     0);
	for (size_t i = 0; i < n; i++) {
		size_t row = 0, col = (s[i].time_ns - h->first_ns) / h->bin_ns;

		while (row < h->rows && (h->row[row].pid != s[i].pid ||
					 h->row[row].start != (s[i].vaddr >> 21 << 21)))
			row++;
		cr_assert_lt(row, h->rows);
		count[row * h->cols + col]++;
		acc[row * h->cols + col][cpu_node[s[i].cpu].id]++;
	}
	for (size_t i = 0; i < cells; i++) {
		cr_expect_eq(h->count[i], count[i], "cell %zu", i);
		if (count[i] && acc[i][0] != acc[i][1])
			cr_expect_eq(h->acc_node[i], acc[i][0] > acc[i][1] ? 0 : 1, "cell %zu", i);
		if (count[i]) {
			cr_expect_eq(h->mem_node[i], 2,
				     "the example's pages are all on CXL node 2");
			cr_expect_eq(ibsp_heatmap__place(h, i), IBSP_HEATMAP_LOWER_TIER);
		}
	}
	free(cpu_node);
	free(count);
	free(acc);
	free(s);
	ibsp_perf_reader__close(r);
	ibsp_heatmap__delete(h);
}

/* --pid: one process's samples only. */
Test(heatmap, one_pid)
{
	struct ibsp_heatmap *all = build(200, 60, NULL), *h;
	struct ibsp_heatmap_opts o = { .sz = sizeof(o), .rows = 200, .cols = 60, .pid = 1001 };
	uint64_t want = 0;

	cr_assert_eq(ibsp_heatmap__build(EXAMPLE, &o, &h), 0);
	for (uint32_t r = 0; r < all->rows; r++)
		want += all->row[r].pid == 1001 ? all->row[r].samples : 0;
	cr_expect_gt(want, 10000);
	cr_expect_eq(h->in_scope, want);
	cr_expect_eq(h->shown, want);
	cr_expect_eq(h->rows, 45, "pid 1001's 45 regions");
	for (uint32_t r = 0; r < h->rows; r++)
		cr_expect_eq(h->row[r].pid, 1001);
	ibsp_heatmap__delete(all);
	ibsp_heatmap__delete(h);
}

/* Fewer rows: the hottest regions, and nothing else counted as shown. */
Test(heatmap, hottest_rows)
{
	struct ibsp_heatmap *all = build(200, 60, NULL), *h = build(5, 60, NULL);
	uint64_t min_shown = UINT64_MAX, rows = 0;
	uint32_t hotter = 0;

	cr_expect_eq(h->rows, 5);
	for (uint32_t r = 0; r < h->rows; r++) {
		rows += h->row[r].samples;
		min_shown = h->row[r].samples < min_shown ? h->row[r].samples : min_shown;
	}
	for (uint32_t r = 0; r < all->rows; r++)
		hotter += all->row[r].samples > min_shown;
	cr_expect_leq(hotter, 4, "no region left out is hotter than one shown");
	cr_expect_eq(h->shown, rows);
	cr_expect_eq(cell_sum(h), rows);
	cr_expect_lt(h->shown, 36000);
	cr_expect_eq(h->in_scope, 36000);
	ibsp_heatmap__delete(all);
	ibsp_heatmap__delete(h);
}

/* The decisions of replay --decisions: all counted, those in the rows shown marked. */
static const char *decisions(void)
{
	const char *path = tmp_path("example.dec");
	char cmd[768], *out, *err;
	int rc;

	snprintf(cmd, sizeof(cmd), "%s replay --decisions %s %s >/dev/null", IBSP_CLI, path,
		 EXAMPLE);
	rc = run_cmd(cmd, &out, &err);
	cr_assert_eq(rc, 0, "replay: %s", err);
	free(out);
	free(err);
	return path;
}

static uint64_t lines_of(const char *path)
{
	size_t len;
	char *text = (char *)slurp(path, &len);
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	free(text);
	return n;
}

static uint64_t mark_sum(const struct ibsp_heatmap *h, int demote)
{
	uint64_t n = 0;

	for (uint32_t k = 0; k < h->nr_marks; k++)
		if (demote < 0 || h->marks[k].demote == demote)
			n += h->marks[k].count;
	return n;
}

Test(heatmap, decisions_marked)
{
	const char *dec = decisions();
	struct ibsp_heatmap *h = build(200, 60, dec), *few = build(5, 60, dec);
	uint64_t lines = lines_of(dec);

	cr_assert_gt(lines, 100);
	cr_expect_eq(h->decisions, lines);
	cr_expect_eq(h->decisions_shown, lines, "every decision's region is shown");
	cr_expect_eq(mark_sum(h, -1), lines);
	cr_expect_lt(h->nr_marks, lines, "decisions of one cell and kind share a mark");
	for (uint32_t k = 1; k < h->nr_marks; k++)
		cr_expect(h->marks[k - 1].row < h->marks[k].row ||
			      (h->marks[k - 1].row == h->marks[k].row &&
			       h->marks[k - 1].col <= h->marks[k].col),
			  "marks sorted by cell");
	cr_expect_eq(few->decisions, lines);
	cr_expect_lt(few->decisions_shown, lines);
	cr_expect_eq(mark_sum(few, -1), few->decisions_shown);
	ibsp_heatmap__delete(h);
	ibsp_heatmap__delete(few);
}

Test(heatmap, bad_decisions)
{
	static const char text[] =
	    "{\"time_ns\":1,\"pid\":1,\"vaddr\":\"0x1000\",\"reason\":\"majority\"}\nnope\n";
	const char *path = tmp_path("bad.dec");
	struct ibsp_heatmap_opts o = { .sz = sizeof(o), .decisions = path };
	struct ibsp_heatmap *h;

	spit(path, text, sizeof(text) - 1);
	log_capture_start();
	cr_expect_eq(ibsp_heatmap__build(EXAMPLE, &o, &h), -EINVAL);
	cr_expect(strstr(log_captured(), "bad.dec:2: not a decision"), "%s", log_captured());
	cr_expect_null(h);
}

/* The SVG parses as XML and has a cell per non-empty cell, a label per row, a mark each. */
Test(heatmap, svg_is_well_formed)
{
	const char *dec = decisions(), *svg = tmp_path("map.svg");
	const char *py = tmp_path("count.py");
	static const char script[] =
	    "import sys, re, xml.etree.ElementTree as ET\n"
	    "ns = '{http://www.w3.org/2000/svg}'\n"
	    "root = ET.parse(sys.argv[1]).getroot()\n"
	    "assert root.tag == ns + 'svg', root.tag\n"
	    "def n(tag, cls): return [e for e in root.iter(ns + tag) if e.get('class') == cls]\n"
	    "marks = n('path', 'promote') + n('path', 'demote')\n"
	    "total = sum(int(m.find(ns + 'title').text.split()[0]) for m in marks)\n"
	    "print(len(n('rect', 'cell')), len(n('text', 'rowlabel')), len(marks), total,\n"
	    "      len(n('text', 'xlabel')), len(n('rect', 'lower')))\n";
	struct ibsp_heatmap *h = build(20, 60, dec);
	FILE *f = fopen(svg, "w");
	char cmd[1024], *out, *err;
	size_t cells = 0;
	unsigned long n_cells, n_labels, n_marks, n_total, n_x, n_lower;

	cr_assert(f);
	cr_assert_eq(ibsp_heatmap__write_svg(h, IBSP_HEATMAP_NODE, f), 0);
	fclose(f);
	spit(py, script, sizeof(script) - 1);
	for (size_t i = 0; i < (size_t)h->rows * h->cols; i++)
		cells += h->count[i] != 0;
	snprintf(cmd, sizeof(cmd), "python3 %s %s", py, svg);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "not well-formed: %s", err);
	cr_assert_eq(sscanf(out, "%lu %lu %lu %lu %lu %lu", &n_cells, &n_labels, &n_marks, &n_total,
			    &n_x, &n_lower),
		     6, "%s", out);
	cr_expect_eq(n_cells, cells);
	cr_expect_eq(n_lower, cells + 1, "every cell's pages are on the CPU-less node (+ the key)");
	cr_expect_eq(n_labels, 20, "a label per row");
	cr_expect_eq(n_marks, h->nr_marks);
	cr_expect_eq(n_total, h->decisions_shown);
	cr_expect_eq(n_x, 11, "time labels 0, 6, ... 60 s");
	free(out);
	free(err);

	/* the count view: the same cells, no placement marks */
	f = fopen(svg, "w");
	cr_assert(f);
	cr_assert_eq(ibsp_heatmap__write_svg(h, IBSP_HEATMAP_COUNT, f), 0);
	fclose(f);
	cr_assert_eq(run_cmd(cmd, &out, &err), 0, "not well-formed: %s", err);
	cr_assert_eq(sscanf(out, "%lu %lu %lu %lu %lu %lu", &n_cells, &n_labels, &n_marks, &n_total,
			    &n_x, &n_lower),
		     6, "%s", out);
	cr_expect_eq(n_cells, cells);
	cr_expect_eq(n_lower, 0);
	cr_expect_eq(n_total, h->decisions_shown);
	free(out);
	free(err);
	ibsp_heatmap__delete(h);
}

/* The terminal view: a line per row between the header and the axis, 256-colour cells. */
Test(heatmap, ansi_rows)
{
	char cmd[512], *out, *err;
	int rc, lines = 0;

	snprintf(cmd, sizeof(cmd), "%s heatmap --rows 7 --cols 30 %s", IBSP_CLI, EXAMPLE);
	rc = run_cmd(cmd, &out, &err);
	cr_assert_eq(rc, 0, "%s", err);
	for (char *p = out; (p = strstr(p, "0x7f")); p++)
		lines++;
	cr_expect_eq(lines, 7, "%s", out);
	cr_expect(strstr(out, "\033[48;5;"), "ANSI 256-colour backgrounds");
	cr_expect(strstr(out, "36000 samples"), "%s", out);
	cr_expect(strstr(out, "time (s)"));
	free(out);
	free(err);
}

Test(heatmap, cli_errors)
{
	static const struct {
		const char *args;
		int rc;
		const char *msg;
	} cases[] = {
		{ "--by heat " EXAMPLE, 2, "--by: 'heat'" },
		{ "--region-kib 3000 " EXAMPLE, 2, "not a power of two" },
		{ "--rows 0 " EXAMPLE, 2, "--rows" },
		{ "", 2, "a recording is needed" },
		{ "/nonexistent.data", 1, "nonexistent" },
		{ "--decisions /nonexistent.dec " EXAMPLE, 1, "/nonexistent.dec: cannot open" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cmd[512], *out, *err;
		int rc;

		snprintf(cmd, sizeof(cmd), "%s heatmap %s", IBSP_CLI, cases[i].args);
		rc = run_cmd(cmd, &out, &err);
		cr_expect_eq(rc, cases[i].rc, "%s: %d: %s", cases[i].args, rc, err);
		cr_expect(strstr(err, cases[i].msg), "%s: %s", cases[i].args, err);
		free(out);
		free(err);
	}
}
