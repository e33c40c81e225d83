/* SPDX-License-Identifier: BSD-2-Clause */
/* For tests that run vmm as a child: under ASan, make sure its leaks change its exit status. */
#ifndef TESTS_LEAK_CHECK_H
#define TESTS_LEAK_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#include "sanitizer.h"

/*
 * Header-only (no build change). Appends detect_leaks=1 to ASAN_OPTIONS
 * (a later option wins), so an error path that leaks exits with another
 * status than the one the test expects; a no-op without ASan.
 */
static inline void leak_check_children(void)
{
#ifdef TEST_ASAN
	const char *old = getenv("ASAN_OPTIONS");
	char opts[512];

	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=1", old ? old : "", old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
#endif
}

#endif
