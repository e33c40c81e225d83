/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: invariant names, the check report's text lines and its JSON (parsed back with jansson). */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifo_guard.h"
#include "invariant_names.h"
#include "report.h"
#include "run_vmm.h"

/* ---- invariant names ---- */

START_TEST(every_invariant_has_name_and_description)
{
	for (unsigned i = 0; i < INV_COUNT; i++) {
		enum invariant_id id;
		ck_assert_uint_gt(strlen(invariant_name(i)), 0);
		ck_assert_uint_gt(strlen(invariant_description(i)), 0);
		ck_assert(invariant_parse(invariant_name(i), &id));
		ck_assert_uint_eq(id, i);
	}
	ck_assert_str_eq(invariant_name(INV_RM_MISSING), "RM_MISSING");
	ck_assert_str_eq(invariant_name(INV_COUNT), "UNKNOWN");
	ck_assert_str_eq(invariant_name((enum invariant_id)-1), "UNKNOWN");
	ck_assert_str_eq(invariant_description(INV_COUNT + 7), "unknown invariant");
}
END_TEST

START_TEST(parse_accepts_any_case_and_rejects_unknown)
{
	enum invariant_id id = INV_COUNT;

	ck_assert(invariant_parse("pt_rsvd", &id));
	ck_assert_uint_eq(id, INV_PT_RSVD);
	ck_assert(!invariant_parse("PT_RSVD ", &id));
	ck_assert(!invariant_parse("", &id));
	ck_assert(!invariant_parse("RM", &id));
}
END_TEST

