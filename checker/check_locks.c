/* SPDX-License-Identifier: BSD-2-Clause */
/* Lock quiescence (LK_QUIESCENT): no MM lock is held while the guest is paused at a checkpoint. */
#include "check_internal.h"

#include <inttypes.h>

static bool lock_held(const struct mm_lock *l)
{
	return l->ml_locked != 0 || l->ml_owner != 0;
}

/* LK_QUIESCENT of one lock already read; space is REPORT_NONE unless it is a space's. */
static void check_one_lock(struct checker *c, const struct mm_lock *l, uint64_t space, const char *name)
{
	if (lock_held(l))
		sink_violation(&c->sink, INV_LK_QUIESCENT, space, REPORT_NONE, REPORT_NONE,
			       "%s is held at a checkpoint (ml_locked %u, ml_owner %u)", name, l->ml_locked,
			       l->ml_owner);
}

/* LK_QUIESCENT of lock i of the array `name`. */
static void check_array_lock(struct checker *c, const struct mm_lock *l, const char *name, unsigned i)
{
	if (lock_held(l))
		sink_violation(&c->sink, INV_LK_QUIESCENT, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "%s[%u] is held at a checkpoint (ml_locked %u, ml_owner %u)",
			       name, i, l->ml_locked, l->ml_owner);
}

/* LK_QUIESCENT over the mapping-list locks (a lock to a cache line). */
static void check_mlist_locks(struct checker *c, uint64_t va)
{
	struct mm_lock_line locks[HMENT_MLIST_NLOCK];

	if (!reader_read_va(&c->view.rd, va, locks, sizeof(locks))) {
		sink_violation(&c->sink, INV_LK_QUIESCENT, REPORT_NONE, va, REPORT_NONE, "%s cannot be read",
			       MM_SYM_MLIST_LOCKS);
		return;
	}
	for (unsigned i = 0; i < HMENT_MLIST_NLOCK; i++)
		check_array_lock(c, &locks[i].ll_lock, MM_SYM_MLIST_LOCKS, i);
}

/* A lock that is a variable of its own (optional: va 0 when the guest does not export it). */
static void check_lock_at(struct checker *c, uint64_t va, const char *name)
{
	struct mm_lock l;

	if (va == 0)
		return;
	if (!reader_read_va(&c->view.rd, va, &l, sizeof(l)))
		sink_violation(&c->sink, INV_LK_QUIESCENT, REPORT_NONE, va, REPORT_NONE, "%s cannot be read", name);
	else
		check_one_lock(c, &l, REPORT_NONE, name);
}

/* Each address space's h_lock, from the records the view read (bounded by its space limit). */
static void check_space_locks(struct checker *c)
{
	for (size_t i = 0; i < c->view.nhats; i++)
		check_one_lock(c, &c->view.hats[i].h.h_lock, c->view.hats[i].h.h_id, "the space's h_lock");
}

void check_locks(struct checker *c)
{
	const struct mm_view *v = &c->view;

	check_mlist_locks(c, v->sym.hment_mlist_locks);
	for (unsigned i = 0; v->hash_ok && i < HMENT_HASH_NLOCK; i++)   /* read with the hash (check_view.c) */
		check_array_lock(c, &v->stripes[i].hs_lock, MM_SYM_HASH_LOCKS, i);
	check_space_locks(c);
	if (v->reserve_ok)
		check_one_lock(c, &v->reserve.hr_lock, REPORT_NONE, "hment_reserve.hr_lock");
	if (v->cache_ok)
		check_one_lock(c, &v->cache.pc_lock, REPORT_NONE, "segtab_ptp_cache.pc_lock");
	if (v->pool_ok)
		check_one_lock(c, &v->pool.lock, REPORT_NONE, "page_pool.lock");
	check_lock_at(c, v->sym.hat_list_lock, MM_SYM_HAT_LIST_LOCK);
}
