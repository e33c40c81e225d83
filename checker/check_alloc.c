/* SPDX-License-Identifier: BSD-2-Clause */
/* The page allocator's books (PG_FREE_COUNT, PG_INUSE): per-block free lists, block lists, counts and the cap. */
#include "check_internal.h"

#include <inttypes.h>
#include <stdlib.h>

/* One pass over the allocator: its blocks read once, sized by page_count (never by the guest's word). */
struct alloc_walk {
	struct checker *c;
	struct page_block *blocks;
	uint64_t nblocks;
	uint64_t listed;        /* pages on all free lists together */
	uint64_t *on_list;      /* per block: met on a block list */
};

/* The list a block with nfree free pages belongs on. */
static unsigned expected_list(uint16_t nfree)
{
	return nfree == 0 ? BL_NONE : nfree == MM_LARGE_PAGES ? BL_FULL : BL_PARTIAL;
}

static void report(struct checker *c, uint64_t pfn, const char *what, uint64_t b, uint64_t x, uint64_t y)
{
	sink_violation(&c->sink, INV_PG_FREE_COUNT, REPORT_NONE, REPORT_NONE, pfn,
		       "page_pool block %" PRIu64 ": %s (%" PRIu64 ", %" PRIu64 ")", b, what, x, y);
}

/* What one block's free list holds that it must not: counted, reported once per block. */
struct block_faults {
	uint64_t foreign, foreign_pfn;    /* pages of another block, or unmanaged */
	uint64_t unmarked, unmarked_pfn;  /* pages whose p_kind is not PG_FREE */
};

/* Reports a block's faults, one line each (a few per block however many pages are wrong). */
static void report_faults(struct checker *c, uint64_t b, const struct block_faults *f)
{
	if (f->foreign != 0)
		report(c, f->foreign_pfn, "free list holds pages of another block or unmanaged ones (how many, first pfn)",
		       b, f->foreign, f->foreign_pfn);
	if (f->unmarked != 0)
		report(c, f->unmarked_pfn, "free list holds pages not marked PG_FREE (how many, first pfn)", b,
		       f->unmarked, f->unmarked_pfn);
}

/* Notes what is wrong with the free page pfn of block b. */
static void note_free_page(const struct mm_view *v, uint64_t b, uint64_t pfn, struct block_faults *f)
{
	if (pfn / MM_LARGE_PAGES != b || !view_managed(v, pfn)) {
		if (f->foreign++ == 0)
			f->foreign_pfn = pfn;
	} else if (v->pages[pfn].p_kind != PG_FREE) {
		if (f->unmarked++ == 0)
			f->unmarked_pfn = pfn;
	}
}

/* Block b's free list: at most 512 pages (a longer one loops), as many as nfree says. */
static void check_block(struct alloc_walk *a, uint64_t b)
{
	const struct mm_view *v = &a->c->view;
	const struct page_block *blk = &a->blocks[b];
	struct block_faults f = { 0 };
	uint64_t node = blk->free, n = 0, pfn;

	for (; node != 0; n++) {
		if (check_work(a->c, 1))
			return;
		if (n == MM_LARGE_PAGES) {
			report(a->c, REPORT_NONE, "free list longer than a block: it loops (pages, nfree)", b, n,
			       blk->nfree);
			break;
		}
		if (!view_pfn_of_page_va(v, node, &pfn)) {
			report(a->c, REPORT_NONE, "free list entry is no page_t (VA, page_array)", b, node,
			       v->page_array_va);
			break;
		}
		note_free_page(v, b, pfn, &f);
		node = v->pages[pfn].p_next;
	}
	report_faults(a->c, b, &f);
	a->listed += n;
	if (n != blk->nfree)
		report(a->c, REPORT_NONE, "nfree differs from the free list's length (nfree, pages)", b,
		       blk->nfree, n);
	if (blk->list != expected_list(blk->nfree))
		report(a->c, REPORT_NONE, "block is on the wrong block list (list, nfree)", b, blk->list,
		       blk->nfree);
}

/* One block list: each block once, its list field and back link right. */
static void check_block_list(struct alloc_walk *a, unsigned list)
{
	uint64_t b = a->c->view.pool.head[list], prev = BLK_NIL;

	for (uint64_t n = 0; b != BLK_NIL; n++) {
		if (check_work(a->c, 1))
			return;
		if (b >= a->nblocks || bit_test(a->on_list, b)) {
			report(a->c, REPORT_NONE, "block list reaches a block past the end or twice (list, step)",
			       b, list, n);
			return;
		}
		bit_set(a->on_list, b);
		if (a->blocks[b].list != list || a->blocks[b].prev != prev)
			report(a->c, REPORT_NONE, "block on a list it does not name, or bad back link (list, prev)",
			       b, a->blocks[b].list, a->blocks[b].prev);
		prev = b;
		b = a->blocks[b].next;
	}
}

