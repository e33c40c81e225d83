/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: `vmm check-core` (no KVM): unusable inputs and outputs, full disks, error paths that leak nothing. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_dump.h"
#include "elf_builder.h"
#include "fifo_guard.h"
#include "hatvm/exit_status.h"
#include "leak_check.h"
#include "run_vmm.h"

static char vmm_path[PATH_MAX], guest_path[PATH_MAX];
static char dir[] = "/tmp/hatvm-check-core-XXXXXX";
static char core[64], report[64];

/* DIR/NAME in one of a few static buffers. */
static char *in_dir(const char *name)
{
	static char path[4][PATH_MAX];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

/* A core of 1 MiB of zero RAM and one vCPU, written as --dump-core would. */
static void write_core(const char *path)
{
	struct core_vcpu_state v = { .cpu = 0, .rflags = 2 };
	struct guest_mem gm;
	char err[256];

	ck_assert_int_eq(guest_mem_map(&gm, 1u << 20), 0);
	ck_assert_msg(core_dump_write(path, &gm, &v, 1, 0, err, sizeof(err)) == 0, "%s", err);
	guest_mem_unmap(&gm);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(core, sizeof(core), "%s/core", dir);
	snprintf(report, sizeof(report), "%s/report.json", dir);
	write_core(core);
}

/* Entries in dir besides . and ..; removes them (one level of subfolders too) when REMOVE. */
static unsigned dir_entries(bool remove)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (remove && unlink(in_dir(e->d_name)) != 0)
			rmdir(in_dir(e->d_name));
	}
	closedir(d);
	return n;
}

static void teardown(void)
{
	dir_entries(true);
	rmdir(dir);
}

static struct vmm_result check_core(const char *opt, const char *core_path, const char *guest)
{
	if (opt)
		return run_vmm((const char *[]){ vmm_path, "check-core", opt, core_path, guest, NULL });
	return run_vmm((const char *[]){ vmm_path, "check-core", core_path, guest, NULL });
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void assert_text(const char *path, const char *text)
{
	char back[256] = "";
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	back[fread(back, 1, sizeof(back) - 1, f)] = '\0';
	fclose(f);
	ck_assert_str_eq(back, text);
}

START_TEST(a_core_writes_a_report)
{
	char opt[96];
	struct vmm_result r;

	snprintf(opt, sizeof(opt), "--report=%s", report);
	r = check_core(opt, core, guest_path);
	ck_assert_msg(r.status == VMM_EXIT_OK, "status %d:\n%s", r.status, r.err);
	ck_assert_int_eq(access(report, R_OK), 0);
	ck_assert_uint_eq(dir_entries(false), 2);
	vmm_result_free(&r);
}
END_TEST

/* `vmm check-core FIFO GUEST`: status 2 at once, naming the FIFO. */
START_TEST(a_fifo_core_is_refused_at_once)
{
	char *fifo = in_dir("fifo");

	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	fifo_guard_arm(fifo, 10);
	struct vmm_result r = check_core(NULL, fifo, guest_path);
	ck_assert_msg(!fifo_guard_disarm(), "check-core blocked opening the FIFO");
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, fifo);
	ASSERT_HAS(r.err, "not a regular file");
	vmm_result_free(&r);
}
END_TEST

/* --report naming a FIFO, a directory or a missing directory: status 2 before any work. */
START_TEST(an_unusable_report_is_refused_at_once)
{
	const char *names[] = { "fifo", "subdir", "missing/report.json" };
	char *target = in_dir(names[_i]);
	char opt[PATH_MAX + 16];

	ck_assert_int_eq(mkfifo(in_dir("fifo"), 0600), 0);
	ck_assert_int_eq(mkdir(in_dir("subdir"), 0700), 0);
	snprintf(opt, sizeof(opt), "--report=%s", target);
	fifo_guard_arm(in_dir("fifo"), 10);
	struct vmm_result r = check_core(opt, core, guest_path);
	ck_assert_msg(!fifo_guard_disarm(), "check-core %s blocked", opt);
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "--report");
	ASSERT_HAS(r.err, target);
	ck_assert_uint_eq(dir_entries(false), 3);   /* core, fifo, subdir: nothing made, nothing gone */
	vmm_result_free(&r);
}
END_TEST

/* A symlink to /dev/full: a clear error, a non-zero status, and the symlink stays. */
START_TEST(a_report_symlinked_to_dev_full_is_refused)
{
	char opt[96];
	struct stat st;

	ck_assert_int_eq(symlink("/dev/full", report), 0);
	snprintf(opt, sizeof(opt), "--report=%s", report);
	struct vmm_result r = check_core(opt, core, guest_path);
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, report);
	ASSERT_HAS(r.err, "not a regular file");
	ck_assert_int_eq(lstat(report, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_uint_eq(dir_entries(false), 2);
	vmm_result_free(&r);
}
END_TEST

/*
 * A full disk while the report is written (EFBIG from RLIMIT_FSIZE, which
 * the child inherits, SIGXFSZ ignored): status 2 with the reason, the
 * previous report untouched, no temporary file left.
 */
START_TEST(a_full_disk_keeps_the_previous_report)
{
	struct rlimit saved, small;
	char opt[96];

	write_text(report, "previous\n");
	snprintf(opt, sizeof(opt), "--report=%s", report);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = (struct rlimit){ .rlim_cur = 16, .rlim_max = saved.rlim_max };
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	struct vmm_result r = check_core(opt, core, guest_path);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, report);
	ASSERT_HAS(r.err, strerror(EFBIG));
	assert_text(report, "previous\n");
	ck_assert_uint_eq(dir_entries(false), 2);
	vmm_result_free(&r);
}
END_TEST

/*
 * Error paths after the core is read free everything: exactly status 2
 * (under ASan with detect_leaks=1 a leak turns it into another status).
 * GUEST is a directory, or an image whose .symtab has a bad sh_entsize.
 */
START_TEST(a_bad_guest_exits_2_without_leaks)
{
	struct eb_image eb;
	uint64_t bad_entsize = 16;
	char *image = in_dir("bad-symtab.elf");

	eb_init(&eb);
	eb_add_sym(&eb, (struct eb_sym){ .name = "hat_list", .value = 0x1000, .size = 8 });
	ck_assert_int_eq(eb_write(&eb, image), 0);
	ck_assert_int_eq(eb_patch(image, eb.out_shoff + sizeof(Elf64_Shdr) +
				  offsetof(Elf64_Shdr, sh_entsize), &bad_entsize, 8), 0);
	struct vmm_result r = check_core(NULL, core, _i ? image : dir);
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, _i ? "sh_entsize" : "is a directory");
	vmm_result_free(&r);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 3 || !realpath(argv[1], vmm_path) || !realpath(argv[2], guest_path))
		return 99;
	leak_check_children();
	Suite *s = suite_create("check_core");
	TCase *tc = tcase_create("check_core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_core_writes_a_report);
	tcase_add_test(tc, a_fifo_core_is_refused_at_once);
	tcase_add_loop_test(tc, an_unusable_report_is_refused_at_once, 0, 3);
	tcase_add_test(tc, a_report_symlinked_to_dev_full_is_refused);
	tcase_add_test(tc, a_full_disk_keeps_the_previous_report);
	tcase_add_loop_test(tc, a_bad_guest_exits_2_without_leaks, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
