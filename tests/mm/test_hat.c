/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: address spaces — kernel layout, memload variants, unload, pageunload, 2 MiB pages, chgprot, pagesync, TLB, teardown. */
#include <pthread.h>
#include <string.h>

#include "checker.h"
#include "hat_oplog.h"
#include "hosted_check.h"
#include "mm_test.h"

#define RW_USER (HAT_READ | HAT_WRITE | HAT_USER)
#define R_USER  (HAT_READ | HAT_USER)

static pte_t pte_of(struct hat *h, uint64_t va)
{
	pte_t *p = mm_test_pte(h, va);

	return p == NULL ? 0 : *p;
}

START_TEST(test_kernel_layout)
{
	pte_t text = hat_getpte(&hat_kas, KERNEL_BASE + 0x200000);
	pte_t data = hat_getpte(&hat_kas, KERNEL_BASE + 0x300000);
	pte_t direct = hat_getpte(&hat_kas, DIRECT_MAP_BASE + 0x123000);

	ck_assert_ptr_eq(hat_list, &hat_kas);
	ck_assert_uint_eq(hat_kas.h_flags, HAT_F_KERNEL);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, DIRECT_MAP_BASE + 0x123456), 0x123);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, DIRECT_MAP_BASE + MM_TEST_RAM - 1),
			  (MM_TEST_RAM >> MM_PAGE_SHIFT) - 1);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, DIRECT_MAP_BASE + MM_TEST_RAM), HAT_PFN_INVALID);
	ck_assert(direct & PTE_PS);
	ck_assert(direct & PTE_NX);
	ck_assert(!(direct & PTE_U));
	ck_assert((text & PTE_P) && !(text & PTE_W) && !(text & PTE_NX));
	ck_assert((data & PTE_P) && (data & PTE_W) && (data & PTE_NX));
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, KERNEL_BASE + 0x3ff000), 0x3ff);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, KERNEL_BASE + 0x400000), HAT_PFN_INVALID);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, KERNEL_BASE + 0x1ff000), HAT_PFN_INVALID);
}
END_TEST

START_TEST(test_create_shares_kernel_half)
{
	struct hat *a = hat_create(), *b = hat_create();
	const pte_t *k = ptp_table(hat_kas.h_top), *ta = ptp_table(a->h_top);

	ck_assert_ptr_nonnull(a);
	ck_assert_uint_ne(a->h_id, b->h_id);
	ck_assert_uint_eq(memcmp(ta + MM_PML4_KERNEL, k + MM_PML4_KERNEL, 256 * sizeof(pte_t)), 0);
	ck_assert_uint_eq(memcmp(ptp_table(b->h_top) + MM_PML4_KERNEL, k + MM_PML4_KERNEL,
				 256 * sizeof(pte_t)), 0);
	for (unsigned i = 0; i < MM_PML4_KERNEL; i++)
		ck_assert_uint_eq(ta[i], 0);
	/* on the list after the kernel */
	ck_assert_ptr_eq(hat_kas.h_next, b);
	ck_assert_ptr_eq(b->h_next, a);
	/* kernel addresses translate the same through any address space */
	ck_assert_uint_eq(hat_getpfnum(a, DIRECT_MAP_BASE + 0x5000), 5);
	hat_destroy(b);
	ck_assert_ptr_eq(hat_kas.h_next, a);
	ck_assert_ptr_eq(a->h_prev, &hat_kas);
}
END_TEST

START_TEST(test_memload_bits)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();
	pte_t v;

	ck_assert_int_eq(hat_memload(h, 0x1000, pp, RW_USER), 0);
	v = pte_of(h, 0x1000);
	ck_assert_uint_eq(v & PTE_FRAME, page_pa(pp));
	ck_assert_uint_eq(v & ~PTE_FRAME, PTE_P | PTE_W | PTE_U | PTE_NX);
	ck_assert_int_eq(hat_memload(h, 0x2000, pp, HAT_READ | HAT_EXEC | HAT_USER), 0);
	ck_assert_uint_eq(pte_of(h, 0x2000) & ~PTE_FRAME, PTE_P | PTE_U);
	/* one memory type per page (PT_MEMTYPE): the cache modes on pages of their own */
	ck_assert_int_eq(hat_memload(h, 0x3000, mm_test_page(), HAT_READ | HAT_NOCACHE), 0);
	ck_assert_uint_eq(pte_of(h, 0x3000) & ~PTE_FRAME, PTE_P | PTE_PCD | PTE_PWT | PTE_NX);
	ck_assert_int_eq(hat_memload(h, 0x4000, mm_test_page(), HAT_WRITE | HAT_WRITETHRU), 0);
	ck_assert_uint_eq(pte_of(h, 0x4000) & ~PTE_FRAME, PTE_P | PTE_W | PTE_PWT | PTE_NX);
	ck_assert_uint_eq(h->h_nmap4k, 4);
	ck_assert_uint_eq(hat_getpfnum(h, 0x2abc), pp->p_pagenum);
	ck_assert_uint_eq(hat_getpfnum(h, 0x5000), HAT_PFN_INVALID);
	/* intermediate entries of the user half are user-accessible; the leaf decides */
	ck_assert(ptp_table(h->h_top)[0] & PTE_U);
}
END_TEST

START_TEST(test_memload_replaces_and_refreshes)
{
	struct hat *h = hat_create();
	page_t *a = mm_test_page(), *b = mm_test_page();
	pte_t *p;

	hat_memload(h, 0x1000, a, RW_USER);
	hat_memload(h, 0x1000, b, RW_USER);   /* another frame: a loses its mapping */
	ck_assert_uint_eq(hment_mapcnt(a), 0);
	ck_assert_uint_eq(hment_mapcnt(b), 1);
	ck_assert_uint_eq(h->h_nmap4k, 1);
	p = mm_test_pte(h, 0x1000);
	*p |= PTE_A | PTE_D;                  /* as the CPU would */
	hat_memload(h, 0x1000, b, R_USER);    /* same frame: new bits, A/D kept, no list change */
	ck_assert_uint_eq(*p & ~PTE_FRAME, PTE_P | PTE_U | PTE_NX | PTE_A | PTE_D);
	ck_assert_uint_eq(b->p_embed, 1);
	ck_assert_uint_eq(h->h_nmap4k, 1);
	ck_assert_uint_eq(b->p_attr, 0);
}
END_TEST

