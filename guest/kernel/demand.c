/* SPDX-License-Identifier: BSD-2-Clause */
/* The #PF handler behind demand paging: maps a zeroed page at the faulting VA. */
#include "demand.h"

#include "hat.h"
#include "trap.h"

static struct {
	struct hat *hat;
	uint64_t start, end;
	unsigned attr;
} region;
static uint64_t pages_mapped;

void demand_region(struct hat *h, uint64_t va, uint64_t len, unsigned attr)
{
	region.hat = h;
	region.start = va;
	region.end = va + len;
	region.attr = attr;
}

uint64_t demand_pages_mapped(void)
{
	return pages_mapped;
}

/* Only not-present faults inside the region of the loaded space are ours. */
static bool demand_fault(uint64_t cr2, uint64_t error_code)
{
	if ((error_code & (PF_ERR_PRESENT | PF_ERR_RSVD)) || !region.hat ||
	    region.hat != hat_current() || cr2 < region.start || cr2 >= region.end)
		return false;
	page_t *pp = page_alloc(PG_USER);
	if (!pp)
		return false;
	if (hat_memload(region.hat, cr2 & ~(MM_PAGE_SIZE - 1), pp, region.attr) != 0) {
		page_free(pp);
		return false;
	}
	pages_mapped++;
	return true;
}

void demand_init(void)
{
	trap_set_page_fault_handler(demand_fault);
}
