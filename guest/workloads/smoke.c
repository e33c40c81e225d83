/* SPDX-License-Identifier: BSD-2-Clause */
/* smoke: the HAT on real hardware — two mappings of one page, #PF on read-only, demand paging, A/D bits, TLB flush. */
#include "check_every.h"
#include "cmdline.h"
#include "demand.h"
#include "hat.h"
#include "kernel.h"
#include "pte_walk.h"
#include "stats.h"
#include "trap.h"
#include "workload.h"
#include "util.h"

/* Regions 256 MiB apart; the seed places each mapping inside its region. */
#define REGION_A      0x0000000040000000ull   /* where space A maps things */
#define REGION_B      0x0000000050000000ull   /* where space B maps them */
#define REGION_DEMAND 0x0000000060000000ull
#define PLACES        61u                    /* placements per region (prime) */
#define PLACE_STRIDE  (MM_LARGE_SIZE + 37 * MM_PAGE_SIZE)   /* a new PD entry and PTE index each */
#define DEMAND_PAGES 16
#define RW      (HAT_READ | HAT_WRITE)

/* This run's addresses; seed=1 (the default) puts each at the start of its region. */
static uint64_t va_a, va_b, va_demand;

/* Placement `(seed - 1) * mult` of PLACES in the region at base: other tables, other entries. */
static uint64_t seeded_va(uint64_t base, uint64_t seed, uint64_t mult)
{
	return base + ((seed - 1) * mult % PLACES) * PLACE_STRIDE;
}

static void pass(const char *what)
{
	kprintf("smoke: %s: ok\n", what);
}

/* Bytes written through A's mapping are read back through B's mapping of the same page. */
static void two_mappings(struct hat *a, struct hat *b, page_t *pp)
{
	wl_memload("smoke", a, va_a, pp, RW);
	wl_memload("smoke", b, va_b, pp, HAT_READ);
	hat_switch(a);
	for (unsigned i = 0; i < 512; i++)
		((volatile uint64_t *)va_a)[i] = 0x5a5a000000000000ull | i;
	hat_switch(b);
	for (unsigned i = 0; i < 512; i++)
		if (((volatile uint64_t *)va_b)[i] != (0x5a5a000000000000ull | i))
			panic("smoke: word %u differs through the second mapping", i);
	if (hat_getmapcnt(pp) != 2)
		panic("smoke: page has %u mappings, expected 2", hat_getmapcnt(pp));
	pass("write through one mapping, read through another");
}

/* CR0.WP: the kernel's write to a read-only mapping faults until chgprot allows it. */
static void read_only_then_chgprot(struct hat *b)
{
	if (probe_write64((volatile uint64_t *)va_b, 1) == 0)
		panic("smoke: write to a read-only mapping did not fault");
	struct probe_fault f = trap_last_probe_fault();
	if (f.vector != VEC_PF || f.cr2 != va_b || !(f.error_code & PF_ERR_WRITE) ||
	    !(f.error_code & PF_ERR_PRESENT))
		panic("smoke: expected a write #PF on 0x%" PRIx64 ", got vector %" PRIu64 " cr2 0x%"
		      PRIx64 " error 0x%" PRIx64, (uint64_t)va_b, f.vector, f.cr2, f.error_code);
	wl_hold_checkpoints();   /* a VM exit could flush a stale read-only translation */
	wl_chgprot("smoke", b, va_b, MM_PAGE_SIZE, RW);
	int faulted = probe_write64((volatile uint64_t *)va_b, 7);
	wl_release_checkpoints("smoke");
	if (faulted)
		panic("smoke: write still faults after chgprot (the PTE is 0x%" PRIx64 ")",
		      wl_walk_pte(va_b));
	pass("write to read-only faults (#PF), succeeds after chgprot");
}

/* Touching unmapped VAs of a demand region maps fresh zeroed pages. */
static void demand_paging(struct hat *a)
{
	uint64_t before = demand_pages_mapped();

	hat_switch(a);
	demand_region(a, va_demand, DEMAND_PAGES * MM_PAGE_SIZE, RW);
	for (unsigned i = 0; i < DEMAND_PAGES; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(va_demand + i * MM_PAGE_SIZE + 8 * i);
		if (*p != 0)
			panic("smoke: demand-paged page %u is not zeroed", i);
		*p = i;
	}
	demand_region(NULL, 0, 0, 0);
	if (demand_pages_mapped() - before != DEMAND_PAGES)
		panic("smoke: %" PRIu64 " demand faults, expected %u",
		      (demand_pages_mapped() - before), DEMAND_PAGES);
	stats_add(&stats.maps, DEMAND_PAGES);
	pass("unmapped access faults, handler maps a zeroed page");
}

