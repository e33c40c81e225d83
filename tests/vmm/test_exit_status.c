/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the one mapping from a run's outcome and the checker's findings to vmm's exit status. */
#include <check.h>
#include <signal.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"

START_TEST(outcome_alone)
{
	ck_assert_int_eq(exit_status_decide(RUN_CLEAN, NULL), VMM_EXIT_OK);
	ck_assert_int_eq(exit_status_decide(RUN_CRASHED, NULL), VMM_EXIT_CRASH);
	ck_assert_int_eq(exit_status_decide(RUN_TIMEOUT, NULL), VMM_EXIT_TIMEOUT);
	ck_assert_int_eq(exit_status_decide(RUN_SETUP_FAILED, NULL), VMM_EXIT_USAGE);
	ck_assert_int_eq(exit_status_decide(RUN_USAGE, NULL), VMM_EXIT_USAGE);
}
END_TEST

START_TEST(a_violation_beats_a_later_crash_or_hang)
{
	struct run_findings f = { .violations = 1 };

	ck_assert_int_eq(exit_status_decide(RUN_CLEAN, &f), VMM_EXIT_VIOLATION);
	ck_assert_int_eq(exit_status_decide(RUN_CRASHED, &f), VMM_EXIT_VIOLATION);
	ck_assert_int_eq(exit_status_decide(RUN_TIMEOUT, &f), VMM_EXIT_VIOLATION);
}
END_TEST

START_TEST(a_missed_injection_beats_violations)
{
	struct run_findings f = { .violations = 3, .inject_missed = 1 };

	ck_assert_int_eq(exit_status_decide(RUN_CLEAN, &f), VMM_EXIT_INJECT_MISSED);
	ck_assert_int_eq(exit_status_decide(RUN_CRASHED, &f), VMM_EXIT_INJECT_MISSED);
	ck_assert_int_eq(exit_status_decide(RUN_USAGE, &f), VMM_EXIT_INJECT_MISSED);
	ck_assert_int_eq(exit_status_decide(RUN_SETUP_FAILED, &f), VMM_EXIT_USAGE);
}
END_TEST

/* workload=all checks earlier workloads before a later one refuses its options. */
START_TEST(violations_found_before_a_refused_command_line_stand)
{
	struct run_findings f = { .violations = 2 };

	ck_assert_int_eq(exit_status_decide(RUN_USAGE, &f), VMM_EXIT_VIOLATION);
	ck_assert_int_eq(exit_status_decide(RUN_USAGE, NULL), VMM_EXIT_USAGE);
}
END_TEST

START_TEST(an_unwritten_report_fails_only_a_clean_run)
{
	struct run_findings f = { .output_failed = true };

	ck_assert_int_eq(exit_status_decide(RUN_CLEAN, &f), VMM_EXIT_USAGE);
	ck_assert_int_eq(exit_status_decide(RUN_CRASHED, &f), VMM_EXIT_CRASH);
	ck_assert_int_eq(exit_status_decide(RUN_TIMEOUT, &f), VMM_EXIT_TIMEOUT);
	f.violations = 2;
	ck_assert_int_eq(exit_status_decide(RUN_CLEAN, &f), VMM_EXIT_VIOLATION);
}
END_TEST

/* 128 + the signal, as shells report a process killed by it; a violation already found stands. */
START_TEST(an_interrupt_exits_128_plus_the_signal)
{
	struct run_findings f = { .interrupt_signal = SIGINT };

	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, &f), 130);
	f.interrupt_signal = SIGTERM;
	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, &f), VMM_EXIT_SIGNAL_BASE + SIGTERM);
	f.interrupt_signal = SIGHUP;
	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, &f), 129);
	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, NULL), 130);
	f.output_failed = true;   /* an incomplete run is not "clean but unwritten" */
	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, &f), 129);
	f.violations = 1;
	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, &f), VMM_EXIT_VIOLATION);
	f.inject_missed = 1;
	ck_assert_int_eq(exit_status_decide(RUN_INTERRUPTED, &f), VMM_EXIT_INJECT_MISSED);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exit_status");
	TCase *tc = tcase_create("exit_status");

	tcase_add_test(tc, outcome_alone);
	tcase_add_test(tc, a_violation_beats_a_later_crash_or_hang);
	tcase_add_test(tc, a_missed_injection_beats_violations);
	tcase_add_test(tc, violations_found_before_a_refused_command_line_stand);
	tcase_add_test(tc, an_unwritten_report_fails_only_a_clean_run);
	tcase_add_test(tc, an_interrupt_exits_128_plus_the_signal);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
