/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: the host's model of what should be mapped applies each logged HAT operation as hat.h documents it. */
#include <check.h>
#include <stdlib.h>

#include "hat_model.h"
#include "run_vmm.h"

#define RW_USER (HAT_READ | HAT_WRITE | HAT_USER)
#define K4 0x1000ull
#define M2 0x200000ull

static struct hat_model *m;

/* Pages 0x100.. are managed, below is not. */
static bool managed(void *ctx, uint64_t pfn)
{
	(void)ctx;
	return pfn >= 0x100;
}

static void apply(struct hat_op op)
{
	ck_assert(hat_model_apply(m, &op, managed, NULL, 1u << 24, NULL));
}

static void load(uint32_t space, uint64_t va, uint32_t pfn, unsigned attr)
{
	apply((struct hat_op){ .o_kind = HOP_LOAD, .o_space = space, .o_va = va, .o_pfn = pfn,
			       .o_attr = (uint16_t)attr });
}

/* The model's mapping at space:va (NULL: none), without marking it seen. */
static const struct model_map *at(uint32_t space, uint64_t va)
{
	return hat_model_find(m, space, va);
}

static void setup(void)
{
	m = hat_model_new();
	ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
	hat_model_free(m);
}

START_TEST(test_load_replaces_what_overlaps)
{
	load(1, 0x400000, 0x200, RW_USER);
	load(1, 0x401000, 0x201, RW_USER);
	load(1, 0x400000, 0x400, RW_USER | HAT_LARGE);   /* the 2 MiB leaf takes the 4 KiB table's place */
	ck_assert_uint_eq(hat_model_count(m), 1);
	ck_assert_uint_eq(at(1, 0x400000)->pfn, 0x400);
	load(1, 0x5ff000, 0x202, RW_USER);               /* a 4 KiB load inside unloads the 2 MiB leaf */
	ck_assert_uint_eq(hat_model_count(m), 1);
	ck_assert_ptr_null(at(1, 0x400000));
	apply((struct hat_op){ .o_kind = HOP_LOAD, .o_space = 1, .o_va = 0x5ff000, .o_pfn = 0x203,
			       .o_attr = RW_USER, .o_result = -1 });   /* failed: nothing there now */
	ck_assert_uint_eq(hat_model_count(m), 0);
}
END_TEST

START_TEST(test_unload_by_pages_and_by_list)
{
	for (unsigned i = 0; i < 64; i++)
		load(2, i * K4, 0x300 + i, RW_USER);
	load(2, 0x7f0000000000ull, 0x399, RW_USER);
	apply((struct hat_op){ .o_kind = HOP_UNLOAD, .o_space = 2, .o_va = 8 * K4, .o_len = 8 * K4 });
	ck_assert_uint_eq(hat_model_count(m), 57);
	ck_assert_ptr_null(at(2, 8 * K4));
	ck_assert_ptr_nonnull(at(2, 16 * K4));
	/* the whole user half: more pages than mappings, so the space's list is walked */
	apply((struct hat_op){ .o_kind = HOP_UNLOAD, .o_space = 2, .o_va = 0, .o_len = USER_TOP });
	ck_assert_uint_eq(hat_model_count(m), 0);
}
END_TEST

START_TEST(test_pageunload_reaches_large_leaders)
{
	load(1, 0x1000, 0x250, RW_USER);
	load(2, 0x1000, 0x250, RW_USER);
	load(3, M2, 0x400, RW_USER | HAT_LARGE);
	load(4, 0x1000, 0x10, RW_USER);                  /* unmanaged: no page-unload reaches it */
	apply((struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x250 });
	ck_assert_uint_eq(hat_model_count(m), 2);
	/* inside the 2 MiB frame: its own mappings (none), then, logged apart, the 2 MiB ones covering it */
	apply((struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x433 });
	ck_assert_uint_eq(hat_model_count(m), 2);
	apply((struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x433, .o_attr = HAT_LARGE });
	ck_assert_uint_eq(hat_model_count(m), 1);
	apply((struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x10 });
	ck_assert_uint_eq(hat_model_count(m), 1);
}
END_TEST

