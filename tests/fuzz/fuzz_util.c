// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "ibsp/log.h"

const char *fuzz_memfd_path(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (size > FUZZ_MAX_INPUT)
		return NULL;
	if (fd < 0) {
		fd = memfd_create("ibsp-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		return NULL;
	return path;
}

static void drop(enum ibsp_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
}

void fuzz_quiet_log(void)
{
	if (!getenv("IBSP_FUZZ_LOG"))
		ibsp_set_print(drop);
}
