/* SPDX-License-Identifier: BSD-2-Clause */
/* large: a 2 MiB page beside 4 KiB pages in the same address spaces, shared across spaces; data, replacement, unload, pageunload, chgprot. */
#include "cmdline.h"
#include "hat.h"
#include "kernel.h"
#include "rand.h"
#include "trap.h"
#include "workload.h"
#include "util.h"

#define LG_SMALL 8u    /* 4 KiB pages */
#define RW (HAT_READ | HAT_WRITE)

/*
 * One 2 MiB page L (page_alloc_large walks the whole free list, so one
 * is plenty) and eight 4 KiB pages small[]. Each base is 2 MiB-aligned;
 * the next 2 MiB holds 4 KiB mappings under the same PD, so 2 MiB leaves
 * and a 4 KiB table sit side by side:
 *
 *   A: L at A_LARGE (RW), small[0..7] at A_SMALL
 *   B: L at B_LARGE (read-only), subpage `sub` of L as 4 KiB at B_SMALL,
 *      small[0..3] after it
 *   C: L at C_LARGE (RW), subpages 0..3 of L as 4 KiB at C_SMALL
 */
#define A_LARGE  0x0000000040000000ull
#define A_SMALL  0x0000000040200000ull
#define B_LARGE  0x0000000080000000ull
#define B_SMALL  0x0000000080200000ull
#define B_LARGE2 0x0000000080400000ull
#define C_LARGE  0x00000000c0000000ull
#define C_SMALL  0x00000000c0200000ull

static struct {
	struct rand rng;
	struct hat *a, *b, *c;
	page_t *l;                    /* first page of the 2 MiB page */
	page_t *small[LG_SMALL];
	unsigned sub;                 /* the subpage of L that B maps on its own (4..510) */
	uint64_t salt;                /* seeds the data */
	unsigned large_maps, small_maps;
} lg;

static void must_load(struct hat *h, uint64_t va, page_t *pp, unsigned attr)
{
	wl_memload("large", h, va, pp, attr);
	if (attr & HAT_LARGE)
		lg.large_maps++;
	else
		lg.small_maps++;
}

static void expect_mapcnt(page_t *pp, unsigned want, const char *what)
{
	unsigned got = hat_getmapcnt(pp);

	if (got != want)
		panic("large: %s: pfn 0x%x has %u mappings, expected %u", what, pp->p_pagenum, got,
		      want);
}

/*
 * Subpage j of L must have `large` 2 MiB mappings plus its own 4 KiB ones:
 * B's of `sub` while b_small, C's of 0..3 while c_small.
 */
static void expect_sub(unsigned j, unsigned large, bool b_small, bool c_small, const char *what)
{
	expect_mapcnt(lg.l + j, large + (b_small && j == lg.sub) + (c_small && j < 4), what);
}

static void expect_pfn(struct hat *h, uint64_t va, uint64_t want, const char *what)
{
	uint64_t got = wl_getpfnum("large", h, va);

	if (got != want)
		panic("large: %s: space %u maps 0x%" PRIx64 " to pfn 0x%" PRIx64
		      ", expected 0x%" PRIx64, what, h->h_id,
		      va, got, want);
}

/* Offset of the data word of subpage j inside the 2 MiB page (a different one in each). */
static uint64_t word_off(unsigned j)
{
	return (uint64_t)j * MM_PAGE_SIZE + (j % 512u) * 8u;
}

static uint64_t tag(unsigned j)
{
	return lg.salt ^ ((uint64_t)j << 32) ^ j;
}

static volatile uint64_t *at(uint64_t va)
{
	return (volatile uint64_t *)va;
}

static void pass(const char *what)
{
	kprintf("large: %s: ok\n", what);
}

