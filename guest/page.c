/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical pages: one page_t per page of RAM, a boot bump allocator, and the per-2-MiB-block page allocator. */
#include "page.h"

#include "hat_oplog.h"

page_t *page_array;
uint64_t page_count;
uint64_t page_first_managed;

/*
 * The allocator (struct page_pool, mm_structs.h): one LIFO free list per
 * 2 MiB block (512 pages), and the blocks with free pages on two lists:
 * partial ones and fully free ones. Small pages come from partial blocks
 * first, so fully free blocks last for page_alloc_large(), which takes
 * one in O(1) and its pages in O(512). Everything under one lock; p_kind
 * changes under it too. Exported as page_pool for the host checker (PG_*).
 */
struct page_pool page_pool;
#define pool page_pool   /* the short name the mutation table (mutants/mutants.tsv) quotes */

static uint64_t pages_returned;   /* page_free()s ever, under the pool lock: page_free_large's log record */

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
	pool.blocks = NULL;
	pool.head[BL_NONE] = pool.head[BL_PARTIAL] = pool.head[BL_FULL] = BLK_NIL;
	pool.nfree = pool.ninuse = pool.nfail = pool.large_exam = 0;
	pool.limit = PAGE_LIMIT_NONE;
	pool.reserve = PAGE_RESERVE_DEFAULT;
	pool.nreserve = 0;
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

/* Moves block b to the head of the list its free count calls for. Pool lock held. */
static void block_relist(uint32_t b)
{
	struct page_block *blk = &pool.blocks[b];
	uint8_t list = blk->nfree == 0 ? BL_NONE : blk->nfree == MM_LARGE_PAGES ? BL_FULL : BL_PARTIAL;

	if (blk->list != BL_NONE) {
		if (blk->prev != BLK_NIL)
			pool.blocks[blk->prev].next = blk->next;
		else
			pool.head[blk->list] = blk->next;
		if (blk->next != BLK_NIL)
			pool.blocks[blk->next].prev = blk->prev;
	}
	blk->list = list;
	blk->prev = blk->next = BLK_NIL;
	if (list == BL_NONE)
		return;
	blk->next = pool.head[list];
	if (blk->next != BLK_NIL)
		pool.blocks[blk->next].prev = b;
	pool.head[list] = b;
}

/* Puts a free page on its block's list. Pool lock held (or boot). */
static void block_push(page_t *pp)
{
	struct page_block *blk = &pool.blocks[pp->p_pagenum / MM_LARGE_PAGES];

	pp->p_next = blk->free;
	blk->free = pp;
	blk->nfree++;
}

