/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the JSON report's "replay" object (checker/report_replay.c), written and parsed back with jansson. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "run_vmm.h"
#include "temp_dir.h"

/* A finished replay's figures, each a different number so a swapped field shows. */
static struct replay_result sample(void)
{
	struct replay_result res = { .magic = REPLAY_RESULT_MAGIC, .version = REPLAY_RESULT_VERSION,
				     .size = sizeof(res), .tsc_cycles = 3000000, .checkpoint_cycles = 1000000,
				     .tsc_khz = 1000000 };
	res.st = (struct replay_stats){ .events = 1000,
		.by_kind = { 0, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110 }, .processes = 4, .execs = 5,
		.vforks = 2, .faults_read = 11,
		.faults_write = 12, .faults_exec = 13, .zero_fill = 21, .file_hit = 22, .file_miss = 23,
		.cow_copies = 24, .cow_file = 25, .swap_in = 26, .upgrades = 27, .no_fault = 28,
		.trace_errors = 6, .err_noregion = 1, .err_prot = 2, .err_event = 3, .reclaimed = 60,
		.swapped_out = 31, .dropped_clean = 19, .written_back = 10, .steals = 7,
		.hments_peak = 229, .shared_pages = 40, .longest_list = 4, .longest_obj = 1,
		.longest_pgoff = 0x1a, .mappings_peak = 300, .bytes_per_mapping_x100 = 2338,
		.checkpoints = 9, .oom = 0, .internal_errors = 0 };
	return res;
}

/* The report (one clean check, then the replay if given) written and loaded back. */
static json_t *round_trip(const struct replay_result *res, const char *path)
{
	struct report *rep = report_new(NULL);
	const char *file = temp_path("report.json");
	char err[512];
	json_error_t jerr;
	json_t *doc;

	ck_assert_ptr_nonnull(rep);
	report_begin_check(rep, "replay:end");
	report_end_check(rep, NULL);
	if (res)
		ck_assert_int_eq(report_set_replay(rep, res, path), 0);
	ck_assert_msg(report_write_json(rep, file, err, sizeof(err)) == 0, "%s", err);
	report_free(rep);
	doc = json_load_file(file, 0, &jerr);
	ck_assert_msg(doc != NULL, "%s", jerr.text);
	return doc;
}

static json_int_t get_int(json_t *obj, const char *dotted)
{
	char path[128], *save = NULL;
	json_t *j = obj;

	snprintf(path, sizeof(path), "%s", dotted);
	for (char *key = strtok_r(path, ".", &save); key; key = strtok_r(NULL, ".", &save))
		j = json_object_get(j, key);
	ck_assert_msg(json_is_integer(j), "%s is not an integer", dotted);
	return json_integer_value(j);
}

