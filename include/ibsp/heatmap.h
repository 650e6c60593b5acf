/* SPDX-License-Identifier: MIT */
/*
 * Heat map of a recording (`ibs-promote heatmap`, docs/heatmap.md): x is
 * time in fixed bins, y the hottest address regions (per process, ordered
 * by pid and address, empty space left out); each cell counts the samples
 * of its region and time bin, and knows which accessor node made most of
 * them and on which node most of them found their page, so that pages
 * accessed from another node than the one holding them stand out. The
 * decisions of `replay --decisions` can be marked on it.
 *
 * One pass over the samples into a hash of occupied cells (memory follows
 * the occupied cells, not the samples), then the top regions are chosen.
 */
#ifndef IBSP_HEATMAP_H
#define IBSP_HEATMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** struct ibsp_heatmap_opts - start with sz = sizeof(opts) */
struct ibsp_heatmap_opts {
	size_t sz;
	uint32_t cols;	       /* time bins; 0 = 80 */
	uint32_t rows;	       /* regions shown, the hottest; 0 = 32 */
	uint32_t region_shift; /* log2 of a region's bytes, 12-40; 0 = 21 (2 MiB) */
	const char *decisions; /* `replay --decisions` output to mark, or NULL */
	int32_t pid;	       /* only this process; 0 = every one */
};

/** struct ibsp_heatmap_row - one region, a row of the map */
struct ibsp_heatmap_row {
	uint32_t pid;	/* IBSP_HEATMAP_PHYS: physical addresses (samples without a vaddr) */
	uint64_t start; /* first byte of the region */
	uint64_t samples;
	bool gap; /* not adjacent to the row above (another pid, or space left out) */
};

#define IBSP_HEATMAP_PHYS UINT32_MAX

/** struct ibsp_heatmap_mark - decisions of one kind in one cell */
struct ibsp_heatmap_mark {
	uint32_t row, col;
	uint32_t count;
	bool demote; /* reason "demote"; otherwise a promotion */
};

/** struct ibsp_heatmap - the map; cells are [row * cols + col] */
struct ibsp_heatmap {
	uint32_t cols, rows; /* rows: those shown (at most opts.rows) */
	uint32_t region_shift;
	uint64_t first_ns, bin_ns; /* col c covers [first_ns + c * bin_ns, + bin_ns) */
	uint64_t samples;	   /* samples read */
	uint64_t in_scope;	   /* with a time and an address (and the pid asked for) */
	uint64_t shown;		   /* of those, in the rows shown: the sum of the cells */
	uint64_t regions;	   /* regions with samples */
	uint32_t max_count;	   /* the largest cell */
	struct ibsp_heatmap_row *row;
	uint32_t *count;
	int16_t *acc_node; /* the node id of the CPUs that made most of the cell's samples; -1 */
	int16_t *mem_node; /* the node id most of them found their page on; -1 unknown */
	uint32_t nr_nodes;
	int *node_ids;	 /* [nr_nodes]: the recording's nodes, for the legend */
	bool *node_cpus; /* [nr_nodes]: the node has CPUs (else a memory-only tier) */
	struct ibsp_heatmap_mark *marks;
	uint32_t nr_marks;
	uint64_t decisions, decisions_shown; /* read; in the rows shown */
};

/**
 * ibsp_heatmap__build() - read the recording at @path into a map
 *
 * Return: 0 with *@out set (free with ibsp_heatmap__delete()), or a
 * negative errno (logged, naming the file and, for --decisions, the line).
 */
int ibsp_heatmap__build(const char *path, const struct ibsp_heatmap_opts *opts,
			struct ibsp_heatmap **out);

/** ibsp_heatmap__delete() - free @h; NULL is accepted */
void ibsp_heatmap__delete(struct ibsp_heatmap *h);

/** enum ibsp_heatmap_view - what a cell's colour says */
enum ibsp_heatmap_view {
	IBSP_HEATMAP_COUNT = 0, /* its sample count, log scale */
	IBSP_HEATMAP_NODE = 1,	/* its dominant accessor node; wrong-node cells marked */
};

/**
 * enum ibsp_heatmap_place - where a cell's pages are for its accessors
 * @IBSP_HEATMAP_LOCAL: on their node, or unknown
 * @IBSP_HEATMAP_WRONG_NODE: on another node with CPUs: the wrong node of the top tier
 * @IBSP_HEATMAP_LOWER_TIER: on a node without CPUs (CXL, PMEM): promotion candidates
 */
enum ibsp_heatmap_place {
	IBSP_HEATMAP_LOCAL = 0,
	IBSP_HEATMAP_WRONG_NODE = 1,
	IBSP_HEATMAP_LOWER_TIER = 2,
};

/** ibsp_heatmap__place() - where the pages of cell @i are for its dominant accessor node */
enum ibsp_heatmap_place ibsp_heatmap__place(const struct ibsp_heatmap *h, size_t i);

/**
 * ibsp_heatmap__write_ansi() - draw @h with ANSI 256-colour blocks, a row
 * per region (its label on the left), a time axis and a legend
 *
 * Return: 0, or -EIO when @f failed.
 */
int ibsp_heatmap__write_ansi(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view, FILE *f);

/**
 * ibsp_heatmap__write_svg() - @h as a standalone SVG document: a <rect
 * class="cell"> per non-empty cell (with a <title>), axis labels, a legend,
 * and a class="promote" or class="demote" marker per cell with decisions
 *
 * Return: 0, or -EIO when @f failed.
 */
int ibsp_heatmap__write_svg(const struct ibsp_heatmap *h, enum ibsp_heatmap_view view, FILE *f);

#endif /* IBSP_HEATMAP_H */
