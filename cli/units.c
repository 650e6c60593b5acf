// SPDX-License-Identifier: MIT
/* Sizes for people (units.h). */
#include <inttypes.h>
#include <stdio.h>

#include "units.h"

const char *cli_human_bytes(uint64_t bytes, char buf[CLI_HUMAN_LEN])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;
	uint64_t unit = 1024;
	double v;

	if (bytes < 1024) {
		snprintf(buf, CLI_HUMAN_LEN, "%" PRIu64 " B", bytes);
		return buf;
	}
	v = (double)bytes / 1024;
	/* 1023.96 KiB would print as 1024.0 KiB: that is 1.0 MiB */
	while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		unit <<= 10;
		u++;
	}
	if (bytes % unit == 0) /* a whole number of them: "128 MiB" */
		snprintf(buf, CLI_HUMAN_LEN, "%" PRIu64 " %s", bytes / unit, units[u]);
	else
		snprintf(buf, CLI_HUMAN_LEN, "%.1f %s", v, units[u]);
	return buf;
}