START_TEST(test_unload_range_prunes)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();
	uint64_t base = 0x7fff00000000ull;

	for (unsigned i = 0; i < 1100; i++)   /* three PTs */
		ck_assert_int_eq(hat_memload(h, base + i * MM_PAGE_SIZE, pp, RW_USER), 0);
	ck_assert_uint_eq(h->h_nptp, 1 + 2 + 3);
	ck_assert_uint_eq(pp->p_share, 1100);
	hat_unload(h, base + 100 * MM_PAGE_SIZE, 50 * MM_PAGE_SIZE);
	ck_assert_uint_eq(h->h_nmap4k, 1050);
	ck_assert_uint_eq(hat_getpfnum(h, base + 120 * MM_PAGE_SIZE), HAT_PFN_INVALID);
	/* the MM's convention, beyond the catalogue: an unloaded entry is all zero, not just !P */
	ck_assert_uint_eq(pte_of(h, base + 120 * MM_PAGE_SIZE), 0);
	ck_assert_uint_eq(hat_getpfnum(h, base + 150 * MM_PAGE_SIZE), pp->p_pagenum);
	mm_check_all();
	hat_unload(h, base + 512 * MM_PAGE_SIZE, 512 * MM_PAGE_SIZE);   /* the middle PT empties */
	ck_assert_uint_eq(h->h_nptp, 1 + 2 + 2);
	hat_unload(h, 0, USER_TOP);
	ck_assert_uint_eq(h->h_nptp, 1);
	ck_assert_uint_eq(h->h_nmap4k, 0);
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

/*
 * A range unload pays each table's leaf and valid counts once, after
 * clearing its leaves (counts_settle): one range across a 2 MiB leaf, a
 * whole PT and part of another leaves both sizes' counts and every
 * table's valid count exact.
 */
START_TEST(test_unload_settles_counts_per_table)
{
	struct hat *h = hat_create();
	page_t *big = page_alloc_large(PG_USER), *pp = mm_test_page(), *pt;
	uint64_t base = 0x40000000ull, small = base + MM_LARGE_SIZE;
	unsigned level = 1;
	pte_t *e;

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(hat_memload(h, base, big, RW_USER | HAT_LARGE), 0);
	for (unsigned i = 0; i < 700; i++)   /* a whole PT, then 188 entries of the next */
		ck_assert_int_eq(hat_memload(h, small + i * MM_PAGE_SIZE, pp, RW_USER), 0);
	ck_assert_uint_eq(h->h_nmap2m, 1);
	ck_assert_uint_eq(h->h_nmap4k, 700);
	hat_unload(h, base, MM_LARGE_SIZE + 600 * MM_PAGE_SIZE);
	ck_assert_uint_eq(h->h_nmap2m, 0);
	ck_assert_uint_eq(h->h_nmap4k, 100);
	ck_assert_uint_eq(pp->p_share, 100);
	e = segtab_walk(h, small + 650 * MM_PAGE_SIZE, &level, &pt);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(level, 1);
	ck_assert_uint_eq(pt->p_valid, 100);
	ck_assert_uint_eq(h->h_nptp, 4);   /* PML4, PDPT, PD, the second PT: the emptied PT is pruned */
	mm_check_all();
	hat_destroy(h);
	page_free_large(big);
}
END_TEST

START_TEST(test_pageunload_hundreds)
{
	enum { NH = 40, PER = 10 };
	struct hat *h[NH];
	page_t *pp = mm_test_page(), *other = mm_test_page();

	for (unsigned i = 0; i < NH; i++) {
		h[i] = hat_create();
		for (unsigned j = 0; j < PER; j++)
			ck_assert_int_eq(hat_memload(h[i], 0x400000 + j * 0x10000000ull, pp, RW_USER), 0);
		hat_memload(h[i], 0x1000, other, R_USER);
	}
	ck_assert_uint_eq(hment_mapcnt(pp), NH * PER);
	mm_check_all();
	ck_assert_uint_eq(hat_pageunload(pp), NH * PER);
	ck_assert_uint_eq(pp->p_mapping, 0);
	ck_assert_uint_eq(pp->p_share, 0);
	ck_assert_uint_eq(hment_mapcnt(other), NH);
	ck_assert_uint_eq(hment_listed_count(), NH);
	for (unsigned i = 0; i < NH; i++) {
		ck_assert_uint_eq(hat_getpfnum(h[i], 0x400000), HAT_PFN_INVALID);
		ck_assert_uint_eq(hat_getpfnum(h[i], 0x1000), other->p_pagenum);
		ck_assert_uint_eq(h[i]->h_nmap4k, 1);
	}
	mm_check_all();
	for (unsigned i = 0; i < NH; i++)
		hat_destroy(h[i]);
	ck_assert_uint_eq(hment_mapcnt(other), 0);
}
END_TEST

START_TEST(test_large_pages)
{
	struct hat *a = hat_create(), *b = hat_create();
	page_t *big = page_alloc_large(PG_USER);
	uint64_t va = 0x40000000ull;
	pte_t v;

	ck_assert_int_eq(hat_memload(a, va, big, RW_USER | HAT_LARGE), 0);
	ck_assert_int_eq(hat_memload(b, va + MM_LARGE_SIZE, big, R_USER | HAT_LARGE), 0);
	v = pte_of(a, va);
	ck_assert(v & PTE_PS);
	ck_assert_uint_eq(v & PTE_LFRAME, page_pa(big));
	ck_assert_uint_eq(a->h_nptp, 1 + 2);   /* no PT */
	ck_assert_uint_eq(a->h_nmap2m, 1);
	ck_assert_uint_eq(hat_getpfnum(a, va + 5 * MM_PAGE_SIZE + 7), big->p_pagenum + 5);
	ck_assert_uint_eq(hat_getpfnum(b, va + MM_LARGE_SIZE + MM_LARGE_SIZE - 1),
			  big->p_pagenum + 511);
	/* tracked on the first page, by the level-2 table */
	ck_assert_uint_eq(big->p_share, 2);
	ck_assert_uint_eq(page_from_pfn(hment_at(big->p_mapping)->hm_ptp)->p_level, 2);
	ck_assert_uint_eq(hment_mapcnt(big), 2);
	ck_assert_uint_eq(hment_mapcnt(big + 7), 2);   /* covered by both */
	mm_check_all();
	/* pageunload of any page inside removes the 2 MiB mappings */
	ck_assert_uint_eq(hat_pageunload(big + 7), 2);
	ck_assert_uint_eq(hat_getpfnum(a, va), HAT_PFN_INVALID);
	ck_assert_uint_eq(a->h_nmap2m, 0);
	ck_assert_int_eq(hat_memload(a, va, big, RW_USER | HAT_LARGE), 0);
	hat_unload(a, va, MM_LARGE_SIZE);
	ck_assert_uint_eq(hment_mapcnt(big), 0);
	ck_assert_uint_eq(a->h_nptp, 1);
}
END_TEST

