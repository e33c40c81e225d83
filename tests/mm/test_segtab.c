/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: segtab reserve / walk / process / prune / destroy, the zero-checked table cache, the CAS-loser path. */
#include <string.h>

#include "mm_test.h"

#define VA_LOW  0x0000000000400000ull   /* PML4 0 */
#define VA_HIGH 0x00007f0000001000ull   /* PML4 254 */

/* PML4 entries present in the kernel's top table (direct map, KMAP, image). */
static unsigned kernel_entries(void)
{
	return hat_kas.h_top->p_valid;
}

START_TEST(test_reserve_and_walk)
{
	struct hat *h = hat_create();
	page_t *p1, *p2, *w;
	pte_t *e1, *e2, *again;
	unsigned level = 1;

	ck_assert_uint_eq(h->h_nptp, 1);
	ck_assert_uint_eq(h->h_top->p_valid, kernel_entries());
	ck_assert_ptr_null(mm_test_pte(h, VA_LOW));
	e1 = segtab_reserve(h, VA_LOW, 1, &p1);
	e2 = segtab_reserve(h, VA_HIGH, 1, &p2);
	ck_assert_ptr_nonnull(e1);
	ck_assert_ptr_nonnull(e2);
	ck_assert_uint_eq(h->h_nptp, 7);   /* top + PDPT/PD/PT for each */
	ck_assert_uint_eq(h->h_top->p_valid, kernel_entries() + 2);
	ck_assert_uint_eq(p1->p_level, 1);
	ck_assert_ptr_eq(p1->p_hat, h);
	ck_assert_uint_eq(p1->p_ptva, VA_LOW & ~(MM_LARGE_SIZE - 1));
	ck_assert_uint_eq(p2->p_ptva, VA_HIGH & ~(MM_LARGE_SIZE - 1));
	ck_assert_uint_eq(pte_index(e1), MM_VA_INDEX(VA_LOW, 1));
	ck_assert_uint_eq(ptp_entry_va(p2, pte_index(e2)), VA_HIGH);
	/* walking finds the same entries; reserving again allocates nothing */
	again = segtab_walk(h, VA_LOW, &level, &w);
	ck_assert_ptr_eq(again, e1);
	ck_assert_ptr_eq(w, p1);
	ck_assert_ptr_eq(segtab_reserve(h, VA_LOW + MM_PAGE_SIZE, 1, &w), e1 + 1);
	ck_assert_uint_eq(h->h_nptp, 7);
	/* a 2 MiB slot next door needs only the PD */
	ck_assert_ptr_nonnull(segtab_reserve(h, VA_LOW + MM_LARGE_SIZE, 2, &w));
	ck_assert_uint_eq(w->p_level, 2);
	ck_assert_uint_eq(h->h_nptp, 7);
	ck_assert_ptr_null(mm_test_pte(h, 0x40000000ull));   /* another PD: hole */
	/* tables exist but hold no leaves: pruning frees all of them */
	segtab_free_list(segtab_prune(h, 0, USER_TOP));
	ck_assert_uint_eq(h->h_nptp, 1);
	ck_assert_uint_eq(h->h_top->p_valid, kernel_entries());
	hat_destroy(h);
}
END_TEST

struct visits {
	unsigned calls;
	uint64_t va[8], eva[8];
	unsigned level[8];
};

static void record(struct hat *h, page_t *ptp, unsigned level, uint64_t va, uint64_t eva, void *arg)
{
	struct visits *v = arg;

	(void)h;
	ck_assert_uint_eq(ptp->p_level, level);
	if (v->calls < 8) {
		v->va[v->calls] = va;
		v->eva[v->calls] = eva;
		v->level[v->calls] = level;
	}
	v->calls++;
}

