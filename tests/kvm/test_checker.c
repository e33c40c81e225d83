/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: the host checker on live guests — silence when healthy, every injection caught, walker, cores, ptdump. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_builder.h"
#include "hatvm/exit_status.h"
#include "inject.h"
#include "invariant_names.h"
#include "run_vmm.h"

static const char *vmm_path, *guest_path;
static char tmpdir[] = "/tmp/hatvm-checker-XXXXXX";

/* The catalogue's IDs that --inject can plant, in catalogue order (filled by checker_suite). */
static enum invariant_id injectable[INV_COUNT];
static unsigned injectable_count;

static void list_injectable(void)
{
	injectable_count = 0;
	for (unsigned id = 0; id < INV_COUNT; id++)
		if (inject_supported((enum invariant_id)id))
			injectable[injectable_count++] = (enum invariant_id)id;
}

static char *tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static json_t *load_report(const char *path)
{
	json_error_t error;
	json_t *root = json_load_file(path, 0, &error);

	ck_assert_msg(root, "report %s: %s", path, error.text);
	return root;
}

static const char *const healthy[][2] = {
	{ "workload=smoke", "seed=1" }, { "workload=share", "seed=2" },
	{ "workload=random", "seed=3" }, { "workload=pressure", "seed=4" },
	{ "workload=large", "seed=5" },
};

START_TEST(healthy_runs_are_silent)
{
	char *report = strdup(tmp_path("healthy.json"));
	char opt[300];

	snprintf(opt, sizeof(opt), "--report=%s", report);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, opt, guest_path, "--",
		healthy[_i][0], healthy[_i][1], NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "status %d:\n%s", r.status, r.err);
	ck_assert(!strstr(r.err, "violation "));
	json_t *root = load_report(report);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "violations_total")), 0);
	ck_assert_int_ge(json_array_size(json_object_get(root, "checks")), 2);
	json_decref(root);
	vmm_result_free(&r);
	free(report);
}
END_TEST

/* "injected ID at 'label': space=S va=V pfn=P: ..." → "space=S va=V pfn=P" */
static char *injected_location(const char *err, const char *id)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "injected %s at '", id);
	const char *line = strstr(err, needle);
	ck_assert_msg(line, "no injection of %s reported:\n%s", id, err);
	const char *start = strstr(line, "': ") + 3;
	const char *end = strstr(start, ":");
	return strndup(start, (size_t)(end - start));
}

/*
 * Each injection is reported with its ID where it was planted, and, being
 * expected and repaired, does not freeze a --stop-on-violation run: the
 * guest runs to its end.
 */
START_TEST(every_injection_is_caught)
{
	const char *id = invariant_name(injectable[_i]);
	char *report = strdup(tmp_path("inject.json"));
	char opt[300], violation[400];

	snprintf(opt, sizeof(opt), "--report=%s", report);
	/* 64 MiB: every workload fits, and the emulated page_init of kvm_pvm is 3x shorter */
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--quiet", "--stop-on-violation",
		"--mem", "64M", "--inject", id, opt, guest_path, "--", "workload=all", "seed=1", NULL });
	ck_assert_msg(r.status == VMM_EXIT_VIOLATION, "%s: status %d:\n%s", id, r.status, r.err);
	ck_assert_msg(!strstr(r.err, "frozen"), "%s froze the run:\n%s", id, r.err);
	ASSERT_HAS(r.out, "all: 5 workloads passed\n");
	char *where = injected_location(r.err, id);
	snprintf(violation, sizeof(violation), "violation %s %s", id, where);
	ASSERT_HAS(r.err, violation);

	json_t *root = load_report(report);
	ck_assert_int_ge(json_integer_value(json_object_get(root, "violations_total")), 1);
	bool found = false;
	size_t i, j;
	json_t *check, *v;
	json_array_foreach(json_object_get(root, "checks"), i, check)
		json_array_foreach(json_object_get(check, "violations"), j, v)
			found |= strcmp(json_string_value(json_object_get(v, "id")), id) == 0;
	ck_assert_msg(found, "%s missing from the JSON report", id);
	json_decref(root);
	free(where);
	free(report);
	vmm_result_free(&r);
}
END_TEST

/* The labels of a JSON report's checks, in order, each with its violation count: "label=N ...". */
static char *report_checks(const char *path)
{
	json_t *root = load_report(path), *check;
	char *all = calloc(1, 8192);
	size_t i;

	ck_assert_ptr_nonnull(all);
	json_array_foreach(json_object_get(root, "checks"), i, check) {
		char one[300];
		snprintf(one, sizeof(one), "%s%s=%lld", *all ? " " : "",
			 json_string_value(json_object_get(check, "label")),
			 (long long)json_integer_value(json_object_get(check, "violations_total")));
		if (strlen(all) + strlen(one) < 8192)
			strcat(all, one);
	}
	json_decref(root);
	return all;
}