/*
 * A group's first page mapped 4 KiB by many spaces and 2 MiB by two: its
 * group's count says two, a pageunload of another page of the group
 * takes those two and leaves the 4 KiB ones, and with none left the
 * count (which such a pageunload and a mapping count go by) is zero.
 * The count is read as the mapping count of page 9, which nothing maps
 * 4 KiB: its mappings are the 2 MiB ones covering it.
 */
START_TEST(test_large_count_beside_small_mappings)
{
	enum { SMALL = 6 };
	struct hat *big_spaces[2] = { hat_create(), hat_create() }, *small[SMALL];
	page_t *big = page_alloc_large(PG_USER);
	uint64_t va = 0x40000000ull;

	for (unsigned i = 0; i < SMALL; i++) {
		small[i] = hat_create();
		ck_assert_int_eq(hat_memload(small[i], 0x5000, big, RW_USER), 0);
	}
	ck_assert_uint_eq(hment_mapcnt(big + 9), 0);   /* the first page's 4 KiB mappings do not cover it */
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(hat_memload(big_spaces[i], va, big, RW_USER | HAT_LARGE), 0);
	ck_assert_uint_eq(hment_mapcnt(big + 9), 2);
	ck_assert_uint_eq(hment_mapcnt(big), SMALL + 2);
	mm_check_all();
	ck_assert_uint_eq(hat_pageunload(big + 9), 2);
	ck_assert_uint_eq(hment_mapcnt(big + 9), 0);
	ck_assert_uint_eq(hment_mapcnt(big), SMALL);
	ck_assert_uint_eq(hat_pageunload(big + 9), 0);
	mm_check_all();
	ck_assert_int_eq(hat_memload(big_spaces[0], va, big, RW_USER | HAT_LARGE), 0);
	ck_assert_uint_eq(hment_mapcnt(big + 9), 1);
	ck_assert_uint_eq(hat_pageunload(big + 9), 1);   /* a count of one is looked at, not skipped */
	ck_assert_int_eq(hat_memload(big_spaces[0], va, big, RW_USER | HAT_LARGE), 0);
	hat_destroy(big_spaces[0]);   /* a destroy's unload counts it out too */
	ck_assert_uint_eq(hment_mapcnt(big + 9), 0);
	ck_assert_uint_eq(hat_pageunload(big), SMALL);
	mm_check_all();
}
END_TEST

START_TEST(test_large_replaces_small_and_back)
{
	struct hat *h = hat_create();
	page_t *big = page_alloc_large(PG_USER), *small = mm_test_page();
	uint64_t va = 0x40000000ull;

	for (unsigned i = 0; i < 3; i++)
		hat_memload(h, va + i * MM_PAGE_SIZE, small, RW_USER);
	ck_assert_uint_eq(h->h_nptp, 4);
	/* a 2 MiB mapping over 4 KiB ones: they go, and so does their PT */
	ck_assert_int_eq(hat_memload(h, va, big, RW_USER | HAT_LARGE), 0);
	ck_assert_uint_eq(hment_mapcnt(small), 0);
	ck_assert_uint_eq(h->h_nptp, 3);
	ck_assert(pte_of(h, va) & PTE_PS);
	mm_check_all();
	/* a 4 KiB mapping inside a 2 MiB one replaces the whole 2 MiB mapping */
	ck_assert_int_eq(hat_memload(h, va + 0x5000, small, RW_USER), 0);
	ck_assert_uint_eq(hment_mapcnt(big), 0);
	ck_assert_uint_eq(hat_getpfnum(h, va), HAT_PFN_INVALID);
	ck_assert_uint_eq(hat_getpfnum(h, va + 0x5000), small->p_pagenum);
	ck_assert_uint_eq(h->h_nmap2m, 0);
	ck_assert_uint_eq(h->h_nmap4k, 1);
	ck_assert_uint_eq(h->h_nptp, 4);
}
END_TEST

/*
 * The walk hint (h_hint) names the 4 KiB table the last load reached,
 * never one pruning took out of the tree: after a table is freed, and
 * maybe reused for another 2 MiB, loads go where a full walk would.
 */
START_TEST(test_walk_hint_follows_pruning)
{
	struct hat *h = hat_create();
	page_t *p = mm_test_page(), *q = mm_test_page(), *big = page_alloc_large(PG_USER);
	uint64_t a = 0x200000000ull, b = 0x400000000ull;

	ck_assert_ptr_null(h->h_hint);
	ck_assert_int_eq(hat_memload(h, a, p, RW_USER), 0);
	ck_assert_uint_eq(h->h_hint->p_ptva, a);
	hat_unload(h, a, MM_PAGE_SIZE);   /* prunes a's tables */
	ck_assert_ptr_null(h->h_hint);
	ck_assert_int_eq(hat_memload(h, b, q, RW_USER), 0);   /* may reuse a's table page */
	ck_assert_uint_eq(h->h_hint->p_ptva, b);
	ck_assert_int_eq(hat_memload(h, a + MM_PAGE_SIZE, p, RW_USER), 0);
	ck_assert_uint_eq(h->h_hint->p_ptva, a);
	ck_assert_uint_eq(hat_getpfnum(h, a + MM_PAGE_SIZE), p->p_pagenum);
	ck_assert_uint_eq(hat_getpfnum(h, b), q->p_pagenum);
	mm_check_all();
	/* a lookup walks too; a 2 MiB leaf where the hinted table was takes the table and the hint */
	ck_assert_uint_eq(hat_getpfnum(h, a + MM_PAGE_SIZE), p->p_pagenum);
	ck_assert_uint_eq(h->h_hint->p_ptva, a);
	ck_assert_int_eq(hat_memload(h, a, big, RW_USER | HAT_LARGE), 0);
	ck_assert_ptr_null(h->h_hint);
	ck_assert_int_eq(hat_memload(h, b + MM_PAGE_SIZE, q, RW_USER), 0);
	ck_assert_uint_eq(hat_getpfnum(h, a + MM_PAGE_SIZE), big->p_pagenum + 1);
	ck_assert_uint_eq(hat_getpfnum(h, b + MM_PAGE_SIZE), q->p_pagenum);
	mm_check_all();
	hat_destroy(h);
}
END_TEST

