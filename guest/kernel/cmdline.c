/* SPDX-License-Identifier: BSD-2-Clause */
/* Splits the boot command line into key=value words the workloads can query. */
#include "cmdline.h"

#include <stdarg.h>

#include "hypercall.h"
#include "kernel.h"

#define CMDLINE_MAX 4096
#define MAX_WORDS   CMDLINE_MAX_WORDS

static char text_copy[CMDLINE_MAX];
static struct { const char *key, *value; } words[MAX_WORDS];
static unsigned nwords;

bool cmdline_parse(const char *text, uint64_t len)
{
	if (len >= CMDLINE_MAX)
		len = CMDLINE_MAX - 1;
	memcpy(text_copy, text, len);
	text_copy[len] = '\0';
	nwords = 0;
	for (char *p = text_copy; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		if (nwords == MAX_WORDS)
			return false;
		char *eq = NULL;
		words[nwords].key = p;
		words[nwords].value = "";
		for (; *p && *p != ' '; p++)
			if (*p == '=' && !eq)
				eq = p;
		if (eq) {
			*eq = '\0';
			words[nwords].value = eq + 1;
		}
		nwords++;
	}
	return true;
}

const char *cmdline_get(const char *key)
{
	for (unsigned i = nwords; i-- > 0;)   /* the last word wins */
		if (strcmp(words[i].key, key) == 0)
			return words[i].value;
	return NULL;
}

uint64_t cmdline_get_u64(const char *key, uint64_t fallback)
{
	const char *v = cmdline_get(key);
	uint64_t n = 0;

	if (!v)
		return fallback;
	if (!*v)
		cmdline_usage("option %s= needs a number", key);
	for (const char *p = v; *p; p++) {
		uint64_t digit = (uint64_t)(*p - '0');
		/* n * 10 + digit must fit: up to UINT64_MAX itself */
		if (*p < '0' || *p > '9' || n > (UINT64_MAX - digit) / 10)
			cmdline_usage("option %s=%s: not a decimal number", key, v);
		n = n * 10 + digit;
	}
	return n;
}

uint32_t cmdline_get_u32(const char *key, uint32_t fallback)
{
	uint64_t n = cmdline_get_u64(key, fallback);

	/* a cast would wrap: spaces=4294967298 must not pass a range check as 2 */
	if (n > UINT32_MAX)
		cmdline_usage("option %s=%" PRIu64 ": larger than %u", key, n, UINT32_MAX);
	return (uint32_t)n;
}

void cmdline_usage(const char *fmt, ...)
{
	static char msg[512];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hc_usage(msg);
}
