/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded checks: adversarial images whose guest-controlled sizes are as large as RAM allows cost at most a few healthy checks (in counted work), report the bound they exceed, and the stop request ends a check early. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "invariant_names.h"
#include "run_vmm.h"

#define RAM (256ull << 20)

/* Work (check_stats.work) an adversarial check may take, in healthy checks of the same RAM. */
#define WORK_RATIO_MAX 4

/* A populated healthy image: 4 spaces, private pages and pages shared by all (lists of 4). */
static struct image *healthy_image(void)
{
	struct image *img = img_new(RAM, false);

	ck_assert_ptr_nonnull(img);
	img_populate_healthy(img);
	img_cache_add(img, 8);
	return img;
}

/* One check into a fresh report; *has_id tells whether ID was reported. */
static unsigned check(struct image *img, enum invariant_id id, bool *has_id, struct check_stats *st)
{
	struct report *r = report_new(NULL);
	unsigned n;

	ck_assert_ptr_nonnull(r);
	n = checker_run(&img->mem, &img->sym, r, "bounds", st);
	*has_id = report_last_check_has(r, id, REPORT_NONE, REPORT_NONE, REPORT_NONE);
	report_free(r);
	return n;
}

static uint64_t healthy_work(void)
{
	static uint64_t work;
	struct image *img;
	struct check_stats st;
	bool unused;

	if (work != 0)
		return work;
	img = healthy_image();
	ck_assert_uint_eq(check(img, INV_HS_BUCKET, &unused, &st), 0);
	ck_assert(!st.stopped);
	ck_assert_uint_gt(st.hments, 0);
	work = st.work;
	img_free(img);
	return work;
}

/* The adversarial check reported ID, ran to completion and stayed within the work bound. */
static void expect_bounded(struct image *img, enum invariant_id id, const char *what)
{
	struct check_stats st;
	bool has;
	unsigned n = check(img, id, &has, &st);

	if (getenv("CHECKER_TEST_VERBOSE"))
		fprintf(stderr, "%s: %u violations, work %" PRIu64 " (healthy %" PRIu64 ")\n", what, n,
			st.work, healthy_work());
	ck_assert_msg(has, "%s: %s not reported", what, invariant_name(id));
	ck_assert_msg(!st.stopped, "%s: stopped", what);
	ck_assert_msg(st.work <= WORK_RATIO_MAX * healthy_work(),
		      "%s: work %" PRIu64 " > %d x healthy %" PRIu64, what, st.work, WORK_RATIO_MAX,
		      healthy_work());
}

START_TEST(healthy_is_clean)
{
	ck_assert_uint_gt(healthy_work(), 0);
}
END_TEST

START_TEST(hash_claiming_all_ram)
{
	struct image *img = healthy_image();

	img_adv_hash_all_ram(img);
	expect_bounded(img, INV_HS_BUCKET, "hash over all RAM");
	img_free(img);
}
END_TEST

START_TEST(fake_spaces)
{
	struct image *img = healthy_image();
	struct check_stats st;
	bool has;

	img_adv_fake_spaces(img, 200000);
	expect_bounded(img, INV_ST_ACCOUNT, "200000 fake spaces");
	check(img, INV_ST_ACCOUNT, &has, &st);
	ck_assert_uint_le(st.spaces, 5 + 64);   /* the real PML4 pages + the slack */
	img_free(img);
}
END_TEST

/* Long: cut at the mappings the lists can name (RM_STALE); cyclic: met twice (RM_LINKS). */
START_TEST(long_mapping_list)
{
	struct image *img = healthy_image();

	img_adv_long_list(img, _i ? 5000 : 200000, _i);
	expect_bounded(img, _i ? INV_RM_LINKS : INV_RM_STALE, _i ? "cyclic list of 5000" : "list of 200000");
	img_free(img);
}
END_TEST

