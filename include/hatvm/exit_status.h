/* SPDX-License-Identifier: BSD-2-Clause */
/* vmm's exit statuses, as documented in --help and the README, and the one function that picks one. */
#ifndef VMM_EXIT_STATUS_H
#define VMM_EXIT_STATUS_H

#include <stdbool.h>
#include <stdint.h>

enum vmm_exit_status {
	VMM_EXIT_OK = 0,            /* guest finished, every check passed */
	VMM_EXIT_VIOLATION = 1,     /* the checker found an invariant violated */
	VMM_EXIT_USAGE = 2,         /* usage or image error, KVM set-up failed, bad guest command line */
	VMM_EXIT_CRASH = 3,         /* exception, triple fault, abort, bad hypercall, hole */
	VMM_EXIT_TIMEOUT = 4,       /* the watchdog fired */
	VMM_EXIT_INJECT_MISSED = 5, /* an --inject corruption was planted but not reported */
	VMM_EXIT_SIGNAL_BASE = 128, /* + the signal that interrupted the run (130: SIGINT), as shells do */
};

/* How a run ended, as the VM (or check-core) saw it; nothing about the checker. */
enum run_outcome {
	RUN_CLEAN,          /* the guest exited with status 0, or every vCPU halted; or offline */
	RUN_CRASHED,        /* exception, triple fault, abort, bad hypercall, hole, exit status != 0 */
	RUN_TIMEOUT,        /* the watchdog stopped it */
	RUN_SETUP_FAILED,   /* KVM could not be set up: the guest never ran */
	RUN_USAGE,          /* usage or image error, or the guest refused its command line */
	RUN_INTERRUPTED,    /* SIGINT, SIGTERM or SIGHUP stopped it (run_findings.interrupt_signal) */
};

/* What the host's observer found over the whole run. */
struct run_findings {
	uint64_t violations;     /* every violation reported, in any check */
	unsigned inject_missed;  /* injections planted but not reported where planted */
	bool output_failed;      /* a report or core file could not be written */
	int interrupt_signal;    /* RUN_INTERRUPTED: the signal's number (0: taken as SIGINT) */
};

/*
 * The exit status of `vmm` and `vmm check-core` (vmm/exit_status.c);
 * FINDINGS may be NULL (nothing was checked).
 */
int exit_status_decide(enum run_outcome outcome, const struct run_findings *findings);

#endif
