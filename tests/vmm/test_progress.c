/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the progress line: its text, when it is drawn, cleared and left alone. */
#define _GNU_SOURCE   /* posix_openpt's friends */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "run_vmm.h"

#define MS 1000000ull
#define CLEAR "\r\033[K"

START_TEST(line_text)
{
	char buf[160];
	struct progress_counts c = { .ops = 123456, .checks = 42, .violations = 3 };

	ck_assert_uint_eq(progress_format(buf, sizeof(buf), &c, 12345 * MS), strlen(buf));
	ck_assert_str_eq(buf, "vmm: 123456 operations, 42 checks, 3 violations, 12.3s");
	progress_format(buf, sizeof(buf), &c, 125000 * MS);
	ASSERT_HAS(buf, ", 2m05s");
	progress_format(buf, sizeof(buf), &c, 7380000 * MS);
	ASSERT_HAS(buf, ", 2h03m");
	c.ops = PROGRESS_NO_OPS;
	progress_format(buf, sizeof(buf), &c, 0);
	ck_assert_str_eq(buf, "vmm: - operations, 42 checks, 3 violations, 0.0s");
	ck_assert_uint_eq(progress_format(buf, 10, &c, 0), 9);   /* truncated like snprintf */
	ck_assert_str_eq(buf, "vmm: - op");
	ck_assert(strpbrk(buf, "\r\n\033") == NULL);
}
END_TEST

/* What the line wrote to its stream so far. */
static const char *written(FILE *f, char *buf, size_t size)
{
	long len = ftell(f);

	rewind(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fseek(f, len, SEEK_SET);
	return buf;
}

START_TEST(drawn_at_most_four_times_a_second_after_a_second)
{
	static char buf[4096];
	struct progress p;
	struct progress_counts c = { .ops = 1, .checks = 1 };
	FILE *f = tmpfile();

	progress_init(&p, f, true, 0, PROGRESS_DELAY_NS);
	progress_update(&p, &c, 500 * MS);   /* a short run shows nothing */
	ck_assert_str_eq(written(f, buf, sizeof(buf)), "");
	c.checks = 2;
	progress_update(&p, &c, 1000 * MS);
	ck_assert_str_eq(written(f, buf, sizeof(buf)), CLEAR "vmm: 1 operations, 2 checks, 0 violations, 1.0s");
	c.checks = 3;
	progress_update(&p, &c, 1100 * MS);  /* too soon */
	progress_update(&p, &c, 1249 * MS);
	ck_assert(strstr(written(f, buf, sizeof(buf)), "3 checks") == NULL);
	progress_update(&p, &c, 1250 * MS);
	ASSERT_HAS(written(f, buf, sizeof(buf)), CLEAR "vmm: 1 operations, 3 checks, 0 violations, 1.2s");

	/* other output: cleared before it, put back right after it */
	fseek(f, 0, SEEK_SET);
	ck_assert_int_eq(ftruncate(fileno(f), 0), 0);
	progress_hide(&p);
	fputs("check line\n", f);
	c.violations = 1;
	progress_update(&p, &c, 1260 * MS);
	ck_assert_str_eq(written(f, buf, sizeof(buf)),
			 CLEAR "check line\n" CLEAR "vmm: 1 operations, 3 checks, 1 violations, 1.2s");
	progress_end(&p);
	ck_assert_str_eq(written(f, buf, sizeof(buf)), CLEAR "check line\n" CLEAR
			 "vmm: 1 operations, 3 checks, 1 violations, 1.2s" CLEAR);
	progress_end(&p);                    /* nothing shown: nothing to clear */
	progress_hide(&p);
	ck_assert(strstr(buf, CLEAR CLEAR) == NULL);
	fclose(f);

	/* without a delay the first update draws at once, the next one a quarter second later */
	f = tmpfile();
	progress_init(&p, f, true, 0, 0);
	progress_update(&p, &c, 1 * MS);
	progress_update(&p, &c, 2 * MS);
	progress_update(&p, &c, 251 * MS);
	ck_assert_str_eq(written(f, buf, sizeof(buf)), CLEAR "vmm: 1 operations, 3 checks, 1 violations, 0.0s"
			 CLEAR "vmm: 1 operations, 3 checks, 1 violations, 0.2s");
	fclose(f);
}
END_TEST

START_TEST(disabled_writes_nothing)
{
	static char buf[256];
	struct progress p;
	struct progress_counts c = { 0 };
	FILE *f = tmpfile();

	progress_init(&p, f, false, 0, 0);
	for (unsigned i = 0; i < 20; i++)
		progress_update(&p, &c, i * 500 * MS);
	progress_hide(&p);
	progress_end(&p);
	ck_assert_str_eq(written(f, buf, sizeof(buf)), "");
	fclose(f);
}
END_TEST

/* Only a terminal gets the line, and not with --quiet. */
START_TEST(wanted_on_a_terminal_only)
{
	int pipefd[2];
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert(!progress_wanted(pipefd[1], false));
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	int tty = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(tty, 0);
	ck_assert(progress_wanted(tty, false));
	ck_assert(!progress_wanted(tty, true));
	close(tty);
	close(master);
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

static Suite *make(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_add_test(tc, line_text);
	tcase_add_test(tc, drawn_at_most_four_times_a_second_after_a_second);
	tcase_add_test(tc, disabled_writes_nothing);
	tcase_add_test(tc, wanted_on_a_terminal_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(make());
}
