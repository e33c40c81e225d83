/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: page-table walker and ptdump on hand-built tables in hosted guest memory, garbage included. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_walk.h"
#include "ptdump.h"
#include "run_vmm.h"

#define RAM_SIZE     (64ull << 20)
#define TABLES_GPA   0x100000ull         /* hand-built tables from here */
#define TABLE_FLAGS  (PTE_P | PTE_W | PTE_U)

static struct guest_mem gm;
static uint64_t next_table;
static uint64_t cr3;

static uint64_t new_table(void)
{
	uint64_t gpa = next_table;

	next_table += PT_SIZE_4K;
	ck_assert(guest_mem_contains(&gm, gpa, PT_SIZE_4K));
	memset(guest_mem_ptr(&gm, gpa, PT_SIZE_4K), 0, PT_SIZE_4K);
	return gpa;
}

static uint64_t get_entry(uint64_t table, unsigned index)
{
	uint64_t e;

	ck_assert(guest_mem_read(&gm, table + 8ull * index, &e, sizeof(e)));
	return e;
}

static void set_entry(uint64_t table, unsigned index, uint64_t e)
{
	ck_assert(guest_mem_write(&gm, table + 8ull * index, &e, sizeof(e)));
}

static unsigned index_at(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/* GPA of the entry for VA at LEAF_LEVEL, creating tables (with table_flags) on the way. */
static uint64_t entry_gpa(uint64_t va, unsigned leaf_level, uint64_t table_flags)
{
	uint64_t table = cr3;

	for (unsigned level = 4; level > leaf_level; level--) {
		uint64_t e = get_entry(table, index_at(va, level));
		if (!(e & PTE_P)) {
			e = new_table() | table_flags;
			set_entry(table, index_at(va, level), e);
		}
		table = e & 0x000ffffffffff000ull;
	}
	return table + 8ull * index_at(va, leaf_level);
}

/* Maps VA to PA at LEAF_LEVEL (1: 4K, 2: 2M, 3: 1G) with leaf entry flags FLAGS. */
static void map_at(uint64_t va, uint64_t pa, unsigned leaf_level, uint64_t flags)
{
	uint64_t e = pa | flags | (leaf_level > 1 ? PTE_PS : 0);

	ck_assert(guest_mem_write(&gm, entry_gpa(va, leaf_level, TABLE_FLAGS), &e, sizeof(e)));
}

/* Sets or clears BITS in the entry at LEVEL on VA's path. */
static void modify_path_entry(uint64_t va, unsigned level, uint64_t set, uint64_t clear)
{
	uint64_t gpa = entry_gpa(va, level, TABLE_FLAGS), e;

	ck_assert(guest_mem_read(&gm, gpa, &e, sizeof(e)));
	e = (e | set) & ~clear;
	ck_assert(guest_mem_write(&gm, gpa, &e, sizeof(e)));
}

static void setup(void)
{
	ck_assert_int_eq(guest_mem_map(&gm, RAM_SIZE), 0);
	next_table = TABLES_GPA;
	cr3 = new_table();
}

static void teardown(void)
{
	guest_mem_unmap(&gm);
}

static enum pt_error translate(uint64_t va, struct pt_translation *t)
{
	return pt_translate(&gm, NULL, cr3, va, t);
}

START_TEST(translate_4k_leaf)
{
	struct pt_translation t;

	map_at(0x40001000, 0x300000, 1, PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
	ck_assert_int_eq(translate(0x40001123, &t), PT_OK);
	ck_assert_uint_eq(t.pa, 0x300123);
	ck_assert_uint_eq(t.leaf.pa, 0x300000);
	ck_assert_uint_eq(t.leaf.size, PT_SIZE_4K);
	ck_assert_uint_eq(t.leaf.entry.level, 1);
	ck_assert_uint_eq(t.leaf.entry.va, 0x40001000);
	ck_assert_uint_eq(t.leaf.flags, PT_F_PRESENT | PT_F_WRITABLE | PT_F_USER | PT_F_ACCESSED | PT_F_DIRTY);
}
END_TEST

START_TEST(translate_2m_leaf)
{
	struct pt_translation t;

	map_at(0x40200000, 0x800000, 2, PTE_P | PTE_W);
	ck_assert_int_eq(translate(0x40212345, &t), PT_OK);
	ck_assert_uint_eq(t.pa, 0x812345);
	ck_assert_uint_eq(t.leaf.size, PT_SIZE_2M);
	ck_assert_uint_eq(t.leaf.entry.level, 2);
	ck_assert_uint_eq(t.leaf.flags, PT_F_PRESENT | PT_F_WRITABLE | PT_F_LARGE);
}
END_TEST

START_TEST(translate_1g_leaf)
{
	struct pt_translation t;

	/* the frame lies outside RAM: a translation does not care, the checker does */
	map_at(0x80000000, 0x40000000, 3, PTE_P | PTE_G);
	ck_assert_int_eq(translate(0xbfffffff, &t), PT_OK);
	ck_assert_uint_eq(t.pa, 0x7fffffff);
	ck_assert_uint_eq(t.leaf.size, PT_SIZE_1G);
	ck_assert_uint_eq(t.leaf.entry.level, 3);
	ck_assert_uint_eq(t.leaf.flags, PT_F_PRESENT | PT_F_LARGE | PT_F_GLOBAL);
}
END_TEST

START_TEST(large_leaf_pat_bit_is_not_address)
{
	struct pt_translation t;

	map_at(0x40200000, 0x800000 | 0x1000 /* PAT */, 2, PTE_P);
	ck_assert_int_eq(translate(0x40200010, &t), PT_OK);
	ck_assert_uint_eq(t.pa, 0x800010);
}
END_TEST

/* A permission bit changed at one level of a 4K mapping, and the effective flags expected. */
struct flag_case {
	unsigned level;
	uint64_t set, clear;
	uint32_t want;
};

static const struct flag_case flag_cases[] = {
	{ 4, 0, 0,           PT_F_WRITABLE | PT_F_USER },
	{ 4, 0, PTE_W,      PT_F_USER },
	{ 3, 0, PTE_W,      PT_F_USER },
	{ 2, 0, PTE_U,      PT_F_WRITABLE },
	{ 1, 0, PTE_U,      PT_F_WRITABLE },
	{ 4, PTE_NX, 0,      PT_F_WRITABLE | PT_F_USER | PT_F_NX },
	{ 2, PTE_NX, 0,      PT_F_WRITABLE | PT_F_USER | PT_F_NX },
	{ 1, PTE_NX, PTE_W, PT_F_USER | PT_F_NX },
	{ 1, PTE_G, PTE_U,  PT_F_WRITABLE | PT_F_GLOBAL },
};

START_TEST(effective_flags_combine_levels)
{
	const struct flag_case *c = &flag_cases[_i];
	struct pt_translation t;

	map_at(0x7000000000, 0x5000, 1, PTE_P | PTE_W | PTE_U);
	modify_path_entry(0x7000000000, c->level, c->set, c->clear);
	ck_assert_int_eq(translate(0x7000000000, &t), PT_OK);
	ck_assert_uint_eq(t.leaf.flags, c->want | PT_F_PRESENT);
}
END_TEST

START_TEST(nx_reserved_without_nxe)
{
	struct pt_config cfg = { .nxe_off = true };
	struct pt_translation t;

	map_at(0x1000, 0x5000, 1, PTE_P | PTE_NX);
	ck_assert_int_eq(pt_translate(&gm, &cfg, cr3, 0x1000, &t), PT_ERR_RESERVED);
	ck_assert_uint_eq(t.fault.bad_bits, PTE_NX);
	ck_assert_uint_eq(t.fault.entry.level, 1);
}
END_TEST

START_TEST(not_present)
{
	struct pt_translation t;

	map_at(0x40001000, 0x300000, 1, PTE_P);
	ck_assert_int_eq(translate(0x40002000, &t), PT_ERR_NOT_PRESENT);
	ck_assert_uint_eq(t.fault.entry.level, 1);
	ck_assert_uint_eq(t.fault.entry.va, 0x40002000);
	ck_assert_int_eq(translate(0x8000000000, &t), PT_ERR_NOT_PRESENT);
	ck_assert_uint_eq(t.fault.entry.level, 4);
	ck_assert_uint_eq(t.fault.entry.gpa, cr3 + 8);
}
END_TEST

START_TEST(reserved_bits_above_maxphyaddr)
{
	struct pt_config narrow = { .maxphyaddr = 40 };
	struct pt_translation t;

	map_at(0x1000, (1ull << 45) | 0x5000, 1, PTE_P);
	ck_assert_int_eq(pt_translate(&gm, &narrow, cr3, 0x1000, &t), PT_ERR_RESERVED);
	ck_assert_uint_eq(t.fault.bad_bits, 1ull << 45);
	/* with MAXPHYADDR 52 the bit is part of the frame address */
	ck_assert_int_eq(pt_translate(&gm, NULL, cr3, 0x1000, &t), PT_OK);
	ck_assert_uint_eq(t.pa, (1ull << 45) | 0x5000);
}
END_TEST

START_TEST(ps_in_pml4_is_reserved)
{
	struct pt_translation t;

	map_at(0x1000, 0x5000, 1, PTE_P);
	modify_path_entry(0x1000, 4, PTE_PS, 0);
	ck_assert_int_eq(translate(0x1000, &t), PT_ERR_RESERVED);
	ck_assert_uint_eq(t.fault.entry.level, 4);
	ck_assert_uint_eq(t.fault.bad_bits, PTE_PS);
}
END_TEST

START_TEST(misaligned_large_frames)
{
	struct pt_translation t;

	map_at(0x40200000, 0x802000, 2, PTE_P);
	ck_assert_int_eq(translate(0x40200000, &t), PT_ERR_LARGE_ALIGN);
	ck_assert_uint_eq(t.fault.bad_bits, 0x2000);
	map_at(0x80000000, 0x40000000 | 0x100000, 3, PTE_P);
	ck_assert_int_eq(translate(0x80000000, &t), PT_ERR_LARGE_ALIGN);
	ck_assert_uint_eq(t.fault.entry.level, 3);
}
END_TEST

START_TEST(table_outside_ram)
{
	struct pt_translation t;

	set_entry(cr3, 0, RAM_SIZE | TABLE_FLAGS);
	ck_assert_int_eq(translate(0x1000, &t), PT_ERR_TABLE_RANGE);
	ck_assert_uint_eq(t.fault.entry.level, 4);
	set_entry(cr3, 0, 0x000ffffffffff000ull | TABLE_FLAGS);
	ck_assert_int_eq(translate(0x1000, &t), PT_ERR_TABLE_RANGE);
	ck_assert_int_eq(pt_translate(&gm, NULL, RAM_SIZE, 0x1000, &t), PT_ERR_TABLE_RANGE);
	ck_assert_uint_eq(t.fault.entry.level, PT_LEVEL_CR3);
}
END_TEST

START_TEST(noncanonical_and_high_half)
{
	struct pt_translation t;

	ck_assert_int_eq(translate(0x0000800000000000ull, &t), PT_ERR_NONCANONICAL);
	ck_assert_int_eq(translate(0xfff0000000000000ull, &t), PT_ERR_NONCANONICAL);
	ck_assert(x86_va_canonical(0xffff800000000000ull));
	ck_assert_uint_eq(x86_va_sign_extend(0x0000800000001000ull), 0xffff800000001000ull);
	map_at(0xffff800000001000ull, 0x6000, 1, PTE_P | PTE_G);
	ck_assert_int_eq(translate(0xffff800000001008ull, &t), PT_OK);
	ck_assert_uint_eq(t.pa, 0x6008);
	ck_assert_uint_eq(t.leaf.entry.va, 0xffff800000001000ull);
}
END_TEST

/* ---- pt_walk ---- */

#define MAX_SEEN 64

struct seen {
	unsigned leaves, faults, tables;
	struct pt_leaf leaf[MAX_SEEN];
	struct pt_fault fault[MAX_SEEN];
	unsigned stop_after;        /* non-zero: stop at this many leaves */
};

static int seen_leaf(void *ctx, const struct pt_leaf *leaf)
{
	struct seen *s = ctx;

	if (s->leaves < MAX_SEEN)
		s->leaf[s->leaves] = *leaf;
	s->leaves++;
	return s->stop_after && s->leaves >= s->stop_after;
}

static int seen_fault(void *ctx, const struct pt_fault *f)
{
	struct seen *s = ctx;

	if (s->faults < MAX_SEEN)
		s->fault[s->faults] = *f;
	s->faults++;
	return 0;
}

static int seen_table(void *ctx, unsigned level, uint64_t gpa, const struct pt_entry_ref *via)
{
	struct seen *s = ctx;

	(void)level, (void)gpa, (void)via;
	s->tables++;
	return 0;
}

static const struct pt_walk_ops seen_ops = { seen_leaf, seen_fault, seen_table };

/* Leaves of the walk fixture, in VA order: (VA, level) */
static const struct { uint64_t va; unsigned level; } walk_map[] = {
	{ 0x1000, 1 }, { 0x2000, 1 }, { 0x40200000, 2 }, { 0x7fffffffe000, 1 },
	{ 0xffff800000000000ull, 1 }, { 0xffffffff80000000ull, 2 }, { 0xfffffffffffff000ull, 1 },
};
#define WALK_LEAVES (sizeof(walk_map) / sizeof(walk_map[0]))

static void map_walk_fixture(void)
{
	for (unsigned i = 0; i < WALK_LEAVES; i++)
		map_at(walk_map[i].va, (i + 1) * PT_SIZE_2M, walk_map[i].level, PTE_P | PTE_W);
}

START_TEST(walk_visits_leaves_in_va_order)
{
	struct seen s = { 0 };
	struct pt_walk_stats st;

	map_walk_fixture();
	ck_assert_int_eq(pt_walk(&gm, NULL, cr3, 0, UINT64_MAX, &seen_ops, &s, &st), PT_WALK_DONE);
	ck_assert_uint_eq(s.leaves, WALK_LEAVES);
	ck_assert_uint_eq(st.leaves, WALK_LEAVES);
	ck_assert_uint_eq(s.faults, 0);
	ck_assert_uint_eq(s.tables, (next_table - TABLES_GPA) / PT_SIZE_4K);
	for (unsigned i = 0; i < WALK_LEAVES; i++)
		ck_assert_uint_eq(s.leaf[i].entry.va, walk_map[i].va);
	ck_assert_uint_eq(s.leaf[2].size, PT_SIZE_2M);
	ck_assert_uint_eq(s.leaf[6].pa, 7 * PT_SIZE_2M);
}
END_TEST

START_TEST(walk_honours_range)
{
	struct seen s = { 0 };

	map_walk_fixture();
	/* starts inside the 2M leaf: it is reported whole */
	pt_walk(&gm, NULL, cr3, 0x40300000, 0xffff800000000fffull, &seen_ops, &s, NULL);
	ck_assert_uint_eq(s.leaves, 3);
	ck_assert_uint_eq(s.leaf[0].entry.va, 0x40200000);
	ck_assert_uint_eq(s.leaf[2].entry.va, 0xffff800000000000ull);

	memset(&s, 0, sizeof(s));   /* a range wholly inside the non-canonical hole */
	pt_walk(&gm, NULL, cr3, 0x0000900000000000ull, 0xffff000000000000ull, &seen_ops, &s, NULL);
	ck_assert_uint_eq(s.leaves, 0);

	memset(&s, 0, sizeof(s));   /* start after last */
	pt_walk(&gm, NULL, cr3, 0x3000, 0x2000, &seen_ops, &s, NULL);
	ck_assert_uint_eq(s.leaves, 0);
}
END_TEST

START_TEST(walk_reports_bad_entries_and_goes_on)
{
	struct seen s = { 0 };
	struct pt_walk_stats st;

	map_walk_fixture();
	map_at(0x3000, 0x5000, 1, PTE_P | (1ull << 51));            /* reserved with MAXPHYADDR 46 */
	set_entry(cr3, 3, RAM_SIZE | TABLE_FLAGS);                   /* PDPT outside RAM */
	map_at(0x40400000, 0x1234000, 2, PTE_P);                     /* misaligned 2M */
	struct pt_config cfg = { .maxphyaddr = 46 };
	ck_assert_int_eq(pt_walk(&gm, &cfg, cr3, 0, UINT64_MAX, &seen_ops, &s, &st), PT_WALK_DONE);
	ck_assert_uint_eq(s.leaves, WALK_LEAVES);
	ck_assert_uint_eq(s.faults, 3);
	ck_assert_uint_eq(st.faults, 3);
	ck_assert_int_eq(s.fault[0].error, PT_ERR_RESERVED);
	ck_assert_uint_eq(s.fault[0].entry.va, 0x3000);
	ck_assert_int_eq(s.fault[1].error, PT_ERR_LARGE_ALIGN);
	ck_assert_int_eq(s.fault[2].error, PT_ERR_TABLE_RANGE);
	ck_assert_uint_eq(s.fault[2].entry.va, 3ull << 39);
	ck_assert_uint_eq(s.fault[2].entry.gpa, cr3 + 24);
}
END_TEST

START_TEST(walk_bad_cr3)
{
	struct seen s = { 0 };

	ck_assert_int_eq(pt_walk(&gm, NULL, RAM_SIZE, 0, UINT64_MAX, &seen_ops, &s, NULL), PT_WALK_DONE);
	ck_assert_uint_eq(s.faults, 1);
	ck_assert_uint_eq(s.fault[0].entry.level, PT_LEVEL_CR3);
	ck_assert_int_eq(s.fault[0].error, PT_ERR_TABLE_RANGE);
}
END_TEST

START_TEST(walk_stops_when_asked)
{
	struct seen s = { .stop_after = 2 };

	map_walk_fixture();
	ck_assert_int_eq(pt_walk(&gm, NULL, cr3, 0, UINT64_MAX, &seen_ops, &s, NULL), PT_WALK_STOPPED);
	ck_assert_uint_eq(s.leaves, 2);
}
END_TEST

START_TEST(self_referencing_table_is_truncated)
{
	struct pt_config cfg = { .max_entries = 100000 };
	struct pt_walk_stats st;
	struct seen s = { 0 };

	for (unsigned i = 0; i < 512; i++)
		set_entry(cr3, i, cr3 | TABLE_FLAGS);
	ck_assert_int_eq(pt_walk(&gm, &cfg, cr3, 0, UINT64_MAX, &seen_ops, &s, &st), PT_WALK_TRUNCATED);
	ck_assert_uint_eq(st.entries, 100000);
	ck_assert_uint_gt(s.leaves, 90000);
	/* the default cap bounds it too */
	ck_assert_int_eq(pt_walk(&gm, NULL, cr3, 0, UINT64_MAX, NULL, NULL, &st), PT_WALK_TRUNCATED);
	ck_assert_uint_eq(st.entries, PT_DEFAULT_MAX_ENTRIES);
}
END_TEST

/* Deterministic xorshift64*, so a failing garbage case can be replayed. */
static uint64_t rng_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

/* Fills all RAM with random words, or with "plausible" entries that point inside RAM with random flags. */
static void fill_garbage(uint64_t seed, bool plausible)
{
	uint64_t *words = guest_mem_ptr(&gm, 0, RAM_SIZE), state = seed;

	for (uint64_t i = 0; i < RAM_SIZE / 8; i++) {
		uint64_t r = rng_next(&state);
		if (plausible)
			r = (r & (RAM_SIZE - 1) & ~0xfffull) | (r >> 52) | (r & (1ull << 63)) |
			    ((r & 0xff0) == 0 ? (1ull << 50) : 0);
		words[i] = r;
	}
}

START_TEST(garbage_tables_do_not_crash)
{
	struct pt_config cfgs[] = { { 0 }, { .maxphyaddr = 36, .nxe_off = true, .max_entries = 1u << 20 } };
	uint64_t state = 0x5eed0000 + (uint64_t)_i;

	fill_garbage(0x1234567ull + (uint64_t)_i, _i == 1);
	for (unsigned c = 0; c < 2; c++) {
		struct pt_walk_stats st;
		struct seen s = { 0 };
		enum pt_walk_result r = pt_walk(&gm, &cfgs[c], 0x10000, 0, UINT64_MAX, &seen_ops, &s, &st);
		ck_assert(r == PT_WALK_DONE || r == PT_WALK_TRUNCATED);
		ck_assert_uint_le(st.entries, cfgs[c].max_entries ? cfgs[c].max_entries : PT_DEFAULT_MAX_ENTRIES);
		for (unsigned i = 0; i < 20000; i++) {
			struct pt_translation t;
			uint64_t root = rng_next(&state);
			if (i & 1)
				root &= (RAM_SIZE - 1) & ~0xfffull;
			enum pt_error e = pt_translate(&gm, &cfgs[c], root, rng_next(&state), &t);
			ck_assert_int_le(e, PT_ERR_LARGE_ALIGN);
		}
	}
}
END_TEST

/* ---- ptdump ---- */

static char dump_buf[1 << 16];

static const char *dump(ptdump_mapcount_fn mapcount, void *ctx)
{
	FILE *out = fmemopen(dump_buf, sizeof(dump_buf) - 1, "w");

	memset(dump_buf, 0, sizeof(dump_buf));
	ck_assert_ptr_nonnull(out);
	ptdump_write(out, &gm, NULL, cr3, mapcount, ctx);
	fclose(out);
	return dump_buf;
}

static unsigned shared_at_0x9000(void *ctx, uint64_t pa)
{
	(void)ctx;
	return pa == 0x9000 ? 2 : 1;
}

static void map_dump_fixture(void)
{
	/* four user RW pages, physically scattered: one run */
	map_at(0x400000, 0x9000, 1, PTE_P | PTE_W | PTE_U);
	map_at(0x401000, 0x3000, 1, PTE_P | PTE_W | PTE_U);
	map_at(0x402000, 0x7000, 1, PTE_P | PTE_W | PTE_U);
	map_at(0x403000, 0x1000, 1, PTE_P | PTE_W | PTE_U);
	/* a read-only page right after: a new run */
	map_at(0x404000, 0x2000, 1, PTE_P | PTE_U);
	/* two 2M kernel pages */
	map_at(0xffffffff80000000ull, 0x200000, 2, PTE_P | PTE_W | PTE_G | PTE_NX);
	map_at(0xffffffff80200000ull, 0x400000, 2, PTE_P | PTE_W | PTE_G | PTE_NX);
}

START_TEST(ptdump_merges_like_runs)
{
	const char *text;

	map_dump_fixture();
	text = dump(NULL, NULL);
	ck_assert_ptr_nonnull(strstr(text, "0x0000000000400000-0x0000000000404000        16K  USR RW x           pte\n"));
	ck_assert_ptr_nonnull(strstr(text, "0x0000000000404000-0x0000000000405000         4K  USR ro x           pte\n"));
	ck_assert_ptr_nonnull(strstr(text, "0xffffffff80000000-0xffffffff80400000         4M      RW NX PSE GLB  pmd\n"));
	ck_assert_ptr_nonnull(strstr(text, "---[ upper half ]---"));
	ck_assert_ptr_null(strstr(text, "shared"));
}
END_TEST

START_TEST(ptdump_shared_column)
{
	const char *text;

	map_dump_fixture();
	text = dump(shared_at_0x9000, NULL);
	ck_assert_ptr_nonnull(strstr(text, "shared"));
	ck_assert_ptr_nonnull(strstr(text, "16K  USR RW x           pte          1\n"));
	ck_assert_ptr_nonnull(strstr(text, " 4K  USR ro x           pte          0\n"));
}
END_TEST

START_TEST(ptdump_shows_bad_entries)
{
	const char *text;

	map_dump_fixture();
	set_entry(cr3, 5, RAM_SIZE | TABLE_FLAGS);
	text = dump(NULL, NULL);
	ck_assert_ptr_nonnull(strstr(text, "0x0000028000000000 bad pgd entry"));
	ck_assert_ptr_nonnull(strstr(text, "table outside guest RAM"));
}
END_TEST

static Suite *pt_walk_suite(void)
{
	Suite *s = suite_create("pt_walk");
	TCase *tr = tcase_create("translate"), *tw = tcase_create("walk"), *td = tcase_create("ptdump");

	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_add_test(tr, translate_4k_leaf);
	tcase_add_test(tr, translate_2m_leaf);
	tcase_add_test(tr, translate_1g_leaf);
	tcase_add_test(tr, large_leaf_pat_bit_is_not_address);
	tcase_add_loop_test(tr, effective_flags_combine_levels, 0, sizeof(flag_cases) / sizeof(flag_cases[0]));
	tcase_add_test(tr, nx_reserved_without_nxe);
	tcase_add_test(tr, not_present);
	tcase_add_test(tr, reserved_bits_above_maxphyaddr);
	tcase_add_test(tr, ps_in_pml4_is_reserved);
	tcase_add_test(tr, misaligned_large_frames);
	tcase_add_test(tr, table_outside_ram);
	tcase_add_test(tr, noncanonical_and_high_half);
	suite_add_tcase(s, tr);

	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_set_timeout(tw, 60);
	tcase_add_test(tw, walk_visits_leaves_in_va_order);
	tcase_add_test(tw, walk_honours_range);
	tcase_add_test(tw, walk_reports_bad_entries_and_goes_on);
	tcase_add_test(tw, walk_bad_cr3);
	tcase_add_test(tw, walk_stops_when_asked);
	tcase_add_test(tw, self_referencing_table_is_truncated);
	tcase_add_loop_test(tw, garbage_tables_do_not_crash, 0, 2);
	suite_add_tcase(s, tw);

	tcase_add_checked_fixture(td, setup, teardown);
	tcase_add_test(td, ptdump_merges_like_runs);
	tcase_add_test(td, ptdump_shared_column);
	tcase_add_test(td, ptdump_shows_bad_entries);
	suite_add_tcase(s, td);
	return s;
}

int main(void)
{
	return run_suite(pt_walk_suite());
}
