/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the benchmark table (bench/bench_table.c) — met decided from ratio or value, JSON written and read back unchanged, --json parsing. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_table.h"
#include "run_vmm.h"

static char json_path[64];

static void make_path(void)
{
	int fd;

	snprintf(json_path, sizeof(json_path), "/tmp/hatvm-bench-table-XXXXXX");
	fd = mkstemp(json_path);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

START_TEST(met_follows_the_ratio_and_its_direction)
{
	struct bench_table t;
	struct bench_row *le, *ge, *miss;

	bench_table_init(&t, "x");
	le = bench_add(&t, 130, "ns", "flat");
	bench_set_ratio(le, 1.3, "max/min");
	bench_set_target(le, "<=", 1.3);
	ge = bench_add(&t, 10, "ns", "fast");
	bench_set_ratio(ge, 2.9, "Linux/ours");
	bench_set_target(ge, ">=", 3);
	miss = bench_add(&t, 10, "ns", "not flat");
	bench_set_ratio(miss, 1.31, "max/min");
	bench_set_target(miss, "<=", 1.3);
	ck_assert_int_eq(le->met, BENCH_MET_YES);
	ck_assert_int_eq(ge->met, BENCH_MET_NO);
	ck_assert_int_eq(miss->met, BENCH_MET_NO);
	ck_assert_str_eq(t.rows[1].benchmark, "x");
	bench_table_free(&t);
}
END_TEST

START_TEST(met_follows_the_value_without_a_ratio)
{
	struct bench_table t;
	struct bench_row *r;
	char text[48];

	bench_table_init(&t, "x");
	r = bench_add(&t, 24, "B", "hment");
	bench_set_target(r, "<=", 32);
	ck_assert_int_eq(r->met, BENCH_MET_YES);
	bench_target_text(r, text, sizeof(text));
	ck_assert_str_eq(text, "<= 32 B");
	r = bench_add(&t, 40, "B", "hment");
	bench_set_target(r, "<=", 32);
	ck_assert_int_eq(r->met, BENCH_MET_NO);
	bench_table_free(&t);
}
END_TEST

START_TEST(not_measured_is_never_met)
{
	struct bench_table t;
	struct bench_row *r;

	bench_table_init(&t, "boot");
	r = bench_not_measured(&t, "vmm start->exit", "/dev/kvm absent");
	bench_set_ratio(r, NAN, "vmm/floor");
	bench_set_target(r, "<=", 1.5);
	ck_assert_int_eq(r->met, BENCH_MET_NA);
	ck_assert(isnan(r->value));
	ck_assert_str_eq(r->note, "not measured: /dev/kvm absent");
	ck_assert_str_eq(bench_met_name(r->met), "n.a.");
	bench_table_free(&t);
}
END_TEST

START_TEST(json_round_trip_keeps_every_field)
{
	struct bench_table t, back;
	struct bench_row *r;

	make_path();
	bench_table_init(&t, "mm_hosted");
	r = bench_add(&t, 70.5, "ns", "memload /page, %s", "1M vs 256 pages");
	bench_set_baseline(r, 80.25, "same op, 256");
	bench_set_ratio(r, 70.5 / 80.25, "1M/256");
	bench_set_target(r, "<=", 1.3);
	bench_set_note(r, "256: 80, 1M: 70");
	bench_not_measured(&t, "boot", "/dev/kvm absent");
	ck_assert_int_eq(bench_table_write_json(&t, json_path, "absent"), 0);
	bench_table_init(&back, "");
	ck_assert_int_eq(bench_table_read_json(&back, json_path), 0);
	ck_assert_uint_eq(back.n, 2);
	r = &back.rows[0];
	ck_assert_str_eq(r->benchmark, "mm_hosted");
	ck_assert_str_eq(r->figure, "memload /page, 1M vs 256 pages");
	ck_assert_double_eq(r->value, 70.5);
	ck_assert_str_eq(r->unit, "ns");
	ck_assert_double_eq(r->baseline, 80.25);
	ck_assert_str_eq(r->baseline_name, "same op, 256");
	ck_assert_double_eq_tol(r->ratio, 70.5 / 80.25, 1e-12);
	ck_assert_str_eq(r->ratio_of, "1M/256");
	ck_assert_str_eq(r->target_op, "<=");
	ck_assert_double_eq(r->target, 1.3);
	ck_assert_int_eq(r->met, BENCH_MET_YES);
	ck_assert_str_eq(r->note, "256: 80, 1M: 70");
	r = &back.rows[1];
	ck_assert(isnan(r->value) && isnan(r->baseline) && isnan(r->ratio) && isnan(r->target));
	ck_assert_str_eq(r->target_op, "");
	ck_assert_int_eq(r->met, BENCH_MET_NA);
	bench_table_free(&t);
	bench_table_free(&back);
	unlink(json_path);
}
END_TEST

START_TEST(read_refuses_other_files)
{
	FILE *f;
	struct bench_table t;

	make_path();
	f = fopen(json_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"format\": \"something-else\", \"rows\": []}", f);
	fclose(f);
	bench_table_init(&t, "");
	ck_assert_int_eq(bench_table_read_json(&t, json_path), -1);
	ck_assert_uint_eq(t.n, 0);
	bench_table_free(&t);
	unlink(json_path);
}
END_TEST

START_TEST(json_option_is_taken_out_of_argv)
{
	char *argv[] = { "prog", "a", "--json", "out.json", "b", NULL };
	int argc = 5;
	const char *path = bench_json_option(&argc, argv);

	ck_assert_str_eq(path, "out.json");
	ck_assert_int_eq(argc, 3);
	ck_assert_str_eq(argv[1], "a");
	ck_assert_str_eq(argv[2], "b");
	ck_assert_ptr_null(argv[3]);
}
END_TEST

START_TEST(table_prints_one_line_per_row)
{
	struct bench_table t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bench_row *r;

	bench_table_init(&t, "hat");
	r = bench_add(&t, 150, "ns", "guest memload");
	bench_set_baseline(r, 300, "mmap MAP_POPULATE");
	bench_set_ratio(r, 2, "Linux/guest");
	bench_set_target(r, ">=", 5);
	bench_table_print(&t, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "guest memload"));
	ck_assert_ptr_nonnull(strstr(buf, "Linux/guest >= 5"));
	ck_assert_ptr_nonnull(strstr(buf, " no "));
	ck_assert_ptr_nonnull(strstr(buf, "300 ns"));
	ck_assert_ptr_nonnull(strchr(strchr(buf, '\n') + 1, '\n'));   /* header + one row */
	ck_assert_ptr_null(strchr(strchr(strchr(buf, '\n') + 1, '\n') + 1, '\n'));
	free(buf);
	bench_table_free(&t);
}
END_TEST

static Suite *table_suite(void)
{
	Suite *s = suite_create("bench_table");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, met_follows_the_ratio_and_its_direction);
	tcase_add_test(tc, met_follows_the_value_without_a_ratio);
	tcase_add_test(tc, not_measured_is_never_met);
	tcase_add_test(tc, json_round_trip_keeps_every_field);
	tcase_add_test(tc, read_refuses_other_files);
	tcase_add_test(tc, json_option_is_taken_out_of_argv);
	tcase_add_test(tc, table_prints_one_line_per_row);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(table_suite());
}
