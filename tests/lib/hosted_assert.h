/* SPDX-License-Identifier: BSD-2-Clause */
/* The hosted MM tests' "the checker finds nothing" assertion (Check), over hosted_check.h's oracle. */
#ifndef TESTS_LIB_HOSTED_ASSERT_H
#define TESTS_LIB_HOSTED_ASSERT_H

#include <check.h>

#include "hosted_check.h"

/*
 * Header-only, as hosted_check.c is not built against Check (the
 * benchmarks link it too). Fails the test with the checker's report
 * when it returned or printed any violation.
 */
static inline void hmm_assert_clean(void)
{
	struct seen s;
	char text[8192];

	hmm_check(&s);
	if (s.returned == 0 && s.parsed == 0)
		return;
	seen_format(&s, text, sizeof(text));
	ck_abort_msg("checker: %u violations (%u in the report):%s", s.returned, s.parsed, text);
}

#endif
