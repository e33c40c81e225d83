/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: the MM tests' oracle (the checker library over the hosted MM) is live — quiet on a healthy MM, exact on each planted corruption. */
#include <inttypes.h>
#include <string.h>

#include "hosted_check.h"
#include "invariant_names.h"
#include "hat_oplog.h"
#include "mm_test.h"

#define RW_USER (HAT_READ | HAT_WRITE | HAT_USER)
#define SHARED_VA 0x1000ull

static struct hat *spaces[3];
static page_t *shared;

/* A page mapped once in each of three spaces: a list of three hments, none embedded. */
static void share_one_page(void)
{
	shared = mm_test_page();
	for (unsigned i = 0; i < 3; i++) {
		spaces[i] = hat_create();
		ck_assert_ptr_nonnull(spaces[i]);
		hat_memload(spaces[i], SHARED_VA, shared, RW_USER);
	}
	ck_assert_uint_eq(shared->p_share, 3);
	ck_assert_uint_eq(shared->p_embed, 0);
}

/* Asserts the oracle reports `id`, at (space, va, pfn), and nothing else. */
static void expect_only(enum invariant_id id, uint64_t space, uint64_t va, uint64_t pfn)
{
	struct seen s;
	char text[4096];

	hmm_check(&s);
	seen_format(&s, text, sizeof(text));
	ck_assert_msg(s.returned >= 1 && s.returned == s.parsed && s.per_id[id] == s.parsed,
		      "want only %s, the checker returned %u:%s", invariant_name(id), s.returned, text);
	ck_assert_msg(seen_has(&s, id, space, va, pfn), "want %s space=%" PRIu64 " va=0x%" PRIx64
		      " pfn=0x%" PRIx64 ":%s", invariant_name(id), space, va, pfn, text);
}

/* Asserts the oracle reports nothing and did walk the MM it was shown. */
static void expect_quiet(uint64_t min_mappings, uint64_t min_hments)
{
	struct seen s;
	char text[4096];

	hmm_check(&s);
	seen_format(&s, text, sizeof(text));
	ck_assert_msg(s.returned == 0 && s.parsed == 0, "%u violations:%s", s.returned, text);
	ck_assert_uint_ge(s.stats.spaces, 4);   /* hat_kas and the three of share_one_page */
	ck_assert_uint_ge(s.stats.mappings, min_mappings);
	ck_assert_uint_ge(s.stats.hments, min_hments);
}

START_TEST(test_healthy_is_quiet)
{
	page_t *big = page_alloc_large(PG_USER);

	share_one_page();
	ck_assert_ptr_nonnull(big);
	hat_memload(spaces[0], 0x40000000, big, RW_USER | HAT_LARGE);
	hat_memload(spaces[1], 0x7f0000000000ull, mm_test_page(), RW_USER);
	hat_unload(spaces[2], SHARED_VA, MM_PAGE_SIZE);
	expect_quiet(4, 2);   /* two shared, one 2 MiB, one far page; hat_kas leaves untracked */
}
END_TEST

/* The catalogue's PT_RSVD: G is no reserved bit in a leaf (the old hand-written rules said it was). */
START_TEST(test_global_bit_is_legal)
{
	pte_t *pte;

	share_one_page();
	pte = mm_test_pte(spaces[0], SHARED_VA);
	ck_assert_ptr_nonnull(pte);
	*pte |= PTE_G;
	expect_quiet(3, 3);
	*pte &= ~PTE_G;
}
END_TEST

START_TEST(test_back_link_cleared)
{
	hment_ref_t saved;
	hment_t *second;
	page_t *ptp;

	share_one_page();
	second = hment_at(hment_at(shared->p_mapping)->hm_next);
	ptp = page_from_pfn(second->hm_ptp);
	saved = second->hm_prev;
	second->hm_prev = HMENT_REF_NONE;
	expect_only(INV_RM_LINKS, ptp->p_hat->h_id, ptp_entry_va(ptp, second->hm_entry),
		    shared->p_pagenum);
	second->hm_prev = saved;
}
END_TEST

START_TEST(test_share_count_bumped)
{
	share_one_page();
	shared->p_share++;
	expect_only(INV_RM_SHARE, REPORT_NONE, REPORT_NONE, shared->p_pagenum);
	shared->p_share--;
}
END_TEST

