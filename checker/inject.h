/* SPDX-License-Identifier: BSD-2-Clause */
/* Fault injection: plants exactly one corruption per invariant ID into guest memory, and takes it back. */
#ifndef VMM_INJECT_H
#define VMM_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hatvm/invariants.h>

#include "check_mem.h"
#include "checker.h"

#define INJECT_MAX_WRITES 16

/* One write the injector made: where, and the bytes it replaced. */
struct inject_write {
	uint64_t pa;
	uint32_t len;
	uint8_t old[8];
};

/*
 * Everything an injection changed, to restore it; and where the checker
 * must report it (REPORT_NONE where the report has no such part).
 */
struct inject_undo {
	unsigned n;
	struct inject_write w[INJECT_MAX_WRITES];
	enum invariant_id id;
	uint64_t space, va, pfn;
	bool forget_model;   /* it added a log record the model applied: the next check rebuilds the model */
};

/* True when inject_plant() can plant ID (PT_WALK_AGREE, for one, cannot be planted in memory). */
bool inject_supported(enum invariant_id id);

/*
 * Plants the corruption of invariant ID into the paused guest's memory
 * through mem->write_phys, choosing the first suitable target
 * deterministically (what each ID does: see inject.c), and records the
 * original bytes in *undo. Returns 0 when planted (`what` says what was
 * corrupted: space, VA, PFN), 1 when this state has no target (e.g. no
 * shared page yet: try at the next checkpoint), -1 when it cannot work at
 * all (read-only memory, unreadable MM state, unknown ID; `what` says
 * why). Called by vmm at a checkpoint before checker_run, and by tests.
 */
int inject_plant(const struct check_mem *mem, const struct mm_symbols *sym, enum invariant_id id,
		 struct inject_undo *undo, char *what, size_t what_len);

/*
 * Restores every byte inject_plant changed, newest first, so the guest
 * continues as if nothing happened. Returns false when a write failed.
 * Called after the check that was to see the corruption.
 */
bool inject_undo(const struct check_mem *mem, struct inject_undo *undo);

/*
 * True when the last check in REPORT (the open one, else the last closed)
 * reported undo->id at the planted space, VA and PFN; a part the
 * injection left REPORT_NONE is not compared. Called after the check
 * that was to see the corruption, before or after inject_undo().
 */
bool inject_verify(const struct inject_undo *undo, const struct report *report);

#endif
