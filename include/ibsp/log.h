/* SPDX-License-Identifier: MIT */
/*
 * Logging: the library never prints on its own. Every message goes through
 * one callback with a level (libbpf's set_print habit); the CLI installs one
 * that writes to stderr, tests install one that captures.
 */
#ifndef IBSP_LOG_H
#define IBSP_LOG_H

#include <stdarg.h>

enum ibsp_log_level {
	IBSP_LOG_ERROR = 0,
	IBSP_LOG_WARN = 1,
	IBSP_LOG_INFO = 2,
	IBSP_LOG_DEBUG = 3,
};

typedef void (*ibsp_print_fn_t)(enum ibsp_log_level level, const char *fmt, va_list ap);

/**
 * ibsp_set_print() - install the print callback
 * @fn: the new callback; NULL silences the library
 *
 * Return: the previous callback.
 */
ibsp_print_fn_t ibsp_set_print(ibsp_print_fn_t fn);

#endif /* IBSP_LOG_H */
