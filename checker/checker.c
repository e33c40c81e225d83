/* SPDX-License-Identifier: BSD-2-Clause */
/* The checker's entry points: guest symbols from the ELF, one check run over all invariants, the violation sink. */
#include "checker.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check_internal.h"

static uint64_t disabled_ids;   /* test-only: see checker_set_disabled() */

void checker_set_disabled(uint64_t mask)
{
	disabled_ids = mask;
}

void sink_violation(struct check_sink *s, enum invariant_id id, uint64_t space, uint64_t va,
		    uint64_t pfn, const char *fmt, ...)
{
	char detail[REPORT_MAX_DETAIL + 1];
	va_list ap;

	if (s == NULL || ((unsigned)id < 64 && (disabled_ids >> id & 1)) ||
	    (s->only != 0 && !(s->only >> id & 1)))
		return;
	if (s->max_count != 0 && s->count >= s->max_count) {
		s->full = true;
		return;
	}
	s->count++;
	if (s->report == NULL)
		return;
	/* past the report's per-check cap it only counts: skip the formatting */
	if (s->count > REPORT_MAX_VIOLATIONS) {
		report_violation(s->report, id, space, va, pfn, "%s", "");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	report_violation(s->report, id, space, va, pfn, "%s", detail);
}

static const struct {
	const char *name;
	size_t field;
	uint64_t size;
} mm_symbol_table[] = {
	{ MM_SYM_PAGE_ARRAY,    offsetof(struct mm_symbols, page_array),         8 },
	{ MM_SYM_PAGE_COUNT,    offsetof(struct mm_symbols, page_count),         8 },
	{ MM_SYM_FIRST_MANAGED, offsetof(struct mm_symbols, page_first_managed), 8 },
	{ MM_SYM_HMENT_HASH,    offsetof(struct mm_symbols, hment_hash),         sizeof(struct hment_hash) },
	{ MM_SYM_HASH_LOCKS,    offsetof(struct mm_symbols, hment_hash_locks),
	  HMENT_HASH_NLOCK * sizeof(struct hment_hash_stripe) },
	{ MM_SYM_MLIST_LOCKS,   offsetof(struct mm_symbols, hment_mlist_locks),
	  HMENT_MLIST_NLOCK * sizeof(struct mm_lock_line) },
	{ MM_SYM_RESERVE,       offsetof(struct mm_symbols, hment_reserve),      sizeof(struct hment_reserve) },
	{ MM_SYM_HAT_KAS,       offsetof(struct mm_symbols, hat_kas),            sizeof(struct hat) },
	{ MM_SYM_HAT_LIST,      offsetof(struct mm_symbols, hat_list),           8 },
	{ MM_SYM_PTP_CACHE,     offsetof(struct mm_symbols, segtab_ptp_cache),   sizeof(struct ptp_cache) },
};

/* Symbols a guest may lack: the checks that need them are skipped (0). */
static const struct {
	const char *name;
	size_t field;
	uint64_t size;
} mm_optional_symbol_table[] = {
	{ MM_SYM_OPLOG,         offsetof(struct mm_symbols, hat_oplog),          sizeof(struct hat_oplog) },
	{ MM_SYM_PAGE_POOL,     offsetof(struct mm_symbols, page_pool),          sizeof(struct page_pool) },
	{ MM_SYM_HAT_LIST_LOCK, offsetof(struct mm_symbols, hat_list_lock),      sizeof(struct mm_lock) },
	{ MM_SYM_HMENT_LISTED,  offsetof(struct mm_symbols, hment_listed),       sizeof(struct hment_listed) },
	{ MM_SYM_HMENT_CACHE,   offsetof(struct mm_symbols, hment_cache),        sizeof(struct objcache) },
	{ MM_SYM_HAT_CACHE,     offsetof(struct mm_symbols, hat_cache),          sizeof(struct objcache) },
	{ MM_SYM_HAT_CPU,       offsetof(struct mm_symbols, hat_cpu),            HAT_MAX_CPUS * 8 },
	{ MM_SYM_TLB_FLUSHED,   offsetof(struct mm_symbols, hat_tlb_flushed),
	  HAT_MAX_CPUS * sizeof(struct hat_tlb_flushed) },
	{ MM_SYM_SHORT_LISTED,  offsetof(struct mm_symbols, hment_short_listed),
	  HAT_MAX_CPUS * sizeof(struct hment_short_count) },
};

/* The optional symbols found with the size mm_structs.h says (else 0). */
static void optional_symbols(const struct elf_symbols *syms, struct mm_symbols *out)
{
	for (size_t i = 0; i < sizeof(mm_optional_symbol_table) / sizeof(mm_optional_symbol_table[0]); i++) {
		uint64_t addr = 0, size;

		if (elf_symbols_lookup(syms, mm_optional_symbol_table[i].name, &addr, &size) != 0 ||
		    (size != 0 && size != mm_optional_symbol_table[i].size))
			addr = 0;
		memcpy((char *)out + mm_optional_symbol_table[i].field, &addr, sizeof(addr));
	}
}

bool mm_symbols_from_elf(const struct elf_symbols *syms, struct mm_symbols *out,
			 char *missing, size_t missing_len)
{
	for (size_t i = 0; i < sizeof(mm_symbol_table) / sizeof(mm_symbol_table[0]); i++) {
		uint64_t addr, size, want = mm_symbol_table[i].size;

		if (elf_symbols_lookup(syms, mm_symbol_table[i].name, &addr, &size) != 0) {
			snprintf(missing, missing_len, "%s", mm_symbol_table[i].name);
			return false;
		}
		/* size 0: the symbol did not say (hand-written assembly); trust the name */
		if (size != 0 && size != want) {
			snprintf(missing, missing_len, "%s (%" PRIu64 " bytes, mm_structs.h says %" PRIu64 ")",
				 mm_symbol_table[i].name, size, want);
			return false;
		}
		memcpy((char *)out + mm_symbol_table[i].field, &addr, sizeof(addr));
	}
	optional_symbols(syms, out);
	return true;
}

/* Address bits MAXPHYADDR..51 of an entry: reserved (Intel SDM 4.5). */
static uint64_t reserved_address_bits(const struct check_mem *mem)
{
	unsigned m = mem->maxphyaddr;

	if (m < 32 || m > 52)
		m = 52;
	return ((1ull << 52) - 1) & ~((1ull << m) - 1);
}

/*
 * Maps from this size up are anonymous mappings of their own. Under
 * AddressSanitizer every map stays a heap block, which it guards.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ZALLOC_MMAP_MIN SIZE_MAX
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZALLOC_MMAP_MIN SIZE_MAX
#endif
#endif
#ifndef ZALLOC_MMAP_MIN
#define ZALLOC_MMAP_MIN (128u << 10)
#endif

void *check_map_zalloc(size_t bytes)
{
	void *map;

	if (bytes < ZALLOC_MMAP_MIN)
		return calloc(1, bytes ? bytes : 1);
	map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	/* touched sparsely: a huge page would be cleared whole for a few bits */
	madvise(map, bytes, MADV_NOHUGEPAGE);
	return map;
}