START_TEST(test_process_skips_holes)
{
	struct hat *h = hat_create();
	struct visits v = { 0 };
	page_t *ptp;

	segtab_reserve(h, 0x1000, 1, &ptp);
	segtab_reserve(h, 0x40201000ull, 1, &ptp);        /* other PD */
	segtab_reserve(h, VA_HIGH, 1, &ptp);              /* other PML4 slot */
	segtab_process(h, 0, USER_TOP, record, &v);
	ck_assert_uint_eq(v.calls, 3);
	ck_assert_uint_eq(v.va[0], 0);
	ck_assert_uint_eq(v.eva[0], MM_LARGE_SIZE);
	ck_assert_uint_eq(v.va[1], 0x40200000ull);
	ck_assert_uint_eq(v.eva[1], 0x40400000ull);
	ck_assert_uint_eq(v.va[2], VA_HIGH & ~(MM_LARGE_SIZE - 1));
	ck_assert_uint_eq(v.level[2], 1);
	/* a range inside one table is clipped to the range */
	memset(&v, 0, sizeof(v));
	segtab_process(h, 0x3000, 0x9000, record, &v);
	ck_assert_uint_eq(v.calls, 1);
	ck_assert_uint_eq(v.va[0], 0x3000);
	ck_assert_uint_eq(v.eva[0], 0x9000);
	/* a range over holes only calls nothing */
	memset(&v, 0, sizeof(v));
	segtab_process(h, MM_LARGE_SIZE, 0x40000000ull, record, &v);
	ck_assert_uint_eq(v.calls, 0);
	segtab_free_list(segtab_prune(h, 0, USER_TOP));
	hat_destroy(h);
}
END_TEST

START_TEST(test_process_large_leaf)
{
	struct hat *h = hat_create();
	page_t *big = page_alloc_large(PG_USER);
	struct visits v = { 0 };

	ck_assert_int_eq(hat_memload(h, 0x600000, big, HAT_READ | HAT_LARGE | HAT_USER), 0);
	segtab_process(h, 0x601000, 0x7ff000, record, &v);
	ck_assert_uint_eq(v.calls, 1);
	ck_assert_uint_eq(v.level[0], 2);
	ck_assert_uint_eq(v.va[0], 0x601000);
	ck_assert_uint_eq(v.eva[0], 0x7ff000);
	hat_unload(h, 0x600000, MM_LARGE_SIZE);
	hat_destroy(h);
}
END_TEST

START_TEST(test_destroy_frees_to_cache_zeroed)
{
	struct hat *h = hat_create();
	uint64_t cached = segtab_ptp_cache.pc_count, freed = segtab_stats.ptp_freed;
	page_t *ptp;

	for (uint64_t va = 0; va < 8 * MM_LARGE_SIZE; va += MM_LARGE_SIZE)
		segtab_reserve(h, va, 1, &ptp);
	ck_assert_uint_eq(h->h_nptp, 1 + 2 + 8);
	hat_destroy(h);
	ck_assert_uint_eq(segtab_stats.ptp_freed, freed + 11);
	ck_assert_uint_eq(segtab_ptp_cache.pc_count, cached + 11);
	/* the next address space reuses cached pages, checked zero again */
	h = hat_create();
	ck_assert_uint_eq(segtab_ptp_cache.pc_count, cached + 10);
	ck_assert_uint_eq(h->h_top->p_kind, PG_PTP);
	hat_destroy(h);
	segtab_cache_drain();
	ck_assert_uint_eq(segtab_ptp_cache.pc_count, 0);
	ck_assert_uint_eq(mm_count_kind(PG_CACHE), 0);
}
END_TEST

START_TEST(test_cache_max)
{
	struct hat *h = hat_create();
	uint64_t inuse;
	page_t *ptp;

	segtab_cache_drain();
	segtab_set_cache_max(0);
	segtab_reserve(h, 0x1000, 1, &ptp);
	inuse = page_ninuse();
	segtab_free_list(segtab_prune(h, 0, USER_TOP));
	ck_assert_uint_eq(page_ninuse(), inuse - 3);
	ck_assert_uint_eq(segtab_ptp_cache.pc_count, 0);
	hat_destroy(h);
}
END_TEST

static void free_dirty(void *arg)
{
	segtab_ptp_free(arg);
}