/* workload=corrupt breaks an invariant for real; without --stop-on-violation the guest runs on. */
START_TEST(corrupt_is_caught_and_runs_on)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, guest_path, "--",
		"workload=corrupt", NULL });

	ck_assert_msg(r.status == VMM_EXIT_VIOLATION, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "violation RM_STALE ");
	ASSERT_HAS(r.err, "violation PT_VALID_CNT ");
	ASSERT_HAS(r.out, "corrupt: the guest ran on after the violation");
	ASSERT_HAS(r.out, "stats: ");
	ck_assert_ptr_null(strstr(r.err, "frozen"));
	vmm_result_free(&r);
}
END_TEST

/*
 * --check=async: a corruption that lives only between two checkpoints
 * (a leaf dirty and not accessed for 300 ms) is found by an instant check
 * with the guest stopped wherever it was; the same run without async
 * checks sees nothing.
 */
START_TEST(async_checks_see_between_checkpoints)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--check=async:5", guest_path, "--",
		"workload=corrupt", "transient_ms=300", NULL });

	ck_assert_msg(r.status == VMM_EXIT_VIOLATION, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "violation PT_DIRTY_ACCESSED space=1 va=0x0000000040000000");
	ASSERT_HAS(r.err, "check \"async\":");
	ASSERT_HAS(r.err, " async checks, ");
	vmm_result_free(&r);
	r = run_vmm((const char *[]){ vmm_path, guest_path, "--", "workload=corrupt", "transient_ms=300",
				     NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "vmm: 3 checks, 0 violations");
	vmm_result_free(&r);
}
END_TEST

/*
 * --stop-on-violation: the first violating checkpoint freezes the guest
 * (nothing it would print afterwards appears), the exit check sees the
 * frozen state, report and core are written, and vmm exits 1; on 1 and 2
 * vCPUs, and with an --inject planted earlier in the run (RS_COUNT at the
 * first checkpoint, "corrupt:mapped"), which must not freeze it.
 */
START_TEST(stop_on_violation_freezes_the_guest)
{
	char *report = strdup(tmp_path("frozen.json")), *core = strdup(tmp_path("frozen.core"));
	char report_opt[300], core_opt[300];
	const char *cpus = _i == 1 ? "2" : "1", *inject = _i == 2 ? "RS_COUNT" : NULL;

	snprintf(report_opt, sizeof(report_opt), "--report=%s", report);
	snprintf(core_opt, sizeof(core_opt), "--dump-core=%s", core);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--stop-on-violation", "--cpus", cpus,
		report_opt, core_opt, inject ? "--inject" : "--quiet", inject ? inject : "--quiet",
		guest_path, "--", "workload=corrupt", NULL });
	ck_assert_msg(r.status == VMM_EXIT_VIOLATION, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "vmm: --stop-on-violation: guest frozen at 'corrupt:broken' (vCPU 0)\n");
	ASSERT_HAS(r.out, "corrupt: cleared the PTE");
	ck_assert_msg(!strstr(r.out, "ran on") && !strstr(r.out, "stats: "),
		      "the guest ran after the freeze:\n%s", r.out);
	if (inject)
		ASSERT_HAS(r.err, "vmm: injected RS_COUNT at 'corrupt:mapped'");
	vmm_result_free(&r);

	/* corrupt:mapped has the planted RS_COUNT only; the freeze's check is the last before exit */
	char *checks = report_checks(report);
	const char *mapped_at = strstr(checks, "corrupt:mapped=");
	const char *broken_at = strstr(checks, "corrupt:broken=");
	unsigned long long mapped = 99, broken = 0, at_exit = 0;
	int end = 0;
	ck_assert_msg(mapped_at && broken_at && sscanf(mapped_at, "corrupt:mapped=%llu", &mapped) == 1 &&
		      sscanf(broken_at, "corrupt:broken=%llu exit=%llu%n", &broken, &at_exit, &end) == 2 &&
		      broken_at[end] == '\0', "checks: %s", checks);
	ck_assert_msg((inject ? mapped >= 1 : mapped == 0) && broken >= 2 && at_exit >= 2,
		      "checks: %s", checks);
	free(checks);

	/* the core holds the frozen state: the PTE still cleared */
	r = run_vmm((const char *[]){ vmm_path, "check-core", core, guest_path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_VIOLATION, "check-core: status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "violation RM_STALE ");
	vmm_result_free(&r);
	unlink(core);
	unlink(report);
	free(core);
	free(report);
}
END_TEST

/* With RM_LINKS' detection disabled by the test-only hook, --inject RM_LINKS must say it was missed. */
START_TEST(undetected_injection_fails_the_run)
{
	ck_assert_int_eq(setenv("HATVM_TEST_DISABLE_CHECK", "RM_LINKS", 1), 0);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--quiet", "--inject", "RM_LINKS",
		guest_path, "--", "workload=smoke", NULL });
	unsetenv("HATVM_TEST_DISABLE_CHECK");
	ck_assert_msg(r.status == VMM_EXIT_INJECT_MISSED, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "vmm: injected RM_LINKS at '");
	ASSERT_HAS(r.err, "vmm: injected RM_LINKS was not detected");
	vmm_result_free(&r);
}
END_TEST