START_TEST(parse_mask_lists)
{
	char err[128] = "";
	uint64_t mask = 42;

	ck_assert(invariant_parse_mask("RM_MISSING,pt_rsvd", &mask, err, sizeof(err)));
	ck_assert_uint_eq(mask, (1ull << INV_RM_MISSING) | (1ull << INV_PT_RSVD));
	ck_assert(invariant_parse_mask("LK_QUIESCENT", &mask, err, sizeof(err)));
	ck_assert_uint_eq(mask, 1ull << INV_LK_QUIESCENT);

	mask = 42;
	ck_assert(!invariant_parse_mask("RM_MISSING,BOGUS", &mask, err, sizeof(err)));
	ck_assert_str_eq(err, "unknown invariant 'BOGUS'");
	ck_assert_uint_eq(mask, 42);
	ck_assert(!invariant_parse_mask("RM_MISSING,,PT_RSVD", &mask, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	ck_assert(!invariant_parse_mask("", &mask, err, sizeof(err)));
	ck_assert(!invariant_parse_mask("RM_MISSING,", &mask, err, sizeof(err)));
	ck_assert(!invariant_parse_mask("RM_MISSING_AND_A_VERY_LONG_NAME_THAT_GOES_ON", &mask, NULL, 0));
}
END_TEST

/* ---- text ---- */

static char text_buf[1 << 22];
static FILE *text;
static struct report *rep;
static char json_path[64];

static void setup(void)
{
	memset(text_buf, 0, sizeof(text_buf));
	text = fmemopen(text_buf, sizeof(text_buf) - 1, "w");
	ck_assert_ptr_nonnull(text);
	rep = report_new(text);
	ck_assert_ptr_nonnull(rep);
	strcpy(json_path, "/tmp/hatvm-report-XXXXXX");
	int fd = mkstemp(json_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	report_free(rep);
	fclose(text);
	unlink(json_path);
}

static const char *text_out(void)
{
	fflush(text);
	return text_buf;
}

START_TEST(text_lines)
{
	struct check_stats st = { .spaces = 3, .ptes = 100, .mappings = 50, .hments = 40, .pages = 1000 };
	const char *rate;

	report_begin_check(rep, "after fork");
	report_violation(rep, INV_RM_MISSING, 2, 0x40001000, 0x1234,
			 "PTE maps a managed page that is not on its mapping list");
	report_violation(rep, INV_HS_ORPHAN, REPORT_NONE, REPORT_NONE, REPORT_NONE, "%d orphans", 3);
	ck_assert_uint_eq(report_end_check(rep, &st), 2);
	ck_assert_ptr_nonnull(strstr(text_out(),
		"violation RM_MISSING space=2 va=0x0000000040001000 pfn=0x1234: "
		"PTE maps a managed page that is not on its mapping list\n"
		"violation HS_ORPHAN space=- va=- pfn=-: 3 orphans\n"
		"check \"after fork\": spaces=3 ptes=100 mappings=50 hments=40 violations=2 ms="));
	/* then page_t examined and the throughput, in millions of items per second */
	rate = strstr(text_out(), " pages=1000 items/s=");
	ck_assert_ptr_nonnull(rate);
	ck_assert_ptr_nonnull(strstr(rate, "M\n"));
	ck_assert_uint_eq(report_violations_total(rep), 2);
}
END_TEST

START_TEST(text_stays_one_line_per_record)
{
	report_begin_check(rep, "evil\nlabel\x1b[31m\xff");
	report_violation(rep, INV_RM_LINKS, 1, 0, 0, "next\nprev\r%s", "\x01");
	report_end_check(rep, NULL);
	ck_assert_ptr_nonnull(strstr(text_out(), "pfn=0x0: next?prev??\n"));
	ck_assert_ptr_nonnull(strstr(text_out(), "check \"evil?label?[31m?\": spaces=0"));
}
END_TEST

START_TEST(implicit_and_nested_checks)
{
	ck_assert_uint_eq(report_end_check(rep, NULL), 0);
	report_violation(rep, INV_PT_RSVD, 0, 0x1000, 5, "x");
	report_begin_check(rep, "second");          /* closes "unlabelled" */
	report_violation(rep, INV_PT_RSVD, 0, 0x2000, 6, "y");
	report_violation(rep, INV_PT_RSVD, 0, 0x3000, 7, "z");
	ck_assert_uint_eq(report_end_check(rep, NULL), 2);
	ck_assert_ptr_nonnull(strstr(text_out(), "check \"unlabelled\": spaces=0 ptes=0 mappings=0 hments=0 violations=1"));
	ck_assert_ptr_nonnull(strstr(text_out(), "check \"second\": spaces=0 ptes=0 mappings=0 hments=0 violations=2"));
	ck_assert_uint_eq(report_violations_total(rep), 3);
}
END_TEST

/* A check of a guest the watchdog stopped mid-run: its records are findings, not violations. */
START_TEST(stopped_check_reports_findings_not_violations)
{
	report_begin_check(rep, "ckpt");
	report_violation(rep, INV_RM_MISSING, 1, 0x1000, 2, "real");
	report_end_check(rep, NULL);
	report_set_phase(rep, REPORT_PHASE_STOPPED);
	report_begin_check(rep, "exit");
	report_violation(rep, INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "held");
	report_violation(rep, INV_PT_VALID_CNT, 3, 0x2000, 4, "half done");
	ck_assert_uint_eq(report_end_check(rep, NULL), 2);
	ck_assert_ptr_nonnull(strstr(text_out(), "violation RM_MISSING space=1"));
	ck_assert_ptr_nonnull(strstr(text_out(), "\nfinding LK_QUIESCENT space=- va=- pfn=-: held\n"
					   "finding PT_VALID_CNT space=3"));
	ck_assert_ptr_nonnull(strstr(text_out(), "check \"exit\": spaces=0 ptes=0 mappings=0 hments=0 "
					   "findings=2 ms="));
	ck_assert_ptr_nonnull(strstr(text_out(), "perhaps inside an operation"));
	ck_assert_ptr_null(strstr(text_out(), "violation LK_QUIESCENT"));
	ck_assert_uint_eq(report_violations_total(rep), 1);
}
END_TEST

START_TEST(null_text_stream)
{
	struct report *quiet = report_new(NULL);

	report_begin_check(quiet, "q");
	report_violation(quiet, INV_RM_DUP, 1, 2, 3, "d");
	ck_assert_uint_eq(report_end_check(quiet, NULL), 1);
	report_free(quiet);
	report_free(NULL);
}
END_TEST

/* ---- JSON ---- */

static json_t *load_json(void)
{
	char err[256];
	json_error_t jerr;
	json_t *doc;

	ck_assert_msg(report_write_json(rep, json_path, err, sizeof(err)) == 0, "%s", err);
	doc = json_load_file(json_path, 0, &jerr);
	ck_assert_msg(doc != NULL, "%s", jerr.text);
	return doc;
}

START_TEST(json_shape)
{
	struct check_stats st = { .spaces = 3, .ptes = 100, .mappings = 50, .hments = 40 };
	json_t *doc, *check, *v;

	report_begin_check(rep, "boot");
	report_end_check(rep, NULL);
	report_begin_check(rep, "after fork");
	report_violation(rep, INV_RM_MISSING, 2, 0xffff800000001000ull, 0x1234, "missing");
	report_violation(rep, INV_RS_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "count");
	report_end_check(rep, &st);
	doc = load_json();

	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "checks")), 2);
	check = json_array_get(json_object_get(doc, "checks"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(check, "label")), "after fork");
	ck_assert_int_eq(json_integer_value(json_object_get(check, "spaces")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "ptes")), 100);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "mappings")), 50);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "hments")), 40);
	ck_assert(json_is_real(json_object_get(check, "ms")));
	ck_assert(json_real_value(json_object_get(check, "ms")) >= 0);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "violations_total")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "violations_dropped")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(check, "violations")), 2);

	v = json_array_get(json_object_get(check, "violations"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(v, "id")), "RM_MISSING");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "space")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(v, "va")), "0xffff800000001000");
	ck_assert_str_eq(json_string_value(json_object_get(v, "pfn")), "0x1234");
	ck_assert_str_eq(json_string_value(json_object_get(v, "detail")), "missing");

	v = json_array_get(json_object_get(check, "violations"), 1);
	ck_assert(json_is_null(json_object_get(v, "space")));
	ck_assert(json_is_null(json_object_get(v, "va")));
	ck_assert(json_is_null(json_object_get(v, "pfn")));
	json_decref(doc);
}
END_TEST

