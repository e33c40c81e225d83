/* SPDX-License-Identifier: BSD-2-Clause */
/* Check sites compiled as in a default build (guest_asserts=true), whatever this build's option says. */
#undef MM_NO_ASSERTS
#include "mm_assert.h"

#include "asserts_both.h"

void on_assert(void *arg)
{
	int *bad = arg;

	MM_ASSERT(RM_LINKS, (*bad)++ == 0);
}

void on_panic(void *arg)
{
	int *bad = arg;

	if (*bad)
		MM_PANIC(ST_FREE_ZERO, "entry %d is not zero", (*bad)++);
}

void on_guard(void *arg)
{
	int *bad = arg;

	MM_GUARD(PT_PTP_RANGE, (*bad)++ == 0);
}

void on_require(void *arg)
{
	int *bad = arg;

	MM_REQUIRE((*bad)++ == 0);
}
