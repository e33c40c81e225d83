/* SPDX-License-Identifier: BSD-2-Clause */
/* What the HAT must not do under pressure: steal locked mappings or from busy tables, panic when no hment is left, map managed pages in the kernel window, let kernel tables fail first. */
#include <string.h>

#include "hosted_check.h"
#include "mm_test.h"

#define RW_USER  (HAT_READ | HAT_WRITE | HAT_USER)
#define LOCKED   (RW_USER | HAT_LOCK)
#define KMAP_VA  (KMAP_BASE + (3ull << 30))   /* a KMAP gigabyte with no tables yet */
#define UNMANAGED_PFN 0x10u                  /* below page_first_managed: the image */

/* Every later hment must come from a steal: no reserve, the cache capped at what is out now. */
static void hments_exhausted(void)
{
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	hment_set_limit(hment_cache_inuse());
}

/* The checker's count for id over the MM as it stands. */
static unsigned violations_of(enum invariant_id id)
{
	struct seen s;

	hmm_check(&s);
	return s.per_id[id];
}

START_TEST(test_locked_mappings_are_never_stolen)
{
	struct hat *h[6];
	page_t *v = mm_test_page(), *w = mm_test_page(), *y = mm_test_page();

	for (unsigned i = 0; i < 6; i++)
		h[i] = hat_create();
	ck_assert_int_eq(hat_memload(h[0], 0x1000, v, LOCKED), 0);
	ck_assert_int_eq(hat_memload(h[1], 0x1000, v, LOCKED), 0);
	ck_assert_int_eq(hat_memload(h[2], 0x1000, w, RW_USER), 0);
	ck_assert_int_eq(hat_memload(h[3], 0x1000, w, RW_USER), 0);
	hments_exhausted();
	ck_assert_int_eq(hat_memload(h[4], 0x1000, y, RW_USER), 0);
	ck_assert_int_eq(hat_memload(h[5], 0x1000, y, RW_USER), 0);   /* promotion: two hments */
	ck_assert_uint_eq(hment_mapcnt(v), 2);                          /* the locked ones stay */
	ck_assert_uint_eq(hment_mapcnt(w), 0);                          /* the others went */
	ck_assert_uint_eq(hment_mapcnt(y), 2);
	ck_assert_uint_gt(hment_stats.steal_skipped, 0);
	ck_assert_uint_eq(h[0]->h_nlocked, 1);
	mm_check_all();
}
END_TEST

START_TEST(test_nothing_to_steal_fails_cleanly)
{
	struct hat *a = hat_create(), *b = hat_create(), *c = hat_create(), *d = hat_create();
	page_t *v = mm_test_page(), *y = mm_test_page();
	uint64_t fails = hment_stats.alloc_fails;

	ck_assert_int_eq(hat_memload(a, 0x1000, v, LOCKED), 0);
	ck_assert_int_eq(hat_memload(b, 0x1000, v, LOCKED), 0);
	ck_assert_int_eq(hat_memload(c, 0x1000, y, LOCKED), 0);
	hments_exhausted();
	/* was a panic in hment_alloc: now the memload fails and leaves nothing behind */
	ck_assert_int_eq(hat_memload(d, 0x1000, y, RW_USER), HAT_ERR_NOMEM);
	ck_assert_uint_eq(hat_getpfnum(d, 0x1000), HAT_PFN_INVALID);
	ck_assert_uint_eq(d->h_nptp, 1);   /* the tables the reserve made are gone again */
	ck_assert_uint_eq(hment_mapcnt(y), 1);
	ck_assert_uint_eq(hment_mapcnt(v), 2);
	ck_assert_uint_gt(hment_stats.alloc_fails, fails);
	mm_check_all();
	/* unlocked, they may go */
	hat_memunlock(a, 0x1000, MM_PAGE_SIZE);
	hat_memunlock(b, 0x1000, MM_PAGE_SIZE);
	ck_assert_uint_eq(a->h_nlocked, 0);
	ck_assert_int_eq(hat_memload(d, 0x1000, y, RW_USER), 0);
	ck_assert_uint_eq(hment_mapcnt(v), 0);
	ck_assert_uint_eq(hment_mapcnt(y), 2);
	mm_check_all();
}
END_TEST