/* Everything mapped as in the picture above. */
static void map_all(void)
{
	must_load(lg.a, A_LARGE, lg.l, RW | HAT_LARGE);
	for (unsigned j = 0; j < LG_SMALL; j++)
		must_load(lg.a, A_SMALL + j * MM_PAGE_SIZE, lg.small[j], RW);

	must_load(lg.b, B_LARGE, lg.l, HAT_READ | HAT_LARGE);
	must_load(lg.b, B_SMALL, lg.l + lg.sub, RW);
	for (unsigned j = 0; j < 4; j++)
		must_load(lg.b, B_SMALL + (j + 1) * MM_PAGE_SIZE, lg.small[j], RW);

	must_load(lg.c, C_LARGE, lg.l, RW | HAT_LARGE);
	for (unsigned j = 0; j < 4; j++)
		must_load(lg.c, C_SMALL + j * MM_PAGE_SIZE, lg.l + j, RW);

	for (unsigned j = 0; j < 4; j++)
		expect_sub(j, 3, true, true, "after mapping");
	expect_sub(lg.sub, 3, true, true, "after mapping");
	expect_sub(100, 3, true, true, "after mapping");
	expect_sub(511, 3, true, true, "after mapping");
	for (unsigned j = 0; j < LG_SMALL; j++)
		expect_mapcnt(lg.small[j], j < 4 ? 2 : 1, "after mapping");
	for (unsigned j = 0; j < MM_LARGE_PAGES; j += 73)
		expect_pfn(lg.a, A_LARGE + word_off(j), lg.l->p_pagenum + j, "inside a 2 MiB page");
	expect_pfn(lg.b, B_SMALL, lg.l->p_pagenum + lg.sub, "4 KiB mapping of a subpage");
	expect_pfn(lg.c, C_LARGE + MM_LARGE_SIZE - 1, lg.l->p_pagenum + 511, "last byte");
	pass("2 MiB and 4 KiB mappings side by side, shared by three spaces");
}

/* Data written through A's 2 MiB mapping reads back through B's and C's 2 MiB and 4 KiB ones. */
static void data_through_mappings(void)
{
	hat_switch(lg.a);
	for (unsigned j = 0; j < MM_LARGE_PAGES; j++)
		*at(A_LARGE + word_off(j)) = tag(j);
	hat_switch(lg.b);
	for (unsigned j = 0; j < MM_LARGE_PAGES; j++)
		if (*at(B_LARGE + word_off(j)) != tag(j))
			panic("large: subpage %u written through A reads differently through B", j);
	if (*at(B_SMALL + word_off(lg.sub) % MM_PAGE_SIZE) != tag(lg.sub))
		panic("large: B's 4 KiB mapping of subpage %u disagrees with the 2 MiB one", lg.sub);
	/* and the other way: through the 4 KiB mapping (the last word: no data word is there) */
	*at(B_SMALL + MM_PAGE_SIZE - 8) = ~tag(lg.sub);
	hat_switch(lg.c);
	for (unsigned j = 0; j < 4; j++)
		if (*at(C_SMALL + word_off(j)) != tag(j))
			panic("large: C's 4 KiB mapping of subpage %u disagrees", j);
	if (*at(C_LARGE + word_off(lg.sub)) != tag(lg.sub))
		panic("large: C's 2 MiB mapping disagrees with A's");
	hat_switch(lg.a);
	if (*at(A_LARGE + (lg.sub + 1) * MM_PAGE_SIZE - 8) != ~tag(lg.sub))
		panic("large: a write through a 4 KiB mapping is not seen through the 2 MiB one");
	hat_switch(&hat_kas);
	pass("write through one 2 MiB mapping, read through 2 MiB and 4 KiB mappings elsewhere");
}

/* B's read-only 2 MiB mapping faults on a write until chgprot of the whole 2 MiB allows it. */
static void protection(void)
{
	volatile uint64_t *p = at(B_LARGE + word_off(3));

	hat_switch(lg.b);
	if (probe_write64(p, 1) == 0)
		panic("large: a write through a read-only 2 MiB mapping did not fault");
	struct probe_fault f = trap_last_probe_fault();
	if (f.vector != VEC_PF || f.cr2 != (uint64_t)(uintptr_t)p || !(f.error_code & PF_ERR_WRITE))
		panic("large: expected a write #PF at 0x%" PRIx64 ", got vector %" PRIu64
		      " cr2 0x%" PRIx64,
		      (uintptr_t)p, f.vector,
		      f.cr2);
	wl_chgprot("large", lg.b, B_LARGE, MM_LARGE_SIZE, RW);
	if (probe_write64(p, tag(3)) != 0)
		panic("large: the 2 MiB mapping still faults after chgprot");
	wl_chgprot("large", lg.b, B_LARGE, MM_LARGE_SIZE, HAT_READ);
	if (probe_write64(p, tag(3)) == 0)
		panic("large: the 2 MiB mapping is writable after chgprot back to read-only");
	hat_switch(&hat_kas);
	pass("write to a read-only 2 MiB mapping faults, chgprot flips it both ways");
}

