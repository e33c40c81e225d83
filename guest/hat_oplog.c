/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT operation log: a ring the host drains at checkpoints; it never drops a record while the host keeps up. */
#include "hat_oplog.h"

struct hat_oplog hat_oplog;

void hat_oplog_init(void)
{
	uint64_t bytes = (uint64_t)HAT_OPLOG_SIZE * sizeof(struct hat_op);

	hat_oplog = (struct hat_oplog){
		.ol_ring = pa_to_kva(page_boot_alloc((bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT)),
		.ol_size = HAT_OPLOG_SIZE,
		.ol_next = 1,
		.ol_drained = 1,
	};
}

static uint64_t used(void)
{
	return __atomic_load_n(&hat_oplog.ol_next, __ATOMIC_RELAXED) -
	       __atomic_load_n(&hat_oplog.ol_drained, __ATOMIC_RELAXED);
}

void hat_oplog_make_room(void)
{
	if (hat_oplog.ol_size != 0 && used() + HAT_OPLOG_HEADROOM > hat_oplog.ol_size)
		mm_oplog_full();
}

void hat_oplog_append(struct hat_op op)
{
	struct hat_oplog *l = &hat_oplog;

	if (l->ol_size == 0)
		return;
	mm_lock_enter(&l->ol_lock);
	if (l->ol_next - l->ol_drained >= l->ol_size) {
		/* only an operation with more records than the headroom gets here */
		l->ol_lost++;
		l->ol_drained++;
	}
	op.o_seq = (uint32_t)l->ol_next;
	l->ol_ring[(l->ol_next - 1) % l->ol_size] = op;
	l->ol_next++;
	mm_lock_exit(&l->ol_lock);
}

void hat_oplog_drained(uint64_t upto)
{
	mm_lock_enter(&hat_oplog.ol_lock);
	if (upto > hat_oplog.ol_drained && upto <= hat_oplog.ol_next)
		hat_oplog.ol_drained = upto;
	mm_lock_exit(&hat_oplog.ol_lock);
}
