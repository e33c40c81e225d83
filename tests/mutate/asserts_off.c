/* SPDX-License-Identifier: BSD-2-Clause */
/* Check sites compiled as with -Dguest_asserts=false, whatever this build's option says. */
#ifndef MM_NO_ASSERTS
#define MM_NO_ASSERTS
#endif
#include "mm_assert.h"

#include "asserts_both.h"

void off_assert(void *arg)
{
	int *bad = arg;

	MM_ASSERT(RM_LINKS, (*bad)++ == 0);
}

void off_panic(void *arg)
{
	int *bad = arg;

	if (*bad)
		MM_PANIC(ST_FREE_ZERO, "entry %d is not zero", (*bad)++);
}

void off_guard(void *arg)
{
	int *bad = arg;

	MM_GUARD(PT_PTP_RANGE, (*bad)++ == 0);
}

void off_require(void *arg)
{
	int *bad = arg;

	MM_REQUIRE((*bad)++ == 0);
}