START_TEST(test_busy_table_is_never_stolen_from)
{
	struct hat *a = hat_create();
	page_t *v = mm_test_page(), *y = mm_test_page();

	ck_assert_int_eq(hat_memload(a, 0x1000, v, RW_USER), 0);
	ck_assert_int_eq(hat_memload(a, 0x2000, v, RW_USER), 0);   /* two hments, in a's table */
	ck_assert_int_eq(hat_memload(a, 0x3000, y, RW_USER), 0);   /* embedded */
	hments_exhausted();
	/* the only victims sit in the table being filled: it is busy */
	ck_assert_int_eq(hat_memload(a, 0x4000, y, RW_USER), HAT_ERR_NOMEM);
	ck_assert_uint_eq(hment_mapcnt(v), 2);
	ck_assert_uint_gt(hment_stats.steal_skipped, 0);
	mm_check_all();
	/* into another table, the same victims may go */
	ck_assert_int_eq(hat_memload(a, 0x40000000, y, RW_USER), 0);
	ck_assert_uint_eq(hment_mapcnt(v), 0);
	mm_check_all();
}
END_TEST

START_TEST(test_busy_table_is_never_pruned)
{
	struct hat *a = hat_create();
	page_t *pp = mm_test_page(), *ptp;
	unsigned level = 1;

	ck_assert_int_eq(hat_memload(a, 0x1000, pp, RW_USER), 0);
	ck_assert_ptr_nonnull(segtab_walk(a, 0x1000, &level, &ptp));
	ptp_busy_hold(ptp);
	hat_unload(a, 0x1000, MM_PAGE_SIZE);
	ck_assert_uint_eq(a->h_nptp, 4);   /* empty, but a memload holds it */
	ptp_busy_release(ptp);
	hat_unload(a, 0x1000, MM_PAGE_SIZE);
	ck_assert_uint_eq(a->h_nptp, 1);
}
END_TEST

START_TEST(test_locked_counts_follow_every_change)
{
	struct hat *a = hat_create();
	page_t *pp = mm_test_page(), *big = page_alloc_large(PG_USER);
	page_t *ptp;
	unsigned level = 1;

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(hat_memload(a, 0x1000, pp, LOCKED), 0);
	ck_assert_int_eq(hat_memload(a, 0x200000, big, LOCKED | HAT_LARGE), 0);
	ck_assert_uint_eq(a->h_nlocked, 2);
	ck_assert(*mm_test_pte(a, 0x1000) & PTE_LOCKED);
	ck_assert_ptr_nonnull(segtab_walk(a, 0x1000, &level, &ptp));
	ck_assert_uint_eq(ptp->p_lockcnt, 1);
	mm_check_all();
	ck_assert_int_eq(hat_memload(a, 0x1000, pp, RW_USER), 0);   /* same frame, unlocked */
	ck_assert_uint_eq(a->h_nlocked, 1);
	ck_assert_uint_eq(ptp->p_lockcnt, 0);
	ck_assert_int_eq(hat_memload(a, 0x1000, pp, LOCKED), 0);
	ck_assert_uint_eq(a->h_nlocked, 2);
	hat_memunlock(a, 0x200000, MM_LARGE_SIZE);
	ck_assert_uint_eq(a->h_nlocked, 1);
	mm_check_all();
	ck_assert_uint_eq(hat_pageunload(pp), 1);                    /* an unload may take it */
	ck_assert_uint_eq(a->h_nlocked, 0);
	ck_assert_int_eq(hat_memload(a, 0x1000, pp, LOCKED), 0);
	hat_unload(a, 0, 1ull << 30);
	ck_assert_uint_eq(a->h_nlocked, 0);
	mm_check_all();
	hat_destroy(a);
	page_free_large(big);
}
END_TEST