/* A/D bits the CPU sets in a 2 MiB leaf come back through pagesync of its first page. */
static void accessed_dirty(void)
{
	unsigned attr;

	wl_pagesync("large", lg.l, HAT_SYNC_CLEAR);
	wl_page_clrattr("large", lg.l, PG_ATTR_REF | PG_ATTR_MOD);
	hat_switch(lg.b);
	(void)*at(B_LARGE + word_off(9));
	hat_switch(&hat_kas);
	attr = wl_pagesync("large", lg.l, HAT_SYNC_CLEAR);
	if (attr != PG_ATTR_REF)
		panic("large: after a read pagesync gave 0x%x, expected REF only", attr);
	wl_page_clrattr("large", lg.l, PG_ATTR_REF | PG_ATTR_MOD);
	hat_switch(lg.c);
	*at(C_LARGE + word_off(9)) = tag(9);
	hat_switch(&hat_kas);
	attr = wl_pagesync("large", lg.l, 0);
	if (attr != (PG_ATTR_REF | PG_ATTR_MOD))
		panic("large: after a write pagesync gave 0x%x, expected REF|MOD", attr);
	pass("accessed/dirty bits of a 2 MiB leaf show up through pagesync");
}

/* Unload of a 2 MiB range, and memloads that replace a 2 MiB leaf / a 4 KiB table. */
static void unload_and_replace(void)
{
	wl_unload("large", lg.a, A_LARGE, MM_LARGE_SIZE);
	expect_pfn(lg.a, A_LARGE + word_off(7), HAT_PFN_INVALID, "after unload");
	expect_sub(0, 2, true, true, "after unloading A's 2 MiB mapping");
	expect_sub(lg.sub, 2, true, true, "after unloading A's 2 MiB mapping");

	/* a 4 KiB page into B's 2 MiB mapping replaces all of it */
	must_load(lg.b, B_LARGE + 3 * MM_PAGE_SIZE, lg.small[7], RW);
	expect_pfn(lg.b, B_LARGE + 3 * MM_PAGE_SIZE, lg.small[7]->p_pagenum, "4 KiB over 2 MiB");
	expect_pfn(lg.b, B_LARGE, HAT_PFN_INVALID, "rest of the replaced 2 MiB mapping");
	expect_sub(0, 1, true, true, "after replacing B's 2 MiB mapping");
	expect_sub(lg.sub, 1, true, true, "after replacing B's 2 MiB mapping");
	expect_mapcnt(lg.small[7], 2, "after replacing B's 2 MiB mapping");

	/* L as 2 MiB where A has a 4 KiB table: the table and its 8 mappings go */
	must_load(lg.a, A_SMALL, lg.l, RW | HAT_LARGE);
	for (unsigned j = 0; j < LG_SMALL; j++)
		expect_mapcnt(lg.small[j], j < 4 || j == 7 ? 1 : 0, "after 2 MiB over a table");
	expect_pfn(lg.a, A_SMALL + word_off(5), lg.l->p_pagenum + 5, "2 MiB over a table");
	expect_sub(300, 2, true, true, "after 2 MiB over a table");
	hat_switch(lg.a);
	if (*at(A_SMALL + word_off(200)) != tag(200))
		panic("large: L mapped again at another address lost its data");
	hat_switch(&hat_kas);
	pass("unload of 2 MiB; 4 KiB over 2 MiB and 2 MiB over a 4 KiB table replace them");
}

/*
 * pageunload of a subpage (its own mapping and every 2 MiB mapping,
 * which maps it too) and of the 2 MiB page itself (its 2 MiB mappings
 * and its first page's 4 KiB ones; other subpages' stay).
 */