static void split_large(void *arg)
{
	hat_unload(arg, 0x40000000ull, MM_PAGE_SIZE);
}

START_TEST(test_unload_splitting_large_panics)
{
	struct hat *h = hat_create();

	hat_memload(h, 0x40000000ull, page_alloc_large(PG_USER), RW_USER | HAT_LARGE);
	ck_assert_panics(split_large, h, "splits the 2 MiB mapping");
}
END_TEST

START_TEST(test_chgprot)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();
	uint64_t flushes;
	pte_t *p;

	for (unsigned i = 0; i < 4; i++)
		hat_memload(h, 0x1000 + i * MM_PAGE_SIZE, pp, RW_USER);
	p = mm_test_pte(h, 0x1000);
	*p |= PTE_A | PTE_D;
	hat_chgprot(h, 0x1000, 2 * MM_PAGE_SIZE, R_USER);
	ck_assert_uint_eq(*p & ~PTE_FRAME, PTE_P | PTE_U | PTE_NX | PTE_A | PTE_D);
	ck_assert_uint_eq(p[1] & ~PTE_FRAME, PTE_P | PTE_U | PTE_NX);
	ck_assert(p[2] & PTE_W);
	ck_assert_uint_eq(mm_hosted_log.flush_page, 0);   /* not loaded anywhere: no flush */
	hat_switch(h);
	flushes = mm_hosted_log.flush_page;
	hat_chgprot(h, 0x1000, 4 * MM_PAGE_SIZE, HAT_READ | HAT_WRITE | HAT_EXEC | HAT_USER);
	ck_assert_uint_eq(*p & ~PTE_FRAME, PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
	ck_assert_uint_eq(mm_hosted_log.flush_page, flushes + 4);
	ck_assert_uint_eq(h->h_tlb_page, 4);
	hat_chgprot(h, 0x1000, 4 * MM_PAGE_SIZE, HAT_READ | HAT_WRITE | HAT_EXEC | HAT_USER);
	ck_assert_uint_eq(mm_hosted_log.flush_page, flushes + 4);   /* nothing changed */
	hat_switch(&hat_kas);
}
END_TEST

START_TEST(test_tlb_threshold)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();
	uint64_t pages, alls;

	for (unsigned i = 0; i < 100; i++)
		hat_memload(h, 0x100000 + i * MM_PAGE_SIZE, pp, RW_USER);
	hat_unload(h, 0x100000, 10 * MM_PAGE_SIZE);   /* not current: nothing */
	ck_assert_uint_eq(mm_hosted_log.flush_page + mm_hosted_log.flush_all, 0);
	hat_switch(h);
	ck_assert_uint_eq(mm_read_cr3(), h->h_top_pa);
	pages = mm_hosted_log.flush_page;
	alls = mm_hosted_log.flush_all;
	hat_unload(h, 0x100000 + 10 * MM_PAGE_SIZE, 10 * MM_PAGE_SIZE);
	ck_assert_uint_eq(mm_hosted_log.flush_page, pages + 10);
	ck_assert_uint_eq(mm_hosted_log.last_va, 0x100000 + 19 * MM_PAGE_SIZE);
	ck_assert_uint_eq(mm_hosted_log.flush_all, alls);
	hat_unload(h, 0x100000 + 20 * MM_PAGE_SIZE, 40 * MM_PAGE_SIZE);   /* past the threshold */
	ck_assert_uint_eq(mm_hosted_log.flush_page, pages + 10);
	ck_assert_uint_eq(mm_hosted_log.flush_all, alls + 1);
	/* the last pages empty the tables: one full flush covers pages and tables */
	hat_unload(h, 0, USER_TOP);
	ck_assert_uint_eq(mm_hosted_log.flush_all, alls + 2);
	hat_switch(&hat_kas);
}
END_TEST

START_TEST(test_pagesync)
{
	struct hat *a = hat_create(), *b = hat_create();
	page_t *pp = mm_test_page();
	pte_t *pa, *pb;

	hat_memload(a, 0x1000, pp, RW_USER);
	hat_memload(b, 0x2000, pp, RW_USER);
	ck_assert_uint_eq(hat_pagesync(pp, 0), 0);
	pa = mm_test_pte(a, 0x1000);
	pb = mm_test_pte(b, 0x2000);
	*pa |= PTE_A;
	*pb |= PTE_A | PTE_D;
	ck_assert_uint_eq(hat_pagesync(pp, 0), PG_ATTR_REF | PG_ATTR_MOD);
	ck_assert(*pb & PTE_D);   /* without HAT_SYNC_CLEAR the PTEs keep them */
	hat_page_clrattr(pp, PG_ATTR_REF | PG_ATTR_MOD);
	ck_assert_uint_eq(pp->p_attr, 0);
	ck_assert_uint_eq(hat_pagesync(pp, HAT_SYNC_CLEAR), PG_ATTR_REF | PG_ATTR_MOD);
	ck_assert_uint_eq(*pa & (PTE_A | PTE_D), 0);
	ck_assert_uint_eq(*pb & (PTE_A | PTE_D), 0);
	hat_page_clrattr(pp, PG_ATTR_REF | PG_ATTR_MOD);
	ck_assert_uint_eq(hat_pagesync(pp, 0), 0);
	/* unloading a dirty mapping records it too */
	*pa |= PTE_A | PTE_D;                 /* the CPU sets A with D */
	hat_unload(a, 0x1000, MM_PAGE_SIZE);
	ck_assert_uint_eq(pp->p_attr, PG_ATTR_REF | PG_ATTR_MOD);
}
END_TEST

