/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: page_t array, page allocator and its limit, 2 MiB blocks, object caches, spinlocks. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mm_test.h"

START_TEST(test_page_init_layout)
{
	ck_assert_uint_eq(page_count, MM_TEST_RAM >> MM_PAGE_SHIFT);
	ck_assert_uint_gt(page_first_managed, MM_TEST_FIRST_FREE >> MM_PAGE_SHIFT);
	for (uint64_t pfn = 0; pfn < page_count; pfn++) {
		MM_CHECK(page_array[pfn].p_pagenum == pfn, "pfn 0x%" PRIx64, pfn);
		if (pfn < page_first_managed)
			MM_CHECK(page_array[pfn].p_kind == PG_RESERVED ||
				 page_array[pfn].p_kind == PG_PTP, "pfn 0x%" PRIx64 " kind", pfn);
	}
	ck_assert_uint_eq(page_nfree() + page_ninuse(), page_count - page_first_managed);
	/* the page_t array itself lives in reserved RAM, reached through pa_to_kva */
	ck_assert_uint_lt(mm_kva_to_pa(page_array), page_first_managed << MM_PAGE_SHIFT);
}
END_TEST

START_TEST(test_page_alloc_free)
{
	uint64_t nfree = page_nfree();
	page_t *a = mm_test_page(), *b = mm_test_page();
	uint8_t *kva = page_kva(a);

	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(a->p_kind, PG_USER);
	ck_assert(page_pfn_managed(a->p_pagenum));
	for (unsigned i = 0; i < MM_PAGE_SIZE; i++)
		MM_CHECK(kva[i] == 0, "byte %u not zeroed", i);
	memset(kva, 0xa5, MM_PAGE_SIZE);
	ck_assert_uint_eq(page_nfree(), nfree - 2);
	page_free(a);
	page_free(b);
	ck_assert_uint_eq(page_nfree(), nfree);
	ck_assert_uint_eq(a->p_kind, PG_FREE);
	/* LIFO: the next allocation is b, then a, zeroed again */
	ck_assert_ptr_eq(page_alloc(PG_USER), b);
	ck_assert_ptr_eq(page_alloc(PG_USER), a);
	ck_assert_uint_eq(kva[17], 0);
	page_free(a);
	page_free(b);
}
END_TEST

START_TEST(test_page_limit)
{
	uint64_t fails = page_nfail();
	page_t *p[3];

	page_set_limit(page_ninuse() + 3);
	for (unsigned i = 0; i < 3; i++)
		p[i] = mm_test_page();
	ck_assert_ptr_null(page_alloc(PG_USER));
	ck_assert_ptr_null(page_alloc_large(PG_USER));
	ck_assert_uint_eq(page_nfail(), fails + 2);
	page_free(p[0]);
	ck_assert_ptr_eq(page_alloc(PG_USER), p[0]);
	page_set_limit(PAGE_LIMIT_NONE);
	page_free(mm_test_page());
	for (unsigned i = 0; i < 3; i++)
		page_free(p[i]);
}
END_TEST

START_TEST(test_page_large)
{
	uint64_t nfree = page_nfree();
	page_t *big = page_alloc_large(PG_USER);
	uint8_t *kva;

	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq(big->p_pagenum % MM_LARGE_PAGES, 0);
	ck_assert_uint_eq(page_nfree(), nfree - MM_LARGE_PAGES);
	kva = page_kva(big);
	for (unsigned i = 0; i < MM_LARGE_PAGES; i++) {
		ck_assert_uint_eq(big[i].p_kind, PG_USER);
		ck_assert_uint_eq(kva[i * MM_PAGE_SIZE + 5], 0);
	}
	/* the free list no longer holds any of them */
	for (unsigned i = 0; i < 100; i++) {
		page_t *pp = mm_test_page();

		ck_assert(pp < big || pp >= big + MM_LARGE_PAGES);
	}
	page_free_large(big);
	ck_assert_uint_eq(page_nfree(), nfree - 100);
}
END_TEST

