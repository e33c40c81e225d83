/* SPDX-License-Identifier: BSD-2-Clause */
/* corrupt: breaks one invariant on purpose (a PTE cleared behind the HAT's back), so the host's checker and --stop-on-violation have a real violation to act on. */
#include "hat.h"
#include "kernel.h"
#include "pte_walk.h"
#include "util.h"
#include "workload.h"

#define CORRUPT_VA ((uint64_t)0x0000000040000000)

/*
 * The page's embedded mapping names a PTE that is no longer present
 * (RM_STALE) and the table's valid count is one too high (PT_VALID_CNT),
 * as a memload that lost its PTE would leave them. Repaired after the
 * checkpoint, so a run that is not stopped there ends cleanly.
 */
static int corrupt_run(void)
{
	struct hat *h = wl_hat_create("corrupt");
	page_t *pp = wl_page_alloc("corrupt");

	wl_memload("corrupt", h, CORRUPT_VA, pp, HAT_READ | HAT_WRITE);
	wl_checkpoint("corrupt", "mapped");
	hat_switch(h);
	volatile uint64_t *pte = wl_walk_pte_slot(CORRUPT_VA);
	if (!pte)
		panic("corrupt: 0x%" PRIx64 " is not mapped after memload", CORRUPT_VA);
	uint64_t saved = *pte;
	*pte = saved & ~PTE_P;
	kprintf("corrupt: cleared the PTE of 0x%" PRIx64 " behind the HAT's back\n", CORRUPT_VA);
	wl_checkpoint("corrupt", "broken");
	*pte = saved;
	kprintf("corrupt: the guest ran on after the violation; PTE restored\n");
	hat_switch(&hat_kas);
	wl_pageunload("corrupt", pp);
	wl_hat_destroy("corrupt", h);
	page_free(pp);
	wl_finish("corrupt", "repaired");
	return 0;
}

const struct workload workload_corrupt = {
	"corrupt", "breaks an invariant on purpose (a PTE cleared behind the HAT), for testing the checker",
	true, corrupt_run, NULL,
};
