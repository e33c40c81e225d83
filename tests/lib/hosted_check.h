/* SPDX-License-Identifier: BSD-2-Clause */
/* The one invariant oracle of the hosted MM tests: the checker library run over the live hosted MM; plain types only, so HATVM_HOSTED code can call it. */
#ifndef TESTS_LIB_HOSTED_CHECK_H
#define TESTS_LIB_HOSTED_CHECK_H

#include "run_check.h"

/*
 * Shows the hosted MM as it stands (booted by mm_hosted_boot or hmm_boot,
 * no MM call in progress) to checker_run and fills *out with what it
 * reported. Never aborts: callers decide what a violation means.
 */
void hmm_check(struct seen *out);

/*
 * hmm_check(); true when the checker returned and printed no violation,
 * else false with "N violations (M in the report):" and the kept ones
 * in text (always terminated).
 */
bool hmm_clean(char *text, size_t len);

#endif