/* Takes every free 2 MiB block; returns how many (their first pages in big[]). */
static unsigned take_all_large(page_t **big, unsigned max)
{
	unsigned n = 0;
	uint64_t fails = page_nfail();

	while (n < max && (big[n] = page_alloc_large(PG_USER)) != NULL)
		n++;
	ck_assert_uint_lt(n, max);
	ck_assert_uint_eq(page_nfail(), fails + 1);   /* none left: a clean refusal */
	return n;
}

START_TEST(test_page_large_low_high_none)
{
	enum { MAX = MM_TEST_RAM / MM_LARGE_SIZE + 1 };
	uint64_t nfree = page_nfree();
	uint64_t low = (page_first_managed + MM_LARGE_PAGES - 1) & ~(uint64_t)(MM_LARGE_PAGES - 1);
	page_t *big[MAX];
	unsigned n = take_all_large(big, MAX);

	ck_assert_uint_gt(n, 2);
	ck_assert_uint_eq(big[0]->p_pagenum, low);          /* lowest fully free block first */
	ck_assert_uint_eq(big[n - 1]->p_pagenum, page_count - MM_LARGE_PAGES);   /* the top one too */
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(big[i]->p_pagenum % MM_LARGE_PAGES, 0);
	ck_assert_ptr_null(page_alloc_large(PG_USER));
	for (unsigned i = 0; i < n; i++)
		page_free_large(big[i]);
	ck_assert_uint_eq(page_nfree(), nfree);
	ck_assert_uint_eq(mm_count_kind(PG_FREE), nfree);
}
END_TEST

START_TEST(test_page_large_fragmented)
{
	enum { MAX = MM_TEST_RAM / MM_LARGE_SIZE + 1 };
	page_t *big[MAX], *held, *pp;
	unsigned n = take_all_large(big, MAX), k = n / 2, j = n - 1;

	/* block k: all free but one page; then block j wholly free */
	for (unsigned i = 0; i < MM_LARGE_PAGES; i++)
		if (i != 7)
			page_free(big[k] + i);
	held = big[k] + 7;
	page_free_large(big[j]);
	/* a small page comes from the partial block, not from the free one */
	pp = mm_test_page();
	ck_assert(pp >= big[k] && pp < big[k] + MM_LARGE_PAGES);
	page_free(pp);
	ck_assert_ptr_eq(page_alloc_large(PG_USER), big[j]);
	ck_assert_ptr_null(page_alloc_large(PG_USER));       /* block k is one page short */
	page_free(held);
	ck_assert_ptr_eq(page_alloc_large(PG_USER), big[k]);
	for (unsigned i = 0; i < n; i++)
		page_free_large(big[i]);
	ck_assert_uint_eq(mm_count_kind(PG_FREE), page_nfree());
}
END_TEST

START_TEST(test_page_accounting_cycles)
{
	uint64_t managed = page_count - page_first_managed;
	page_t *small[64];

	for (unsigned c = 0; c < 20; c++) {
		page_t *big = page_alloc_large(PG_USER);

		ck_assert_ptr_nonnull(big);
		for (unsigned i = 0; i < 64; i++)
			small[i] = mm_test_page();
		ck_assert_uint_eq(page_nfree() + page_ninuse(), managed);
		if (c % 2)
			page_free_large(big);
		for (unsigned i = 0; i < 64; i += 1 + c % 3)
			page_free(small[i]);
		for (unsigned i = 0; i < 64; i += 1 + c % 3)
			small[i] = NULL;
		for (unsigned i = 0; i < 64; i++)
			if (small[i] != NULL)
				page_free(small[i]);
		if (c % 2 == 0)
			page_free_large(big);
		ck_assert_uint_eq(page_nfree() + page_ninuse(), managed);
		ck_assert_uint_eq(mm_count_kind(PG_FREE), page_nfree());
	}
}
END_TEST

