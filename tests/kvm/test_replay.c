/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: workload=replay plays every shipped trace clean (large RAM and RAM small enough to reclaim), deterministically; without a trace it is a usage error. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"

#define MAX_TRACES 32

static const char *vmm_path, *guest_path, *trace_dir;
static char traces[MAX_TRACES][4096];
static int ntraces;

/* Every regular *.trace file of trace_dir, sorted by name. */
static void find_traces(void)
{
	struct dirent **names;
	int n = scandir(trace_dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		struct stat st;
		if (ntraces < MAX_TRACES && len > 6 && strcmp(names[i]->d_name + len - 6, ".trace") == 0) {
			snprintf(traces[ntraces], sizeof(traces[0]), "%s/%s", trace_dir, names[i]->d_name);
			if (stat(traces[ntraces], &st) == 0 && S_ISREG(st.st_mode))
				ntraces++;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* The `replay: ...` line of out (a copy), failing the test when there is none. */
static char *replay_line(const char *out)
{
	const char *line = strstr(out, "replay: events=");

	ck_assert_msg(line != NULL, "no replay: line in:\n%s", out);
	return strndup(line, strcspn(line, "\n"));
}

static struct vmm_result replay(const char *trace, const char *mem)
{
	char opt[4200];

	snprintf(opt, sizeof(opt), "--replay=%s", trace);
	return run_guest(vmm_path, guest_path, (const char *[]){ opt, "--mem", mem, "--timeout", "1800", NULL },
			 (const char *[]){ "workload=replay", "replay_check=500", NULL });
}

START_TEST(shipped_trace_replays_clean)
{
	static const char *const mems[] = { "512M", "32M" };

	ck_assert_msg(ntraces > 0, "no shipped traces (*.trace) in %s", trace_dir);
	ck_assert_int_lt(_i, 2 * ntraces);
	const char *trace = traces[_i / 2], *mem = mems[_i % 2];
	struct vmm_result a = replay(trace, mem), b = replay(trace, mem);

	ck_assert_msg(a.status == VMM_EXIT_OK, "%s --mem %s: vmm exited %d\n%s\n%s", trace, mem,
		      a.status, a.out, a.err);
	char *la = replay_line(a.out), *lb = replay_line(b.out);
	ck_assert_str_eq(la, lb);   /* deterministic */
	ASSERT_HAS(la, " oom=0");
	ASSERT_HAS(a.err, " 0 violations");
	free(la);
	free(lb);
	vmm_result_free(&a);
	vmm_result_free(&b);
}
END_TEST

START_TEST(replay_without_a_trace_is_a_usage_error)
{
	struct vmm_result r = run_guest(vmm_path, guest_path, NULL, (const char *[]){ "workload=replay", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "workload=replay needs a trace");
	vmm_result_free(&r);
}
END_TEST

START_TEST(unreadable_trace_is_a_usage_error)
{
	struct vmm_result r = run_guest(vmm_path, guest_path,
					(const char *[]){ "--replay=/nonexistent/t.trace", NULL }, NULL);

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "/nonexistent/t.trace");
	vmm_result_free(&r);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *t = tcase_create("replay");

	tcase_set_timeout(t, 3600);
	tcase_add_loop_test(t, shipped_trace_replays_clean, 0, ntraces ? 2 * ntraces : 1);
	tcase_add_test(t, replay_without_a_trace_is_a_usage_error);
	tcase_add_test(t, unreadable_trace_is_a_usage_error);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s VMM GUEST.ELF TRACE_DIR\n", argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	guest_path = argv[2];
	trace_dir = argv[3];
	skip_without_kvm();
	find_traces();
	return run_suite(replay_suite());
}