START_TEST(test_valid_count_bumped)
{
	page_t *ptp;
	unsigned level = 1;

	share_one_page();
	ck_assert_ptr_nonnull(segtab_walk(spaces[1], SHARED_VA, &level, &ptp));
	ptp->p_valid++;
	expect_only(INV_PT_VALID_CNT, spaces[1]->h_id, ptp->p_ptva, ptp->p_pagenum);
	ptp->p_valid--;
}
END_TEST

/* A lock left held, written directly: taking it through the MM would assert on the owner. */
START_TEST(test_mlist_lock_held)
{
	struct mm_lock *l;

	share_one_page();
	l = &hment_mlist_locks[hment_mlist_lock_index(shared->p_pagenum)].ll_lock;
	l->ml_locked = 1;
	l->ml_owner = 1;
	expect_only(INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE);
	*l = (struct mm_lock){ 0 };
}
END_TEST

extern struct mm_lock hat_list_lock;   /* hat.c's, exported for the checker (mm_structs.h) */

/* Every MM lock, not only the hashed ones: each left held alone is reported (LK_QUIESCENT). */
START_TEST(test_every_lock_held)
{
	struct mm_lock *locks[5];

	share_one_page();
	locks[0] = &spaces[1]->h_lock;
	locks[1] = &hment_reserve.hr_lock;
	locks[2] = &segtab_ptp_cache.pc_lock;
	locks[3] = &page_pool.lock;
	locks[4] = &hat_list_lock;
	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++) {
		*locks[i] = (struct mm_lock){ .ml_locked = 1, .ml_owner = 1 };
		expect_only(INV_LK_QUIESCENT, i == 0 ? spaces[1]->h_id : REPORT_NONE, REPORT_NONE, REPORT_NONE);
		*locks[i] = (struct mm_lock){ 0 };
	}
}
END_TEST

/* A user-half non-leaf entry without W (or with NX): the leaf no longer decides (PT_NONLEAF). */
START_TEST(test_nonleaf_bits)
{
	pte_t *e;

	share_one_page();
	e = &ptp_table(spaces[0]->h_top)[MM_VA_INDEX(SHARED_VA, 4)];
	*e &= ~PTE_W;
	expect_only(INV_PT_NONLEAF, spaces[0]->h_id, 0, pte_pfn(*e));
	*e |= PTE_W | PTE_NX;
	expect_only(INV_PT_NONLEAF, spaces[0]->h_id, 0, pte_pfn(*e));
	*e &= ~PTE_NX;
}
END_TEST

/*
 * A caller asks for one mapping of the shared page write-through, the
 * others write-back: the HAT did what it was asked (the model agrees),
 * but the page now has two memory types (PT_MEMTYPE). Reported at the
 * mapping the walk meets last: hat_list holds the newest space first.
 */
START_TEST(test_memtype_disagrees)
{
	share_one_page();
	hat_memload(spaces[0], SHARED_VA, shared, RW_USER | HAT_WRITETHRU);
	expect_only(INV_PT_MEMTYPE, spaces[0]->h_id, SHARED_VA, shared->p_pagenum);
	hat_memload(spaces[0], SHARED_VA, shared, RW_USER);
}
END_TEST

/* A space's leaf count off by one either way (ST_NMAP). */
START_TEST(test_leaf_count_off)
{
	share_one_page();
	spaces[1]->h_nmap4k++;
	expect_only(INV_ST_NMAP, spaces[1]->h_id, REPORT_NONE, REPORT_NONE);
	spaces[1]->h_nmap4k -= 2;
	expect_only(INV_ST_NMAP, spaces[1]->h_id, REPORT_NONE, REPORT_NONE);
	spaces[1]->h_nmap4k++;
	spaces[1]->h_nmap2m++;
	expect_only(INV_ST_NMAP, spaces[1]->h_id, REPORT_NONE, REPORT_NONE);
	spaces[1]->h_nmap2m--;
}
END_TEST

/* A page on a free list not marked free, and a free count that is not the lists' (PG_FREE_COUNT). */
START_TEST(test_free_list_books)
{
	struct page_block *blk;
	page_t *pp;

	share_one_page();
	blk = &page_pool.blocks[page_pool.head[BL_PARTIAL] != BLK_NIL ? page_pool.head[BL_PARTIAL] :
									  page_pool.head[BL_FULL]];
	pp = blk->free;
	ck_assert_ptr_nonnull(pp);
	pp->p_kind = PG_KERNEL;
	expect_only(INV_PG_FREE_COUNT, REPORT_NONE, REPORT_NONE, pp->p_pagenum);
	pp->p_kind = PG_FREE;
	blk->nfree--;
	expect_only(INV_PG_FREE_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE);
	blk->nfree++;
}
END_TEST

