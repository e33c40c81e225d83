/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: output files are complete or absent, never block, and never remove what vmm did not create. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "out_file.h"
#include "run_vmm.h"

static char dir[] = "/tmp/hatvm-out-XXXXXX";
static char path[256];
static char err[512];

static void setup(void)
{
	strcpy(dir, "/tmp/hatvm-out-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *p)
{
	static char buf[256];
	FILE *f = fopen(p, "r");

	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Files in the test directory, temporaries included. */
static unsigned entries(void)
{
	DIR *d = opendir(dir);
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Writes text to target through out_file; returns commit's result. */
static int put(const char *target, const char *text)
{
	struct out_file f;

	if (out_file_open(&f, target, err, sizeof(err)))
		return -1;
	FILE *s = out_file_stream(&f, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	fputs(text, s);
	return out_file_commit(&f, s, err, sizeof(err));
}

START_TEST(creates_a_complete_file)
{
	ck_assert_int_eq(put(path, "hello\n"), 0);
	ck_assert_str_eq(read_file(path), "hello\n");
	ck_assert_uint_eq(entries(), 1);   /* no temporary left behind */
}
END_TEST

START_TEST(new_file_gets_umask_permissions)
{
	struct stat st;
	mode_t old = umask(022);

	ck_assert_int_eq(put(path, "x"), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
}
END_TEST

START_TEST(replaces_an_old_file)
{
	write_file(path, "old");
	ck_assert_int_eq(put(path, "new"), 0);
	ck_assert_str_eq(read_file(path), "new");
}
END_TEST

START_TEST(symlink_to_a_file_writes_the_file)
{
	char link[300];
	struct stat st;

	write_file(path, "old");
	snprintf(link, sizeof(link), "%s/link", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(put(link, "new"), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_str_eq(read_file(path), "new");
}
END_TEST

START_TEST(fifo_is_refused_without_blocking)
{
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	alarm(5);   /* a blocking open would hang: let the alarm fail the test */
	ck_assert_int_eq(put(path, "x"), -1);
	alarm(0);
	ASSERT_HAS(err, "not a regular file");
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));   /* still there */
}
END_TEST

START_TEST(device_and_directory_are_refused)
{
	ck_assert_int_eq(out_file_check("/dev/null", err, sizeof(err)), -1);
	ASSERT_HAS(err, "/dev/null: not a regular file");
	ck_assert_int_eq(out_file_check(dir, err, sizeof(err)), -1);
	ASSERT_HAS(err, "is a directory");
	ck_assert_int_eq(access("/dev/null", F_OK), 0);
}
END_TEST

START_TEST(symlink_to_a_device_is_refused)
{
	char link[300];

	snprintf(link, sizeof(link), "%s/full", dir);
	ck_assert_int_eq(symlink("/dev/full", link), 0);
	ck_assert_int_eq(put(link, "x"), -1);
	ASSERT_HAS(err, "not a regular file");
	struct stat st;
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));   /* the user's symlink is not removed */
}
END_TEST

START_TEST(missing_directory_is_refused)
{
	ck_assert_int_eq(out_file_check("/nonexistent-dir/x.json", err, sizeof(err)), -1);
	ASSERT_HAS(err, "does not exist");
}
END_TEST

/* access(2) lets root "write" to /proc; the check creates a file there for real. */
START_TEST(a_directory_that_takes_no_files_is_refused)
{
	ck_assert_int_eq(out_file_check("/proc/hatvm-report.json", err, sizeof(err)), -1);
	ASSERT_HAS(err, "/proc/hatvm-report.json: cannot create files in /proc: ");
}
END_TEST

START_TEST(the_check_leaves_nothing)
{
	ck_assert_int_eq(out_file_check(path, err, sizeof(err)), 0);
	ck_assert_uint_eq(entries(), 0);
}
END_TEST

/* A full disk, as far as this process can tell: writes past 4 KiB fail (EFBIG). */
START_TEST(write_failure_keeps_the_old_file)
{
	struct rlimit small = { 4096, 4096 };
	char big[16384];

	write_file(path, "old");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);   /* this forked test only */
	ck_assert_int_eq(put(path, big), -1);
	ASSERT_HAS(err, "write failed");
	ck_assert_str_eq(read_file(path), "old");
	ck_assert_uint_eq(entries(), 1);
}
END_TEST

START_TEST(abort_leaves_nothing)
{
	struct out_file f;

	ck_assert_int_eq(out_file_open(&f, path, err, sizeof(err)), 0);
	ck_assert_int_eq(write(f.fd, "partial", 7), 7);
	out_file_abort(&f, NULL);
	ck_assert_uint_eq(entries(), 0);
}
END_TEST

static Suite *out_file_suite(void)
{
	Suite *s = suite_create("out_file");
	TCase *tc = tcase_create("out_file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, creates_a_complete_file);
	tcase_add_test(tc, new_file_gets_umask_permissions);
	tcase_add_test(tc, replaces_an_old_file);
	tcase_add_test(tc, symlink_to_a_file_writes_the_file);
	tcase_add_test(tc, fifo_is_refused_without_blocking);
	tcase_add_test(tc, device_and_directory_are_refused);
	tcase_add_test(tc, symlink_to_a_device_is_refused);
	tcase_add_test(tc, missing_directory_is_refused);
	tcase_add_test(tc, a_directory_that_takes_no_files_is_refused);
	tcase_add_test(tc, the_check_leaves_nothing);
	tcase_add_test(tc, write_failure_keeps_the_old_file);
	tcase_add_test(tc, abort_leaves_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(out_file_suite());
}