START_TEST(test_dirty_table_free_panics)
{
	struct hat *h = hat_create();
	page_t *ptp = segtab_ptp_alloc(h, 1, 0x1000);

	ptp_table(ptp)[7] = 0x1234007;
	ck_assert_panics(free_dirty, ptp, "ASSERT ST_FREE_ZERO failed");
	ck_assert_ptr_nonnull(strstr(mm_hosted_panic_msg, "entry 7"));
}
END_TEST

static void destroy(void *arg)
{
	hat_destroy(arg);
}

START_TEST(test_destroy_with_stray_entry_panics)
{
	struct hat *h = hat_create();
	page_t *ptp;
	pte_t *pte = segtab_reserve(h, 0x5000, 1, &ptp);

	/* junk the unload pass skips (not present) and the count never saw */
	*pte = 0x200000;
	ck_assert_panics(destroy, h, "ST_FREE_ZERO");
}
END_TEST

static void alloc_from_cache(void *arg)
{
	page_t *ptp = segtab_ptp_alloc(arg, 1, 0);

	(void)ptp;
}

START_TEST(test_dirty_cached_page_panics_on_reuse)
{
	struct hat *h = hat_create();
	page_t *ptp = segtab_ptp_alloc(h, 1, 0x1000);

	segtab_ptp_free(ptp);
	ck_assert_ptr_eq(segtab_ptp_cache.pc_head, ptp);
	ptp_table(ptp)[100] = 1;   /* corrupted while idle */
	ck_assert_panics(alloc_from_cache, h, "ST_FREE_ZERO");
}
END_TEST

/* The "other CPU": reserves the same va first, then lets the first one finish. */
static pte_t *winner_pte;

static void race(struct hat *h, uint64_t va)
{
	page_t *ptp;

	segtab_race_hook = NULL;
	winner_pte = segtab_reserve(h, va, 1, &ptp);
}

START_TEST(test_cas_loser_returns_its_page)
{
	struct hat *h = hat_create();
	uint64_t lost = segtab_stats.cas_lost;
	uint64_t cached;
	page_t *ptp;
	pte_t *pte;

	segtab_cache_drain();
	cached = segtab_ptp_cache.pc_count;
	segtab_race_hook = race;
	pte = segtab_reserve(h, VA_LOW, 1, &ptp);
	ck_assert_ptr_null(segtab_race_hook);
	ck_assert_ptr_eq(pte, winner_pte);
	ck_assert_uint_eq(segtab_stats.cas_lost, lost + 1);
	ck_assert_uint_eq(segtab_ptp_cache.pc_count, cached + 1);   /* the loser's PDPT */
	ck_assert_uint_eq(h->h_nptp, 4);
	ck_assert_uint_eq(h->h_top->p_valid, kernel_entries() + 1);
	ck_assert_uint_eq(ptp->p_level, 1);
	segtab_free_list(segtab_prune(h, 0, USER_TOP));
	hat_destroy(h);
}
END_TEST

static void reserve_kernel_hole(void *arg)
{
	page_t *ptp;

	(void)arg;
	segtab_reserve(&hat_kas, 0xffffc00000000000ull, 1, &ptp);
}

START_TEST(test_kernel_half_is_never_extended)
{
	ck_assert_panics(reserve_kernel_hole, NULL, "ASSERT PT_KERNEL_HALF failed");
}
END_TEST

/* Entries a scan of [from, to) of ptp yields; examined entries added to *examined. */
static unsigned scan_count(const page_t *ptp, unsigned from, unsigned to, uint64_t *examined)
{
	struct ptp_scan s;
	uint64_t before = segtab_stats.examined;
	unsigned n = 0;
	pte_t v;

	ptp_scan_init(&s, ptp, from, to);
	while (ptp_scan_next(&s, &v) >= 0)
		n++;
	*examined = segtab_stats.examined - before;
	return n;
}