void check_map_free(void *map, size_t bytes)
{
	if (map == NULL)
		return;
	if (bytes < ZALLOC_MMAP_MIN)
		free(map);
	else
		munmap(map, bytes);
}

/* Bytes of the per-check maps. */
static size_t table_slot_bytes(const struct checker *c)
{
	return (c->view.ram_pages + 1) * sizeof(*c->table_slot);
}

static size_t embed_ok_bytes(const struct checker *c)
{
	return (c->view.npages / 64 + 1) * sizeof(*c->embed_ok);
}

/* referenced and entered: a bit per page of RAM */
static size_t ram_bitmap_bytes(const struct checker *c)
{
	return (c->view.ram_pages / 64 + 1) * sizeof(uint64_t);
}

/* Host-side maps sized from validated counts; false when out of memory. */
static bool checker_alloc(struct checker *c)
{
	c->table_slot = check_map_zalloc(table_slot_bytes(c));
	c->embed_ok = check_map_zalloc(embed_ok_bytes(c));
	c->referenced = check_map_zalloc(ram_bitmap_bytes(c));
	c->entered = check_map_zalloc(ram_bitmap_bytes(c));
	return c->table_slot != NULL && c->embed_ok != NULL && c->referenced != NULL && c->entered != NULL;
}

static void checker_free(struct checker *c)
{
	check_map_free(c->table_slot, table_slot_bytes(c));
	check_map_free(c->embed_ok, embed_ok_bytes(c));
	check_map_free(c->referenced, ram_bitmap_bytes(c));
	check_map_free(c->entered, ram_bitmap_bytes(c));
	mm_view_free(&c->view);
	free(c->tables);
	free(c);
}