/* Pages in use miscounted, and a cap exceeded (PG_INUSE). */
START_TEST(test_inuse_books)
{
	share_one_page();
	page_pool.ninuse--;
	expect_only(INV_PG_INUSE, REPORT_NONE, REPORT_NONE, REPORT_NONE);
	page_pool.ninuse++;
	page_pool.limit = page_pool.ninuse - 1;
	expect_only(INV_PG_INUSE, REPORT_NONE, REPORT_NONE, REPORT_NONE);
	page_pool.limit = PAGE_LIMIT_NONE;
}
END_TEST

/* The steal index (RM_LISTED): a listed page's bit cleared; each summary bit above it cleared. */
START_TEST(test_steal_index_books)
{
	uint64_t pfn;

	share_one_page();
	pfn = shared->p_pagenum;
	ck_assert(hment_listed.level[0][pfn >> 6] & (1ull << (pfn & 63)));
	hment_listed.level[0][pfn >> 6] &= ~(1ull << (pfn & 63));
	expect_only(INV_RM_LISTED, REPORT_NONE, REPORT_NONE, pfn);
	hment_listed.level[0][pfn >> 6] |= 1ull << (pfn & 63);
	for (unsigned i = 1; i < LISTED_LEVELS; i++) {
		uint64_t entry = pfn >> listed_bit_shift(i), bit = 1ull << (entry & 63);

		ck_assert(hment_listed.level[i][entry >> 6] & bit);
		hment_listed.level[i][entry >> 6] ^= bit;
		expect_only(INV_RM_LISTED, REPORT_NONE, REPORT_NONE, entry << listed_bit_shift(i));
		hment_listed.level[i][entry >> 6] ^= bit;
	}
}
END_TEST

/* The table-page cache over its maximum (ST_FREE_ZERO); lowering the maximum trims it. */
START_TEST(test_cache_over_max)
{
	share_one_page();
	hat_destroy(spaces[2]);
	spaces[2] = NULL;
	ck_assert_uint_gt(segtab_ptp_cache.pc_count, 1);
	segtab_ptp_cache.pc_max = segtab_ptp_cache.pc_count - 1;
	expect_only(INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, REPORT_NONE);
	segtab_set_cache_max(1);
	ck_assert_uint_eq(segtab_ptp_cache.pc_count, 1);
	mm_check_all();
}
END_TEST

/* The model (MD_*): a leaf whose bits differ from what was asked (W dropped; PCD where PWT was asked). */
START_TEST(test_model_wrong_bits)
{
	page_t *wt = mm_test_page();
	pte_t *pte, saved;

	share_one_page();
	hat_memload(spaces[1], 0x9000, wt, RW_USER | HAT_WRITETHRU);
	mm_check_all();
	pte = mm_test_pte(spaces[0], SHARED_VA);
	saved = *pte;
	*pte &= ~PTE_W;
	expect_only(INV_MD_ATTR, spaces[0]->h_id, SHARED_VA, shared->p_pagenum);
	*pte = saved;
	pte = mm_test_pte(spaces[1], 0x9000);
	saved = *pte;
	*pte = (*pte & ~PTE_PWT) | PTE_PCD;
	expect_only(INV_MD_ATTR, spaces[1]->h_id, 0x9000, wt->p_pagenum);
	*pte = saved;
}
END_TEST

/* A leaf no operation asked for (an unmanaged frame, so no list expects it). */
START_TEST(test_model_extra_leaf)
{
	pte_t *pte;
	page_t *ptp;
	unsigned level = 1;

	share_one_page();
	ck_assert_ptr_nonnull(segtab_walk(spaces[0], SHARED_VA, &level, &ptp));
	pte = mm_test_pte(spaces[0], SHARED_VA + MM_PAGE_SIZE);
	ck_assert_uint_eq(*pte, 0);
	*pte = (0x10ull << MM_PAGE_SHIFT) | PTE_P | PTE_W | PTE_U | PTE_NX;
	ptp->p_valid++;
	spaces[0]->h_nmap4k++;
	expect_only(INV_MD_EXTRA, spaces[0]->h_id, SHARED_VA + MM_PAGE_SIZE, 0x10);
	*pte = 0;
	ptp->p_valid--;
	spaces[0]->h_nmap4k--;
}
END_TEST