START_TEST(test_checker_sees_a_locked_leaf_lost)
{
	struct hat *a = hat_create();
	page_t *pp = mm_test_page();
	pte_t *pte;

	ck_assert_int_eq(hat_memload(a, 0x1000, pp, LOCKED), 0);
	ck_assert_uint_eq(violations_of(INV_ST_LOCKED), 0);
	/* a steal that ignored the lock: the leaf's lock gone, the counts not */
	pte = mm_test_pte(a, 0x1000);
	*pte &= ~PTE_LOCKED;
	ck_assert_uint_eq(violations_of(INV_ST_LOCKED), 2);   /* the space's count and the table's */
	*pte |= PTE_LOCKED;
	a->h_nlocked++;
	ck_assert_uint_eq(violations_of(INV_ST_LOCKED), 1);
	a->h_nlocked--;
	mm_check_all();
}
END_TEST

START_TEST(test_kernel_window_refuses_managed_pages)
{
	page_t *pp = mm_test_page();
	uint64_t ptp0 = hat_kas.h_nptp;
	pte_t *pte;

	ck_assert_int_eq(hat_memload(&hat_kas, KMAP_VA, pp, HAT_READ | HAT_WRITE),
			 HAT_ERR_KERNEL_MANAGED);
	ck_assert_int_eq(hat_devload(&hat_kas, KMAP_VA, pp->p_pagenum, HAT_READ),
			 HAT_ERR_KERNEL_MANAGED);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, KMAP_VA), HAT_PFN_INVALID);
	ck_assert_uint_eq(hat_kas.h_nptp, ptp0);
	ck_assert_int_eq(hat_devload(&hat_kas, KMAP_VA, UNMANAGED_PFN, HAT_READ), 0);
	mm_check_all();
	/* one that got there anyway is on no list: the checker says so */
	pte = mm_test_pte(&hat_kas, KMAP_VA);
	*pte = (*pte & ~PTE_FRAME) | page_pa(pp);
	ck_assert_uint_eq(violations_of(INV_RM_MISSING), 1);
	*pte = (*pte & ~PTE_FRAME) | ((uint64_t)UNMANAGED_PFN << MM_PAGE_SHIFT);
	hat_unload(&hat_kas, KMAP_VA, MM_PAGE_SIZE);
	ck_assert_uint_eq(hat_kas.h_nptp, ptp0);
}
END_TEST

START_TEST(test_kernel_tables_use_the_reserve)
{
	struct hat *a = hat_create();
	page_t *pp = mm_test_page();
	uint64_t used = page_nreserve();

	page_set_limit(page_ninuse());
	ck_assert_ptr_null(page_alloc(PG_USER));
	/* a user mapping that needs tables fails first ... */
	ck_assert_int_eq(hat_memload(a, 0x1000, pp, RW_USER), HAT_ERR_NOMEM);
	/* ... the kernel's tables come from the reserve */
	ck_assert_int_eq(hat_devload(&hat_kas, KMAP_VA, UNMANAGED_PFN, HAT_READ), 0);
	ck_assert_uint_eq(page_nreserve(), used + 2);   /* its PD and PT */
	mm_check_all();
	hat_unload(&hat_kas, KMAP_VA, MM_PAGE_SIZE);
	page_set_limit(PAGE_LIMIT_NONE);
	/* with RAM itself short, the same */
	page_set_reserve(page_nfree());
	ck_assert_ptr_null(page_alloc(PG_USER));
	ck_assert_int_eq(hat_devload(&hat_kas, KMAP_VA, UNMANAGED_PFN, HAT_READ), 0);
	hat_unload(&hat_kas, KMAP_VA, MM_PAGE_SIZE);
	page_set_reserve(PAGE_RESERVE_DEFAULT);
	ck_assert_int_eq(hat_memload(a, 0x1000, pp, RW_USER), 0);
	mm_check_all();
}
END_TEST

