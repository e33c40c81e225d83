/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay engine's hosted seam: an access is a walk of the PTE as the CPU does it, a fault goes to replay_fault(), A/D bits are set. */
#include "replay_hosted_seam.h"

#include "hat.h"
#include "segtab.h"

uint64_t replay_hosted_faults;

static void (*test_checkpoint)(void *ctx, const char *what);
static void *test_ctx;

/* True when the leaf allows acc from ring 3. */
static bool leaf_allows(pte_t v, unsigned acc)
{
	if (!(v & PTE_P) || !(v & PTE_U))
		return false;
	if ((acc & REPLAY_ACC_WRITE) && !(v & PTE_W))
		return false;
	return !((acc & REPLAY_ACC_EXEC) && (v & PTE_NX));
}

static enum replay_rc access(void *ctx, struct replay *r, struct rproc *p, struct hat *h,
			     uint64_t va, unsigned acc)
{
	(void)ctx;
	/* the #PF handler fixes one cause per fault; two cover the worst case, a third is a bug */
	for (unsigned tries = 0; tries < 3; tries++) {
		unsigned level = 1;
		page_t *ptp;
		pte_t *pte = segtab_walk(h, va, &level, &ptp);
		if (pte && level == 1 && leaf_allows(*pte, acc)) {
			*pte |= PTE_A | ((acc & REPLAY_ACC_WRITE) ? PTE_D : 0);
			return REPLAY_OK;
		}
		replay_hosted_faults++;
		enum replay_rc rc = replay_fault(r, p, va, acc);
		if (rc != REPLAY_OK)
			return rc;
	}
	return REPLAY_EACCESS;
}

static void checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	if (test_checkpoint)
		test_checkpoint(test_ctx, what);
}

static void space_gone(void *ctx, struct hat *h)
{
	(void)ctx;
	(void)h;   /* nothing is loaded on a hosted CPU */
}

struct replay_seam replay_hosted_seam(void (*cp)(void *ctx, const char *what), void *ctx)
{
	test_checkpoint = cp;
	test_ctx = ctx;
	return (struct replay_seam){ .access = access, .checkpoint = checkpoint,
				     .space_gone = space_gone };
}
