/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: -Dguest_asserts=false silences MM_ASSERT and MM_PANIC (never evaluating them) but not MM_GUARD or MM_REQUIRE; the hosted MM as configured. */
#include <check.h>
#include <string.h>

#include "asserts_both.h"
#include "hat.h"
#include "hosted_platform.h"
#include "run_vmm.h"

/* Runs fn on a failing check; true when it panicked. *evals: how often the condition ran. */
static bool fails(void (*fn)(void *), int *evals)
{
	int bad = 1;
	bool panicked = mm_hosted_expect_panic(fn, &bad);

	*evals = bad - 1;
	return panicked;
}

START_TEST(test_assert_and_panic_fire_by_default)
{
	int evals;

	ck_assert(fails(on_assert, &evals));
	ASSERT_HAS(mm_hosted_panic_msg, "ASSERT RM_LINKS failed: (*bad)++ == 0");
	ck_assert(fails(on_panic, &evals));
	ASSERT_HAS(mm_hosted_panic_msg, "ASSERT ST_FREE_ZERO failed: entry 1 is not zero");
}
END_TEST

START_TEST(test_assert_and_panic_are_silent_without)
{
	int evals;

	ck_assert(!fails(off_assert, &evals));
	ck_assert_int_eq(evals, 0);   /* not even evaluated: a check that dereferences is gone too */
	ck_assert(!fails(off_panic, &evals));
	ck_assert_int_eq(evals, 0);
}
END_TEST

START_TEST(test_guard_and_require_stay_on)
{
	int evals;

	ck_assert(fails(off_guard, &evals));
	ASSERT_HAS(mm_hosted_panic_msg, "ASSERT PT_PTP_RANGE failed");
	ck_assert(fails(off_require, &evals));
	ASSERT_HAS(mm_hosted_panic_msg, "ASSERT API failed");
	ck_assert(fails(on_guard, &evals));
	ck_assert(fails(on_require, &evals));
}
END_TEST

static void create_space(void *arg)
{
	*(struct hat **)arg = hat_create();
}

/*
 * The MM of this build: a table page on the cache that is not zero (in
 * an entry a new PML4 overwrites) makes hat_create's ST_FREE_ZERO check
 * fire, unless the build has no guest assertions.
 */
START_TEST(test_hosted_mm_follows_the_option)
{
	struct hat *h, *made = NULL;
	pte_t *cached;
	bool panicked;

	mm_hosted_boot(64ull << 20);
	h = hat_create();
	ck_assert_ptr_nonnull(h);
	hat_memload(h, 0x1000, page_alloc(PG_USER), HAT_READ | HAT_USER);
	hat_destroy(h);
	ck_assert_ptr_nonnull(segtab_ptp_cache.pc_head);
	cached = page_kva(segtab_ptp_cache.pc_head);
	cached[300] = 0x1234000;
	panicked = mm_hosted_expect_panic(create_space, &made);
#ifdef MM_NO_ASSERTS
	ck_assert_msg(!panicked, "panicked without guest assertions: %s", mm_hosted_panic_msg);
	ck_assert_ptr_nonnull(made);
#else
	ck_assert(panicked);
	ASSERT_HAS(mm_hosted_panic_msg, "ASSERT ST_FREE_ZERO failed");
#endif
	mm_hosted_shutdown();
}
END_TEST

static Suite *mm_assert_suite(void)
{
	Suite *s = suite_create("mm_assert");
	TCase *tc = tcase_create("option");

	tcase_add_test(tc, test_assert_and_panic_fire_by_default);
	tcase_add_test(tc, test_assert_and_panic_are_silent_without);
	tcase_add_test(tc, test_guard_and_require_stay_on);
	tcase_add_test(tc, test_hosted_mm_follows_the_option);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(mm_assert_suite());
}
