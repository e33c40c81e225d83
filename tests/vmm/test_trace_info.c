/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: `vmm trace-info` on the shipped traces, on a damaged copy, and its usage errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"
#include "temp_dir.h"
#include "trace_write.h"

static const char *vmm_path, *traces_dir;

static char *shipped(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s.trace", traces_dir, name);
	return path;
}

START_TEST(every_shipped_trace)
{
	const char *names[] = { "sh-pipeline", "make-j2", "gcc-O2", "python3", "spawn" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct vmm_result r = run_vmm((const char *[]){ vmm_path, "trace-info", shipped(names[i]),
								NULL });
		ck_assert_msg(r.status == VMM_EXIT_OK, "%s: %s", names[i], r.err);
		ASSERT_HAS(r.out, "  format: version ");
		ASSERT_HAS(r.out, "\nevents: ");
		ASSERT_HAS(r.out, " fault ");
		ASSERT_HAS(r.out, "\nprocesses: ");
		ASSERT_HAS(r.out, "\npeak resident pages: ");
		ASSERT_HAS(r.out, "/libc.so.6\n");
		vmm_result_free(&r);
	}
}
END_TEST

/* The pipeline: sh, then ls, sort and head, each from its own program. */
START_TEST(the_pipeline_in_detail)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "trace-info", shipped("sh-pipeline"),
							NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "  command: sh -c 'ls /usr/bin | sort | head'\n");
	ASSERT_HAS(r.out, "processes: 4\n");
	ASSERT_HAS(r.out, "  fork 3 (vfork 0), exec 4, exit 4, ");
	ASSERT_HAS(r.out, "/usr/bin/sort\n");
	ASSERT_HAS(r.out, "/usr/bin/head\n");
	vmm_result_free(&r);
}
END_TEST

static void save_events(const char *path, const struct trace_event *evs, size_t n)
{
	struct trace_writer *w = trace_writer_new();
	struct trace_meta meta = { .command = "spawn", .machine = "m", .date = "d" };
	char why[256];

	for (size_t i = 0; i < n; i++)
		ck_assert_msg(trace_writer_add(w, &evs[i], why, sizeof(why)) == 0, "%s", why);
	ck_assert_msg(trace_writer_save(w, path, &meta, why, sizeof(why)) == 0, "%s", why);
	trace_writer_free(w);
}

#define FAULT(pid, page) { .te_kind = TR_FAULT, .te_pid = pid, .te_addr = (page) << 12, \
			   .te_fault = TR_FAULT_WRITE, .te_file = TR_FILE_NONE }

/*
 * The process table says which children a vfork started; the page a
 * vfork's child touches before its exec stays its parent's.
 */
START_TEST(a_vfork_child_is_shown)
{
	const char *path = temp_path("vfork.trace");
	const struct trace_event evs[] = {
		FAULT(0, 0x100), FAULT(0, 0x101),
		{ .te_kind = TR_FORK, .te_pid = 0, .te_arg = 1, .te_flags = TR_FORK_VM, .te_file = TR_FILE_NONE },
		FAULT(1, 0x7f0), FAULT(1, 0x100),
		{ .te_kind = TR_EXEC, .te_pid = 1, .te_file = TR_FILE_NONE },
		FAULT(1, 0x200), FAULT(1, 0x201),
		{ .te_kind = TR_FORK, .te_pid = 0, .te_arg = 2, .te_file = TR_FILE_NONE },
		{ .te_kind = TR_EXIT, .te_pid = 1, .te_file = TR_FILE_NONE },
	};

	save_events(path, evs, sizeof(evs) / sizeof(evs[0]));
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "trace-info", path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "%s", r.err);
	ASSERT_HAS(r.out, "  format: version 2, ");
	ASSERT_HAS(r.out, "\n  fork 2 (vfork 1), exec 1, exit 1, ");
	ASSERT_HAS(r.out, "\n      0      -     -        2  -\n");
	ASSERT_HAS(r.out, "\n      1      0 vfork        4  -\n");
	ASSERT_HAS(r.out, "\n      2      0  fork        0  -\n");
	ASSERT_HAS(r.out, "\npeak resident pages: 5 ");   /* 0's 0x100, 0x101, 0x7f0; 1's 0x200, 0x201 */
	vmm_result_free(&r);
}
END_TEST

/*
 * CLONE_VM without CLONE_VFORK: the parent execs, then exits, while its
 * child still runs on the old memory; the pages go with the child.
 */
START_TEST(a_borrowed_space_outlives_its_lender)
{
	const char *path = temp_path("lender.trace");
	const struct trace_event evs[] = {
		FAULT(0, 0x100), FAULT(0, 0x101),
		{ .te_kind = TR_FORK, .te_pid = 0, .te_arg = 1, .te_flags = TR_FORK_VM, .te_file = TR_FILE_NONE },
		{ .te_kind = TR_EXEC, .te_pid = 0, .te_file = TR_FILE_NONE },
		FAULT(0, 0x300),
		{ .te_kind = TR_EXIT, .te_pid = 0, .te_file = TR_FILE_NONE },
		FAULT(1, 0x102),
		{ .te_kind = TR_FORK, .te_pid = 1, .te_arg = 2, .te_file = TR_FILE_NONE },
		{ .te_kind = TR_EXIT, .te_pid = 1, .te_file = TR_FILE_NONE },
		FAULT(2, 0x400),
	};

	save_events(path, evs, sizeof(evs) / sizeof(evs[0]));
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "trace-info", path, NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "%s", r.err);
	/* 0x100, 0x101 and 0x300 together; then 0x100-0x102; then only 2's page */
	ASSERT_HAS(r.out, "\npeak resident pages: 3 ");
	vmm_result_free(&r);
	unlink(path);
}
END_TEST

START_TEST(a_damaged_trace_is_refused_with_its_event)
{
	const char *path = temp_path("cut.trace");
	FILE *in = fopen(shipped("gcc-O2"), "rb");
	FILE *out = fopen(path, "wb");
	char buf[4096];

	ck_assert(in && out);
	size_t n = fread(buf, 1, sizeof(buf), in);
	ck_assert_uint_gt(n, 2000);
	fwrite(buf, 1, n, out);   /* the first 4 KiB only: cut in the middle of the events */
	fclose(out);
	fclose(in);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "trace-info", path, NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, ": event ");
	ASSERT_HAS(r.err, "truncated");
	ck_assert_str_eq(r.out, "");
	vmm_result_free(&r);
	unlink(path);
}
END_TEST

START_TEST(usage_errors)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "trace-info", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "Usage: vmm trace-info TRACE");
	vmm_result_free(&r);
	r = run_vmm((const char *[]){ vmm_path, "trace-info", "/nonexistent.trace", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "/nonexistent.trace: No such file");
	vmm_result_free(&r);
	r = run_vmm((const char *[]){ vmm_path, "trace-info", "--help", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "peak resident pages");
	vmm_result_free(&r);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s VMM TRACES-DIR\n", argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	traces_dir = argv[2];
	Suite *s = suite_create("trace_info");
	TCase *tc = tcase_create("info");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_shipped_trace);
	tcase_add_test(tc, the_pipeline_in_detail);
	tcase_add_test(tc, a_vfork_child_is_shown);
	tcase_add_test(tc, a_borrowed_space_outlives_its_lender);
	tcase_add_test(tc, a_damaged_trace_is_refused_with_its_event);
	tcase_add_test(tc, usage_errors);
	suite_add_tcase(s, tc);
	temp_dir_make("hatvm-info");
	int status = run_suite(s);
	temp_dir_remove();
	return status;
}
