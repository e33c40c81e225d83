/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness: the guest command-line parser (guest/kernel/cmdline.c,
 * compiled hosted) against a model written here: every parsed key's value
 * round-trips through cmdline_get, and cmdline_get_u64 either returns a number
 * that prints back to the same digits or refuses the line through usage
 * (and cmdline_get_u32 agrees, refusing what does not fit 32 bits).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "cmdline_host.h"

#define TEXT_MAX 4095   /* cmdline.c keeps this many bytes of the line */

#define require(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_cmdline: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

struct word {
	const char *key, *value;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model: words split at spaces, key before the first '=', the value after it. */
static unsigned split(char *text, struct word *w, unsigned max)
{
	unsigned n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(text, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return max + 1;
		char *eq = strchr(tok, '=');
		w[n].key = tok;
		w[n].value = eq ? eq + 1 : "";
		if (eq)
			*eq = '\0';
		n++;
	}
	return n;
}

/* The value of the last word named key, as the parser promises. */
static const char *model_get(const struct word *w, unsigned n, const char *key)
{
	const char *value = NULL;

	for (unsigned i = 0; i < n; i++)
		if (strcmp(w[i].key, key) == 0)
			value = w[i].value;
	return value;
}

/* Is v a decimal number that fits in 64 bits (leading zeros allowed)? */
static bool fits_u64(const char *v, const char **digits)
{
	if (!*v || strspn(v, "0123456789") != strlen(v))
		return false;
	while (v[0] == '0' && v[1])
		v++;
	*digits = v;
	return strlen(v) < 20 || (strlen(v) == 20 && strcmp(v, "18446744073709551615") <= 0);
}

/* cmdline_get_u64, with its usage refusal caught; true when it refused. */
static bool get_u64_refused(const char *key, uint64_t *out)
{
	if (setjmp(cmdline_usage_jump))
		return true;
	*out = cmdline_get_u64(key, 0);
	return false;
}

/* cmdline_get_u32, with its usage refusal caught; true when it refused. */
static bool get_u32_refused(const char *key, uint32_t *out)
{
	if (setjmp(cmdline_usage_jump))
		return true;
	*out = cmdline_get_u32(key, 0);
	return false;
}

/* The 32-bit getter agrees with the 64-bit one, refusing instead of wrapping. */
static void check_u32(const char *key, bool valid, uint64_t n)
{
	uint32_t m = 0;
	bool refused = get_u32_refused(key, &m);

	require(refused == (!valid || n > UINT32_MAX));
	require(refused || m == n);
}

static void check_number(const char *key, const char *value)
{
	const char *digits = NULL;
	bool valid = fits_u64(value, &digits);
	uint64_t n = 0;

	cmdline_usage_message = NULL;
	if (get_u64_refused(key, &n)) {
		require(!valid);
		check_u32(key, false, 0);
		require(cmdline_usage_message && strncmp(cmdline_usage_message, "option ", 7) == 0);
		return;
	}
	char printed[24];
	snprintf(printed, sizeof(printed), "%" PRIu64, n);
	require(valid);
	require(strcmp(printed, digits) == 0);
	check_u32(key, true, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[TEXT_MAX + 1];
	static struct word w[CMDLINE_MAX_WORDS];
	size_t len = size < TEXT_MAX ? size : TEXT_MAX;

	memcpy(text, data, len);
	text[len] = '\0';
	unsigned n = split(text, w, CMDLINE_MAX_WORDS);
	bool ok = cmdline_parse((const char *)data, size);

	require(ok == (n <= CMDLINE_MAX_WORDS));
	if (!ok)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const char *got = cmdline_get(w[i].key);
		require(got && strcmp(got, model_get(w, n, w[i].key)) == 0);
		check_number(w[i].key, got);
	}
	/* a space never appears in a key: such a name is always absent */
	require(cmdline_get("no such") == NULL);
	require(cmdline_get_u64("no such", 42) == 42);
	return 0;
}
