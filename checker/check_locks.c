/* SPDX-License-Identifier: BSD-2-Clause */
/* Lock quiescence (LK_QUIESCENT): no mapping-list or hash lock is held while the guest is paused. */
#include "check_internal.h"

/* LK_QUIESCENT over one lock array. */
static void check_lock_array(struct checker *c, uint64_t va, unsigned n, const char *name)
{
	struct mm_lock locks[HMENT_MLIST_NLOCK > HMENT_HASH_NLOCK ? HMENT_MLIST_NLOCK : HMENT_HASH_NLOCK];

	if (!reader_read_va(&c->view.rd, va, locks, n * sizeof(struct mm_lock))) {
		sink_violation(&c->sink, INV_LK_QUIESCENT, REPORT_NONE, va, REPORT_NONE, "%s cannot be read", name);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (locks[i].ml_locked != 0 || locks[i].ml_owner != 0)
			sink_violation(&c->sink, INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       "%s[%u] is held at a checkpoint (ml_locked %u, ml_owner %u)",
				       name, i, locks[i].ml_locked, locks[i].ml_owner);
}

void check_locks(struct checker *c)
{
	check_lock_array(c, c->view.sym.hment_mlist_locks, HMENT_MLIST_NLOCK, MM_SYM_MLIST_LOCKS);
	check_lock_array(c, c->view.sym.hment_hash_locks, HMENT_HASH_NLOCK, MM_SYM_HASH_LOCKS);
}