/* Nothing in guest memory can plant a walker disagreement: a usage error, before the guest runs. */
START_TEST(walker_agreement_is_not_injectable)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--inject", "PT_WALK_AGREE",
		guest_path, "--", "workload=smoke", NULL });
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "--inject PT_WALK_AGREE: this invariant cannot be injected");
	ck_assert_str_eq(r.out, "");
	vmm_result_free(&r);
}
END_TEST

/* The "phase" of each check in a JSON report, in order, joined by spaces. */
static char *report_phases(const char *path)
{
	json_t *root = load_report(path), *check;
	char *phases = calloc(1, 4096);
	size_t i;

	ck_assert_ptr_nonnull(phases);
	json_array_foreach(json_object_get(root, "checks"), i, check) {
		const char *phase = json_string_value(json_object_get(check, "phase"));
		ck_assert_msg(phase, "check %zu has no phase", i);
		if (strlen(phases) + strlen(phase) + 2 < 4096)
			strcat(strcat(phases, *phases ? " " : ""), phase);
	}
	json_decref(root);
	return phases;
}

START_TEST(report_records_each_phase)
{
	char *report = strdup(tmp_path("phase.json")), *core = strdup(tmp_path("phase.core"));
	char report_opt[300], core_opt[300];

	snprintf(report_opt, sizeof(report_opt), "--report=%s", report);
	snprintf(core_opt, sizeof(core_opt), "--dump-core=%s", core);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, report_opt, core_opt, guest_path,
		"--", "workload=smoke", NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "status %d:\n%s", r.status, r.err);
	vmm_result_free(&r);
	char *phases = report_phases(report);
	/* smoke's checkpoints, then the one check after the guest stopped */
	ck_assert_msg(strncmp(phases, "checkpoint ", 11) == 0 && strstr(phases, " exit") &&
		      strcmp(strstr(phases, " exit"), " exit") == 0 && !strstr(phases, "offline"),
		      "phases: %s", phases);
	free(phases);

	r = run_vmm((const char *[]){ vmm_path, "check-core", report_opt, core, guest_path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "check-core: status %d:\n%s", r.status, r.err);
	vmm_result_free(&r);
	phases = report_phases(report);
	ck_assert_str_eq(phases, "offline");
	free(phases);
	unlink(core);
	free(core);
	free(report);
}
END_TEST

START_TEST(walker_agrees_with_kvm_translate)
{
	/* smoke checkpoints with the kernel's and two user address spaces loaded */
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--verify-walker", guest_path,
		"--", "workload=smoke", NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "status %d:\n%s", r.status, r.err);
	unsigned lines = 0, distinct = 0;
	char seen[64][32];
	for (const char *p = r.err; (p = strstr(p, "vmm: walker at '")); p++) {
		char cr3[32];
		unsigned compared, disagree;
		const char *q = strstr(p, "cr3=");
		ck_assert(sscanf(q, "cr3=%31s %u addresses compared with KVM_TRANSLATE, %u disagree",
				 cr3, &compared, &disagree) == 3);
		ck_assert_uint_gt(compared, 64);
		ck_assert_uint_eq(disagree, 0);
		bool known = false;
		for (unsigned k = 0; k < distinct; k++)
			known |= strcmp(seen[k], cr3) == 0;
		if (!known && distinct < 64)
			strcpy(seen[distinct++], cr3);
		lines++;
	}
	ck_assert_uint_ge(lines, 3);
	ck_assert_msg(distinct >= 3, "only %u address spaces sampled", distinct);
	vmm_result_free(&r);
}
END_TEST