/*
 * RAM past 4 GiB, which the MM manages up to MM_RAM_MAX though our guest
 * has at most 3 GiB: the pages, tables, hments and the MM's own arrays all
 * lie above 4 GiB (the boot leaves out what is below), so every physical
 * address needs 33 bits. Each kind of operation once, the checker after each.
 */
#define PAST_4G       (4ull << 30)
#define PAST_4G_PAGES 64u

static void setup_past_4g(void)
{
	mm_setup_from(PAST_4G + (128ull << 20), PAST_4G);   /* page_array alone takes 48 MiB of it */
}

START_TEST(test_ram_past_4g)
{
	struct hat *a = hat_create(), *b = hat_create(), *c = hat_create();
	page_t *pp[PAST_4G_PAGES], *big = page_alloc_large(PG_USER);
	uint64_t va = 0x40000000ull, len = PAST_4G_PAGES * MM_PAGE_SIZE;

	for (unsigned i = 0; i < PAST_4G_PAGES; i++) {
		pp[i] = mm_test_page();
		ck_assert_uint_ge((uint64_t)pp[i]->p_pagenum << MM_PAGE_SHIFT, PAST_4G);
		ck_assert_int_eq(hat_memload(a, va + i * MM_PAGE_SIZE, pp[i], RW_USER), 0);
	}
	ck_assert_uint_eq(hat_getpfnum(a, va + MM_PAGE_SIZE), pp[1]->p_pagenum);
	ck_assert_int_eq(hat_memload_array(b, va, len, pp, RW_USER), 0);
	ck_assert_uint_ge(hment_ref_pa(pp[0]->p_mapping), PAST_4G);   /* a list of hments up there too */
	hat_chgprot(a, va, len, HAT_READ | HAT_USER);
	ck_assert_int_eq(hat_dup(c, a, va, len, HAT_READ | HAT_USER), 0);
	ck_assert_uint_eq(hat_getmapcnt(pp[5]), 3);
	mm_check_all();
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(hat_memload(a, 2 * va, big, RW_USER | HAT_LARGE), 0);
	ck_assert_uint_eq(hat_getmapcnt(big + 7), 1);
	hat_pagesync(pp[3], HAT_SYNC_CLEAR);
	ck_assert_uint_eq(hat_pageunload(pp[3]), 3);
	ck_assert_uint_eq(hat_pageunload(big + 7), 1);
	hat_unload(b, va, len / 2);
	mm_check_all();
	hments_exhausted();   /* the next hment comes from a steal */
	ck_assert_int_eq(hat_memload(c, va + 3 * MM_PAGE_SIZE, pp[3], RW_USER), 0);
	ck_assert_int_eq(hat_memload(b, va, pp[0], RW_USER), 0);
	mm_check_all();
	hat_destroy(c);
	hat_destroy(b);
	hat_destroy(a);
}
END_TEST

Suite *hat_limits_suite(void)
{
	Suite *s = suite_create("hat_limits");
	TCase *tc = tcase_create("limits");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_locked_mappings_are_never_stolen);
	tcase_add_test(tc, test_nothing_to_steal_fails_cleanly);
	tcase_add_test(tc, test_busy_table_is_never_stolen_from);
	tcase_add_test(tc, test_busy_table_is_never_pruned);
	tcase_add_test(tc, test_locked_counts_follow_every_change);
	tcase_add_test(tc, test_checker_sees_a_locked_leaf_lost);
	tcase_add_test(tc, test_kernel_window_refuses_managed_pages);
	tcase_add_test(tc, test_kernel_tables_use_the_reserve);
	suite_add_tcase(s, tc);
	tc = tcase_create("past_4g");
	tcase_add_checked_fixture(tc, setup_past_4g, mm_teardown);
	tcase_add_test(tc, test_ram_past_4g);
	suite_add_tcase(s, tc);
	return s;
}