START_TEST(test_scan_sees_only_present_entries)
{
	struct hat *h = hat_create();
	page_t *pt, *pdpt;
	uint64_t ex;

	/* a user PML4 with no user entry: nothing looked at, kernel half not counted */
	ck_assert_uint_eq(scan_count(h->h_top, 0, MM_PML4_KERNEL, &ex), 0);
	ck_assert_uint_eq(ex, 0);
	ck_assert_ptr_nonnull(segtab_reserve(h, 0x1000, 1, &pt));
	ck_assert_ptr_nonnull(segtab_reserve(h, 0x1ff000, 1, &pt));
	*mm_test_pte(h, 0x1000) = PTE_P;
	ptp_valid_inc(pt);
	*mm_test_pte(h, 0x1ff000) = PTE_P;
	ptp_valid_inc(pt);
	ck_assert_uint_eq(scan_count(h->h_top, 0, MM_PML4_KERNEL, &ex), 1);
	ck_assert_uint_eq(ex, 1);
	/* entries 1 and 511: the gap is skipped, both seen */
	ck_assert_uint_eq(scan_count(pt, 0, MM_PTES, &ex), 2);
	ck_assert_uint_eq(ex, 2);
	ck_assert_uint_eq(scan_count(pt, 2, MM_PTES, &ex), 1);
	ck_assert_uint_eq(ex, 1);
	pdpt = page_from_pa(ptp_table(h->h_top)[0] & PTE_FRAME);
	ck_assert_uint_eq(scan_count(pdpt, 1, MM_PTES, &ex), 0);
	ck_assert_uint_eq(ex, 0);
	*mm_test_pte(h, 0x1000) = 0;
	ptp_valid_dec(pt);
	*mm_test_pte(h, 0x1ff000) = 0;
	ptp_valid_dec(pt);
	/* an empty table: nothing looked at */
	ck_assert_uint_eq(scan_count(pt, 0, MM_PTES, &ex), 0);
	ck_assert_uint_eq(ex, 0);
	segtab_free_list(segtab_prune(h, 0, USER_TOP));
	ck_assert_uint_eq(h->h_nptp, 1);
	hat_destroy(h);
}
END_TEST

START_TEST(test_boot_tables)
{
	const pte_t *top = ptp_table(hat_kas.h_top);

	ck_assert(top[MM_VA_INDEX(DIRECT_MAP_BASE, 4)] & PTE_P);
	ck_assert(top[MM_VA_INDEX(KMAP_BASE, 4)] & PTE_P);
	ck_assert(top[MM_VA_INDEX(KERNEL_BASE, 4)] & PTE_P);
	ck_assert_uint_eq(kernel_entries(), 3);
	for (unsigned i = 0; i < MM_PML4_KERNEL; i++)
		ck_assert_uint_eq(top[i], 0);
	/* the direct map went into the boot PML4 as well */
	ck_assert_uint_eq(mm_hosted_log.boot_pml4e_index, MM_PML4_KERNEL);
	ck_assert_uint_eq(mm_hosted_log.boot_pml4e, top[MM_PML4_KERNEL]);
	/* every boot-built table is accounted to the kernel */
	ck_assert_uint_eq(hat_kas.h_nptp, mm_count_kind(PG_PTP));
}
END_TEST

Suite *segtab_suite(void)
{
	Suite *s = suite_create("segtab");
	TCase *tc = tcase_create("tree");
	TCase *tp = tcase_create("panics");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_reserve_and_walk);
	tcase_add_test(tc, test_process_skips_holes);
	tcase_add_test(tc, test_process_large_leaf);
	tcase_add_test(tc, test_destroy_frees_to_cache_zeroed);
	tcase_add_test(tc, test_cache_max);
	tcase_add_test(tc, test_cas_loser_returns_its_page);
	tcase_add_test(tc, test_boot_tables);
	tcase_add_test(tc, test_scan_sees_only_present_entries);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, mm_setup, mm_hosted_shutdown);
	if (MM_ASSERTS_ON) {   /* the MM's own ASSERTs' panics */
		tcase_add_test(tp, test_dirty_table_free_panics);
		tcase_add_test(tp, test_destroy_with_stray_entry_panics);
		tcase_add_test(tp, test_dirty_cached_page_panics_on_reuse);
		tcase_add_test(tp, test_kernel_half_is_never_extended);
	}
	suite_add_tcase(s, tp);
	return s;
}
