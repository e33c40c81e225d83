/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical pages: the page_t array, boot-time carving, the page allocator and its pressure knob. */
#ifndef GUEST_PAGE_H
#define GUEST_PAGE_H

#include "mm_platform.h"

typedef struct page page_t;

extern page_t *page_array;           /* page_t of pfn i at page_array[i] */
extern uint64_t page_count;          /* pages of RAM */
extern uint64_t page_first_managed;  /* pfns below are never allocatable */
extern struct page_pool page_pool;   /* the allocator's state, read by the host checker (PG_*) */

#define PAGE_LIMIT_NONE UINT64_MAX

/*
 * The emergency reserve (NetBSD's UVM_PGA_USERESERVE): the last free
 * pages of RAM, and as many beyond the pressure cap, go only to
 * page_alloc_reserve(), which the kernel's table pages use, so mapping
 * into the kernel window never fails before ordinary allocations have.
 * Enough for one KMAP mapping's tables (PD, PT) several times over.
 */
#define PAGE_RESERVE_DEFAULT 8u

/* Starts boot carving: pages from first_free_pa up are handed out in order. */
void page_boot_begin(uint64_t ram_size, uint64_t first_free_pa);

/* Returns the PA of npages zeroed contiguous pages; only between begin and page_init. */
uint64_t page_boot_alloc(uint64_t npages);

/*
 * Ends boot carving: carves the block index and the page_t array, marks every page below the
 * carving point PG_RESERVED and frees the rest. Needs pa_to_kva() to work.
 */
void page_init(void);

/* Returns a zeroed page of the given kind, or NULL (RAM exhausted or the limit hit). Any CPU. */
page_t *page_alloc(unsigned kind);

/* page_alloc() that may also take the emergency reserve's pages: the kernel's table pages only. */
page_t *page_alloc_reserve(unsigned kind);

/* Returns the first of 512 zeroed, contiguous, 2 MiB-aligned pages, or NULL. Any CPU. */
page_t *page_alloc_large(unsigned kind);

/* Frees an allocated page; it must have no mappings. Any CPU. */
void page_free(page_t *pp);

/* Frees a page_alloc_large() block given its first page; logged (HOP_FREE_LARGE). No MM lock held. */
void page_free_large(page_t *pp);

/*
 * The pressure knob: at most max_in_use pages allocated at once by
 * ordinary allocations (PAGE_LIMIT_NONE: no limit); never below those in
 * use now. The emergency reserve's pages lie beyond it: page_pool.limit,
 * the hard cap (PG_INUSE), is max_in_use + the reserve.
 */
void page_set_limit(uint64_t max_in_use);

/* Sets how many pages the emergency reserve keeps back (0: none). */
void page_set_reserve(uint64_t pages);

uint64_t page_nreserve(void); /* allocations served from the reserve so far */
uint64_t page_nfree(void);    /* free pages */
uint64_t page_ninuse(void);   /* pages allocated */
uint64_t page_nfail(void);    /* allocations refused so far */
uint64_t page_large_exam(void); /* page_t examined by page_alloc_large() so far (512 per block taken) */

static inline uint64_t page_pa(const page_t *pp)
{
	return (uint64_t)pp->p_pagenum << MM_PAGE_SHIFT;
}

static inline void *page_kva(const page_t *pp)
{
	return pa_to_kva(page_pa(pp));
}

/* page_t of a pfn, or NULL when the pfn is not RAM. */
static inline page_t *page_from_pfn(uint64_t pfn)
{
	return pfn < page_count ? &page_array[pfn] : NULL;
}

static inline page_t *page_from_pa(uint64_t pa)
{
	return page_from_pfn(pa >> MM_PAGE_SHIFT);
}

/* True for allocatable pages: the ones mapping lists track (mm_structs.h). */
static inline bool page_pfn_managed(uint64_t pfn)
{
	return pfn >= page_first_managed && pfn < page_count;
}

#endif
