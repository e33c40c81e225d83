/* SPDX-License-Identifier: BSD-2-Clause */
/* Walks the loaded page tables from CR3 by hand, so a workload can tell a PTE left in place from a stale TLB entry. */
#include "pte_walk.h"

#include "arch_x86.h"
#include "hatvm/x86.h"
#include "mm_platform.h"

volatile uint64_t *wl_walk_pte_slot(uint64_t va)
{
	volatile uint64_t *table = pa_to_kva(x86_read_cr3() & PTE_FRAME);

	for (unsigned level = MM_LEVELS; level >= 1; level--) {
		volatile uint64_t *slot = &table[MM_VA_INDEX(va, level)];

		if (!(*slot & PTE_P))
			return NULL;
		if (level == 1 || (*slot & PTE_PS))
			return slot;
		table = pa_to_kva(*slot & PTE_FRAME);
	}
	return NULL;
}

uint64_t wl_walk_pte(uint64_t va)
{
	volatile uint64_t *slot = wl_walk_pte_slot(va);

	return slot ? *slot : 0;
}

const char *wl_access_cause(uint64_t va, uint64_t need)
{
	uint64_t pte = wl_walk_pte(va);

	if ((pte & need) != need)
		return "a stale TLB entry: the page tables forbid the access, the CPU used an old translation";
	if (need & PTE_W)
		return "the PTE still allows writes: chgprot did not clear its W bit";
	return "the PTE was never cleared: it is still present in the page tables";
}