/*
 * The page tables alone (instant checks): no model (its log is the next
 * checkpoint's to drain), no counts, lists or caches another CPU may be
 * halfway through changing.
 */
static bool checker_instant_passes(struct checker *c)
{
	c->stats.stopped = c->view.stopped;
	c->stats.pages = c->view.pages_read;
	if (check_work(c, c->view.pages_read))
		return true;
	return check_page_tables(c);
}

/*
 * Runs the passes in dependency order; false when host memory ran out.
 * A stopped pass leaves its results partial: the passes that build on
 * them are skipped rather than run into false reports.
 */
static bool checker_passes(struct checker *c)
{
	c->stats.stopped = c->view.stopped;
	c->stats.pages = c->view.pages_read;
	if (check_work(c, c->view.pages_read))
		return true;
	check_locks(c);
	check_cpus(c);
	check_model_begin(c);
	if (!check_page_tables(c))
		return false;
	check_model_end(c);
	if (c->stats.stopped)
		return true;
	check_ptp_cache(c);
	if (c->stats.stopped)
		return true;
	check_page_pool(c);
	if (c->stats.stopped)
		return true;
	check_steal_index(c);
	if (c->stats.stopped)
		return true;
	if (!check_mapping_lists(c))
		return false;
	check_object_caches(c);
	return true;
}

unsigned checker_run(const struct check_mem *mem, const struct mm_symbols *sym,
		     struct report *report, const char *label, struct check_stats *stats_out)
{
	struct check_stats stats;
	unsigned count;

	if (report)
		report_begin_check(report, label);
	count = checker_run_into(mem, sym, report, &stats);
	if (report)
		report_end_check(report, &stats);
	if (stats_out)
		*stats_out = stats;
	return count;
}

static unsigned run_into(const struct check_mem *mem, const struct mm_symbols *sym,
			 struct report *report, struct check_stats *stats_out, bool instant);

unsigned checker_run_into(const struct check_mem *mem, const struct mm_symbols *sym,
			  struct report *report, struct check_stats *stats_out)
{
	return run_into(mem, sym, report, stats_out, false);
}

unsigned checker_run_instant_into(const struct check_mem *mem, const struct mm_symbols *sym,
				  struct report *report, struct check_stats *stats_out)
{
	return run_into(mem, sym, report, stats_out, true);
}

static unsigned run_into(const struct check_mem *mem, const struct mm_symbols *sym,
			 struct report *report, struct check_stats *stats_out, bool instant)
{
	struct checker *c = calloc(1, sizeof(*c));
	struct check_stats stats = { 0 };
	uint64_t count = 0;
	bool ok = false;

	if (c != NULL) {
		c->sink.report = report;
		c->frame_mask = reader_frame_mask(mem);
		c->rsvd_mask = reserved_address_bits(mem);
		c->sink.max_count = REPORT_MAX_VIOLATIONS + (mem->ram_size >> MM_PAGE_SHIFT);
		c->sink.only = instant ? CHECK_INSTANT_IDS : 0;
		c->instant = instant;
		if (mm_view_load(&c->view, mem, sym, &c->sink)) {
			ok = checker_alloc(c) && (instant ? checker_instant_passes(c) : checker_passes(c));
		} else {
			free(c);
			c = NULL;
		}
	}
	if (!ok)
		fprintf(stderr, "vmm: checker: out of host memory, check incomplete\n");
	if (c != NULL) {
		stats = c->stats;
		count = c->sink.count;
		checker_free(c);
	}
	if (stats_out)
		*stats_out = stats;
	return count > UINT_MAX ? UINT_MAX : (unsigned)count;
}