START_TEST(test_switch)
{
	struct hat *a = hat_create(), *b = hat_create();
	uint64_t loads = mm_hosted_log.cr3_loads;

	ck_assert_ptr_eq(hat_current(), &hat_kas);   /* booted: CPU 0 runs on the kernel's space */
	hat_switch(a);
	ck_assert_ptr_eq(hat_current(), a);
	ck_assert_uint_eq(mm_read_cr3(), a->h_top_pa);
	ck_assert_uint_eq(a->h_cpus, 1);
	hat_switch(b);
	ck_assert_uint_eq(a->h_cpus, 0);
	ck_assert_uint_eq(b->h_cpus, 1);
	ck_assert_uint_eq(mm_hosted_log.cr3_loads, loads + 2);
	hat_switch(b);
	ck_assert_uint_eq(mm_hosted_log.cr3_loads, loads + 2);
	hat_switch(&hat_kas);
	ck_assert_uint_eq(b->h_cpus, 0);
	ck_assert_uint_eq(mm_read_cr3(), hat_kas.h_top_pa);
}
END_TEST

static void destroy_loaded(void *arg)
{
	hat_destroy(arg);
}

START_TEST(test_destroy_loaded_panics)
{
	struct hat *h = hat_create();

	hat_switch(h);
	ck_assert_panics(destroy_loaded, h, "still loaded");
}
END_TEST

START_TEST(test_destroy_returns_everything)
{
	struct hat *h[6];
	page_t *pp[8], *big = page_alloc_large(PG_USER);
	uint64_t ptp0 = mm_count_kind(PG_PTP), user0, hm0 = hment_cache_inuse();

	for (unsigned i = 0; i < 8; i++)
		pp[i] = mm_test_page();
	segtab_cache_drain();
	user0 = page_ninuse() - mm_count_kind(PG_KERNEL);
	for (unsigned i = 0; i < 6; i++) {
		h[i] = hat_create();
		for (unsigned j = 0; j < 64; j++)
			hat_memload(h[i], (uint64_t)j << 30 | (j * MM_PAGE_SIZE), pp[(i + j) % 8], RW_USER);
		hat_memload(h[i], 0x7f0000000000ull, big, RW_USER | HAT_LARGE);
	}
	mm_check_all();
	for (unsigned i = 0; i < 6; i++)
		hat_destroy(h[i]);
	segtab_cache_drain();
	ck_assert_uint_eq(mm_count_kind(PG_PTP), ptp0);
	ck_assert_uint_eq(page_ninuse() - mm_count_kind(PG_KERNEL), user0);
	ck_assert_uint_eq(hment_listed_count(), 0);
	ck_assert_uint_eq(hment_cache_inuse(), hm0 + hment_reserve.hr_count);
	ck_assert_ptr_null(hat_kas.h_next);
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(hment_mapcnt(pp[i]), 0);
}
END_TEST

/* 16 pages over 512 GiB, each in its own PD and PT: va_i = i * 32 GiB + i * 2 MiB + i * 4 KiB. */
#define SPARSE_N 16u
static uint64_t sparse_va(unsigned i)
{
	return ((uint64_t)i << 35) | ((uint64_t)i << 21) | ((uint64_t)i << 12);
}

static struct hat *sparse_space(page_t *pp)
{
	struct hat *h = hat_create();

	for (unsigned i = 0; i < SPARSE_N; i++)
		ck_assert_int_eq(hat_memload(h, sparse_va(i), pp, RW_USER), 0);
	/* top + 1 PDPT + 16 PDs + 16 PTs */
	ck_assert_uint_eq(h->h_nptp, 2 + 2 * SPARSE_N);
	return h;
}

/* Present entries under the user half: PML4 1, PDPT 16, PD 16, PT 16. */
#define SPARSE_PRESENT (1 + 3 * SPARSE_N)

START_TEST(test_destroy_sparse_visits_present_only)
{
	page_t *pp = mm_test_page();
	struct hat *h = sparse_space(pp);
	uint64_t seen, freed = segtab_stats.ptp_freed;

	mm_check_all();
	seen = segtab_stats.examined;
	hat_destroy(h);
	/* each present entry once: no empty entry, no second (prune) walk */
	ck_assert_uint_le(segtab_stats.examined - seen, SPARSE_PRESENT);
	ck_assert_uint_eq(segtab_stats.ptp_freed - freed, 2 + 2 * SPARSE_N);
	ck_assert_uint_eq(hment_mapcnt(pp), 0);
	mm_check_all();
}
END_TEST

START_TEST(test_unload_sparse_visits_present_only)
{
	page_t *pp = mm_test_page();
	struct hat *h = sparse_space(pp);
	uint64_t seen = segtab_stats.examined;

	/* half of them: PDPT entries 0..7 of 16, scanning stops with the range */
	hat_unload(h, 0, (uint64_t)(SPARSE_N / 2) << 35);
	ck_assert_uint_le(segtab_stats.examined - seen, 1 + 3 * (SPARSE_N / 2));
	ck_assert_uint_eq(h->h_nptp, 2 + 2 * (SPARSE_N / 2));
	ck_assert_uint_eq(hment_mapcnt(pp), SPARSE_N / 2);
	mm_check_all();
	/* the rest, through a range of 512 GiB */
	seen = segtab_stats.examined;
	hat_unload(h, 0, 1ull << 39);
	ck_assert_uint_le(segtab_stats.examined - seen, 1 + 3 * (SPARSE_N / 2) + 1);
	ck_assert_uint_eq(h->h_nptp, 1);
	ck_assert_uint_eq(hment_mapcnt(pp), 0);
	mm_check_all();
	/* nothing left: a whole-half unload looks at no user entry */
	seen = segtab_stats.examined;
	hat_unload(h, 0, USER_TOP);
	ck_assert_uint_eq(segtab_stats.examined - seen, 0);
	hat_destroy(h);
	mm_check_all();
}
END_TEST

START_TEST(test_chgprot_sparse_visits_present_only)
{
	page_t *pp = mm_test_page();
	struct hat *h = sparse_space(pp);
	uint64_t seen = segtab_stats.examined;

	hat_chgprot(h, 0, 1ull << 39, R_USER);
	ck_assert_uint_le(segtab_stats.examined - seen, SPARSE_PRESENT);
	for (unsigned i = 0; i < SPARSE_N; i++)
		ck_assert(!(pte_of(h, sparse_va(i)) & PTE_W));
	mm_check_all();
	hat_destroy(h);
}
END_TEST