START_TEST(json_stopped_check_keeps_its_findings_out_of_the_total)
{
	json_t *doc, *check;

	report_set_phase(rep, REPORT_PHASE_STOPPED);
	report_begin_check(rep, "exit");
	report_violation(rep, INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "held");
	report_end_check(rep, NULL);
	doc = load_json();
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), 0);
	check = json_array_get(json_object_get(doc, "checks"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(check, "phase")), "stopped");
	ck_assert_int_eq(json_integer_value(json_object_get(check, "violations_total")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(check, "violations")), 1);
	json_decref(doc);
}
END_TEST

/* items_per_s is (pages + ptes + hments) over the check's own ms; no timing is asserted. */
START_TEST(json_throughput)
{
	struct check_stats st = { .spaces = 1, .ptes = 512, .mappings = 3, .hments = 7, .pages = 65536 };
	json_t *doc, *check;
	double ms, rate, off;

	ck_assert_uint_eq(check_stats_items(&st), 65536 + 512 + 7);
	report_begin_check(rep, "empty");
	report_end_check(rep, NULL);
	report_begin_check(rep, "live");
	report_end_check(rep, &st);
	doc = load_json();
	check = json_array_get(json_object_get(doc, "checks"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "pages")), 0);
	ck_assert(json_is_real(json_object_get(check, "items_per_s")));
	ck_assert(json_real_value(json_object_get(check, "items_per_s")) == 0);
	check = json_array_get(json_object_get(doc, "checks"), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "pages")), 65536);
	ms = json_real_value(json_object_get(check, "ms"));
	rate = json_real_value(json_object_get(check, "items_per_s"));
	ck_assert(json_is_real(json_object_get(check, "items_per_s")));
	off = ms > 0 ? rate - (65536 + 512 + 7) / (ms / 1e3) : rate;
	ck_assert_msg(off <= 1e-9 * rate && -off <= 1e-9 * rate, "items_per_s %g for %g ms", rate, ms);
	json_decref(doc);
}
END_TEST

