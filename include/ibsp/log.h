/* SPDX-License-Identifier: MIT */
/*
 * Logging: the library never prints on its own. Every message goes through
 * one callback with a level (libbpf's set_print habit); the CLI installs one
 * that writes to stderr, tests install one that captures.
 *
 * Names, for the whole library: every exported symbol starts with ibsp_; a
 * function on a struct is ibsp_<struct>__<verb>, with one <struct> name per
 * type. Lifecycles come in pairs:
 *  - objects the library allocates: __new (or __from_<source>) / __delete;
 *  - objects that are files: __open / __close;
 *  - structs the caller owns (on its stack or inside its own struct) that
 *    the library fills: __init (or __read, __from_<source>) / __exit, which
 *    frees what the struct points to and never the struct itself;
 *  - arrays a getter hands out: __free_<what>, next to the getter.
 * __delete and __close accept NULL; __exit accepts a zeroed struct, or what
 * a failed __init left.
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
