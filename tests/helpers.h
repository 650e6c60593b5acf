/* SPDX-License-Identifier: MIT */
/* Shared test helpers: log capture, files, fixtures, running perf. */
#ifndef IBSP_TEST_HELPERS_H
#define IBSP_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ibsp/perf_file.h"

#define FIXTURE(name) IBSP_FIXTURE_DIR "/" name

/* Capture library messages into a buffer (reset by log_capture_start). */
void log_capture_start(void);
const char *log_captured(void);

/* Whole-file helpers; abort the test on failure. */
uint8_t *slurp(const char *path, size_t *len);
void spit(const char *path, const void *data, size_t len);
/* A path under the test's temp dir; static storage, valid for the next 255 calls. */
const char *tmp_path(const char *name);

/* Remove @path and everything under it (fake sysfs trees); 0 or nftw's -1. */
int rm_tree(const char *path);

/* Read all samples of a file (ordered); returns the count, stores -errno in *err. */
size_t read_all_samples(const char *path, struct ibsp_sample **out, int *err);

/* One (cpu, tid, addr, phys_addr) tuple as perf script -F cpu,tid,addr,phys_addr prints it. */
struct tuple {
	int cpu;
	uint32_t tid;
	uint64_t addr, phys;
};
/* Parse perf script -F cpu,tid,addr,phys_addr output. */
size_t parse_perf_tuples(const char *text, struct tuple **out);
/* Our samples as tuples (invalid addresses as 0, as perf prints them). */
size_t samples_to_tuples(const struct ibsp_sample *s, size_t n, struct tuple **out);

/* Path of perf, or NULL when it is not installed. */
const char *perf_path(void);

/*
 * skip_part() - a check inside a test that cannot run on this machine: the
 * test goes on (its other assertions stand) and the skip is counted as one.
 * Criterion has no partial skip, so it is printed on stderr and appended
 * to $IBSP_SKIP_LOG, which tests/check-skips.py reads with the TAP reports.
 * Say which thing the machine lacks, as for cr_skip_test().
 */
void skip_part(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * perf_open_refused() - did a command fail only because this machine refuses
 * perf events? True when @err (its stderr) says "cannot open" with the errno
 * of a refusal: EACCES or EPERM (perf_event_paranoid, no CAP_PERFMON) or
 * ENOENT (the PMU does not exist). Any other errno (EINVAL from an attr we
 * built wrong, EBUSY, ...) is a failure, never a skip.
 */
bool perf_open_refused(const char *err);

/*
 * die_with_test() - in a child a test forked: be killed when the test's
 * process ends, even when a failed assertion ends it before its cleanup
 * (PR_SET_PDEATHSIG; it survives exec). Exits if the test is already gone.
 */
void die_with_test(void);
/* Run a shell command; returns its exit status, stdout and stderr in malloc'd strings. */
int run_cmd(const char *cmd, char **out, char **err);

/* JSON Lines @out (modified) into @lines, at most @cap; asserts that each line parses. */
size_t json_lines(char *out, json_t **lines, size_t cap);

/* CLOCK_MONOTONIC in seconds. */
double now_s(void);

/* Assert that perf report --header-only -I output @hdr shows topology @t (nodes, CPUs, memory, blocks). */
void check_topology_vs_perf_header(const struct ibsp_topology *t, const char *hdr);

#endif

/*
 * A hand-built topology for engine tests: node i has id i, CPUs @cpus[i]
 * ("" for none), @mem_gib[i] GiB of which @free_gib[i] are free, laid out
 * in 1 GiB memory blocks one node after another (node 0 from address 0),
 * and the SLIT matrix @dist (nr * nr values) when not NULL.
 */
struct ibsp_topology *make_topo(uint32_t nr, const char *const *cpus, const uint32_t *mem_gib,
				const uint32_t *free_gib, const uint32_t *dist);
/* First physical address of node @node in a make_topo() topology. */
uint64_t topo_node_base(const struct ibsp_topology *t, int node);
