// SPDX-License-Identifier: MIT
/* Messages on stderr: the library's log callback and the commands' warnings (cli.h). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_verbosity = IBSP_LOG_WARN;

void cli_print(enum ibsp_log_level level, const char *fmt, va_list ap)
{
	if ((int)level > cli_verbosity)
		return;
	fputs("ibs-promote: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (cli_verbosity < IBSP_LOG_WARN)
		return;
	fprintf(stderr, "ibs-promote %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
