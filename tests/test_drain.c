// SPDX-License-Identifier: MIT
/*
 * When the daemon drains its rings, through the ibs-promote command on this
 * machine (soft sampler): a burst after a quiet spell is drained on a ring's
 * wakeup, not on the longest timer period. A test binary of its own, run one
 * test at a time (tests/CMakeLists.txt): the quiet spell must be quiet, and a
 * test beside it with a fault load of its own would make it busy.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
/* The sum of sampling.@field over the interval lines (the summary repeats the totals). */
static uint64_t sum_sampling(json_t **lines, size_t n, const char *field)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(json_string_value(json_object_get(lines[i], "type")), "interval"))
			continue;
		sum += (uint64_t)json_integer_value(
		    json_object_get(json_object_get(lines[i], "sampling"), field));
	}
	return sum;
}

/*
 * A burst after a quiet spell: the drain period is at its longest (250 ms
 * with 512 KiB rings) when a faulter pinned to CPU 0 starts, at ~12 MB of
 * records a second on that CPU's ring (-c 4), which fills in ~45 ms. The
 * ring's wakeup at half full drains it (sampling.wakeups), and the period
 * follows the burst from there, so the kernel drops nothing. On the timer
 * alone the first drain came up to 250 ms into the burst, and most of the
 * burst's first quarter second was lost.
 */
Test(drain, burst_after_quiet_is_drained_on_a_ring_wakeup)
{
	json_t *lines[64];
	char cmd[1024], *out, *err;
	uint64_t samples, lost, wakeups;
	size_t n;
	int rc;

	snprintf(cmd, sizeof(cmd),
		 "%s run --sampler=soft -a -c 4 --dry-run --json - --interval 500 "
		 "--mmap-pages 128 --duration 3.5 & p=$!; sleep 1.5; "
		 "taskset -c 0 %s 70000 >/dev/null 2>&1; wait $p",
		 IBSP_CLI, IBSP_FAULTER);
	rc = run_cmd(cmd, &out, &err);
	if (rc && perf_open_refused(err))
		cr_skip_test("this machine refuses software perf events: %s", err);
	cr_assert_eq(rc, 0, "run exited %d: %s", rc, err);
	n = json_lines(out, lines, 64);
	cr_assert_geq(n, 6, "3.5 s at 500 ms: %zu lines", n);
	samples = sum_sampling(lines, n, "samples");
	lost = sum_sampling(lines, n, "lost");
	wakeups = sum_sampling(lines, n, "wakeups");
	/* 2 threads x 70 000 first touches and 70 000 copy-on-write faults, every 4th */
	cr_expect_geq(samples, 40000, "the burst's samples: %llu", (unsigned long long)samples);
	cr_expect_geq(wakeups, 1, "a ring's wakeup drained the rings");
	cr_expect_leq(lost * 50, samples, "%llu records lost of %llu samples (%llu wakeups)",
		      (unsigned long long)lost, (unsigned long long)samples,
		      (unsigned long long)wakeups);
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(out);
	free(err);
}
