// SPDX-License-Identifier: MIT
/*
 * The heat map (ibs-promote heatmap): a perf.data through the reader into
 * the time x region grid, then both renderings (ANSI and SVG) of both
 * views, written to /dev/null. The grid is small so that an input's cost
 * is its parsing, not the drawing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "ibsp/heatmap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	devnull = fopen("/dev/null", "w");
	return devnull ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ibsp_heatmap_opts o = { .sz = sizeof(o), .cols = 16, .rows = 8 };
	struct ibsp_heatmap *h = NULL;
	const char *path;

	path = fuzz_memfd_path(data, size);
	if (!path)
		return 0;
	/* The region size from the input's last byte: 4 KiB to 1 GiB regions. */
	o.region_shift = size ? 12 + data[size - 1] % 19 : 0;
	if (ibsp_heatmap__build(path, &o, &h) == 0) {
		ibsp_heatmap__write_ansi(h, IBSP_HEATMAP_COUNT, devnull);
		ibsp_heatmap__write_ansi(h, IBSP_HEATMAP_NODE, devnull);
		ibsp_heatmap__write_svg(h, IBSP_HEATMAP_COUNT, devnull);
		ibsp_heatmap__write_svg(h, IBSP_HEATMAP_NODE, devnull);
	}
	ibsp_heatmap__delete(h);
	return 0;
}
