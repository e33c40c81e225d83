/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical pages: one page_t per page of RAM, a boot bump allocator, and the free-list page allocator. */
#include "page.h"

page_t *page_array;
uint64_t page_count;
uint64_t page_first_managed;

/* The allocator: a LIFO free list under one lock. p_kind changes under it too. */
static struct {
	struct mm_lock lock;
	page_t *free;
	uint64_t nfree;
	uint64_t ninuse;
	uint64_t limit;
	uint64_t nfail;
} pool;

/* Boot carving: [next, end) is still unused RAM. */
static struct {
	uint64_t next;
	uint64_t end;
	bool active;
} boot;

void page_boot_begin(uint64_t ram_size, uint64_t first_free_pa)
{
	uint64_t end = ram_size & ~(MM_PAGE_SIZE - 1);
	uint64_t next = (first_free_pa + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);

	if (next >= end || (end >> MM_PAGE_SHIFT) > UINT32_MAX)
		panic("page_boot_begin: RAM 0x%" PRIx64 ", first free 0x%" PRIx64
		      ": nothing to manage",
		      ram_size, first_free_pa);
	boot.next = next;
	boot.end = end;
	boot.active = true;
	page_array = NULL;
	page_count = 0;
	page_first_managed = 0;
	pool.free = NULL;
	pool.nfree = pool.ninuse = pool.nfail = 0;
	pool.limit = PAGE_LIMIT_NONE;
	pool.lock = (struct mm_lock){ 0, 0 };
}

uint64_t page_boot_alloc(uint64_t npages)
{
	uint64_t pa = boot.next;

	MM_REQUIRE(boot.active);
	if (npages > (boot.end - boot.next) >> MM_PAGE_SHIFT)
		panic("page_boot_alloc: %" PRIu64 " pages do not fit below 0x%" PRIx64,
		      npages, boot.end);
	boot.next += npages << MM_PAGE_SHIFT;
	mm_zero(mm_boot_ptr(pa), npages << MM_PAGE_SHIFT);
	return pa;
}