/*
 * A pageunload of a page inside a 2 MiB mapping that logged its page's
 * own mappings and took none of the 2 MiB ones (no HAT_LARGE record):
 * tables and model agree the 2 MiB mapping is there, but it was made
 * before the pageunload, which should have taken it. A 2 MiB mapping
 * made after such a record is no finding, and a real pageunload's two
 * records leave nothing to find.
 */
START_TEST(test_model_pageunload_left_large)
{
	page_t *big = page_alloc_large(PG_USER);
	struct hat *h = hat_create();
	uint64_t va = 0x40000000ull;
	struct hat_op lone = { .o_kind = HOP_PAGEUNLOAD };

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(hat_memload(h, va, big, RW_USER | HAT_LARGE), 0);
	mm_check_all();
	lone.o_pfn = big[7].p_pagenum;
	hat_oplog_append_n(&lone, 1);
	expect_only(INV_MD_EXTRA, REPORT_NONE, REPORT_NONE, big[7].p_pagenum);
	hat_unload(h, va, MM_LARGE_SIZE);
	lone.o_pfn = big[9].p_pagenum;
	hat_oplog_append_n(&lone, 1);
	ck_assert_int_eq(hat_memload(h, va, big, RW_USER | HAT_LARGE), 0);
	mm_check_all();
	ck_assert_uint_eq(hat_pageunload(big + 9), 1);
	mm_check_all();
	hat_destroy(h);
	page_free_large(big);
}
END_TEST

/*
 * A mapping that vanished with every structure kept consistent (PTE,
 * valid count, embedded record, space count): only the model knows it
 * was asked for.
 */
START_TEST(test_model_missing_mapping)
{
	page_t *pp, *ptp;
	unsigned level = 1;
	pte_t *pte, saved;

	share_one_page();
	pp = mm_test_page();
	hat_memload(spaces[2], 0x5000, pp, RW_USER);
	mm_check_all();
	ck_assert_ptr_nonnull(pte = segtab_walk(spaces[2], 0x5000, &level, &ptp));
	ck_assert_uint_eq(pp->p_embed, 1);
	saved = *pte;
	*pte = 0;
	ptp->p_valid--;
	pp->p_embed = 0;
	pp->p_mapping = 0;
	pp->p_mlentry = 0;
	spaces[2]->h_nmap4k--;
	expect_only(INV_MD_MISSING, spaces[2]->h_id, 0x5000, pp->p_pagenum);
	*pte = saved;
	ptp->p_valid++;
	pp->p_embed = 1;
	pp->p_mapping = ptp->p_pagenum;
	pp->p_mlentry = (uint16_t)pte_index(pte);
	spaces[2]->h_nmap4k++;
}
END_TEST

/* hat_getmapcnt's logged answers: right ones pass (a subpage under two 2 MiB mappings), a wrong one is MD_RESULT. */
START_TEST(test_model_mapcnt_answer)
{
	page_t *big = page_alloc_large(PG_USER);

	share_one_page();
	ck_assert_ptr_nonnull(big);
	hat_memload(spaces[0], 0x40000000, big, RW_USER | HAT_LARGE);
	hat_memload(spaces[1], 0x40000000, big, RW_USER | HAT_LARGE);
	hat_memload(spaces[1], 0x9000, big + 7, RW_USER);
	mm_check_all();
	ck_assert_uint_eq(hat_getmapcnt(big + 7), 3);
	ck_assert_uint_eq(hat_getmapcnt(big), 2);
	ck_assert_uint_eq(hat_getmapcnt(shared), 3);
	expect_quiet(6, 3);
	hat_oplog_append((struct hat_op){ .o_kind = HOP_MAPCNT, .o_pfn = shared->p_pagenum, .o_result = 2 });
	expect_only(INV_MD_RESULT, REPORT_NONE, REPORT_NONE, shared->p_pagenum);
}
END_TEST