START_TEST(test_kernel_kmap)
{
	uint64_t ptp0 = hat_kas.h_nptp, pfn = page_first_managed - 1;   /* unmanaged: the kernel's own */

	ck_assert_int_eq(hat_devload(&hat_kas, KMAP_BASE + 0x5000, pfn, HAT_READ | HAT_WRITE), 0);
	ck_assert_uint_eq(hat_getpfnum(&hat_kas, KMAP_BASE + 0x5000), pfn);
	ck_assert_uint_eq(hat_kas.h_nptp, ptp0 + 2);
	/* the kernel is loaded everywhere: its unloads always flush */
	hat_unload(&hat_kas, KMAP_BASE + 0x5000, MM_PAGE_SIZE);
	ck_assert_uint_eq(hat_kas.h_nptp, ptp0);   /* PD and PT go, the PDPT stays */
	ck_assert_uint_ge(mm_hosted_log.flush_all + mm_hosted_log.flush_page, 1);
}
END_TEST

static void kernel_user(void *arg)
{
	hat_memload(&hat_kas, KMAP_BASE, arg, HAT_READ | HAT_USER);
}

static void user_out_of_range(void *arg)
{
	hat_memload(hat_create(), USER_TOP, arg, R_USER);
}

static void unaligned(void *arg)
{
	hat_unload(hat_create(), 0x1800, MM_PAGE_SIZE);
	(void)arg;
}

START_TEST(test_range_checks_panic)
{
	page_t *pp = mm_test_page();

	if (MM_ASSERTS_ON)   /* an MM_PANIC */
		ck_assert_panics(kernel_user, pp, "ASSERT PT_KERNEL_HALF failed");
	ck_assert_panics(user_out_of_range, pp, "hat_memload: range");
	ck_assert_panics(unaligned, NULL, "hat_unload: range");
}
END_TEST

START_TEST(test_devload_untracked)
{
	struct hat *h = hat_create();
	uint64_t pfn = 0x100;   /* reserved low memory: not managed */

	ck_assert_int_eq(hat_devload(h, 0x1000, pfn, RW_USER | HAT_NOCACHE), 0);
	ck_assert_uint_eq(hat_getpfnum(h, 0x1000), pfn);
	ck_assert_uint_eq(page_array[pfn].p_mapping, 0);
	ck_assert_int_eq(hat_devload(h, 0x2000, (MM_TEST_RAM >> MM_PAGE_SHIFT) + 10, R_USER), 0);
	mm_check_all();
	hat_unload(h, 0, 0x3000);
	ck_assert_uint_eq(h->h_nptp, 1);
}
END_TEST

START_TEST(test_memload_fails_without_table_pages)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();

	segtab_cache_drain();
	page_set_limit(page_ninuse() + 2);   /* PDPT and PD, but no PT */
	ck_assert_int_eq(hat_memload(h, 0x1000, pp, RW_USER), -1);
	ck_assert_uint_eq(pp->p_mapping, 0);
	page_set_limit(PAGE_LIMIT_NONE);
	ck_assert_int_eq(hat_memload(h, 0x1000, pp, RW_USER), 0);
}
END_TEST

static uint64_t shot_cpus, shot_calls;

static void shootdown(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages)
{
	shot_cpus |= cpus;
	shot_calls++;
	mm_hosted_run_shootdown(cpus, h, gen, va, npages);
}

START_TEST(test_shootdown_to_other_cpus)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();

	mm_hosted_ncpus = 2;
	hat_memload(h, 0x1000, pp, RW_USER);
	hat_memload(h, 0x2000, pp, RW_USER);
	mm_hosted_set_cpu(1);
	hat_switch(h);                       /* "CPU 1" runs h */
	mm_hosted_set_cpu(0);
	hat_unload(h, 0x1000, MM_PAGE_SIZE);
	ck_assert_uint_eq(hat_tlb_counts.shootdowns, 1);   /* no hook yet: nobody to tell */
	mm_tlb_shootdown_hook = shootdown;
	hat_pageunload(pp);
	ck_assert_uint_eq(shot_cpus, 2);
	ck_assert_uint_eq(shot_calls, 1);
	ck_assert_uint_eq(h->h_tlb_remote, 2);
	ck_assert_uint_eq(mm_hosted_log.flush_page, 0);   /* this CPU never ran h */
	mm_tlb_shootdown_hook = NULL;
	mm_hosted_set_cpu(1);
	hat_switch(&hat_kas);
	mm_hosted_set_cpu(0);
}
END_TEST

/* A shootdown lost on its way: counted and asked for, run nowhere. */
static void shootdown_lost(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages)
{
	(void)cpus, (void)h, (void)gen, (void)va, (void)npages;
}

/* TLB_STALE as the checker reports it: (space, cpu) wording aside, how many. */
static unsigned stale_reports(void)
{
	struct seen s;

	hmm_check(&s);
	return s.per_id[INV_TLB_STALE];
}

/*
 * TLB generations: each flush of a loaded space's changes advances it;
 * only the flush run on a CPU advances what that CPU has flushed. A lost
 * shootdown leaves "CPU 1" behind, and the checker says so until a flush
 * that runs there catches up: INVLPGs that skip a generation do not, a
 * full flush does.
 */
START_TEST(test_tlb_generations)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();
	uint64_t full;

	mm_hosted_ncpus = 2;
	for (uint64_t va = 0x1000; va <= 0x5000; va += MM_PAGE_SIZE)   /* 0x5000 keeps the tables */
		ck_assert_int_eq(hat_memload(h, va, pp, RW_USER), 0);
	ck_assert_uint_eq(h->h_tlb_gen, 0);          /* loaded nowhere: nothing to flush */
	mm_hosted_set_cpu(1);
	hat_switch(h);
	mm_hosted_set_cpu(0);
	mm_tlb_shootdown_hook = shootdown;
	hat_unload(h, 0x1000, MM_PAGE_SIZE);
	ck_assert_uint_eq(h->h_tlb_gen, 1);
	ck_assert_uint_eq(hat_tlb_flushed[1].tf_space, 1);
	ck_assert_uint_eq(stale_reports(), 0);
	mm_tlb_shootdown_hook = shootdown_lost;
	hat_unload(h, 0x2000, MM_PAGE_SIZE);
	ck_assert_uint_eq(h->h_tlb_gen, 2);
	ck_assert_uint_eq(hat_tlb_flushed[1].tf_space, 1);
	ck_assert_uint_eq(stale_reports(), 1);
	mm_tlb_shootdown_hook = shootdown;
	full = mm_hosted_log.flush_all;
	hat_unload(h, 0x3000, MM_PAGE_SIZE);         /* generation 3's page alone would leave 2's */
	ck_assert_uint_eq(mm_hosted_log.flush_all, full + 1);
	ck_assert_uint_eq(hat_tlb_flushed[1].tf_space, 3);
	ck_assert_uint_eq(stale_reports(), 0);
	hat_unload(h, 0x4000, MM_PAGE_SIZE);         /* the next generation: its INVLPG is enough */
	ck_assert_uint_eq(mm_hosted_log.flush_all, full + 1);
	ck_assert_uint_eq(hat_tlb_flushed[1].tf_space, 4);
	mm_tlb_shootdown_hook = NULL;
	mm_hosted_set_cpu(1);
	hat_switch(&hat_kas);
	mm_hosted_set_cpu(0);
	hat_destroy(h);
}
END_TEST