/* page_t examined by one 2 MiB allocation with RAM/8 in use as small pages. */
static uint64_t large_exam_at(uint64_t ram)
{
	uint64_t before;
	page_t *big;

	mm_hosted_shutdown();
	mm_hosted_boot(ram);
	for (uint64_t i = 0; i < page_count / 8; i++)
		mm_test_page();
	before = page_large_exam();
	big = page_alloc_large(PG_USER);
	ck_assert_ptr_nonnull(big);
	page_free_large(big);
	return page_large_exam() - before;
}

START_TEST(test_page_large_work_flat)
{
	/* the work follows the block, not RAM: 2 Ki pages and 256 Ki pages */
	ck_assert_uint_eq(large_exam_at(8ull << 20), MM_LARGE_PAGES);
	ck_assert_uint_eq(large_exam_at(1ull << 30), MM_LARGE_PAGES);
}
END_TEST

static void free_mapped(void *arg)
{
	page_free(arg);
}

START_TEST(test_page_free_mapped_panics)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();

	ck_assert_int_eq(hat_memload(h, 0x10000, pp, HAT_READ | HAT_USER), 0);
	ck_assert_panics(free_mapped, pp, "still mapped");
}
END_TEST

START_TEST(test_objcache_basic)
{
	struct objcache oc;
	void *a, *b, *c;

	objcache_init(&oc, "test", 20);
	ck_assert_uint_eq(oc.oc_size, 24);
	ck_assert_uint_eq(oc.oc_per_page, MM_PAGE_SIZE / 24);
	a = objcache_alloc(&oc);
	b = objcache_alloc(&oc);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	memset(a, 0xff, 24);
	objcache_free(&oc, a);
	c = objcache_alloc(&oc);
	ck_assert_ptr_eq(c, a);
	ck_assert_uint_eq(((uint8_t *)c)[23], 0);   /* handed out zeroed */
	memset(c, 0xff, 24);
	objcache_free(&oc, c);
	c = objcache_alloc_uninit(&oc);
	ck_assert_ptr_eq(c, a);
	ck_assert_uint_eq(((uint8_t *)c)[23], 0xff);   /* as the free left it: the caller sets it */
	objcache_set_limit(&oc, 2);
	ck_assert_ptr_null(objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_nfail, 1);
	objcache_free(&oc, b);
	ck_assert_ptr_nonnull(b = objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_npages, 1);
}
END_TEST

/*
 * A CPU's own list: it takes a page's whole free list at once, hands
 * out that page's objects in address order, gets back what it frees of
 * that page; objects of other pages go back to their pages; a limit
 * empties every list and then holds exactly.
 */
START_TEST(test_objcache_per_cpu)
{
	static struct objcache_cpu cpus[HAT_MAX_CPUS];
	struct objcache oc;
	struct objcache_cpu *mine;
	uint8_t *first, *obj[400];
	unsigned per_page;

	objcache_init(&oc, "test", 24);
	objcache_per_cpu(&oc, cpus);
	per_page = oc.oc_per_page;
	mine = &cpus[cpu_id()];
	first = objcache_alloc(&oc);
	ck_assert_ptr_nonnull(first);
	ck_assert_uint_eq(mine->oa_count, per_page - 1);          /* the whole page's list, at once */
	ck_assert_uint_eq(oc.oc_inuse, per_page);                 /* listed ones count as out */
	ck_assert_uint_eq(oc.oc_nfree, 0);
	ck_assert_ptr_null(oc.oc_partial);                        /* the page left the partial list */
	ck_assert_uint_eq(objcache_on_cpus(&oc), per_page - 1);
	ck_assert_ptr_eq(objcache_alloc(&oc), first + 24);        /* address order */
	memset(first, 0xff, 24);
	objcache_free(&oc, first);
	ck_assert_uint_eq(mine->oa_count, per_page - 1);          /* back on this CPU's list */
	ck_assert_ptr_eq(objcache_alloc(&oc), first);
	ck_assert_uint_eq(first[23], 0);                          /* handed out zeroed */
	for (unsigned i = 0; i < 2 * per_page; i++)
		ck_assert_ptr_nonnull(obj[i] = objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_npages, 3);
	objcache_free_n(&oc, (void *const *)obj, per_page);       /* mostly the first page's: not this CPU's now */
	ck_assert_uint_eq(oc.oc_inuse - objcache_on_cpus(&oc), per_page + 2);
	ck_assert_uint_eq(oc.oc_nfree + oc.oc_inuse, oc.oc_npages * per_page);
	objcache_set_limit(&oc, per_page + 3);
	ck_assert_uint_eq(objcache_on_cpus(&oc), 0);
	ck_assert_uint_eq(mine->oa_count, 0);
	ck_assert_uint_eq(oc.oc_inuse, per_page + 2);
	ck_assert_ptr_nonnull(obj[0] = objcache_alloc(&oc));
	ck_assert_ptr_null(objcache_alloc(&oc));
	objcache_free(&oc, obj[0]);
	ck_assert_uint_eq(objcache_on_cpus(&oc), 0);              /* limited: nothing kept on a CPU */
	ck_assert_uint_eq(oc.oc_inuse, per_page + 2);
	objcache_set_limit(&oc, OBJCACHE_LIMIT_NONE);
	ck_assert_ptr_nonnull(objcache_alloc(&oc));
	ck_assert_uint_gt(objcache_on_cpus(&oc), 0);              /* no limit: lists again */
}
END_TEST

