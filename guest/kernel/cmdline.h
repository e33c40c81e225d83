/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest command line as key=value options. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

/* Copies and splits the command line; false when it has more than CMDLINE_MAX_WORDS words. */
#define CMDLINE_MAX_WORDS 64
bool cmdline_parse(const char *text, uint64_t len);

/* The value of `key` ("" for a bare word), or NULL when absent. */
const char *cmdline_get(const char *key);

/* The decimal value of `key`, `fallback` when absent; a malformed number is a usage error. */
uint64_t cmdline_get_u64(const char *key, uint64_t fallback);

/* cmdline_get_u64() for options that must fit 32 bits; a usage error when larger. */
uint32_t cmdline_get_u32(const char *key, uint32_t fallback);

/*
 * Refuses the command line: one line (printf FMT) naming the bad option
 * goes to the host, which ends the run with the usage status (2), not
 * as a crash.
 */
void cmdline_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
