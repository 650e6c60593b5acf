// SPDX-License-Identifier: MIT
/*
 * Does this kernel track soft-dirty PTEs (CONFIG_MEM_SOFT_DIRTY)? The hint
 * sampler depends on it. A kernel without it still accepts "4" in
 * /proc/PID/clear_refs and does nothing (sampling.md 5b), so the answer
 * comes from a test on a page of our own: written, soft-dirty bit (bit 55 of
 * its pagemap entry) set; after clear_refs, clear; written again, set.
 * Documentation/admin-guide/mm/soft-dirty.rst and pagemap.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ibsp/host.h"

#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_PRESENT    (1ULL << 63)

/* The pagemap entry of @addr in our own address space: 0 on success. */
static int pagemap_entry(int pm, const void *addr, uint64_t *entry)
{
	long page = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)((uintptr_t)addr / (uintptr_t)page * sizeof(uint64_t));

	if (pread(pm, entry, sizeof(*entry), off) != (ssize_t)sizeof(*entry))
		return errno ? -errno : -EIO;
	return 0;
}

static int clear_refs_self(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* Written, cleared, written again: the soft-dirty bit at each step. */
static int three_steps(int pm, volatile char *p, uint64_t sd[3], char *why, size_t len)
{
	int ret;

	p[0] = 1;
	ret = pagemap_entry(pm, (const void *)p, &sd[0]);
	if (ret) {
		snprintf(why, len, "cannot read /proc/self/pagemap: %s", strerror(-ret));
		return ret;
	}
	ret = clear_refs_self();
	if (ret) {
		snprintf(why, len, "cannot write 4 to /proc/self/clear_refs: %s", strerror(-ret));
		return ret;
	}
	ret = pagemap_entry(pm, (const void *)p, &sd[1]);
	p[0] = 2;
	if (!ret)
		ret = pagemap_entry(pm, (const void *)p, &sd[2]);
	if (ret)
		snprintf(why, len, "cannot read /proc/self/pagemap: %s", strerror(-ret));
	return ret;
}

static void verdict(const uint64_t sd[3], char *why, size_t len)
{
	if (!(sd[0] & PM_PRESENT))
		snprintf(why, len, "the test page is not present after a write");
	else if (!(sd[0] & PM_SOFT_DIRTY) && !(sd[2] & PM_SOFT_DIRTY))
		snprintf(why, len,
			 "kernel without CONFIG_MEM_SOFT_DIRTY (pagemap bit 55 never set)");
	else if (sd[1] & PM_SOFT_DIRTY)
		snprintf(why, len, "clear_refs did not clear the soft-dirty bit (pagemap bit 55)");
	else if (!(sd[2] & PM_SOFT_DIRTY))
		snprintf(why, len, "a write after clear_refs did not set pagemap bit 55 again");
	else
		why[0] = '\0';
}

int ibsp_soft_dirty__probe(char *why, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t sd[3] = { 0 };
	char *p;
	int pm, ret;

	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(why, len, "cannot map a test page: %s", strerror(errno));
		return -errno;
	}
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		ret = -errno;
		snprintf(why, len, "cannot open /proc/self/pagemap: %s", strerror(errno));
	} else {
		ret = three_steps(pm, p, sd, why, len);
		close(pm);
	}
	munmap(p, (size_t)page);
	if (ret)
		return ret == -EACCES || ret == -EPERM || ret == -ENOENT ? 0 : ret;
	verdict(sd, why, len);
	return !why[0];
}
