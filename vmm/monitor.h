/* SPDX-License-Identifier: BSD-2-Clause */
/* The host's observer of one run: checks at checkpoints, injections, reports, ptdump, core dump. */
#ifndef VMM_MONITOR_H
#define VMM_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "check_mem.h"
#include "checker.h"
#include "cli.h"
#include "guest_mem.h"
#include "hatvm/exit_status.h"
#include "kvm_run.h"
#include "report.h"

struct monitor {
	const struct vmm_options *opt;
	const struct guest_mem *gm;
	struct check_mem mem;
	struct mm_symbols syms;
	bool have_syms;            /* the image names its memory manager: checks run */
	struct report *report;
	uint64_t inject_pending;   /* IDs not planted yet */
	unsigned inject_missed;    /* planted but not reported where planted */
	bool output_failed;        /* the core file could not be written (the report: monitor_close) */
	unsigned checks_run;
	uint64_t async_run;        /* --check=async's instant checks, counted apart */
	struct hat_model *model;   /* what should be mapped, from the guest's operation log (or NULL) */
};

/*
 * Prepares the observer for opt->image over gm: finds the MM's symbols
 * (without them checks are skipped, said once on stderr), refuses IDs
 * --inject cannot plant, and reads the test-only HATVM_TEST_DISABLE_CHECK
 * (an ID whose violations the checker then drops, to show that --inject
 * notices a blind checker). Returns 0 (then monitor_close must follow),
 * or -1 with a message printed, everything it allocated freed (vmm exits 2).
 */
int monitor_open(struct monitor *m, const struct vmm_options *opt, const struct guest_mem *gm);

/*
 * The vm_check_fn: with every vCPU paused, one check in the report (the
 * walker comparison, injections planted, verified and repaired, every
 * invariant), then ptdump and, at exit, the core file.
 */
void monitor_check(void *monitor, const struct vm_checkpoint *where,
		   const struct vcpu_state *vcpus, unsigned ncpus);

/* Writes the JSON report if asked, prints the summary and fills *findings for exit_status_decide(). */
void monitor_close(struct monitor *m, struct run_findings *findings);

/* Prints every address space's page tables to out (the guest paused). */
void monitor_ptdump(const struct monitor *m, FILE *out);

#endif
