/* SPDX-License-Identifier: BSD-2-Clause */
/* mm_tlb_shootdown_hook: the flush runs on every target CPU by cross-call before the HAT goes on. */
#include "tlb_shootdown.h"

#include "hat.h"
#include "xcall.h"

struct flush_request {
	uint64_t va;
	uint64_t npages;   /* 0: everything */
};

static bool skip_all;
static struct tlb_remote_counts counts;

/*
 * Runs on each target whatever it has loaded: a CPU that switched away
 * since the sender read the set only pays an INVLPG it did not need.
 */
static void flush_here(void *arg)
{
	const struct flush_request *r = arg;

	if (r->npages == 0 || r->npages > HAT_TLB_BATCH) {
		mm_tlb_flush_all();
		__atomic_fetch_add(&counts.full, 1, __ATOMIC_RELAXED);
		return;
	}
	for (uint64_t i = 0; i < r->npages; i++)
		mm_tlb_flush_page(r->va + i * MM_PAGE_SIZE);
	__atomic_fetch_add(&counts.invlpg, r->npages, __ATOMIC_RELAXED);
}

static void shootdown(uint64_t cpus, uint64_t cr3, uint64_t va, uint64_t npages)
{
	struct flush_request r = { .va = va, .npages = npages };

	(void)cr3;
	if (skip_all) {
		__atomic_fetch_add(&counts.skipped, 1, __ATOMIC_RELAXED);
		return;
	}
	xcall_run(cpus, flush_here, &r);
}

void tlb_shootdown_init(bool skip)
{
	skip_all = skip;
	mm_tlb_shootdown_hook = shootdown;
}

struct tlb_remote_counts tlb_shootdown_counts(void)
{
	struct tlb_remote_counts c;

	c.invlpg = __atomic_load_n(&counts.invlpg, __ATOMIC_RELAXED);
	c.full = __atomic_load_n(&counts.full, __ATOMIC_RELAXED);
	c.skipped = __atomic_load_n(&counts.skipped, __ATOMIC_RELAXED);
	return c;
}