static void pageunloads(void)
{
	unsigned n = wl_pageunload("large", lg.l + 2);

	if (n != 3)
		panic("large: pageunload of subpage 2 removed %u mappings, expected 3", n);
	expect_sub(2, 0, true, false, "after pageunload of a subpage");
	expect_sub(0, 0, true, true, "after pageunload of a subpage");
	expect_sub(lg.sub, 0, true, true, "after pageunload of a subpage");
	expect_pfn(lg.a, A_SMALL, HAT_PFN_INVALID, "after pageunload of a subpage");
	expect_pfn(lg.c, C_LARGE + word_off(7), HAT_PFN_INVALID, "after pageunload of a subpage");
	expect_pfn(lg.c, C_SMALL + MM_PAGE_SIZE, lg.l->p_pagenum + 1, "a sibling subpage");

	must_load(lg.a, A_LARGE, lg.l, RW | HAT_LARGE);
	must_load(lg.b, B_LARGE2, lg.l, RW | HAT_LARGE);
	hat_switch(lg.b);
	if (*at(B_LARGE2 + word_off(511)) != tag(511))
		panic("large: L lost its data across pageunload");
	hat_switch(&hat_kas);
	expect_sub(17, 2, true, false, "L mapped again");

	/* A's and B's 2 MiB mappings and C's 4 KiB one of the first page */
	n = wl_pageunload("large", lg.l);
	if (n != 3)
		panic("large: pageunload of a 2 MiB page removed %u mappings, expected 3", n);
	expect_mapcnt(lg.l, 0, "after pageunload of L");
	expect_sub(lg.sub, 0, true, false, "after pageunload of L");
	expect_sub(1, 0, false, true, "after pageunload of L");
	expect_pfn(lg.b, B_LARGE2 + 5 * MM_PAGE_SIZE, HAT_PFN_INVALID, "after pageunload of L");
	expect_pfn(lg.b, B_SMALL, lg.l->p_pagenum + lg.sub, "a subpage's own mapping");
	pass("pageunload of a subpage and of the 2 MiB page");
}

static int large_run(void)
{
	memset(&lg, 0, sizeof(lg));
	rand_seed(&lg.rng, cmdline_get_u64("seed", 1));
	lg.salt = rand_next(&lg.rng);
	lg.sub = 4 + (unsigned)rand_below(&lg.rng, MM_LARGE_PAGES - 5);
	if ((lg.l = page_alloc_large(PG_USER)) == NULL)
		panic("large: no free 2 MiB block");
	for (unsigned j = 0; j < LG_SMALL; j++)
		lg.small[j] = wl_page_alloc("large");
	lg.a = wl_hat_create("large");
	lg.b = wl_hat_create("large");
	lg.c = wl_hat_create("large");
	wl_checkpoint("large", "allocated");

	map_all();
	wl_checkpoint("large", "mapped");
	data_through_mappings();
	protection();
	accessed_dirty();
	wl_checkpoint("large", "exercised");
	unload_and_replace();
	wl_checkpoint("large", "replaced");
	pageunloads();
	wl_checkpoint("large", "pageunloaded");

	wl_hat_destroy("large", lg.a);
	wl_hat_destroy("large", lg.b);
	wl_hat_destroy("large", lg.c);
	for (unsigned j = 0; j < MM_LARGE_PAGES; j += 73)
		expect_mapcnt(lg.l + j, 0, "after destroy");
	expect_mapcnt(lg.l + lg.sub, 0, "after destroy");
	page_free_large(lg.l);
	for (unsigned j = 0; j < LG_SMALL; j++) {
		expect_mapcnt(lg.small[j], 0, "after destroy");
		page_free(lg.small[j]);
	}
	kprintf("large: %u 2 MiB and %u 4 KiB mappings made\n", lg.large_maps, lg.small_maps);
	wl_finish("large", "destroyed");
	return 0;
}

const struct workload workload_large = {
	"large", "a 2 MiB page beside 4 KiB ones, shared across spaces", true, large_run, NULL,
};
