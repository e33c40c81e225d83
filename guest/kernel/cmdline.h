/* The guest command line as key=value options. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

/* Copies and splits the command line; false when it has too many words. */
bool cmdline_parse(const char *text, uint64_t len);

/* The value of `key` ("" for a bare word), or NULL when absent. */
const char *cmdline_get(const char *key);

/* The decimal value of `key`, `fallback` when absent; panics on a malformed number. */
uint64_t cmdline_get_u64(const char *key, uint64_t fallback);

#endif
