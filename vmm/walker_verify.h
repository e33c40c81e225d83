/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-checks the host page-table walker against KVM's own translation (KVM_TRANSLATE). */
#ifndef VMM_WALKER_VERIFY_H
#define VMM_WALKER_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "guest_mem.h"
#include "report.h"

struct walker_verdict {
	uint64_t cr3;
	unsigned sampled;     /* addresses compared */
	unsigned mismatched;  /* where pt_translate and KVM_TRANSLATE disagree */
};

/*
 * Samples mapped and unmapped VAs of the address space loaded on the vCPU
 * and compares both translations; reports each disagreement as a
 * PT_WALK_AGREE violation in REPORT's open check. Must run on the vCPU's
 * own thread with every vCPU paused.
 */
void walker_verify(int vcpu_fd, const struct guest_mem *gm, struct report *report,
		   struct walker_verdict *v);

#endif
