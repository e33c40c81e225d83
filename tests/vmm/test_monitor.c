/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the monitor without KVM: outputs that cannot be written, error paths that free everything. */
#include <check.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hatvm/exit_status.h"
#include "leak_check.h"
#include "monitor.h"
#include "run_vmm.h"

static char vmm_path[PATH_MAX], guest_path[PATH_MAX];
static char dir[] = "/tmp/hatvm-monitor-XXXXXX";
static char core[64], report[64], image[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(core, sizeof(core), "%s/core", dir);
	snprintf(report, sizeof(report), "%s/report.json", dir);
	snprintf(image, sizeof(image), "%s/guest.elf", dir);
}

static void teardown(void)
{
	unlink(core);
	unlink(report);
	unlink(image);
	rmdir(dir);
}

/*
 * The end of a clean run as vm_run drives it (the exit hook, then
 * monitor_close), over 1 MiB of RAM; with LIMIT > 0 every file write
 * beyond LIMIT bytes fails with EFBIG, as on a full disk.
 */
static int clean_run_status(const struct vmm_options *opt, rlim_t limit)
{
	struct vm_checkpoint exit_point = { .label = "exit", .phase = VM_PHASE_EXIT, .cpu = -1,
					    .vcpu_fd = -1 };
	struct vcpu_state vcpu = { .valid = false };
	struct rlimit saved, small;
	struct run_findings findings;
	struct monitor mon;
	struct guest_mem gm;

	ck_assert_int_eq(guest_mem_map(&gm, 1u << 20), 0);
	ck_assert_int_eq(monitor_open(&mon, opt, &gm), 0);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = (struct rlimit){ .rlim_cur = limit, .rlim_max = saved.rlim_max };
	if (limit)
		ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	monitor_check(&mon, &exit_point, &vcpu, 1);
	monitor_close(&mon, &findings);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	guest_mem_unmap(&gm);
	return exit_status_decide(RUN_CLEAN, &findings);
}

/* Case i: bit 0 asks for a core, bit 1 for a report; each fails on the "full disk". */
START_TEST(an_unwritten_output_makes_a_clean_run_exit_2)
{
	struct vmm_options opt = { .image = "unused.elf", .check = CHECK_OFF, .quiet = true,
				   .core_path = (_i & 1) ? core : NULL,
				   .report_path = (_i & 2) ? report : NULL };

	ck_assert_int_eq(clean_run_status(&opt, 16), VMM_EXIT_USAGE);
	ck_assert_int_ne(access(core, F_OK), 0);
	ck_assert_int_ne(access(report, F_OK), 0);
	ck_assert_int_eq(clean_run_status(&opt, 0), VMM_EXIT_OK);
	ck_assert_int_eq(access(core, F_OK), (_i & 1) ? 0 : -1);
	ck_assert_int_eq(access(report, F_OK), (_i & 2) ? 0 : -1);
}
END_TEST

/* Copies guest.elf to image and gives its .symtab a bad sh_entsize: it loads, its symbols do not. */
static void write_corrupt_symtab_image(void)
{
	char cmd[2 * PATH_MAX];
	uint64_t bad_entsize = 16;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Ehdr eh;

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", guest_path, image);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	int fd = open(image, O_RDWR);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
	while ((scn = elf_nextscn(e, scn)) && gelf_getshdr(scn, &sh) && sh.sh_type != SHT_SYMTAB)
		;
	ck_assert_msg(scn, "%s has no .symtab", guest_path);
	off_t at = (off_t)(eh.e_shoff + elf_ndxscn(scn) * eh.e_shentsize +
			   offsetof(Elf64_Shdr, sh_entsize));
	elf_end(e);
	ck_assert_int_eq(pwrite(fd, &bad_entsize, sizeof(bad_entsize), at), sizeof(bad_entsize));
	close(fd);
}

/*
 * monitor_open failing after it made the report (symbols unreadable):
 * exactly status 2, before KVM is needed. Under ASan a leak would turn
 * it into another status (the test binary turns detect_leaks on).
 */
START_TEST(a_failed_open_frees_everything)
{
	write_corrupt_symtab_image();
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--check=exit", image, NULL });
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "sh_entsize");
	vmm_result_free(&r);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 3 || !realpath(argv[1], vmm_path) || !realpath(argv[2], guest_path))
		return 99;
	leak_check_children();
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("outputs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, an_unwritten_output_makes_a_clean_run_exit_2, 1, 4);
	tcase_add_test(tc, a_failed_open_frees_everything);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