START_TEST(long_hash_chain)
{
	struct image *img = healthy_image();
	hment_ref_t *bucket0 = img_bucket(img, 0);
	struct page *pg;

	/* orphans on one chain: cut past the listed count (HS_ORPHAN); cyclic: met twice (HS_BUCKET) */
	img_adv_long_list(img, _i ? 500 : 200000, _i);
	pg = img_page(img, img->next_pfn - 1);
	while (pg->p_mapping == 0 || pg->p_share != (_i ? 500 : 200000))
		pg--;
	pg->p_mapping = 0;
	pg->p_share = 0;
	ck_assert_uint_ne(*bucket0, 0);
	expect_bounded(img, _i ? INV_HS_BUCKET : INV_HS_ORPHAN, _i ? "cyclic chain of 500" : "chain of 200000");
	img_free(img);
}
END_TEST

/* Free lists and block lists that loop: each free list cut at a block's 512 pages, each block met once. */
START_TEST(looping_free_lists)
{
	struct image *img = healthy_image();

	img_adv_free_lists_loop(img);
	expect_bounded(img, INV_PG_FREE_COUNT, "looping free and block lists");
	img_free(img);
}
END_TEST

/*
 * Every page_t a table page: one ST_ACCOUNT per unreachable page runs
 * into the violation cap (the stored cap + one per page), and the check
 * stops there, incomplete.
 */
START_TEST(every_page_a_table)
{
	struct image *img = healthy_image();
	struct check_stats st;
	bool has;
	unsigned n;

	img_adv_all_ptp(img);
	n = check(img, INV_ST_ACCOUNT, &has, &st);
	ck_assert(has);
	ck_assert(st.stopped);
	ck_assert_uint_eq(n, REPORT_MAX_VIOLATIONS + RAM / MM_PAGE_SIZE);
	ck_assert_uint_le(st.work, WORK_RATIO_MAX * healthy_work());
	img_free(img);
}
END_TEST

/* A stop request ends the check at once: incomplete, in the JSON and in the text summary. */
START_TEST(stop_request)
{
	struct image *img = healthy_image();
	struct check_stats st;
	char *text = NULL, path[] = "/tmp/test_bounds.XXXXXX", err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct report *r = report_new(f);
	int fd = mkstemp(path);
	char buf[4096] = "";
	FILE *j;

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_gt(healthy_work(), 0);
	checker_request_stop();
	ck_assert(checker_stop_requested());
	checker_run(&img->mem, &img->sym, r, "stopped", &st);
	ck_assert(st.stopped);
	ck_assert_uint_lt(st.work, healthy_work());
	checker_clear_stop();
	ck_assert(!checker_stop_requested());
	ck_assert_uint_eq(checker_run(&img->mem, &img->sym, r, "whole", &st), 0);
	ck_assert(!st.stopped);
	ck_assert_int_eq(report_write_json(r, path, err, sizeof(err)), 0);
	report_free(r);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "check \"stopped\""));
	ck_assert_ptr_nonnull(strstr(text, "INCOMPLETE"));
	ck_assert_ptr_null(strstr(strstr(text, "check \"whole\""), "INCOMPLETE"));
	j = fopen(path, "r");
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_gt(fread(buf, 1, sizeof(buf) - 1, j), 0);
	fclose(j);
	ck_assert_ptr_nonnull(strstr(buf, "\"complete\": false"));
	ck_assert_ptr_nonnull(strstr(buf, "\"complete\": true"));
	ck_assert(strstr(buf, "\"complete\": false") < strstr(buf, "\"complete\": true"));
	unlink(path);
	close(fd);
	free(text);
	img_free(img);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bounds");
	TCase *tc = tcase_create("adversarial");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, healthy_is_clean);
	tcase_add_test(tc, hash_claiming_all_ram);
	tcase_add_test(tc, fake_spaces);
	tcase_add_loop_test(tc, long_mapping_list, 0, 2);
	tcase_add_loop_test(tc, long_hash_chain, 0, 2);
	tcase_add_test(tc, looping_free_lists);
	tcase_add_test(tc, every_page_a_table);
	tcase_add_test(tc, stop_request);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
