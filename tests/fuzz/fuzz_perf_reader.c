// SPDX-License-Identifier: MIT
/*
 * The perf.data reader through its public API (perf_file.h): header, attrs,
 * features and records. Built twice: FUZZ_PIPE_MODE forces the 16-byte pipe
 * header (attrs and features as records), otherwise the file header's magic
 * and size are forced, so mutations are not wasted on the magic check.
 * Every sample is read, in perf's order and (on a second open) in file
 * order with the raw records; the recording info is walked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "ibsp/perf_file.h"

#ifdef FUZZ_PIPE_MODE
#define HEADER_SIZE 16
#else
#define HEADER_SIZE 104
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static void walk_info(const struct ibsp_perf_reader *r)
{
	const struct ibsp_recording_info *in = ibsp_perf_reader__info(r);
	size_t n = 0;

	for (uint32_t i = 0; i < in->nr_cmdline; i++)
		n += strlen(in->cmdline[i]);
	for (uint32_t i = 0; i < in->nr_pmus; i++)
		n += in->pmus[i].name ? strlen(in->pmus[i].name) : 0;
	for (uint32_t i = 0; i < ibsp_perf_reader__nr_events(r); i++)
		n += strlen(ibsp_perf_reader__event(r, i)->name);
	if (in->topo)
		n += ibsp_topology__nr_nodes(in->topo);
	(void)n;
}

static void read_samples(const char *path, bool unordered)
{
	struct ibsp_perf_reader_opts o = { .sz = sizeof(o),
					   .unordered = unordered,
					   .max_queue = 64,
					   .include_invalid = unordered };
	struct ibsp_perf_reader *r;
	struct ibsp_sample s[16];

	if (ibsp_perf_reader__open(path, &o, &r))
		return;
	walk_info(r);
	while (ibsp_perf_reader__read(r, s, 16) > 0)
		;
	ibsp_perf_reader__close(r);
}

static void read_records(const char *path)
{
	const struct perf_event_header *h;
	struct ibsp_perf_reader *r;
	uint64_t off;

	if (ibsp_perf_reader__open(path, NULL, &r))
		return;
	while (ibsp_perf_reader__next_record(r, &h, &off) == 1)
		;
	ibsp_perf_reader__close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[8] = "PERFILE2";
	uint64_t hsize = HEADER_SIZE;
	uint8_t *buf;
	const char *path;

	if (size < 16 || size > FUZZ_MAX_INPUT)
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memcpy(buf, magic, 8);
	memcpy(buf + 8, &hsize, 8);
	path = fuzz_memfd_path(buf, size);
	free(buf);
	if (!path)
		return 0;
	read_samples(path, false);
	read_samples(path, true);
	read_records(path);
	return 0;
}
