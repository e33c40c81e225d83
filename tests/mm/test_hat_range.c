/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the range loads: hat_memload_array and hat_dup load exactly their range, log a record per page, and leave nothing behind when they fail. */
#include <string.h>

#include "hat_oplog.h"
#include "mm_test.h"

#define RW_USER  (HAT_READ | HAT_WRITE | HAT_USER)
#define RO_USER  (HAT_READ | HAT_USER)
#define TABLE    MM_LARGE_SIZE                      /* what one 4 KiB table maps */
#define NPAGES   2048u                              /* more than hat_dup's records per lock hold */

static page_t *pages[NPAGES];

static void fresh_pages(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pages[i] = mm_test_page();
}

static uint64_t pfn_at(struct hat *h, uint64_t va)
{
	return hat_getpfnum(h, va);
}

/* The record with sequence number seq (still in the ring: the tests log far fewer than it holds). */
static const struct hat_op *record(uint64_t seq)
{
	return mm_hosted_log_record(seq);
}

/* Asserts h maps pages[0..n) at va.., as hat_memload maps them with attr, and nothing next to them. */
static void assert_range(struct hat *h, uint64_t va, unsigned n, unsigned attr)
{
	struct hat *ref = hat_create();

	ck_assert_int_eq(hat_memload(ref, va, pages[0], attr), 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t pte = hat_getpte(h, va + i * MM_PAGE_SIZE);

		MM_CHECK(pte_pfn(pte) == pages[i]->p_pagenum, "page %u maps pfn 0x%lx", i,
			 (unsigned long)pte_pfn(pte));
		MM_CHECK((pte & ~PTE_FRAME) == (hat_getpte(ref, va) & ~PTE_FRAME),
			 "page %u has bits 0x%lx", i, (unsigned long)pte);
	}
	ck_assert_uint_eq(pfn_at(h, va - MM_PAGE_SIZE), HAT_PFN_INVALID);
	ck_assert_uint_eq(pfn_at(h, va + n * MM_PAGE_SIZE), HAT_PFN_INVALID);
	hat_destroy(ref);
}

/* Asserts the log holds one HOP_LOAD per page from seq on, for h at va.. with pages[0..n). */
static void assert_records(uint64_t seq, struct hat *h, uint64_t va, unsigned n, unsigned attr)
{
	unsigned loads = 0;

	for (uint64_t s = seq; s < hat_oplog.ol_next; s++) {
		const struct hat_op *op = record(s);

		if (op->o_kind != HOP_LOAD || op->o_space != h->h_id)
			continue;
		MM_CHECK(op->o_va == va + loads * MM_PAGE_SIZE && op->o_pfn == pages[loads]->p_pagenum &&
				 op->o_attr == attr && op->o_result == 0,
			 "record %lu: va 0x%lx pfn 0x%x attr 0x%x result %d", (unsigned long)s,
			 (unsigned long)op->o_va, op->o_pfn, op->o_attr, op->o_result);
		loads++;
	}
	ck_assert_uint_eq(loads, n);
}

/* Unaligned, across a table boundary: 5 pages below 2 MiB, 15 above. */
START_TEST(test_array_loads_exactly_its_range)
{
	struct hat *h = hat_create();
	uint64_t va = TABLE - 5 * MM_PAGE_SIZE, seq = hat_oplog.ol_next;

	fresh_pages(20);
	ck_assert_int_eq(hat_memload_array(h, va, 20 * MM_PAGE_SIZE, pages, RW_USER), 0);
	assert_range(h, va, 20, RW_USER);
	assert_records(seq, h, va, 20, RW_USER);
	ck_assert_uint_eq(h->h_nmap4k, 20);
	ck_assert_uint_eq(h->h_nptp, 5);   /* PML4, PDPT, PD and two tables */
	for (unsigned i = 0; i < 20; i++)
		MM_CHECK(hment_mapcnt(pages[i]) == 1 && (i == 0 || pages[i]->p_embed), "page %u", i);
	mm_check_all();
}
END_TEST

/* A whole 2 MiB-aligned table, in three spaces: embedded, promoted, hment. */
START_TEST(test_array_whole_table_three_times)
{
	struct hat *h[3];
	unsigned level = 1;
	page_t *ptp;

	fresh_pages(MM_PTES);
	for (unsigned s = 0; s < 3; s++) {
		h[s] = hat_create();
		ck_assert_int_eq(hat_memload_array(h[s], 4 * TABLE, TABLE, pages, RO_USER), 0);
		assert_range(h[s], 4 * TABLE, MM_PTES, RO_USER);
	}
	ck_assert_ptr_nonnull(segtab_walk(h[2], 4 * TABLE, &level, &ptp));
	ck_assert_uint_eq(ptp->p_valid, MM_PTES);
	ck_assert_uint_eq(h[2]->h_nmap4k, MM_PTES);
	for (unsigned i = 0; i < MM_PTES; i++)
		MM_CHECK(hment_mapcnt(pages[i]) == 3 && pages[i]->p_share == 3, "page %u", i);
	mm_check_all();
	hat_destroy(h[1]);
	mm_check_all();
}
END_TEST