static void unload_first_page(void *arg)
{
	hat_unload(arg, 0x1000, MM_PAGE_SIZE);
}

/* The test switch that forgets this CPU's own flushes: the HAT's own check (TLB_STALE) stops it. */
START_TEST(test_tlb_skip_local_is_caught)
{
	struct hat *h = hat_create();

	if (!MM_ASSERTS_ON)   /* an MM_PANIC; the checker's side is test_tlb_generations */
		return;
	ck_assert_int_eq(hat_memload(h, 0x1000, mm_test_page(), RW_USER), 0);
	hat_switch(h);
	hat_tlb_skip_local = true;
	ck_assert_panics(unload_first_page, h, "ASSERT TLB_STALE failed: CPU 0 has flushed space");
	hat_tlb_skip_local = false;
}
END_TEST

/*
 * Several "CPUs" at once, each on its own address space, all mapping the
 * same pages: CPU 0 also destroys and recreates its space, CPU 1 puts 2
 * MiB pages over 4 KiB ones and allocates, maps and frees pages of its
 * own, CPU 2 forks CPU 1's space (hat_dup) while CPU 1 changes it, and
 * locks and unlocks a mapping of its own, CPU 3 unloads pages
 * everywhere; all of them change protections and load ranges; the hment
 * limit makes them steal from each other. `scripts/test.sh` also runs this under ThreadSanitizer.
 */
enum { NT = 4, NSHARED = 16, ROUNDS = 3000 };
#define LOCKED_VA (2 * MM_LARGE_SIZE)
static page_t *shared[NSHARED], *shared_big;
static struct hat *spaces[NT];
static unsigned dups_done, arrays_done;   /* range operations that succeeded */

static void worker_step(unsigned cpu, unsigned x)
{
	struct hat *h = spaces[cpu];

	if (cpu == 0 && x % 97 == 0) {
		hat_destroy(h);
		spaces[cpu] = hat_create();
	} else if (cpu == 1 && x % 13 == 0) {
		hat_memload(h, 0, shared_big, RW_USER | HAT_LARGE);
	} else if (cpu == 2 && x % 29 == 0) {
		hat_destroy(h);
		spaces[cpu] = hat_create();
		if (hat_dup(spaces[cpu], spaces[1], 0, MM_LARGE_SIZE, R_USER) == 0)   /* NOMEM is fine too */
			__atomic_fetch_add(&dups_done, 1, __ATOMIC_RELAXED);
	} else if (cpu == 1 && x % 23 == 0) {
		page_t *pp = page_alloc(PG_USER);   /* a page's whole life, beside the others' tables */

		if (pp != NULL) {
			hat_memload(h, 0x300000, pp, RW_USER);
			hat_pageunload(pp);
			page_free(pp);
		}
	} else if (cpu == 2 && x % 31 == 0) {
		/* no steal may take it; past the 2 MiB the fork copies, which may be one leaf */
		hat_memload(h, LOCKED_VA, shared[x % NSHARED], RW_USER | HAT_LOCK);
	} else if (cpu == 2 && x % 37 == 0) {
		hat_memunlock(h, LOCKED_VA, MM_PAGE_SIZE);
	} else if (cpu == NT - 1 && x % 4 == 0) {
		hat_pageunload(x % 8 == 0 ? shared_big + x % 512 : shared[x % NSHARED]);
	} else if (x % 7 == 0) {
		hat_unload(h, 0, MM_LARGE_SIZE);
	} else if (x % 11 == 0) {
		hat_pagesync(shared[x % NSHARED], HAT_SYNC_CLEAR);
	} else if (x % 17 == 0) {
		hat_chgprot(h, 0, MM_LARGE_SIZE, x % 2 ? R_USER : RW_USER);
	} else if (x % 19 == 0) {
		if (hat_memload_array(h, 64 * MM_PAGE_SIZE, NSHARED * MM_PAGE_SIZE, shared, RW_USER) == 0)
			__atomic_fetch_add(&arrays_done, 1, __ATOMIC_RELAXED);
	} else {
		hat_memload(h, (x % 64) * MM_PAGE_SIZE, shared[(x >> 8) % NSHARED], RW_USER);
	}
}

static void *worker(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	uint64_t seed = cpu + 1;

	mm_hosted_set_cpu(cpu);
	for (unsigned r = 0; r < ROUNDS; r++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		worker_step(cpu, (unsigned)(seed >> 33));
	}
	return NULL;
}