START_TEST(test_chgprot_steal_destroy)
{
	load(5, 0x1000, 0x250, RW_USER | HAT_WRITETHRU);
	load(5, 0x2000, 0x251, RW_USER);
	load(6, 0x1000, 0x250, RW_USER);
	apply((struct hat_op){ .o_kind = HOP_CHGPROT, .o_space = 5, .o_va = 0x1000, .o_len = K4,
			       .o_attr = HAT_READ | HAT_USER });
	ck_assert_uint_eq(at(5, 0x1000)->attr, HAT_READ | HAT_USER | HAT_WRITETHRU);   /* cache bits stay */
	ck_assert_uint_eq(hat_model_pte_bits(at(5, 0x1000)->attr), PTE_U | PTE_NX | PTE_PWT);
	apply((struct hat_op){ .o_kind = HOP_STEAL, .o_space = 6, .o_va = 0x1000, .o_pfn = 0x250 });
	ck_assert_ptr_null(at(6, 0x1000));
	apply((struct hat_op){ .o_kind = HOP_DESTROY, .o_space = 5 });
	ck_assert_uint_eq(hat_model_count(m), 0);
	load(0, KMAP_BASE, 0x250, HAT_READ);              /* the kernel's mappings are not modelled */
	ck_assert_uint_eq(hat_model_count(m), 0);
}
END_TEST

/* Rounds: what the walk found is marked; the rest is what the tables lack. */
static void count_unseen(void *ctx, const struct model_map *map)
{
	(void)map;
	(*(unsigned *)ctx)++;
}

/* MD_AD's marks: a reload of the same page (size, lock) keeps them, chgprot too, a clearing pagesync of its page drops them. */
/* A page's mappings: its own 4 KiB ones (any space) and the 2 MiB ones of its group; a mapping query changes nothing. */
START_TEST(test_page_mapping_counts)
{
	load(1, 0x400000, 0x400, RW_USER | HAT_LARGE);
	load(2, 0x600000, 0x400, RW_USER | HAT_LARGE);
	load(1, 0x1000, 0x407, RW_USER);
	load(2, 0x1000, 0x407, RW_USER);
	load(2, 0x2000, 0x407, RW_USER);
	load(3, 0x1000, 0x600, RW_USER);                  /* another group's page */
	ck_assert_uint_eq(hat_model_page_maps(m, 0x400), 2);
	ck_assert_uint_eq(hat_model_page_maps(m, 0x407), 5);
	ck_assert_uint_eq(hat_model_page_maps(m, 0x5ff), 2);
	ck_assert_uint_eq(hat_model_page_maps(m, 0x600), 1);
	ck_assert_uint_eq(hat_model_page_maps(m, 0x601), 0);
	apply((struct hat_op){ .o_kind = HOP_MAPCNT, .o_pfn = 0x407, .o_result = 9 });
	ck_assert_uint_eq(hat_model_count(m), 6);
	apply((struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x407 });   /* its own */
	ck_assert_uint_eq(hat_model_page_maps(m, 0x407), 2);
	ck_assert_uint_eq(hat_model_page_maps(m, 0x400), 2);
	/* and, logged apart, its group's 2 MiB ones; the group's first page's own 4 KiB ones stay */
	load(4, 0x1000, 0x400, RW_USER);
	apply((struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = 0x407, .o_attr = HAT_LARGE });
	ck_assert_uint_eq(hat_model_page_maps(m, 0x407), 0);
	ck_assert_uint_eq(hat_model_page_maps(m, 0x400), 1);
}
END_TEST