/* What was in the range goes: other frames, a locked leaf, the same frame, a 2 MiB leaf. */
START_TEST(test_array_replaces_what_was_there)
{
	struct hat *h = hat_create();
	page_t *other = mm_test_page(), *big = page_alloc_large(PG_USER);
	uint64_t va = 6 * TABLE - 8 * MM_PAGE_SIZE;

	ck_assert_ptr_nonnull(big);
	fresh_pages(24);
	ck_assert_int_eq(hat_memload(h, va, other, RW_USER), 0);
	ck_assert_int_eq(hat_memload(h, va + MM_PAGE_SIZE, other, RW_USER | HAT_LOCK), 0);
	ck_assert_int_eq(hat_memload(h, va + 2 * MM_PAGE_SIZE, pages[2], RO_USER), 0);
	ck_assert_int_eq(hat_memload(h, 6 * TABLE, big, RW_USER | HAT_LARGE), 0);
	ck_assert_int_eq(hat_memload_array(h, va, 24 * MM_PAGE_SIZE, pages, RW_USER), 0);
	assert_range(h, va, 24, RW_USER);
	ck_assert_uint_eq(hment_mapcnt(other), 0);
	ck_assert_uint_eq(hment_mapcnt(big), 0);
	ck_assert_uint_eq(h->h_nlocked, 0);
	ck_assert_uint_eq(h->h_nmap2m, 0);
	ck_assert_uint_eq(h->h_nmap4k, 24);
	mm_check_all();
	hat_unload(h, 0, 8 * TABLE);
	page_free_large(big);
}
END_TEST

/* Every later hment must come from a steal: no reserve, the cache capped at what is out now. */
static void hments_exhausted(void)
{
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	hment_set_limit(hment_cache_inuse());
}

/*
 * Out of hments halfway: the first 12 pages are fresh (embedded), the
 * rest already mapped (locked, so nothing can be stolen): the load fails
 * at page 12, in the second table, and takes the first 12 back.
 */
START_TEST(test_array_failure_leaves_nothing)
{
	struct hat *a = hat_create(), *h = hat_create();
	uint64_t va = TABLE - 4 * MM_PAGE_SIZE, seq;

	fresh_pages(20);
	for (unsigned i = 12; i < 20; i++)
		ck_assert_int_eq(hat_memload(a, 0x1000 + i * MM_PAGE_SIZE, pages[i], RW_USER | HAT_LOCK), 0);
	hments_exhausted();
	seq = hat_oplog.ol_next;
	ck_assert_int_eq(hat_memload_array(h, va, 20 * MM_PAGE_SIZE, pages, RW_USER), HAT_ERR_NOMEM);
	for (unsigned i = 0; i < 20; i++) {
		MM_CHECK(pfn_at(h, va + i * MM_PAGE_SIZE) == HAT_PFN_INVALID, "page %u still mapped", i);
		MM_CHECK(hment_mapcnt(pages[i]) == (i >= 12), "page %u", i);
	}
	ck_assert_uint_eq(h->h_nptp, 1);
	ck_assert_uint_eq(h->h_nmap4k, 0);
	/* 12 loads, the failed one, then the unload of [va, page 12] */
	ck_assert_uint_eq(record(seq + 12)->o_kind, HOP_LOAD);
	ck_assert_int_eq(record(seq + 12)->o_result, -1);
	ck_assert_uint_eq(record(seq + 12)->o_va, va + 12 * MM_PAGE_SIZE);
	ck_assert_uint_eq(record(seq + 13)->o_kind, HOP_UNLOAD);
	ck_assert_uint_eq(record(seq + 13)->o_len, 13 * MM_PAGE_SIZE);
	mm_check_all();
}
END_TEST

