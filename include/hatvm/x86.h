/* SPDX-License-Identifier: BSD-2-Clause */
/* x86-64 paging for guest, host and tests: PTE, CR0/CR4/EFER bits, the 4-level VA layout, canonical and table-entry VAs. */
#ifndef HATVM_X86_H
#define HATVM_X86_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Virtual address layout (4-level paging, 4 KiB base pages):
 *
 *   63       48 47      39 38      30 29      21 20      12 11         0
 *  +-----------+----------+----------+----------+----------+------------+
 *  | sign ext. |  PML4    |  PDPT    |   PD     |   PT     |  offset    |
 *  | of bit 47 | level 4  | level 3  | level 2  | level 1  |            |
 *  +-----------+----------+----------+----------+----------+------------+
 *
 * A table page at level L holds 512 entries; one entry at level L maps
 * 1 << MM_LEVEL_SHIFT(L) bytes (4 KiB, 2 MiB, 1 GiB, 512 GiB). A level-2
 * entry with PTE_PS is a 2 MiB leaf, a level-3 one a 1 GiB leaf. The MM_
 * prefix is kept because the MM's table tree is the hardware's.
 */
#define MM_PAGE_SHIFT      12
#define MM_PAGE_SIZE       (1ull << MM_PAGE_SHIFT)
#define MM_LARGE_SHIFT     21
#define MM_LARGE_SIZE      (1ull << MM_LARGE_SHIFT)
#define MM_LARGE_PAGES     512u          /* 4 KiB pages in one 2 MiB page */
#define MM_PTES            512u          /* entries per table page */
#define MM_LEVELS          4u
#define MM_LEVEL_SHIFT(l)  (12u + 9u * ((l) - 1u))
#define MM_VA_INDEX(va, l) ((unsigned)(((va) >> MM_LEVEL_SHIFT(l)) & (MM_PTES - 1)))

#define X86_VA_BITS        48u           /* bits 63..48 copy bit 47 */

/* Page-table entry bits (all levels; PTE_PS only in levels 2 and 3). */
#define PTE_P        (1ull << 0)    /* present */
#define PTE_W        (1ull << 1)    /* writable (R/W) */
#define PTE_U        (1ull << 2)    /* user-accessible (U/S) */
#define PTE_PWT      (1ull << 3)    /* write-through */
#define PTE_PCD      (1ull << 4)    /* cache disable */
#define PTE_A        (1ull << 5)    /* accessed (set by the CPU) */
#define PTE_D        (1ull << 6)    /* dirty (leaves, set by the CPU) */
#define PTE_PS       (1ull << 7)    /* large leaf (levels 2 and 3) */
#define PTE_G        (1ull << 8)    /* global */
#define PTE_NX       (1ull << 63)   /* no execute (when EFER.NXE is on; reserved otherwise) */
#define PTE_FRAME    0x000ffffffffff000ull   /* frame address of 4 KiB leaves and tables (MAXPHYADDR 52) */
#define PTE_LFRAME   0x000fffffffe00000ull   /* frame address of 2 MiB leaves */

/* Control-register and EFER bits the VMM sets for long mode at entry. */
#define CR0_PE       (1ull << 0)    /* protected mode */
#define CR0_NE       (1ull << 5)    /* native FPU errors */
#define CR0_WP       (1ull << 16)   /* supervisor writes honour read-only pages */
#define CR0_PG       (1ull << 31)   /* paging */
#define CR4_PAE      (1ull << 5)    /* physical address extension (needed for long mode) */
#define EFER_LME     (1ull << 8)    /* long mode enable */
#define EFER_LMA     (1ull << 10)   /* long mode active */
#define EFER_NXE     (1ull << 11)   /* PTE_NX enabled */

/* Bytes one entry of a table at level l maps. */
static inline uint64_t mm_level_size(unsigned l)
{
	return 1ull << MM_LEVEL_SHIFT(l);
}

/* VA with bits 63..48 set to copies of bit 47: the canonical form of a 48-bit VA. */
static inline uint64_t x86_va_sign_extend(uint64_t va)
{
	return (uint64_t)((int64_t)(va << (64 - X86_VA_BITS)) >> (64 - X86_VA_BITS));
}

/* True when bits 63..48 of va copy bit 47 (the CPU faults on any other VA). */
static inline bool x86_va_canonical(uint64_t va)
{
	return x86_va_sign_extend(va) == va;
}

/*
 * First VA that entry e of a table page at level maps, given first_va,
 * the first VA its entry 0 maps. Canonical, so entries 256..511 of a
 * PML4 land in the upper half.
 */
static inline uint64_t x86_table_entry_va(uint64_t first_va, unsigned level, unsigned e)
{
	return x86_va_sign_extend(first_va + ((uint64_t)e << MM_LEVEL_SHIFT(level)));
}

#endif
