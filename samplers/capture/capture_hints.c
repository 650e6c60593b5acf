// SPDX-License-Identifier: MIT
/*
 * What the capture's messages add to an error: shared by libperf's path
 * (capture.c) and the cgroup capture's (capture_cgroup.c), which calls
 * nothing in capture.c.
 */
#include <errno.h>

#include "capture_internal.h"

const char *ibsp_capture__mmap_hint(int err, const struct ibsp_capture_opts *o)
{
	if (err != -EPERM)
		return "";
	return o->mmap_pages
		   ? " (over the perf_event_mlock_kb budget: use fewer pages, or CAP_IPC_LOCK)"
		   : " (the size chosen for CAP_IPC_LOCK, which this host's kernel refused: give "
		     "--mmap-pages 128)";
}