/* No page for a table: nothing mapped, no table left. */
START_TEST(test_array_no_table_page)
{
	struct hat *h = hat_create();

	fresh_pages(8);
	page_set_limit(page_ninuse());
	ck_assert_int_eq(hat_memload_array(h, 3 * TABLE, 8 * MM_PAGE_SIZE, pages, RW_USER),
			 HAT_ERR_NOMEM);
	page_set_limit(PAGE_LIMIT_NONE);
	ck_assert_uint_eq(pfn_at(h, 3 * TABLE), HAT_PFN_INVALID);
	ck_assert_uint_eq(h->h_nptp, 1);
	for (unsigned i = 0; i < 8; i++)
		MM_CHECK(hment_mapcnt(pages[i]) == 0, "page %u", i);
	mm_check_all();
}
END_TEST

/*
 * The records of a dup of [0, len) from seq on: a load per leaf copied,
 * and after each lock hold's loads its HOP_DUP, the holds' ranges tiling
 * [0, len) in order and their counts adding up to the leaves.
 */
static void expect_dup_records(uint64_t seq, const struct hat *dst, const struct hat *src, uint64_t len,
			       unsigned leaves)
{
	uint64_t at = 0, loads = 0, held = 0, copied = 0;

	for (uint64_t s = seq; s < hat_oplog.ol_next; s++) {
		const struct hat_op *op = record(s);

		MM_CHECK(op->o_space == dst->h_id, "record %lu", (unsigned long)s);
		if (op->o_kind == HOP_LOAD) {
			loads++;
			held++;
			continue;
		}
		MM_CHECK(op->o_kind == HOP_DUP && op->o_pfn == src->h_id && op->o_va == at &&
			 op->o_result == (int32_t)held && op->o_attr == RO_USER, "record %lu", (unsigned long)s);
		at += op->o_len;
		copied += held;
		held = 0;
	}
	ck_assert_uint_eq(at, len);
	ck_assert_uint_eq(held, 0);
	ck_assert_uint_eq(loads, leaves);
	ck_assert_uint_eq(copied, leaves);
}

/*
 * A sparse src over several tables, a 2 MiB leaf and an uncached leaf
 * among them, more leaves than one lock hold logs: dst gets exactly the
 * same frames, read-only, the memory type kept.
 */
START_TEST(test_dup_copies_present_leaves)
{
	struct hat *src = hat_create(), *dst = hat_create();
	page_t *big = page_alloc_large(PG_USER);
	uint64_t base = 0x40000000ull - 100 * MM_PAGE_SIZE, seq;
	unsigned n = 0;

	ck_assert_ptr_nonnull(big);
	fresh_pages(NPAGES);
	for (unsigned i = 0; i < NPAGES; i += 1 + (i % 3 == 0), n++)
		MM_CHECK(hat_memload(src, base + i * MM_PAGE_SIZE, pages[i], RW_USER) == 0, "page %u", i);
	ck_assert_int_eq(hat_memload(src, 0x40000000ull + 4 * TABLE, big, RW_USER | HAT_LARGE), 0);
	ck_assert_int_eq(hat_memload(src, base - 0x10000, mm_test_page(), RW_USER | HAT_NOCACHE), 0);
	seq = hat_oplog.ol_next;
	ck_assert_int_eq(hat_dup(dst, src, 0, 0x80000000ull, RO_USER), 0);
	expect_dup_records(seq, dst, src, 0x80000000ull, n + 2);
	for (unsigned i = 0; i < NPAGES; i++) {
		uint64_t va = base + i * MM_PAGE_SIZE, want = hat_getpfnum(src, va);

		MM_CHECK(hat_getpfnum(dst, va) == want, "page %u", i);
		MM_CHECK(want == HAT_PFN_INVALID || !(hat_getpte(dst, va) & PTE_W), "page %u writable", i);
	}
	ck_assert(hat_getpte(dst, base - 0x10000) & PTE_PCD);
	ck_assert(hat_getpte(dst, 0x40000000ull + 4 * TABLE) & PTE_PS);
	ck_assert_uint_eq(dst->h_nmap4k, n + 1);
	ck_assert_uint_eq(dst->h_nmap2m, 1);
	ck_assert_uint_eq(hment_mapcnt(big), 2);
	mm_check_all();
	hat_destroy(dst);
	hat_destroy(src);
	page_free_large(big);
}
END_TEST

