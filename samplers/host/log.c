// SPDX-License-Identifier: MIT
/* The library's single print callback. It sits at the bottom of the data flow, so every module may use it. */
#include <stdio.h>

#include "ibsp/log.h"
#include "log_print.h"

static void default_print(enum ibsp_log_level level, const char *fmt, va_list ap)
{
	if (level > IBSP_LOG_WARN)
		return;
	vfprintf(stderr, fmt, ap);
}

static ibsp_print_fn_t print_fn = default_print;

ibsp_print_fn_t ibsp_set_print(ibsp_print_fn_t fn)
{
	ibsp_print_fn_t old = print_fn;

	print_fn = fn;
	return old;
}

void ibsp_log(enum ibsp_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
}