void page_init(void)
{
	uint64_t n = boot.end >> MM_PAGE_SHIFT;
	uint64_t bytes = n * sizeof(page_t);
	uint64_t pa = page_boot_alloc((bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT);
	page_t *pages = pa_to_kva(pa), *free = NULL;
	uint64_t first = boot.next >> MM_PAGE_SHIFT;

	/* the array is zeroed: set what differs, in locals (this loop runs once per page of RAM) */
	for (uint64_t pfn = 0; pfn < first; pfn++) {
		pages[pfn].p_pagenum = (uint32_t)pfn;
		pages[pfn].p_kind = PG_RESERVED;
	}
	/* push from the top so the lowest pfns are handed out first */
	for (uint64_t pfn = n; pfn-- > first;) {
		pages[pfn].p_pagenum = (uint32_t)pfn;
		pages[pfn].p_next = free;
		free = &pages[pfn];
	}
	if (free == NULL)
		panic("page_init: no free RAM left after boot carving");
	page_array = pages;
	page_count = n;
	page_first_managed = first;
	pool.free = free;
	pool.nfree = n - first;
	boot.active = false;
}

/* Checks a page coming off the free list is clean (never mapped, never listed). */
static void page_check_free(const page_t *pp)
{
	MM_ASSERT(RM_EMBED, pp->p_mapping == NULL && pp->p_embed == 0 && pp->p_share == 0);
	MM_REQUIRE(pp->p_kind == PG_FREE);
}

page_t *page_alloc(unsigned kind)
{
	page_t *pp = NULL;

	MM_REQUIRE(kind != PG_FREE && kind != PG_RESERVED && kind != PG_CACHE);
	mm_lock_enter(&pool.lock);
	if (pool.free != NULL && pool.ninuse < pool.limit) {
		pp = pool.free;
		page_check_free(pp);
		pool.free = pp->p_next;
		pool.nfree--;
		pool.ninuse++;
		pp->p_kind = (uint8_t)kind;
	} else {
		pool.nfail++;
	}
	mm_lock_exit(&pool.lock);
	if (pp == NULL)
		return NULL;
	pp->p_next = NULL;
	pp->p_attr = 0;
	mm_zero(page_kva(pp), MM_PAGE_SIZE);
	return pp;
}

/* First pfn of 512 aligned free pages, or 0 when there is none. Pool lock held. */
static uint64_t page_find_large(void)
{
	uint64_t first = (page_first_managed + MM_LARGE_PAGES - 1) & ~(uint64_t)(MM_LARGE_PAGES - 1);

	for (uint64_t base = first; base + MM_LARGE_PAGES <= page_count; base += MM_LARGE_PAGES) {
		unsigned i = 0;

		while (i < MM_LARGE_PAGES && page_array[base + i].p_kind == PG_FREE)
			i++;
		if (i == MM_LARGE_PAGES)
			return base;
	}
	return 0;
}

/* Unlinks the 512 pages from base up from the free list in one pass. Pool lock held. */
static void page_unlink_range(uint64_t base, unsigned kind)
{
	unsigned found = 0;

	for (page_t **link = &pool.free; *link != NULL;) {
		page_t *pp = *link;

		if (pp->p_pagenum >= base && pp->p_pagenum < base + MM_LARGE_PAGES) {
			*link = pp->p_next;
			pp->p_next = NULL;
			pp->p_kind = (uint8_t)kind;
			found++;
		} else {
			link = &pp->p_next;
		}
	}
	MM_REQUIRE(found == MM_LARGE_PAGES);
}

page_t *page_alloc_large(unsigned kind)
{
	uint64_t base = 0;

	MM_REQUIRE(kind != PG_FREE && kind != PG_RESERVED && kind != PG_CACHE);
	mm_lock_enter(&pool.lock);
	if (pool.limit >= pool.ninuse && pool.limit - pool.ninuse >= MM_LARGE_PAGES)
		base = page_find_large();
	if (base != 0) {
		page_unlink_range(base, kind);
		pool.nfree -= MM_LARGE_PAGES;
		pool.ninuse += MM_LARGE_PAGES;
	} else {
		pool.nfail++;
	}
	mm_lock_exit(&pool.lock);
	if (base == 0)
		return NULL;
	for (unsigned i = 0; i < MM_LARGE_PAGES; i++)
		page_array[base + i].p_attr = 0;
	mm_zero(pa_to_kva(base << MM_PAGE_SHIFT), MM_LARGE_SIZE);
	return &page_array[base];
}

void page_free(page_t *pp)
{
	MM_REQUIRE(pp >= page_array && pp < page_array + page_count);
	MM_REQUIRE(pp->p_kind != PG_FREE && pp->p_kind != PG_RESERVED);
	if (pp->p_mapping != NULL || pp->p_embed != 0 || pp->p_share != 0)
		panic("page_free: pfn 0x%x is still mapped (embed %u, share %u)",
		      pp->p_pagenum, pp->p_embed, pp->p_share);
	pp->p_hat = NULL;
	pp->p_ptva = 0;
	pp->p_level = 0;
	pp->p_valid = 0;
	pp->p_attr = 0;
	mm_lock_enter(&pool.lock);
	pp->p_kind = PG_FREE;
	pp->p_next = pool.free;
	pool.free = pp;
	pool.nfree++;
	pool.ninuse--;
	mm_lock_exit(&pool.lock);
}

void page_free_large(page_t *pp)
{
	MM_REQUIRE(pp->p_pagenum % MM_LARGE_PAGES == 0);
	for (unsigned i = 0; i < MM_LARGE_PAGES; i++)
		page_free(pp + i);
}

void page_set_limit(uint64_t max_in_use)
{
	mm_lock_enter(&pool.lock);
	pool.limit = max_in_use;
	mm_lock_exit(&pool.lock);
}

uint64_t page_nfree(void)
{
	return __atomic_load_n(&pool.nfree, __ATOMIC_RELAXED);
}

uint64_t page_ninuse(void)
{
	return __atomic_load_n(&pool.ninuse, __ATOMIC_RELAXED);
}

uint64_t page_nfail(void)
{
	return __atomic_load_n(&pool.nfail, __ATOMIC_RELAXED);
}