/* Over the whole user half, a src of three far-apart pages: the holes are skipped, the three copied. */
START_TEST(test_dup_sparse_whole_space)
{
	static const uint64_t at[] = { 0x1000, 1ull << 40, USER_TOP - MM_PAGE_SIZE };
	struct hat *src = hat_create(), *dst = hat_create();

	fresh_pages(3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(hat_memload(src, at[i], pages[i], RW_USER), 0);
	ck_assert_int_eq(hat_dup(dst, src, 0, USER_TOP, RO_USER), 0);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(hat_getpfnum(dst, at[i]), pages[i]->p_pagenum);
	ck_assert_uint_eq(dst->h_nmap4k, 3);
	ck_assert_uint_eq(dst->h_nptp, src->h_nptp);
	mm_check_all();
}
END_TEST

/* The race below: the space being filled, and the pages another CPU unloads meanwhile. */
static struct hat *race_dst;
static page_t *race_small, *race_big;

/*
 * Runs where hat_dup makes dst's tables, after it read src's leaves and
 * before it copies them: the moment another CPU's hat_pageunload could
 * come (the hook sees the table's va: the 2 MiB page goes when its own
 * table is made).
 */
static void pageunload_mid_dup(struct hat *h, uint64_t va)
{
	if (h == race_dst)
		hat_pageunload(va >= 0x40000000ull ? race_big : race_small);
}

/*
 * A pageunload that lands while hat_dup copies the page: once it has
 * returned, the page is mapped nowhere, the copy included (the dup
 * checks its source leaf under the page's list lock); its log records
 * say nothing was loaded there, and the model agrees.
 */
START_TEST(test_dup_races_a_pageunload)
{
	struct hat *src = hat_create(), *dst = hat_create();
	uint64_t big_va = 0x40000000ull;

	fresh_pages(4);
	race_big = page_alloc_large(PG_USER);
	ck_assert_ptr_nonnull(race_big);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(hat_memload(src, 0x1000 + i * MM_PAGE_SIZE, pages[i], RW_USER), 0);
	ck_assert_int_eq(hat_memload(src, big_va, race_big, RW_USER | HAT_LARGE), 0);
	race_dst = dst;
	race_small = pages[2];
	segtab_race_hook = pageunload_mid_dup;
	ck_assert_int_eq(hat_dup(dst, src, 0, 2 * big_va, RO_USER), 0);
	segtab_race_hook = NULL;
	ck_assert_uint_eq(hment_mapcnt(pages[2]), 0);
	ck_assert_uint_eq(hment_mapcnt(race_big), 0);
	ck_assert_uint_eq(hat_getpfnum(dst, 0x3000), HAT_PFN_INVALID);
	ck_assert_uint_eq(hat_getpfnum(dst, big_va), HAT_PFN_INVALID);
	for (unsigned i = 0; i < 4; i += 1 + (i == 1))
		ck_assert_uint_eq(hat_getpfnum(dst, 0x1000 + i * MM_PAGE_SIZE), pages[i]->p_pagenum);
	ck_assert_uint_eq(dst->h_nmap4k, 3);
	ck_assert_uint_eq(dst->h_nmap2m, 0);
	mm_check_all();
	hat_destroy(dst);
	hat_destroy(src);
	page_free_large(race_big);
}
END_TEST

/* Out of hments: dst is left with nothing, src as it was. */
START_TEST(test_dup_failure_leaves_nothing)
{
	struct hat *src = hat_create(), *dst = hat_create();

	fresh_pages(40);
	for (unsigned i = 0; i < 40; i++)
		ck_assert_int_eq(hat_memload(src, TABLE - 20 * MM_PAGE_SIZE + i * MM_PAGE_SIZE, pages[i],
					     RW_USER | HAT_LOCK), 0);
	hments_exhausted();
	ck_assert_int_eq(hat_dup(dst, src, 0, 4 * TABLE, RO_USER), HAT_ERR_NOMEM);
	ck_assert_uint_eq(dst->h_nptp, 1);
	ck_assert_uint_eq(dst->h_nmap4k, 0);
	ck_assert_uint_eq(src->h_nmap4k, 40);
	for (unsigned i = 0; i < 40; i++)
		MM_CHECK(hment_mapcnt(pages[i]) == 1, "page %u", i);
	mm_check_all();
}
END_TEST

Suite *hat_range_suite(void)
{
	Suite *s = suite_create("hat_range");
	TCase *tc = tcase_create("range");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_array_loads_exactly_its_range);
	tcase_add_test(tc, test_array_whole_table_three_times);
	tcase_add_test(tc, test_array_replaces_what_was_there);
	tcase_add_test(tc, test_array_failure_leaves_nothing);
	tcase_add_test(tc, test_array_no_table_page);
	tcase_add_test(tc, test_dup_copies_present_leaves);
	tcase_add_test(tc, test_dup_sparse_whole_space);
	tcase_add_test(tc, test_dup_failure_leaves_nothing);
	tcase_add_test(tc, test_dup_races_a_pageunload);
	suite_add_tcase(s, tc);
	return s;
}
