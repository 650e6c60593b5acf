/* SPDX-License-Identifier: MIT */
/* Sizes for people: the text output of info and probe (their JSON keeps exact numbers). */
#ifndef IBSP_CLI_UNITS_H
#define IBSP_CLI_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Room for any cli_human_bytes() text. */
#define CLI_HUMAN_LEN 32

/*
 * @bytes in the largest binary unit it holds one of, with one decimal unless it
 * is a whole number of them: "512 B", "4 KiB", "23.5 GiB", up to EiB. Returns @buf.
 */
const char *cli_human_bytes(uint64_t bytes, char buf[CLI_HUMAN_LEN]);

#endif