START_TEST(every_figure_of_the_replay_line_is_in_the_json)
{
	struct replay_result res = sample();
	json_t *doc = round_trip(&res, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	json_t *rp = json_object_get(doc, "replay");

	ck_assert(json_is_object(rp));
	ck_assert_int_eq(get_int(rp, "events"), 1000);
	ck_assert_int_eq(get_int(rp, "events_by_kind.fork"), 101);
	ck_assert_int_eq(get_int(rp, "events_by_kind.fault"), 110);
	ck_assert_int_eq(get_int(rp, "processes"), 4);
	ck_assert_int_eq(get_int(rp, "execs"), 5);
	ck_assert_int_eq(get_int(rp, "vforks"), 2);
	ck_assert_int_eq(get_int(rp, "faults.total"), 36);
	ck_assert_int_eq(get_int(rp, "faults.read"), 11);
	ck_assert_int_eq(get_int(rp, "faults.write"), 12);
	ck_assert_int_eq(get_int(rp, "faults.exec"), 13);
	ck_assert_int_eq(get_int(rp, "zero_fill"), 21);
	ck_assert_int_eq(get_int(rp, "file_hit"), 22);
	ck_assert_int_eq(get_int(rp, "file_miss"), 23);
	ck_assert_int_eq(get_int(rp, "cow_copies"), 24);
	ck_assert_int_eq(get_int(rp, "cow_file"), 25);
	ck_assert_int_eq(get_int(rp, "swap_in"), 26);
	ck_assert_int_eq(get_int(rp, "upgrades"), 27);
	ck_assert_int_eq(get_int(rp, "no_fault"), 28);
	ck_assert_int_eq(get_int(rp, "trace_errors.total"), 6);
	ck_assert_int_eq(get_int(rp, "trace_errors.prot"), 2);
	ck_assert_int_eq(get_int(rp, "pages_shared"), 40);
	ck_assert_int_eq(get_int(rp, "longest_list.mappings"), 4);
	ck_assert_int_eq(get_int(rp, "longest_list.file"), 1);
	ck_assert_int_eq(get_int(rp, "longest_list.offset"), 0x1a000);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rp, "longest_list"), "kind")), "file");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rp, "longest_list"), "path")),
			 "/usr/lib/x86_64-linux-gnu/libc.so.6");
	ck_assert_int_eq(get_int(rp, "reclaimed.total"), 60);
	ck_assert_int_eq(get_int(rp, "reclaimed.swapped"), 31);
	ck_assert_int_eq(get_int(rp, "reclaimed.dropped"), 19);
	ck_assert_int_eq(get_int(rp, "reclaimed.written"), 10);
	ck_assert_int_eq(get_int(rp, "steals"), 7);
	ck_assert_int_eq(get_int(rp, "hments_peak"), 229);
	ck_assert_int_eq(get_int(rp, "mappings_peak"), 300);
	ck_assert_double_eq_tol(json_real_value(json_object_get(rp, "bytes_per_mapping")), 23.38, 1e-9);
	ck_assert_int_eq(get_int(rp, "checkpoints"), 9);
	ck_assert_int_eq(get_int(rp, "oom"), 0);
	/* 3 ms in all, 1 ms of it in checkpoints: 1000 events in 2 ms */
	json_t *time = json_object_get(rp, "time");
	ck_assert_double_eq_tol(json_real_value(json_object_get(time, "ms")), 3.0, 1e-9);
	ck_assert_double_eq_tol(json_real_value(json_object_get(time, "checkpoint_ms")), 1.0, 1e-9);
	ck_assert_double_eq_tol(json_real_value(json_object_get(time, "events_per_s")), 500000.0, 1e-3);
	json_decref(doc);
}
END_TEST

START_TEST(no_replay_no_key)
{
	json_t *doc = round_trip(NULL, NULL);

	ck_assert_ptr_null(json_object_get(doc, "replay"));
	ck_assert_int_eq(json_array_size(json_object_get(doc, "checks")), 1);
	json_decref(doc);
}
END_TEST

START_TEST(anonymous_and_shared_pages_have_no_path)
{
	struct replay_result res = sample();
	json_t *doc, *ll;

	res.st.longest_anon = 1;
	res.tsc_khz = 0;
	doc = round_trip(&res, "/ignored");
	ll = json_object_get(json_object_get(doc, "replay"), "longest_list");
	ck_assert_str_eq(json_string_value(json_object_get(ll, "kind")), "anon");
	ck_assert(json_is_null(json_object_get(ll, "path")));
	ck_assert(json_is_null(json_object_get(ll, "offset")));
	ck_assert(json_is_null(json_object_get(json_object_get(doc, "replay"), "time")));
	json_decref(doc);

	res.st.longest_anon = 0;
	res.st.longest_obj = REPLAY_OBJ_SHM | 3;
	doc = round_trip(&res, NULL);
	ll = json_object_get(json_object_get(doc, "replay"), "longest_list");
	ck_assert_str_eq(json_string_value(json_object_get(ll, "kind")), "shm");
	ck_assert_int_eq(get_int(ll, "file"), 3);
	ck_assert(json_is_null(json_object_get(ll, "path")));
	json_decref(doc);
}
END_TEST

/* A path from the recording machine may hold any bytes: the JSON stays valid ASCII. */
START_TEST(unprintable_path_bytes_become_question_marks)
{
	struct replay_result res = sample();
	json_t *doc = round_trip(&res, "/tmp/\xff\x01name\n");
	json_t *ll = json_object_get(json_object_get(doc, "replay"), "longest_list");

	ck_assert_str_eq(json_string_value(json_object_get(ll, "path")), "/tmp/??name?");
	json_decref(doc);
}
END_TEST

int main(void)
{
	temp_dir_make("hatvm-report-replay");
	Suite *s = suite_create("report_replay");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, every_figure_of_the_replay_line_is_in_the_json);
	tcase_add_test(tc, no_replay_no_key);
	tcase_add_test(tc, anonymous_and_shared_pages_have_no_path);
	tcase_add_test(tc, unprintable_path_bytes_become_question_marks);
	suite_add_tcase(s, tc);
	int status = run_suite(s);
	temp_dir_remove();
	return status;
}