/* page_free_large's record: the whole block back passes; a record of fewer pages is PG_INUSE. */
START_TEST(test_model_free_large_record)
{
	page_t *big = page_alloc_large(PG_USER);

	share_one_page();
	ck_assert_ptr_nonnull(big);
	mm_check_all();
	page_free_large(big);
	expect_quiet(3, 3);
	hat_oplog_append((struct hat_op){ .o_kind = HOP_FREE_LARGE, .o_pfn = big->p_pagenum,
					  .o_result = MM_LARGE_PAGES - 1 });
	expect_only(INV_PG_INUSE, REPORT_NONE, REPORT_NONE, big->p_pagenum);
}
END_TEST

/*
 * Records past what a CPU's lane holds: the oldest give way, counted
 * lost (the lane's l_drained moves up with them), and the host reports
 * the drop once (MD_LOG).
 */
START_TEST(test_log_overflow_is_counted)
{
	struct hat_op nop = { .o_kind = HOP_MAPCNT, .o_result = 3 };
	struct hat_oplog_lane *lane = hat_oplog_lane(0);
	uint64_t lost = hat_oplog.ol_lost, undrained;

	share_one_page();
	expect_quiet(3, 3);
	nop.o_pfn = shared->p_pagenum;
	undrained = lane->l_next - lane->l_drained;
	for (unsigned i = 0; i < hat_oplog.ol_size + 5; i++)
		hat_oplog_append(nop);
	ck_assert_uint_eq(hat_oplog.ol_lost - lost, undrained + 5);
	ck_assert_uint_eq(lane->l_next - lane->l_drained, hat_oplog.ol_size);
	expect_only(INV_MD_LOG, REPORT_NONE, (uint64_t)(uintptr_t)&hat_oplog, REPORT_NONE);
}
END_TEST

/* A leaf the CPU could not have left: dirty, not accessed. */
START_TEST(test_dirty_not_accessed)
{
	pte_t *pte;

	share_one_page();
	pte = mm_test_pte(spaces[0], SHARED_VA);
	*pte |= PTE_A | PTE_D;
	expect_quiet(3, 3);
	*pte &= ~PTE_A;
	shared->p_attr |= PG_ATTR_REF;   /* the A it had is not lost (MD_AD) */
	expect_only(INV_PT_DIRTY_ACCESSED, spaces[0]->h_id, SHARED_VA, shared->p_pagenum);
	*pte |= PTE_A;
}
END_TEST

/* A log whose counters cannot be the MM's: reported, and the next check starts the model again. */
START_TEST(test_model_log_counters)
{
	uint64_t saved;

	share_one_page();
	saved = hat_oplog.ol_drained;
	hat_oplog.ol_drained = hat_oplog.ol_next + 1;
	expect_only(INV_MD_LOG, REPORT_NONE, (uintptr_t)&hat_oplog, REPORT_NONE);
	hat_oplog.ol_drained = saved;
}
END_TEST

Suite *oracle_suite(void)
{
	Suite *s = suite_create("oracle");
	TCase *tc = tcase_create("checker");

	/* mm_teardown checks again: each test's repair must leave the MM clean */
	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_healthy_is_quiet);
	tcase_add_test(tc, test_global_bit_is_legal);
	tcase_add_test(tc, test_back_link_cleared);
	tcase_add_test(tc, test_share_count_bumped);
	tcase_add_test(tc, test_valid_count_bumped);
	tcase_add_test(tc, test_mlist_lock_held);
	tcase_add_test(tc, test_model_wrong_bits);
	tcase_add_test(tc, test_model_extra_leaf);
	tcase_add_test(tc, test_model_missing_mapping);
	tcase_add_test(tc, test_model_log_counters);
	tcase_add_test(tc, test_model_mapcnt_answer);
	tcase_add_test(tc, test_model_free_large_record);
	tcase_add_test(tc, test_log_overflow_is_counted);
	tcase_add_test(tc, test_dirty_not_accessed);
	tcase_add_test(tc, test_every_lock_held);
	tcase_add_test(tc, test_nonleaf_bits);
	tcase_add_test(tc, test_memtype_disagrees);
	tcase_add_test(tc, test_leaf_count_off);
	tcase_add_test(tc, test_free_list_books);
	tcase_add_test(tc, test_inuse_books);
	tcase_add_test(tc, test_steal_index_books);
	tcase_add_test(tc, test_cache_over_max);
	tcase_add_test(tc, test_model_pageunload_left_large);
	suite_add_tcase(s, tc);
	return s;
}