/* The CPU's accessed and dirty bits reach page attributes through pagesync; returns the page. */
static page_t *accessed_dirty(struct hat *a)
{
	page_t *pp = wl_page_alloc("smoke");

	wl_memload("smoke", a, va_a + MM_PAGE_SIZE, pp, RW);
	hat_switch(a);
	wl_pagesync("smoke", pp, HAT_SYNC_CLEAR);
	wl_page_clrattr("smoke", pp, PG_ATTR_REF | PG_ATTR_MOD);
	(void)*(volatile uint64_t *)(va_a + MM_PAGE_SIZE);
	unsigned attr = wl_pagesync("smoke", pp, HAT_SYNC_CLEAR);
	if (attr != PG_ATTR_REF)
		panic("smoke: after a read pagesync gave 0x%x, expected REF only", attr);
	wl_page_clrattr("smoke", pp, PG_ATTR_REF | PG_ATTR_MOD);
	*(volatile uint64_t *)(va_a + MM_PAGE_SIZE) = 1;
	attr = wl_pagesync("smoke", pp, 0);
	if (attr != (PG_ATTR_REF | PG_ATTR_MOD))
		panic("smoke: after a write pagesync gave 0x%x, expected REF|MOD", attr);
	pass("accessed/dirty bits set by the CPU show up through pagesync");
	return pp;
}

/* After unload the TLB must not keep the old translation. */
static void stale_access_faults(struct hat *a)
{
	uint64_t va = va_a + 2 * MM_PAGE_SIZE, value;
	page_t *pp = wl_page_alloc("smoke");

	wl_memload("smoke", a, va, pp, RW);
	hat_switch(a);
	wl_hold_checkpoints();   /* a VM exit could flush the TLB and hide a missing INVLPG */
	*(volatile uint64_t *)va = 42;   /* now cached in the TLB */
	wl_unload("smoke", a, va, MM_PAGE_SIZE);
	int faulted = probe_read64((volatile uint64_t *)va, &value);
	const char *cause = faulted ? "" : wl_access_cause(va, PTE_P);
	wl_release_checkpoints("smoke");
	if (!faulted)
		panic("smoke: read of 0x%" PRIx64 " after unload succeeded: %s", va, cause);
	if (trap_last_probe_fault().cr2 != va)
		panic("smoke: the stale access faulted at the wrong address");
	page_free(pp);
	pass("access after unload faults (TLB flushed)");
}

/* Returns the demand-paged pages to the allocator (the handler allocated them). */
static void free_demand_pages(struct hat *a)
{
	for (unsigned i = 0; i < DEMAND_PAGES; i++) {
		uint64_t pfn = wl_getpfnum("smoke", a, va_demand + i * MM_PAGE_SIZE);
		page_t *pp = pfn == HAT_PFN_INVALID ? NULL : page_from_pfn(pfn);
		if (!pp)
			panic("smoke: demand-paged page %u is no longer mapped", i);
		wl_pageunload("smoke", pp);
		page_free(pp);
	}
}

static int smoke_run(void)
{
	uint64_t seed = cmdline_get_u64("seed", 1);

	va_a = seeded_va(REGION_A, seed, 1);
	va_b = seeded_va(REGION_B, seed, 7);
	va_demand = seeded_va(REGION_DEMAND, seed, 13);
	struct hat *a = wl_hat_create("smoke"), *b = wl_hat_create("smoke");
	page_t *shared = wl_page_alloc("smoke");

	wl_checkpoint("smoke", "created");
	two_mappings(a, b, shared);
	read_only_then_chgprot(b);
	wl_checkpoint("smoke", "shared");
	demand_paging(a);
	page_t *sampled = accessed_dirty(a);
	stale_access_faults(a);
	wl_checkpoint("smoke", "exercised");
	if (wl_pageunload("smoke", shared) != 2)
		panic("smoke: pageunload did not remove both mappings");
	hat_switch(&hat_kas);
	free_demand_pages(a);
	wl_pageunload("smoke", sampled);
	page_free(sampled);
	wl_hat_destroy("smoke", a);
	wl_hat_destroy("smoke", b);
	page_free(shared);
	wl_finish("smoke", "destroyed");
	return 0;
}

const struct workload workload_smoke = {
	"smoke", "the HAT on real hardware: sharing, #PF, demand paging, A/D bits, TLB", true,
	smoke_run, NULL,
};
