/* SPDX-License-Identifier: BSD-2-Clause */
/* The one place that turns a run's outcome and the checker's findings into vmm's exit status. */
#include "hatvm/exit_status.h"

#include <signal.h>

/*
 * Precedence, first match wins:
 *   2  the run could not start (nothing was checked, so nothing below
 *      can be trusted)
 *   5  an --inject corruption was planted but not reported: the checker
 *      itself failed, which matters more than anything it did report
 *      (a check the watchdog or a signal cut short is not held against it)
 *   1  any violation was reported, even when the guest crashed or hung
 *      afterwards (the crash is still reported on stderr): the checker's
 *      catch comes first, since the corruption likely caused the crash
 *      or the interruption (a violation already found stands)
 *   2  the guest refused its command line (checks may have run before:
 *      workload=all validates each workload's options as it starts it)
 * 128+sig  SIGINT, SIGTERM or SIGHUP interrupted the run: the checks are
 *      incomplete, so neither 0 nor an unwritten report's 2 would be
 *      true (the outcome excludes 3 and 4: the first stop wins)
 *   3  the guest crashed
 *   4  the watchdog stopped the guest (what the check after it found
 *      are findings, not violations: the guest stopped where it stood)
 *   2  a report or core file could not be written (on an otherwise clean run)
 *   0  clean
 */
int exit_status_decide(enum run_outcome outcome, const struct run_findings *findings)
{
	struct run_findings none = { 0 };
	const struct run_findings *f = findings ? findings : &none;

	if (outcome == RUN_SETUP_FAILED)
		return VMM_EXIT_USAGE;
	if (f->inject_missed)
		return VMM_EXIT_INJECT_MISSED;
	if (f->violations)
		return VMM_EXIT_VIOLATION;
	if (outcome == RUN_USAGE)
		return VMM_EXIT_USAGE;
	if (outcome == RUN_INTERRUPTED)
		return VMM_EXIT_SIGNAL_BASE + (f->interrupt_signal > 0 ? f->interrupt_signal : SIGINT);
	if (outcome == RUN_CRASHED)
		return VMM_EXIT_CRASH;
	if (outcome == RUN_TIMEOUT)
		return VMM_EXIT_TIMEOUT;
	if (f->output_failed)
		return VMM_EXIT_USAGE;
	return VMM_EXIT_OK;
}
