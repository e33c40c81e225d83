/* SPDX-License-Identifier: BSD-2-Clause */
/* corrupt: breaks one invariant on purpose (a PTE cleared behind the HAT's back), so the host's checker and --stop-on-violation have a real violation to act on. */
#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
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
/* Spins for ms milliseconds by the TSC (no checkpoint, no hypercall meanwhile). */
static void spin_ms(uint32_t ms)
{
	uint64_t khz = cpu_boot_info()->tsc_khz, end = x86_rdtsc() + (uint64_t)ms * (khz ? khz : 1000000);

	while (x86_rdtsc() < end)
		x86_pause();
}

/*
 * transient_ms=N: the PTE dirty but not accessed (PT_DIRTY_ACCESSED, which
 * no CPU makes) for N ms, then as it was, with no checkpoint between:
 * only --check=async can see it.
 */
static void break_for_a_while(volatile uint64_t *pte, uint64_t saved, uint32_t ms)
{
	*pte = (saved | PTE_D) & ~PTE_A;
	kprintf("corrupt: the PTE of 0x%" PRIx64 " dirty and not accessed for %u ms, no checkpoint\n",
		CORRUPT_VA, ms);
	spin_ms(ms);
	*pte = saved;
}

static int corrupt_run(void)
{
	struct hat *h = wl_hat_create("corrupt");
	page_t *pp = wl_page_alloc("corrupt");
	uint32_t transient_ms = cmdline_get_u32("transient_ms", 0);

	wl_memload("corrupt", h, CORRUPT_VA, pp, HAT_READ | HAT_WRITE);
	wl_checkpoint("corrupt", "mapped");
	hat_switch(h);
	volatile uint64_t *pte = wl_walk_pte_slot(CORRUPT_VA);
	if (!pte)
		panic("corrupt: 0x%" PRIx64 " is not mapped after memload", CORRUPT_VA);
	uint64_t saved = *pte;
	if (transient_ms != 0) {
		break_for_a_while(pte, saved, transient_ms);
	} else {
		*pte = saved & ~PTE_P;
		kprintf("corrupt: cleared the PTE of 0x%" PRIx64 " behind the HAT's back\n", CORRUPT_VA);
		wl_checkpoint("corrupt", "broken");
		*pte = saved;
	}
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