/* The last page of oc's partial list, walked. */
static struct objcache_slab *partial_last(const struct objcache *oc)
{
	struct objcache_slab *s = oc->oc_partial;

	while (s != NULL && s->os_next != NULL)
		s = s->os_next;
	return s;
}

/*
 * Wholly free pages go back to the page allocator once more than a
 * quarter of the cache's pages, and more than twice the kept number, are
 * wholly free: all but the kept ones. The cache carves new pages when it
 * needs them again.
 */
START_TEST(test_objcache_gives_idle_pages_back)
{
	static void *obj[40 * (MM_PAGE_SIZE / 24)];
	uint64_t free_before = page_nfree();
	struct objcache oc;
	unsigned n, per;

	objcache_init(&oc, "test", 24);
	per = oc.oc_per_page;
	n = 40 * per;
	for (unsigned i = 0; i < n; i++)
		ck_assert_ptr_nonnull(obj[i] = objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_npages, 40);
	ck_assert_uint_eq(oc.oc_nidle, 0);
	ck_assert_uint_eq(page_nfree(), free_before - 40);
	objcache_free_n(&oc, obj, 10 * per);                      /* a quarter idle: kept */
	ck_assert_uint_eq(oc.oc_npages, 40);
	ck_assert_uint_eq(oc.oc_nidle, 10);
	objcache_free_n(&oc, obj + 10 * per, per);                /* the 11th: all but 2 go */
	ck_assert_ptr_eq(partial_last(&oc), oc.oc_partial_tail);
	ck_assert_uint_eq(oc.oc_npages, 31);
	ck_assert_uint_eq(oc.oc_nidle, 2);
	ck_assert_uint_eq(oc.oc_nfree, 2 * per);
	ck_assert_uint_eq(page_nfree(), free_before - 31);
	objcache_free_n(&oc, obj + 11 * per, n - 11 * per);
	ck_assert_uint_le(oc.oc_npages, 4);                       /* a small cache keeps up to 4 */
	ck_assert_uint_eq(oc.oc_inuse, 0);
	ck_assert_uint_eq(oc.oc_nfree, oc.oc_npages * per);
	ck_assert_uint_eq(oc.oc_nidle, oc.oc_npages);
	ck_assert_uint_eq(page_nfree(), free_before - oc.oc_npages);
	for (unsigned i = 0; i < n; i++)                           /* and it grows again */
		ck_assert_ptr_nonnull(obj[i] = objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_npages, 40);
	ck_assert_uint_eq(oc.oc_nidle, 0);
}
END_TEST

static struct objcache free_test_cache;

static void free_into_test_cache(void *obj)
{
	objcache_free(&free_test_cache, obj);
}

