/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: `vmm record` — its refusals always; with "perf" as mode, real recordings, a vfork included (77 without perf). */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hatvm/exit_status.h"
#include "perf_probe.h"
#include "run_vmm.h"
#include "temp_dir.h"
#include "trace_read.h"

static const char *vmm_path, *vfork_exec_path;

START_TEST(refusals)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "--", "true", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "missing -o TRACE");
	vmm_result_free(&r);
	r = run_vmm((const char *[]){ vmm_path, "record", "-o", temp_path("t"), NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "missing COMMAND");
	vmm_result_free(&r);
	r = run_vmm((const char *[]){ vmm_path, "record", "-o", temp_path("t"), "--",
				      "/nonexistent/program", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "/nonexistent/program: command not found");
	vmm_result_free(&r);
	r = run_vmm((const char *[]){ vmm_path, "record", "-o", "/nonexistent/dir/t", "--", "true",
				      NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "/nonexistent/dir/t");
	vmm_result_free(&r);
	ck_assert_int_ne(access(temp_path("t"), F_OK), 0);
}
END_TEST

/* perf missing: status 2, the cause and the fix, no trace, no temporary files left. */
START_TEST(perf_missing)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "--perf=/nonexistent/perf",
							"-o", temp_path("t"), "--", "true", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "cannot run /nonexistent/perf: No such file");
	ASSERT_HAS(r.err, "apt-get install linux-perf");
	ck_assert_int_ne(access(temp_path("t"), F_OK), 0);
	vmm_result_free(&r);
}
END_TEST

/* perf runs but refuses (here: a perf that only prints perf's words and fails). */
START_TEST(perf_refused)
{
	const char *fake = temp_path("perf");
	FILE *f = fopen(fake, "w");

	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\necho 'Error: No permission to enable exceptions:page_fault_user; "
	      "consider tweaking /proc/sys/kernel/perf_event_paranoid' >&2\nexit 255\n", f);
	fclose(f);
	chmod(fake, 0755);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "--perf", fake, "-o",
							temp_path("t"), "--", "true", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "perf record failed (status 255)");
	ASSERT_HAS(r.err, "CAP_PERFMON");
	ck_assert_int_ne(access(temp_path("t"), F_OK), 0);
	vmm_result_free(&r);
	unlink(fake);
}
END_TEST

/* ---- with a working perf ---- */

/* A recording of a pipeline: forks, execs, exits; the trace reads back clean. */
START_TEST(records_a_pipeline)
{
	const char *path = temp_path("pipe.trace");
	char err[1024], ls[512];

	setenv("TMPDIR", temp_dir(), 1);   /* where perf's data goes: this test's own folder */
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "-o", path, "--", "sh", "-c",
							"echo hello | cat | wc -c", NULL });

	ck_assert_msg(r.status == VMM_EXIT_OK, "%s", r.err);
	ck_assert_str_eq(r.out, "6\n");   /* the command's own output passes through */
	ASSERT_HAS(r.err, " processes (0 started by vfork), ");
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(t, "%s", err);
	const struct trace_header *h = trace_header(t);
	ck_assert_uint_ge(h->processes, 3);
	ck_assert_uint_ge(h->count[TR_EXEC], 3);
	if (h->lost == 0)   /* a loaded machine may make perf lose events */
		ck_assert_uint_eq(h->count[TR_EXIT], h->processes);
	ck_assert_uint_gt(h->count[TR_FAULT], 100);
	ck_assert_str_eq(h->command, "sh -c 'echo hello | cat | wc -c'");
	trace_close(t);
	vmm_result_free(&r);
	/* perf's data went to a temporary folder that is gone again */
	snprintf(ls, sizeof(ls), "ls -d %s/vmm-record-* 2>/dev/null | wc -l", temp_dir());
	r = run_vmm((const char *[]){ "/bin/sh", "-c", ls, NULL });
	ck_assert_str_eq(r.out, "0\n");
	vmm_result_free(&r);
}
END_TEST

/* A failing command keeps its trace: status 1 and the command's status said. */
START_TEST(a_failing_command_keeps_its_trace)
{
	const char *path = temp_path("fail.trace");
	char err[1024];
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "-q", "-o", path, "--",
							"sh", "-c", "exit 3", NULL });

	ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);
	ASSERT_HAS(r.err, "exited with status 3 (the trace is kept)");
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(t, "%s", err);
	trace_close(t);
	vmm_result_free(&r);
}
END_TEST

/*
 * A program that vforks and execs /bin/true: that FORK is a vfork, its
 * child execs true. (The program is built without sanitizers in every
 * build: ThreadSanitizer would make its vfork a fork, and LeakSanitizer
 * would add a CLONE_VM helper of its own.)
 */
START_TEST(records_a_vfork)
{
	const char *path = temp_path("vfork.trace");
	char err[1024];
	struct trace_event ev;
	uint32_t vfork_child = UINT32_MAX;
	bool true_execs = false;

	setenv("TMPDIR", temp_dir(), 1);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "record", "-q", "-o", path, "--",
							vfork_exec_path, "/bin/true", NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK, "%s", r.err);
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(t, "%s", err);
	while (trace_next(t, &ev) == 1) {
		if (ev.te_kind == TR_FORK) {
			ck_assert_uint_eq(ev.te_pid, 0);
			ck_assert_uint_eq(ev.te_flags, TR_FORK_VM);
			if (vfork_child == UINT32_MAX)
				vfork_child = (uint32_t)ev.te_arg;
		}
		if (ev.te_kind == TR_EXEC && ev.te_pid == vfork_child) {
			const struct trace_file *f = trace_file(t, ev.te_file);
			size_t n = f ? strlen(f->path) : 0;
			true_execs = n >= 5 && strcmp(f->path + n - 5, "/true") == 0;
		}
	}
	ck_assert_uint_eq(vfork_child, 1);
	ck_assert(true_execs);
	trace_close(t);
	vmm_result_free(&r);
}
END_TEST

/* 77 unless `vmm record` can record here: perf present, and allowed. */
static void skip_without_perf(void)
{
	char *why;

	if (!perf_can_record(vmm_path, temp_path("probe.trace"), &why)) {
		fprintf(stderr, "perf cannot record here, skipping:\n%s", why);
		free(why);
		temp_dir_remove();
		exit(77);
	}
}

int main(int argc, char **argv)
{
	if ((argc != 3 && argc != 4) || (strcmp(argv[2], "plain") && strcmp(argv[2], "perf")) ||
	    (strcmp(argv[2], "perf") == 0) != (argc == 4)) {
		fprintf(stderr, "usage: %s VMM plain | %s VMM perf VFORK_EXEC\n", argv[0], argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	vfork_exec_path = argc == 4 ? argv[3] : NULL;
	temp_dir_make("hatvm-record");
	Suite *s = suite_create("trace_record");
	TCase *tc = tcase_create(argv[2]);
	tcase_set_timeout(tc, 120);
	if (strcmp(argv[2], "plain") == 0) {
		tcase_add_test(tc, refusals);
		tcase_add_test(tc, perf_missing);
		tcase_add_test(tc, perf_refused);
	} else {
		skip_without_perf();
		tcase_add_test(tc, records_a_pipeline);
		tcase_add_test(tc, a_failing_command_keeps_its_trace);
		tcase_add_test(tc, records_a_vfork);
	}
	suite_add_tcase(s, tc);
	int status = run_suite(s);
	temp_dir_remove();
	return status;
}
