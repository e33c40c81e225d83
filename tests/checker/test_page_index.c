/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the check's one pass over page_t (its maps agree with every page_t, unreached table pages are found at word edges, page_t are counted as items) and the lazily zeroed host maps. */
#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "image.h"
#include "run_vmm.h"

#define RAM (256ull << 20)

static struct image *healthy_image(void)
{
	struct image *img = img_new(RAM, false);

	ck_assert_ptr_nonnull(img);
	img_populate_healthy(img);
	return img;
}

/* The maps of a view loaded over img agree with each page_t below npages, and are clear past it. */
static void expect_maps_agree(const struct image *img)
{
	struct mm_view v;
	uint64_t top = 0;

	ck_assert(mm_view_load(&v, &img->mem, &img->sym, NULL));
	ck_assert_ptr_nonnull(v.pages);
	ck_assert_uint_eq(v.pages_read, v.npages);
	for (uint64_t pfn = 0; pfn < (v.npages / 64 + 1) * 64; pfn++) {
		bool in = pfn < v.npages;
		bool ptp = in && v.pages[pfn].p_kind == PG_PTP;

		ck_assert_msg(bit_test(v.ptp_map, pfn) == ptp, "ptp bit of pfn 0x%" PRIx64, pfn);
		ck_assert_msg(bit_test(v.busy_map, pfn) == (in && !page_plain(&v.pages[pfn], pfn)),
			      "busy bit of pfn 0x%" PRIx64, pfn);
		top += ptp && v.pages[pfn].p_level == MM_LEVELS;
	}
	ck_assert_uint_eq(v.ptp_top, top);
	mm_view_free(&v);
}

START_TEST(maps_agree_with_page_t)
{
	struct image *img = healthy_image();
	uint64_t *count = img_va(img, img->sym.page_count);

	expect_maps_agree(img);
	/* garbage in every field the pass reads, and a page_count that ends inside a map word */
	srandom(7);
	for (uint64_t pfn = 0; pfn < img->npages; pfn += 1 + (uint64_t)random() % 5)
		for (size_t b = 0; b < sizeof(struct page); b++)
			if (random() % 4 == 0)
				((uint8_t *)img_page(img, pfn))[b] = (uint8_t)random();
	*count = img->npages - 37;
	expect_maps_agree(img);
	img_free(img);
}
END_TEST

/* Table pages no walk reaches, at the first and last bit of map words and past page_count. */
START_TEST(unreached_tables_at_word_edges)
{
	struct image *img = healthy_image();
	uint64_t *count = img_va(img, img->sym.page_count);
	uint64_t last = img->npages - 38, edges[] = { 63, 64, 127, last };
	struct report *r = report_new(NULL);
	struct check_stats st;

	*count = last + 1;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		*img_page(img, edges[i]) = (struct page){ .p_pagenum = (uint32_t)edges[i], .p_kind = PG_PTP,
							  .p_level = 1 };
	*img_page(img, last + 1) = (struct page){ .p_pagenum = (uint32_t)(last + 1), .p_kind = PG_PTP,
						  .p_level = 1 };
	ck_assert_ptr_nonnull(r);
	checker_run(&img->mem, &img->sym, r, "edges", &st);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		ck_assert_msg(report_last_check_has(r, INV_ST_ACCOUNT, REPORT_NONE, REPORT_NONE, edges[i]),
			      "unreached table pfn 0x%" PRIx64 " not reported", edges[i]);
	ck_assert(!report_last_check_has(r, INV_ST_ACCOUNT, REPORT_NONE, REPORT_NONE, last + 1));
	ck_assert(!report_last_check_has(r, INV_ST_ACCOUNT, REPORT_NONE, REPORT_NONE, 62));
	ck_assert(!st.stopped);
	report_free(r);
	img_free(img);
}
END_TEST

/* Every page_t is counted once as an item, beside the PTEs and hments. */
START_TEST(page_t_are_items)
{
	struct image *img = healthy_image();
	struct check_stats st;

	ck_assert_uint_eq(checker_run(&img->mem, &img->sym, NULL, "items", &st), 0);
	ck_assert_uint_eq(st.pages, img->npages);
	ck_assert_uint_gt(st.ptes, 0);
	ck_assert_uint_gt(st.hments, 0);
	ck_assert_uint_eq(check_stats_items(&st), img->npages + st.ptes + st.hments);
	img_free(img);
}
END_TEST

/* Small and large maps come back zeroed and writable, and are freed by their size. */
START_TEST(maps_start_zeroed)
{
	static const size_t sizes[] = { 1, 4096, (128u << 10) - 8, 128u << 10, 3u << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *map = check_map_zalloc(sizes[i]);

		ck_assert_ptr_nonnull(map);
		for (size_t b = 0; b < sizes[i]; b += 997)
			ck_assert_uint_eq(map[b], 0);
		ck_assert_uint_eq(map[sizes[i] - 1], 0);
		memset(map, 0xa5, sizes[i]);
		check_map_free(map, sizes[i]);
	}
	check_map_free(NULL, 3u << 20);
}
END_TEST

static Suite *page_index_suite(void)
{
	Suite *s = suite_create("page_index");
	TCase *tc = tcase_create("page_index");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, maps_agree_with_page_t);
	tcase_add_test(tc, unreached_tables_at_word_edges);
	tcase_add_test(tc, page_t_are_items);
	tcase_add_test(tc, maps_start_zeroed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(page_index_suite());
}