/* A free is checked to be one of the cache's objects: an object's start, of a page carved for its size. */
START_TEST(test_objcache_free_checks_the_object)
{
	struct objcache other;
	uint8_t *a, *b;

	objcache_init(&free_test_cache, "test", 24);
	objcache_init(&other, "other", 40);
	a = objcache_alloc(&free_test_cache);
	b = objcache_alloc(&other);
	for (unsigned off = 8; off < 24; off += 8)
		ck_assert_panics(free_into_test_cache, a + off, "oc_recip");
	ck_assert_panics(free_into_test_cache, b, "os_size == oc->oc_size");
	free_into_test_cache(a);
	ck_assert_uint_eq(free_test_cache.oc_inuse, 0);
}
END_TEST

static void alloc_from_test_cache(void *unused)
{
	(void)unused;
	objcache_alloc(&free_test_cache);
}

/* OC_FREE in the guest: a free-list link off an object, a free object no partial page holds. */
START_TEST(test_objcache_free_objects_reachable)
{
	struct objcache_slab *s;
	uint16_t link;

	objcache_init(&free_test_cache, "test", 24);
	ck_assert_ptr_nonnull(objcache_alloc(&free_test_cache));
	s = free_test_cache.oc_partial;
	link = s->os_free;
	s->os_free = (uint16_t)(link + 1);   /* the next free object, one byte on */
	ck_assert_panics(alloc_from_test_cache, NULL, "OC_FREE");
	s->os_free = link;
	free_test_cache.oc_lock = (struct mm_lock){ 0 };   /* the panic left it held */
	if (!MM_ASSERTS_ON)
		return;
	free_test_cache.oc_partial = NULL;   /* its free objects hidden, still counted */
	ck_assert_panics(alloc_from_test_cache, NULL, "ASSERT OC_FREE failed");
}
END_TEST

START_TEST(test_objcache_grows_and_fails_without_pages)
{
	struct objcache oc;
	uint32_t per;

	objcache_init(&oc, "big", 1024);
	per = oc.oc_per_page;
	for (uint32_t i = 0; i <= per; i++)
		ck_assert_ptr_nonnull(objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_npages, 2);
	page_set_limit(page_ninuse());
	for (uint32_t i = 1; i < per; i++)
		ck_assert_ptr_nonnull(objcache_alloc(&oc));
	ck_assert_ptr_null(objcache_alloc(&oc));   /* a third page is refused */
	page_set_limit(PAGE_LIMIT_NONE);
}
END_TEST

/* The 4 KiB page an object was carved from. */
static uintptr_t page_of(const void *obj)
{
	return (uintptr_t)obj & ~(uintptr_t)(MM_PAGE_SIZE - 1);
}

/*
 * Frees scattered over three pages, then as many allocations: they drain
 * one page before the next (the page that kept free objects first, then
 * the others in the order they got one back), never alternating.
 */
START_TEST(test_objcache_drains_one_page_at_a_time)
{
	struct objcache oc;
	void **objs;
	uint32_t per, n, pages_seen = 0;
	uintptr_t last = 0;

	objcache_init(&oc, "locality", 24);
	per = oc.oc_per_page;
	n = 3 * per;
	objs = calloc(n, sizeof(*objs));
	ck_assert_ptr_nonnull(objs);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_ptr_nonnull(objs[i] = objcache_alloc(&oc));
	ck_assert_uint_eq(oc.oc_npages, 3);
	ck_assert_ptr_null(oc.oc_partial);   /* every page full */
	for (uint32_t k = 0; k < per; k++)   /* a third of each page, the three pages in turn */
		objcache_free(&oc, objs[(k % 3) * per + k]);
	for (uint32_t i = 0; i < per; i++) {
		void *o = objcache_alloc(&oc);

		ck_assert_ptr_nonnull(o);
		if (page_of(o) != last)
			pages_seen++;
		last = page_of(o);
	}
	ck_assert_uint_eq(pages_seen, 3);
	ck_assert_uint_eq(oc.oc_npages, 3);
	ck_assert_uint_eq(oc.oc_nfree, 0);
	free(objs);
}
END_TEST