START_TEST(test_accessed_dirty_marks)
{
	load(3, 0x400000, 0x200, RW_USER);
	load(3, 0x600000, 0x400, RW_USER | HAT_LARGE);
	load(3, 0x800000, 0x401, RW_USER);                 /* a subpage of the 2 MiB page: its own frame */
	hat_model_find(m, 3, 0x400000)->ad = PG_ATTR_REF | PG_ATTR_MOD;
	hat_model_find(m, 3, 0x600000)->ad = PG_ATTR_REF;
	hat_model_find(m, 3, 0x800000)->ad = PG_ATTR_MOD;
	ck_assert_uint_eq(hat_model_frame_ad(m, 0x200), PG_ATTR_REF | PG_ATTR_MOD);
	ck_assert_uint_eq(hat_model_frame_ad(m, 0x400), PG_ATTR_REF);   /* the 2 MiB leaf is its first page's */
	load(3, 0x400000, 0x200, HAT_READ | HAT_USER);     /* same page, new protection: the leaf stays */
	apply((struct hat_op){ .o_kind = HOP_CHGPROT, .o_space = 3, .o_va = 0x400000, .o_len = K4,
			       .o_attr = RW_USER });
	ck_assert_uint_eq(at(3, 0x400000)->ad, PG_ATTR_REF | PG_ATTR_MOD);
	load(3, 0x400000, 0x200, RW_USER | HAT_LOCK);      /* locked by a reload: a new leaf */
	ck_assert_uint_eq(at(3, 0x400000)->ad, 0);
	apply((struct hat_op){ .o_kind = HOP_PAGESYNC, .o_pfn = 0x400, .o_attr = 0 });
	ck_assert_uint_eq(at(3, 0x600000)->ad, PG_ATTR_REF);   /* collected, not cleared */
	apply((struct hat_op){ .o_kind = HOP_PAGESYNC, .o_pfn = 0x400, .o_attr = 1 });
	ck_assert_uint_eq(at(3, 0x600000)->ad, 0);
	ck_assert_uint_eq(at(3, 0x800000)->ad, PG_ATTR_MOD);   /* another frame's leaf keeps its mark */
	ck_assert_uint_eq(hat_model_ad_of_pte(PTE_P | PTE_A | PTE_D), PG_ATTR_REF | PG_ATTR_MOD);
}
END_TEST

START_TEST(test_rounds_and_growth)
{
	unsigned unseen = 0;

	for (uint32_t i = 0; i < 100000; i++)
		load(1 + i % 7, (uint64_t)i * K4, 0x100 + i % 5000, RW_USER);
	ck_assert_uint_eq(hat_model_round(m), 100000);
	for (uint32_t i = 0; i < 100000; i += 2)
		ck_assert_ptr_nonnull(at(1 + i % 7, (uint64_t)i * K4));
	ck_assert_uint_eq(hat_model_seen(m), 50000);
	hat_model_each_unseen(m, count_unseen, &unseen);
	ck_assert_uint_eq(unseen, 50000);
	/* a mapping's attributes back from its leaf bits (the rebuild after a lost log) */
	ck_assert_uint_eq(hat_model_attr_of_pte(PTE_P | PTE_W | PTE_U | PTE_PCD | PTE_PWT | PTE_PS, 2),
			  HAT_READ | HAT_WRITE | HAT_EXEC | HAT_USER | HAT_NOCACHE | HAT_LARGE);
	hat_model_clear(m);
	ck_assert_uint_eq(hat_model_count(m), 0);
	ck_assert_ptr_null(at(1, 0));
}
END_TEST

/* The cap: a log asking for more mappings than RAM can hold stops being followed. */
START_TEST(test_cap)
{
	struct hat_op op = { .o_kind = HOP_LOAD, .o_space = 1, .o_pfn = 0x100, .o_attr = RW_USER };

	ck_assert(hat_model_apply(m, &op, managed, NULL, 1, NULL));
	op.o_va = K4;
	ck_assert(!hat_model_apply(m, &op, managed, NULL, 1, NULL));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("apply");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_replaces_what_overlaps);
	tcase_add_test(tc, test_unload_by_pages_and_by_list);
	tcase_add_test(tc, test_pageunload_reaches_large_leaders);
	tcase_add_test(tc, test_chgprot_steal_destroy);
	tcase_add_test(tc, test_accessed_dirty_marks);
	tcase_add_test(tc, test_page_mapping_counts);
	tcase_add_test(tc, test_rounds_and_growth);
	tcase_add_test(tc, test_cap);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
