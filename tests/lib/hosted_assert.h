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
	char text[8192];

	if (!hmm_clean(text, sizeof(text)))
		ck_abort_msg("%s", text);
}

#endif