START_TEST(json_escapes_strings)
{
	static const char label[] = "quote\" back\\slash tab\t nl\n bell\x07 del\x7f";
	static const char detail[] = "\"}],\"violations_total\":0,\"x\":[{\"a\":\"\x01\x1f";
	json_t *doc, *check;

	report_begin_check(rep, label);
	report_violation(rep, INV_RM_STALE, 1, 2, 3, "%s", detail);
	report_end_check(rep, NULL);
	doc = load_json();
	check = json_array_get(json_object_get(doc, "checks"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(check, "label")), label);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(check, "violations"), 0),
							   "detail")), detail);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), 1);
	json_decref(doc);
}
END_TEST

START_TEST(json_survives_invalid_utf8)
{
	json_t *doc, *check;

	report_begin_check(rep, "caf\xc3\xa9 \xff\xfe bad");
	report_violation(rep, INV_RM_PFN, 1, 2, 3, "%s", "\xc3");
	report_end_check(rep, NULL);
	doc = load_json();
	check = json_array_get(json_object_get(doc, "checks"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(check, "label")), "caf?? ?? bad");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(check, "violations"), 0),
							   "detail")), "?");
	json_decref(doc);
}
END_TEST

START_TEST(valid_utf8_is_kept)
{
	json_t *doc;

	report_begin_check(rep, "caf\xc3\xa9");
	report_end_check(rep, NULL);
	doc = load_json();
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(doc, "checks"), 0), "label")),
			 "caf\xc3\xa9");
	json_decref(doc);
}
END_TEST

START_TEST(caps_count_the_rest)
{
	const unsigned extra = 5;
	json_t *doc, *check;
	unsigned lines = 0;

	report_begin_check(rep, "flood");
	for (unsigned i = 0; i < REPORT_MAX_VIOLATIONS + extra; i++)
		report_violation(rep, INV_RM_SHARE, 1, i * 4096ull, i, "share %u", i);
	ck_assert_uint_eq(report_end_check(rep, NULL), REPORT_MAX_VIOLATIONS + extra);
	for (const char *p = text_out(); (p = strstr(p, "violation RM_SHARE")); p++)
		lines++;
	ck_assert_uint_eq(lines, REPORT_MAX_VIOLATIONS);
	ck_assert_ptr_nonnull(strstr(text_out(), "violations=10005 ms="));
	ck_assert_ptr_nonnull(strstr(text_out(), "(5 not stored)\n"));

	doc = load_json();
	check = json_array_get(json_object_get(doc, "checks"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(check, "violations")), REPORT_MAX_VIOLATIONS);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "violations_total")), REPORT_MAX_VIOLATIONS + extra);
	ck_assert_int_eq(json_integer_value(json_object_get(check, "violations_dropped")), extra);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), REPORT_MAX_VIOLATIONS + extra);
	json_decref(doc);
}
END_TEST

START_TEST(long_strings_are_cut)
{
	char label[1000], detail[1000];
	json_t *doc, *check;

	memset(label, 'L', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	memset(detail, 'D', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	report_begin_check(rep, label);
	report_violation(rep, INV_RM_EMBED, 1, 2, 3, "%s", detail);
	report_end_check(rep, NULL);
	doc = load_json();
	check = json_array_get(json_object_get(doc, "checks"), 0);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(check, "label"))), REPORT_MAX_LABEL);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(json_array_get(json_object_get(check, "violations"), 0),
								   "detail"))), REPORT_MAX_DETAIL);
	json_decref(doc);
}
END_TEST