void page_init(void)
{
	uint64_t n = boot.end >> MM_PAGE_SHIFT;
	uint64_t nblocks = (n + MM_LARGE_PAGES - 1) / MM_LARGE_PAGES;
	uint64_t bbytes = nblocks * sizeof(struct page_block);
	uint64_t bpa = page_boot_alloc((bbytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT);
	uint64_t bytes = n * sizeof(page_t);
	uint64_t pa = page_boot_alloc((bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT);
	page_t *pages = pa_to_kva(pa);
	uint64_t first = boot.next >> MM_PAGE_SHIFT;

	if (first >= n)
		panic("page_init: no free RAM left after boot carving");
	pool.blocks = pa_to_kva(bpa);
	/* the arrays are zeroed: set what differs, in locals (this loop runs once per page of RAM) */
	for (uint64_t pfn = 0; pfn < first; pfn++) {
		pages[pfn].p_pagenum = (uint32_t)pfn;
		pages[pfn].p_kind = PG_RESERVED;
	}
	/* push from the top so the lowest pfns are handed out first */
	for (uint64_t pfn = n; pfn-- > first;) {
		pages[pfn].p_pagenum = (uint32_t)pfn;
		block_push(&pages[pfn]);
	}
	for (uint64_t b = nblocks; b-- > 0;) {
		pool.blocks[b].prev = pool.blocks[b].next = BLK_NIL;
		block_relist((uint32_t)b);
	}
	page_array = pages;
	page_count = n;
	page_first_managed = first;
	pool.nfree = n - first;
	boot.active = false;
}

/* PG_INUSE: every managed page is free or in use. Pool lock held. */
static void pool_check_balance(void)
{
	MM_ASSERT(PG_INUSE, pool.nfree + pool.ninuse == page_count - page_first_managed);
}

/* Checks a page coming off the free list is clean (never mapped, never listed). */
static void page_check_free(const page_t *pp)
{
	MM_ASSERT(RM_EMBED, pp->p_mapping == 0 && pp->p_embed == 0 && pp->p_share == 0);
	MM_ASSERT(PG_FREE_COUNT, pp->p_kind == PG_FREE);
}

/* Takes one free page, from a partial block when there is one. Pool lock held. */
static page_t *pool_take(unsigned kind)
{
	uint32_t b = pool.head[BL_PARTIAL] != BLK_NIL ? pool.head[BL_PARTIAL] : pool.head[BL_FULL];
	struct page_block *blk;
	page_t *pp;

	if (b == BLK_NIL)
		return NULL;
	blk = &pool.blocks[b];
	pp = blk->free;
	MM_ASSERT(PG_FREE_COUNT, pp != NULL && blk->nfree > 0 && pool.nfree > 0);
	page_check_free(pp);
	blk->free = pp->p_next;
	blk->nfree--;
	block_relist(b);
	pp->p_kind = (uint8_t)kind;
	pool.nfree--;
	pool.ninuse++;
	pool_check_balance();
	return pp;
}

/*
 * True when taking `pages` more, already known to fit under the cap,
 * leaves the emergency reserve's last pages (under the cap and on the
 * free lists) untouched. Pool lock held.
 */
static bool reserve_spared(uint64_t pages)
{
	return pool.limit - pool.ninuse >= pages + pool.reserve && pool.nfree >= pages + pool.reserve;
}

/* page_alloc(), and with use_reserve the emergency reserve too. */
static page_t *page_alloc_from(unsigned kind, bool use_reserve)
{
	page_t *pp = NULL;

	MM_REQUIRE(kind != PG_FREE && kind != PG_RESERVED && kind != PG_CACHE);
	mm_lock_enter(&pool.lock);
	if (pool.ninuse < pool.limit) {
		bool spared = reserve_spared(1);

		if (spared || use_reserve)
			pp = pool_take(kind);
		if (pp != NULL && !spared)
			pool.nreserve++;
	}
	MM_ASSERT(PG_INUSE, pool.ninuse <= pool.limit);
	if (pp == NULL)
		pool.nfail++;
	mm_lock_exit(&pool.lock);
	if (pp == NULL)
		return NULL;
	pp->p_next = NULL;
	pp->p_attr = 0;
	mm_zero(page_kva(pp), MM_PAGE_SIZE);
	return pp;
}

page_t *page_alloc(unsigned kind)
{
	return page_alloc_from(kind, false);
}

page_t *page_alloc_reserve(unsigned kind)
{
	return page_alloc_from(kind, true);
}

/* Takes a fully free block whole; its first pfn, or 0 when there is none. Pool lock held. */
static uint64_t pool_take_large(unsigned kind)
{
	uint32_t b = pool.head[BL_FULL];
	struct page_block *blk;
	unsigned taken = 0;

	if (b == BLK_NIL)
		return 0;
	blk = &pool.blocks[b];
	for (page_t *pp = blk->free, *next; pp != NULL; pp = next) {
		next = pp->p_next;
		page_check_free(pp);
		pp->p_next = NULL;
		pp->p_kind = (uint8_t)kind;
		pool.large_exam++;
		taken++;
	}
	MM_ASSERT(PG_FREE_COUNT, taken == MM_LARGE_PAGES);
	blk->free = NULL;
	blk->nfree = 0;
	block_relist(b);
	pool.nfree -= MM_LARGE_PAGES;
	pool.ninuse += MM_LARGE_PAGES;
	pool_check_balance();
	return (uint64_t)b * MM_LARGE_PAGES;
}

page_t *page_alloc_large(unsigned kind)
{
	uint64_t base = 0;

	MM_REQUIRE(kind != PG_FREE && kind != PG_RESERVED && kind != PG_CACHE);
	mm_lock_enter(&pool.lock);
	if (pool.limit >= pool.ninuse && pool.limit - pool.ninuse >= MM_LARGE_PAGES)
		base = reserve_spared(MM_LARGE_PAGES) ? pool_take_large(kind) : 0;
	MM_ASSERT(PG_INUSE, pool.ninuse <= pool.limit);
	if (base == 0)
		pool.nfail++;
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
	if (pp->p_mapping != 0 || pp->p_embed != 0 || pp->p_share != 0)
		panic("page_free: pfn 0x%x is still mapped (embed %u, share %u)",
		      pp->p_pagenum, pp->p_embed, pp->p_share);
	pp->p_hat = NULL;
	pp->p_ptva = 0;
	pp->p_level = 0;
	pp->p_valid = 0;
	pp->p_attr = 0;
	mm_lock_enter(&pool.lock);
	pp->p_kind = PG_FREE;
	block_push(pp);
	block_relist(pp->p_pagenum / MM_LARGE_PAGES);
	pool.nfree++;
	pool.ninuse--;
	pages_returned++;
	pool_check_balance();
	mm_lock_exit(&pool.lock);
}

/* Pages page_free() has taken back, ever (all CPUs). */
static uint64_t returned(void)
{
	return __atomic_load_n(&pages_returned, __ATOMIC_RELAXED);
}

void page_free_large(page_t *pp)
{
	uint64_t before, back;

	MM_REQUIRE(pp->p_pagenum % MM_LARGE_PAGES == 0);
	hat_oplog_make_room();
	before = returned();
	for (unsigned i = 0; i < MM_LARGE_PAGES; i++)
		page_free(pp + i);
	/* frees by other CPUs can only add: fewer than the block is a leak (PG_INUSE) */
	back = returned() - before;
	MM_ASSERT(PG_INUSE, back >= MM_LARGE_PAGES);
	hat_oplog_append((struct hat_op){ .o_kind = HOP_FREE_LARGE, .o_pfn = pp->p_pagenum,
					  .o_result = back > INT32_MAX ? INT32_MAX : (int32_t)back });
}

/* The hard cap for a cap on ordinary allocations: the reserve lies beyond it. */
static uint64_t hard_limit(uint64_t max_in_use)
{
	if (max_in_use == PAGE_LIMIT_NONE || max_in_use > PAGE_LIMIT_NONE - pool.reserve)
		return PAGE_LIMIT_NONE;
	return max_in_use + pool.reserve;
}

void page_set_limit(uint64_t max_in_use)
{
	mm_lock_enter(&pool.lock);
	/* a cap below what is in use could not be respected (PG_INUSE) */
	MM_REQUIRE(max_in_use >= pool.ninuse);
	pool.limit = hard_limit(max_in_use);
	mm_lock_exit(&pool.lock);
}

void page_set_reserve(uint64_t pages)
{
	mm_lock_enter(&pool.lock);
	if (pool.limit != PAGE_LIMIT_NONE) {
		/* the ordinary cap stays where it was */
		MM_REQUIRE(pool.limit >= pool.reserve && pool.limit - pool.reserve + pages >= pool.ninuse);
		pool.limit = pool.limit - pool.reserve + pages;
	}
	pool.reserve = pages;
	mm_lock_exit(&pool.lock);
}

uint64_t page_nreserve(void)
{
	return __atomic_load_n(&pool.nreserve, __ATOMIC_RELAXED);
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

uint64_t page_large_exam(void)
{
	return __atomic_load_n(&pool.large_exam, __ATOMIC_RELAXED);
}
