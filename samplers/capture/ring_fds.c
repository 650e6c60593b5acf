// SPDX-License-Identifier: MIT
/*
 * The file descriptors of libperf's events, by their ids. libperf 6.1 keeps
 * its events' fds to itself (perf_evlist__poll() polls them, but cannot take
 * part in another loop), so the daemon, which waits on io_uring, finds them
 * the way any process can: each perf event fd of this process answers
 * PERF_EVENT_IOC_ID with the id the kernel gave it, and the capture knows
 * the ids of its own events (read_format ID). Only fds whose id is asked for
 * are taken, so another perf user in the process (a test's counting event,
 * a library's) is never mistaken for ours.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "capture_internal.h"

int ibsp_perf_fds__by_id(const uint64_t *ids, uint32_t nr, int *fds)
{
	uint32_t found = 0;
	struct dirent *de;
	DIR *dir;

	for (uint32_t k = 0; k < nr; k++)
		fds[k] = -1;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return -errno;
	while (found < nr && (de = readdir(dir))) {
		char link[64];
		uint64_t id;
		ssize_t n;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(dir))
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[perf_event]") || ioctl(fd, PERF_EVENT_IOC_ID, &id))
			continue;
		for (uint32_t k = 0; k < nr; k++) {
			if (ids[k] == id && fds[k] < 0) {
				fds[k] = fd;
				found++;
				break;
			}
		}
	}
	closedir(dir);
	return found == nr ? 0 : -ENOENT;
}
