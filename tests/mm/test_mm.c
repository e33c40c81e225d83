/* SPDX-License-Identifier: BSD-2-Clause */
/* Hosted MM unit tests: main, the fixture, and the check of every invariant by the checker library. */
#include <stdlib.h>

#include "hat_model.h"
#include "hosted_assert.h"
#include "mm_test.h"
#include "run_vmm.h"

static struct hat_model *model;

/* A full operation log is drained by a check, as vmm's checkpoint would. */
static void drain_by_check(void)
{
	mm_check_all();
}

/* Every test's MM runs under the host model too (MD_*), from its boot on. */
void mm_setup_from(uint64_t ram_size, uint64_t first_free)
{
	if (model == NULL)
		model = hat_model_new();
	ck_assert_ptr_nonnull(model);
	checker_use_model(model);
	mm_hosted_oplog_hook = drain_by_check;
	mm_hosted_boot_from(ram_size, first_free);
	mm_check_all();   /* the model's start: the boot state */
}

void mm_setup(void)
{
	mm_setup_from(MM_TEST_RAM, MM_TEST_FIRST_FREE);
}

void mm_teardown(void)
{
	mm_check_all();
	mm_hosted_shutdown();
}

page_t *mm_test_page(void)
{
	page_t *pp = page_alloc(PG_USER);

	ck_assert_ptr_nonnull(pp);
	return pp;
}

uint64_t mm_count_kind(unsigned kind)
{
	uint64_t n = 0;

	for (uint64_t pfn = 0; pfn < page_count; pfn++)
		n += page_array[pfn].p_kind == kind;
	return n;
}

pte_t *mm_test_pte(struct hat *h, uint64_t va)
{
	unsigned level = 1;
	page_t *ptp;

	return segtab_walk(h, va, &level, &ptp);
}

void mm_check_all(void)
{
	hmm_assert_clean();
}

int main(void)
{
	return run_suites((Suite *const[]){ page_suite(), segtab_suite(), hment_suite(),
					    hat_suite(), oracle_suite(), hat_limits_suite(),
					    hat_range_suite(), smp_model_suite(), NULL });
}