/* Blocks that say they are on a list but no list reached. */
static void check_unlisted_blocks(struct alloc_walk *a)
{
	for (uint64_t b = 0; b < a->nblocks; b++)
		if (a->blocks[b].list != BL_NONE && !bit_test(a->on_list, b))
			report(a->c, REPORT_NONE, "block with free pages is on no block list (list, nfree)", b,
			       a->blocks[b].list, a->blocks[b].nfree);
}

/*
 * Only table pages may take the emergency reserve, and each that does is
 * counted (nreserve, ever). So under a cap the kernel's and users' pages
 * stay within it minus the reserve, and all pages in use within that
 * plus nreserve: ordinary allocations keep both, lowering the cap or
 * moving the reserve refuses to break them.
 */
static void check_reserve_kept(struct checker *c)
{
	const struct page_pool *p = &c->view.pool;
	uint64_t ordinary_cap;

	if (p->limit == UINT64_MAX || p->reserve > p->limit)
		return;
	ordinary_cap = p->limit - p->reserve;
	if (c->view.ordinary_kind > ordinary_cap)
		sink_violation(&c->sink, INV_PG_INUSE, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_pool: %" PRIu64 " kernel and user pages, over the cap of %" PRIu64
			       " less the emergency reserve of %" PRIu64, c->view.ordinary_kind, p->limit, p->reserve);
	else if (p->ninuse > ordinary_cap && p->ninuse - ordinary_cap > p->nreserve)
		sink_violation(&c->sink, INV_PG_INUSE, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_pool: %" PRIu64 " pages in use, %" PRIu64 " into the emergency reserve of %"
			       PRIu64 ", which served only %" PRIu64, p->ninuse, p->ninuse - ordinary_cap,
			       p->reserve, p->nreserve);
}

/* The totals: free count, pages marked free, managed pages, the cap. */
static void check_totals(struct alloc_walk *a)
{
	struct checker *c = a->c;
	const struct page_pool *p = &c->view.pool;
	uint64_t managed = c->view.npages - c->view.first_managed;

	if (p->nfree != a->listed || c->view.free_kind != a->listed)
		sink_violation(&c->sink, INV_PG_FREE_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_pool: nfree is %" PRIu64 ", the free lists hold %" PRIu64
			       " pages, %" PRIu64 " pages are marked PG_FREE",
			       p->nfree, a->listed, c->view.free_kind);
	if (p->nfree + p->ninuse != managed)
		sink_violation(&c->sink, INV_PG_INUSE, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_pool: nfree %" PRIu64 " + ninuse %" PRIu64 " is not the %" PRIu64
			       " managed pages", p->nfree, p->ninuse, managed);
	if (p->ninuse > p->limit)
		sink_violation(&c->sink, INV_PG_INUSE, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_pool: %" PRIu64 " pages in use, over the cap of %" PRIu64,
			       p->ninuse, p->limit);
	check_reserve_kept(c);
}

void check_page_pool(struct checker *c)
{
	struct mm_view *v = &c->view;
	struct alloc_walk a = { .c = c, .nblocks = (v->npages + MM_LARGE_PAGES - 1) / MM_LARGE_PAGES };

	if (!v->pool_ok || v->pages == NULL || a.nblocks == 0)
		return;
	a.blocks = malloc(a.nblocks * sizeof(*a.blocks));
	a.on_list = calloc(a.nblocks / 64 + 1, sizeof(uint64_t));
	if (a.blocks == NULL || a.on_list == NULL ||
	    !reader_read_va(&v->rd, v->pool.blocks, a.blocks, a.nblocks * sizeof(*a.blocks))) {
		if (a.blocks != NULL && a.on_list != NULL)
			sink_violation(&c->sink, INV_PG_FREE_COUNT, REPORT_NONE, v->pool.blocks, REPORT_NONE,
				       "page_pool: the %" PRIu64 " blocks at 0x%" PRIx64 " cannot be read",
				       a.nblocks, v->pool.blocks);
		goto out;
	}
	for (uint64_t b = 0; b < a.nblocks && !check_work(c, 1); b++)
		check_block(&a, b);
	check_block_list(&a, BL_PARTIAL);
	check_block_list(&a, BL_FULL);
	if (!c->stats.stopped) {
		check_unlisted_blocks(&a);
		check_totals(&a);
	}
out:
	free(a.blocks);
	free(a.on_list);
}