START_TEST(core_dump_checks_offline_and_opens_in_gdb)
{
	char *core = strdup(tmp_path("smoke.core"));
	char opt[300];

	snprintf(opt, sizeof(opt), "--dump-core=%s", core);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, opt, guest_path, "--",
		"workload=smoke", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "check-core", core, guest_path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "check-core: %d\n%s", r.status, r.err);
	ASSERT_HAS(r.err, "check \"core\": spaces=");
	vmm_result_free(&r);

	if (access("/usr/bin/gdb", X_OK) == 0) {
		r = run_vmm((const char *[]){ "/usr/bin/gdb", "-nx", "-batch", "-ex", "info registers rip",
			guest_path, core, NULL });
		ck_assert_int_eq(r.status, EXIT_SUCCESS);   /* gdb's */
		ASSERT_HAS(r.out, "rip");
		vmm_result_free(&r);
	}
	unlink(core);
	free(core);
}
END_TEST

START_TEST(core_dump_on_crash)
{
	char *core = strdup(tmp_path("crash.core"));
	char opt[300];

	snprintf(opt, sizeof(opt), "--dump-core=%s", core);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, opt, guest_path, "--",
		"workload=fault", "fault=ud", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_CRASH);
	ck_assert_msg(access(core, R_OK) == 0, "no core after a crash:\n%s", r.err);
	vmm_result_free(&r);
	unlink(core);
	free(core);
}
END_TEST

START_TEST(ptdump_shows_every_space)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--ptdump=smoke:exercised",
		guest_path, "--", "workload=smoke", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "address space 0 (kernel)");
	ASSERT_HAS(r.out, "address space 1,");
	ASSERT_HAS(r.out, "---[ upper half ]---");
	ASSERT_HAS(r.out, " pte ");
	ASSERT_HAS(r.out, "RW NX PSE");   /* the direct map's 2 MiB pages */
	vmm_result_free(&r);
}
END_TEST

/* A user's own kernel: one segment in the kernel half, a puts hypercall, HLT. */
START_TEST(foreign_kernel_boots_with_checks_skipped)
{
	static uint8_t seg[0x300];
	const uint8_t code[] = {
		0xb8, 0x00, 0x01, 0x30, 0x00,   /* mov $0x300100, %eax */
		0x66, 0xba, 0x00, 0x05,         /* mov $0x500, %dx */
		0xef,                           /* out %eax, %dx */
		0xf4,                           /* hlt */
	};
	const char msg[] = "hello from a foreign kernel\n";
	uint64_t args[2] = { 0x300200, sizeof(msg) - 1 };
	struct eb_image img;
	char *path = strdup(tmp_path("foreign.elf"));

	memcpy(seg, code, sizeof(code));
	memcpy(seg + 0x100, args, sizeof(args));
	memcpy(seg + 0x200, msg, sizeof(msg));
	eb_init(&img);
	eb_add_load(&img, 0xffffffff80300000ull, 0x300000, PF_R | PF_X, seg, sizeof(seg), sizeof(seg));
	img.ehdr.e_entry = 0xffffffff80300000ull;
	ck_assert_int_eq(eb_write(&img, path), 0);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "status %d:\n%s", r.status, r.err);
	ck_assert_str_eq(r.out, msg);
	ASSERT_HAS(r.err, "checks skipped");
	vmm_result_free(&r);
	unlink(path);
	free(path);
}
END_TEST

static Suite *checker_suite(void)
{
	Suite *s = suite_create("checker");
	TCase *inject = tcase_create("inject"), *tc = tcase_create("checker");

	/* two cases, so that meson can run them side by side (CK_RUN_CASE) */
	tcase_set_timeout(inject, 120);
	list_injectable();
	tcase_add_loop_test(inject, every_injection_is_caught, 0, injectable_count);
	suite_add_tcase(s, inject);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, healthy_runs_are_silent, 0, sizeof(healthy) / sizeof(healthy[0]));
	tcase_add_test(tc, undetected_injection_fails_the_run);
	tcase_add_test(tc, corrupt_is_caught_and_runs_on);
	tcase_add_test(tc, async_checks_see_between_checkpoints);
	tcase_add_loop_test(tc, stop_on_violation_freezes_the_guest, 0, 3);
	tcase_add_test(tc, walker_agreement_is_not_injectable);
	tcase_add_test(tc, report_records_each_phase);
	tcase_add_test(tc, walker_agrees_with_kvm_translate);
	tcase_add_test(tc, core_dump_checks_offline_and_opens_in_gdb);
	tcase_add_test(tc, core_dump_on_crash);
	tcase_add_test(tc, ptdump_shows_every_space);
	tcase_add_test(tc, foreign_kernel_boots_with_checks_skipped);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s VMM GUEST.ELF\n", argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	guest_path = argv[2];
	skip_without_kvm();
	if (!mkdtemp(tmpdir))
		return 99;
	int status = run_suite(checker_suite());
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return status;
}