START_TEST(test_concurrent_cpus)
{
	pthread_t t[NT];

	uint32_t log_size = hat_oplog.ol_size;

	/*
	 * Racing CPUs append log records in an order the effects need not
	 * follow (a pageunload can land between a memload and its record):
	 * the model is for one CPU doing MM work, so it sits this one out,
	 * and so does the log (test_log_appends_race races the appends
	 * themselves; test_smp_model, the model with records in order).
	 */
	checker_use_model(NULL);
	mm_hosted_oplog_hook = NULL;
	hat_oplog.ol_size = 0;
	mm_hosted_ncpus = NT;
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	for (unsigned i = 0; i < NSHARED; i++)
		shared[i] = mm_test_page();
	shared_big = page_alloc_large(PG_USER);
	for (unsigned i = 0; i < NT; i++)
		spaces[i] = hat_create();
	hment_set_limit(hment_cache_inuse() + 24);
	for (unsigned i = 0; i < NT; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	hat_oplog.ol_size = log_size;
	mm_check_all();
	/* LK_QUIESCENT covers the list and hash locks only; these two must be free as well */
	ck_assert(hment_reserve.hr_lock.ml_locked == 0 && segtab_ptp_cache.pc_lock.ml_locked == 0);
	ck_assert_uint_gt(hment_stats.steals, 0);
	ck_assert_uint_gt(dups_done, 0);
	ck_assert_uint_gt(arrays_done, 0);
	for (unsigned i = 0; i < NT; i++)
		hat_destroy(spaces[i]);
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

enum { LOG_RECORDS = 900 };   /* per CPU: NT of them stay within one ring between checkpoints */

static void *append_records(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;

	mm_hosted_set_cpu(cpu);
	for (unsigned i = 0; i < LOG_RECORDS; i++)
		hat_oplog_append((struct hat_op){ .o_kind = HOP_MAPCNT, .o_space = cpu, .o_pfn = i });
	return NULL;
}

/* CPUs appending at once, each to its lane (one atomic add numbers a record): every record lands once, whole, numbered. */
START_TEST(test_log_appends_race)
{
	pthread_t t[NT];
	uint32_t next_pfn[NT] = { 0 };
	uint64_t first, lost = hat_oplog.ol_lost;

	hat_oplog_make_room_for(NT * LOG_RECORDS);
	first = hat_oplog.ol_next;
	for (unsigned i = 0; i < NT; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, append_records, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(hat_oplog.ol_next, first + NT * LOG_RECORDS);
	ck_assert_uint_eq(hat_oplog.ol_lost, lost);
	for (uint64_t seq = first; seq < hat_oplog.ol_next; seq++) {
		const struct hat_op *op = mm_hosted_log_record(seq);

		ck_assert_uint_eq(op->o_seq, (uint32_t)seq);
		ck_assert_uint_eq(op->o_kind, HOP_MAPCNT);
		ck_assert_uint_lt(op->o_space, NT);
		ck_assert_uint_eq(op->o_pfn, next_pfn[op->o_space]++);   /* each CPU's in its order */
	}
}
END_TEST

START_TEST(test_random_ops)
{
	enum { NH = 6, NP = 24, STEPS = 4000 };
	struct hat *h[NH];
	page_t *pp[NP], *big = page_alloc_large(PG_USER);
	uint64_t seed = 12345, ptp0 = mm_count_kind(PG_PTP);

	for (unsigned i = 0; i < NH; i++)
		h[i] = hat_create();
	for (unsigned i = 0; i < NP; i++)
		pp[i] = mm_test_page();
	for (unsigned s = 0; s < STEPS; s++) {
		unsigned hi, pi, op;
		uint64_t va;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		hi = (unsigned)(seed >> 60) % NH;
		pi = (unsigned)(seed >> 40) % NP;
		op = (unsigned)(seed >> 24) % 16;
		/* two 2 MiB regions, a far one in another PML4 slot */
		va = ((seed >> 8) % 1024) * MM_PAGE_SIZE + ((seed >> 4) & 1 ? 0x7e0000000000ull : 0);
		if (op < 8)
			hat_memload(h[hi], va, pp[pi], op & 1 ? RW_USER : R_USER);
		else if (op == 8)
			hat_memload(h[hi], va & ~(MM_LARGE_SIZE - 1), big, RW_USER | HAT_LARGE);
		else if (op < 11)
			hat_unload(h[hi], va & ~(MM_LARGE_SIZE - 1), MM_LARGE_SIZE);
		else if (op == 11)
			hat_pageunload(op & 2 ? pp[pi] : big + pi);
		else if (op == 12)
			hat_chgprot(h[hi], va & ~(MM_LARGE_SIZE - 1), MM_LARGE_SIZE, R_USER);
		else if (op == 13)
			hat_pagesync(pp[pi], HAT_SYNC_CLEAR);
		else if (op == 14)
			ck_assert_uint_le(hment_mapcnt(pp[pi]), NH * 2048);
		else
			hat_switch(h[hi]);
		if (s % 250 == 0)
			mm_check_all();
	}
	mm_check_all();
	hat_switch(&hat_kas);
	for (unsigned i = 0; i < NH; i++)
		hat_destroy(h[i]);
	ck_assert_uint_eq(mm_count_kind(PG_PTP), ptp0);
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

Suite *hat_suite(void)
{
	Suite *s = suite_create("hat");
	TCase *tc = tcase_create("ops");
	TCase *tp = tcase_create("panics");
	TCase *tl = tcase_create("load");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_kernel_layout);
	tcase_add_test(tc, test_create_shares_kernel_half);
	tcase_add_test(tc, test_memload_bits);
	tcase_add_test(tc, test_memload_replaces_and_refreshes);
	tcase_add_test(tc, test_unload_range_prunes);
	tcase_add_test(tc, test_unload_settles_counts_per_table);
	tcase_add_test(tc, test_pageunload_hundreds);
	tcase_add_test(tc, test_large_pages);
	tcase_add_test(tc, test_large_count_beside_small_mappings);
	tcase_add_test(tc, test_large_replaces_small_and_back);
	tcase_add_test(tc, test_walk_hint_follows_pruning);
	tcase_add_test(tc, test_chgprot);
	tcase_add_test(tc, test_tlb_threshold);
	tcase_add_test(tc, test_pagesync);
	tcase_add_test(tc, test_switch);
	tcase_add_test(tc, test_destroy_returns_everything);
	tcase_add_test(tc, test_destroy_sparse_visits_present_only);
	tcase_add_test(tc, test_unload_sparse_visits_present_only);
	tcase_add_test(tc, test_chgprot_sparse_visits_present_only);
	tcase_add_test(tc, test_kernel_kmap);
	tcase_add_test(tc, test_devload_untracked);
	tcase_add_test(tc, test_memload_fails_without_table_pages);
	tcase_add_test(tc, test_shootdown_to_other_cpus);
	tcase_add_test(tc, test_tlb_generations);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, mm_setup, mm_hosted_shutdown);
	tcase_add_test(tp, test_unload_splitting_large_panics);
	tcase_add_test(tp, test_destroy_loaded_panics);
	tcase_add_test(tp, test_tlb_skip_local_is_caught);
	tcase_add_test(tp, test_range_checks_panic);
	suite_add_tcase(s, tp);
	tcase_add_checked_fixture(tl, mm_setup, mm_teardown);
	tcase_set_timeout(tl, 60);
	tcase_add_test(tl, test_concurrent_cpus);
	tcase_add_test(tl, test_log_appends_race);
	tcase_add_test(tl, test_random_ops);
	suite_add_tcase(s, tl);
	return s;
}