START_TEST(open_check_is_written)
{
	json_t *doc;

	report_begin_check(rep, "still open");
	report_violation(rep, INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "lock held");
	doc = load_json();
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "checks")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "violations_total")), 1);
	json_decref(doc);
}
END_TEST

START_TEST(json_write_error_names_path)
{
	char err[256] = "";

	ck_assert_int_eq(report_write_json(rep, "/nonexistent-dir/r.json", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/r.json: "));
}
END_TEST

START_TEST(json_refuses_a_fifo_without_blocking)
{
	char fifo[96], err[256] = "";
	struct stat st;

	snprintf(fifo, sizeof(fifo), "%s.fifo", json_path);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fifo_guard_arm(fifo, 10);
	int rc = report_write_json(rep, fifo, err, sizeof(err));
	bool blocked = fifo_guard_disarm();
	ck_assert_int_eq(stat(fifo, &st), 0);
	unlink(fifo);
	ck_assert_msg(!blocked, "report_write_json blocked on a FIFO");
	ck_assert_int_eq(rc, -1);
	ASSERT_HAS(err, fifo);
	ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

/* EFBIG (RLIMIT_FSIZE, SIGXFSZ ignored) as a full disk: the previous file stays whole. */
START_TEST(json_failed_write_keeps_the_previous_file)
{
	struct rlimit saved, small;
	char err[256] = "", back[64] = "";
	FILE *f = fopen(json_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("previous\n", f);
	fclose(f);
	report_begin_check(rep, "a check");
	report_violation(rep, INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "lock held");
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = (struct rlimit){ .rlim_cur = 32, .rlim_max = saved.rlim_max };
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = report_write_json(rep, json_path, err, sizeof(err));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	ck_assert_int_eq(rc, -1);
	ASSERT_HAS(err, json_path);
	ASSERT_HAS(err, strerror(EFBIG));
	f = fopen(json_path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(back, sizeof(back), f));
	fclose(f);
	ck_assert_str_eq(back, "previous\n");
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tn = tcase_create("names"), *tt = tcase_create("text"), *tj = tcase_create("json");

	tcase_add_test(tn, every_invariant_has_name_and_description);
	tcase_add_test(tn, parse_accepts_any_case_and_rejects_unknown);
	tcase_add_test(tn, parse_mask_lists);
	suite_add_tcase(s, tn);

	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_add_test(tt, text_lines);
	tcase_add_test(tt, text_stays_one_line_per_record);
	tcase_add_test(tt, implicit_and_nested_checks);
	tcase_add_test(tt, stopped_check_reports_findings_not_violations);
	tcase_add_test(tt, null_text_stream);
	suite_add_tcase(s, tt);

	tcase_add_checked_fixture(tj, setup, teardown);
	tcase_set_timeout(tj, 60);
	tcase_add_test(tj, json_shape);
	tcase_add_test(tj, json_stopped_check_keeps_its_findings_out_of_the_total);
	tcase_add_test(tj, json_throughput);
	tcase_add_test(tj, json_escapes_strings);
	tcase_add_test(tj, json_survives_invalid_utf8);
	tcase_add_test(tj, valid_utf8_is_kept);
	tcase_add_test(tj, caps_count_the_rest);
	tcase_add_test(tj, long_strings_are_cut);
	tcase_add_test(tj, open_check_is_written);
	tcase_add_test(tj, json_write_error_names_path);
	tcase_add_test(tj, json_refuses_a_fifo_without_blocking);
	tcase_add_test(tj, json_failed_write_keeps_the_previous_file);
	suite_add_tcase(s, tj);
	return s;
}

int main(void)
{
	return run_suite(report_suite());
}