START_TEST(test_objcache_free_n)
{
	struct objcache oc;
	void *objs[40];
	uint32_t per;

	objcache_init(&oc, "batch", 24);
	per = oc.oc_per_page;
	for (uint32_t i = 0; i < 2 * per; i++) {   /* two full pages */
		void *o = objcache_alloc(&oc);

		ck_assert_ptr_nonnull(o);
		if (i >= per - 10 && i < per + 30)
			objs[i - (per - 10)] = o;
	}
	ck_assert_ptr_null(oc.oc_partial);
	objcache_free_n(&oc, objs, 0);
	ck_assert_uint_eq(oc.oc_inuse, 2 * per);
	objcache_free_n(&oc, objs, 40);   /* 10 from the first page, 30 from the second */
	ck_assert_uint_eq(oc.oc_inuse, 2 * per - 40);
	ck_assert_uint_eq(oc.oc_nfree, 40);
	/* the first page's objects come back first, the second's after: each page kept its own */
	for (uint32_t i = 0; i < 40; i++)
		ck_assert_uint_eq(page_of(objcache_alloc(&oc)), page_of(objs[i < 10 ? 0 : 39]));
}
END_TEST

static struct objcache *other_cache;

static void free_into_other(void *obj)
{
	objcache_free(other_cache, obj);
}

START_TEST(test_objcache_free_into_another_cache_panics)
{
	static struct objcache a, b;

	objcache_init(&a, "a", 24);
	objcache_init(&b, "b", 40);
	other_cache = &b;
	ck_assert_panics(free_into_other, objcache_alloc(&a), "os_size");
}
END_TEST

static void relock(void *arg)
{
	mm_lock_enter(arg);
}

START_TEST(test_lock_basics)
{
	struct mm_lock l = { 0, 0 };

	ck_assert(!mm_lock_held(&l));
	mm_lock_enter(&l);
	ck_assert(mm_lock_held(&l));
	ck_assert_uint_eq(l.ml_owner, 1);
	mm_hosted_set_cpu(3);
	ck_assert(!mm_lock_held(&l));   /* held, but not by "CPU" 3 */
	mm_hosted_set_cpu(0);
	ck_assert_panics(relock, &l, "ASSERT API failed");
	mm_lock_exit(&l);
	ck_assert(l.ml_locked == 0 && l.ml_owner == 0);
}
END_TEST

START_TEST(test_struct_sizes)
{
	ck_assert_uint_eq(sizeof(hment_t), 24);
	ck_assert_uint_eq(sizeof(page_t), 48);
	ck_assert_uint_eq(sizeof(struct hat), 128);
}
END_TEST

Suite *page_suite(void)
{
	Suite *s = suite_create("page");
	TCase *tc = tcase_create("alloc");
	TCase *tp = tcase_create("panics");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_page_init_layout);
	tcase_add_test(tc, test_page_alloc_free);
	tcase_add_test(tc, test_page_limit);
	tcase_add_test(tc, test_page_large);
	tcase_add_test(tc, test_page_large_low_high_none);
	tcase_add_test(tc, test_page_large_fragmented);
	tcase_add_test(tc, test_page_accounting_cycles);
	tcase_add_test(tc, test_page_large_work_flat);
	tcase_add_test(tc, test_objcache_basic);
	tcase_add_test(tc, test_objcache_per_cpu);
	tcase_add_test(tc, test_objcache_gives_idle_pages_back);
	tcase_add_test(tc, test_objcache_free_checks_the_object);
	tcase_add_test(tc, test_objcache_free_objects_reachable);
	tcase_add_test(tc, test_objcache_grows_and_fails_without_pages);
	tcase_add_test(tc, test_objcache_drains_one_page_at_a_time);
	tcase_add_test(tc, test_objcache_free_n);
	tcase_add_test(tc, test_lock_basics);
	tcase_add_test(tc, test_struct_sizes);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, mm_setup, mm_hosted_shutdown);
	tcase_add_test(tp, test_page_free_mapped_panics);
	tcase_add_test(tp, test_objcache_free_into_another_cache_panics);
	suite_add_tcase(s, tp);
	return s;
}
