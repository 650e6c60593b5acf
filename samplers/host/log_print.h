/* SPDX-License-Identifier: MIT */
#ifndef IBSP_LOG_INTERNAL_H
#define IBSP_LOG_INTERNAL_H

#include "ibsp/log.h"

__attribute__((format(printf, 2, 3))) void ibsp_log(enum ibsp_log_level level, const char *fmt,
						    ...);

#define pr_err(fmt, ...)   ibsp_log(IBSP_LOG_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  ibsp_log(IBSP_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  ibsp_log(IBSP_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) ibsp_log(IBSP_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif
