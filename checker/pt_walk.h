/* SPDX-License-Identifier: BSD-2-Clause */
/* x86-64 4-level page-table walker over guest RAM: translate one VA, or visit every leaf of a range. */
#ifndef VMM_PT_WALK_H
#define VMM_PT_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "hatvm/x86.h"
#include "guest_mem.h"

/*
 * The VA layout and entry bits are hatvm/x86.h's. A level-3 entry with
 * PS maps 1 GiB, a level-2 entry with PS 2 MiB, a level-1 entry 4 KiB.
 * Levels are named as Linux does: pud, pmd, pte.
 */
#define PT_LEVELS        4
#define PT_LEVEL_CR3     5          /* pseudo-level: the fault is in CR3 itself */
#define PT_ENTRIES       512u
#define PT_SIZE_4K       0x1000ull
#define PT_SIZE_2M       0x200000ull
#define PT_SIZE_1G       0x40000000ull

/* Effective flags of a translation (struct pt_leaf.flags) */
#define PT_F_PRESENT     (1u << 0)
#define PT_F_WRITABLE    (1u << 1)  /* RW set at every level */
#define PT_F_USER        (1u << 2)  /* US set at every level */
#define PT_F_NX          (1u << 3)  /* NX set at some level, EFER.NXE on */
#define PT_F_GLOBAL      (1u << 4)  /* G in the leaf */
#define PT_F_LARGE       (1u << 5)  /* the leaf has PS: a 2 MiB or 1 GiB page */
#define PT_F_ACCESSED    (1u << 6)  /* A in the leaf */
#define PT_F_DIRTY       (1u << 7)  /* D in the leaf */

#define PT_DEFAULT_MAXPHYADDR  52u
#define PT_DEFAULT_MAX_ENTRIES (1ull << 24)

/* How the CPU is set up, and how much work a walk may do. All-zero means the defaults. */
struct pt_config {
	unsigned maxphyaddr;    /* 32..52; anything else means 52: entry bits from here to 51 are reserved */
	bool nxe_off;           /* EFER.NXE clear: NX is then a reserved bit */
	uint64_t max_entries;   /* pt_walk: entries examined before giving up; 0 means the default */
};

enum pt_error {
	PT_OK = 0,
	PT_ERR_NONCANONICAL,    /* VA bits 63..48 are not copies of bit 47 */
	PT_ERR_NOT_PRESENT,     /* an entry on the path has P clear */
	PT_ERR_TABLE_RANGE,     /* CR3 or a non-leaf entry points outside guest RAM */
	PT_ERR_RESERVED,        /* a reserved bit is set (above MAXPHYADDR, PS in a PML4E, NX without NXE) */
	PT_ERR_LARGE_ALIGN,     /* a 2 MiB / 1 GiB leaf's frame is not aligned to its size */
};

/* One entry of one table. */
struct pt_entry_ref {
	unsigned level;         /* 4 = PML4 .. 1 = PT; PT_LEVEL_CR3 for CR3 (gpa is then 0) */
	uint64_t gpa;           /* where the entry lives */
	uint64_t value;         /* its contents, as read once */
	uint64_t va;            /* first (canonical) VA the entry covers */
};

/* A present leaf: one page of 4 KiB, 2 MiB or 1 GiB. */
struct pt_leaf {
	struct pt_entry_ref entry;
	uint64_t pa;            /* the page's first physical address */
	uint64_t size;          /* PT_SIZE_4K, PT_SIZE_2M or PT_SIZE_1G */
	uint32_t flags;         /* PT_F_* */
};

/* An entry the hardware would fault on (besides a plain non-present one). */
struct pt_fault {
	struct pt_entry_ref entry;
	enum pt_error error;
	uint64_t bad_bits;      /* PT_ERR_RESERVED / PT_ERR_LARGE_ALIGN: the offending bits */
};

struct pt_translation {
	uint64_t pa;            /* the physical address of the VA (PT_OK) */
	struct pt_leaf leaf;    /* the leaf that maps it (PT_OK) */
	struct pt_fault fault;  /* where the walk stopped (any other result) */
};

/* Callbacks of pt_walk; any may be NULL. A non-zero return stops the walk. */
struct pt_walk_ops {
	int (*leaf)(void *ctx, const struct pt_leaf *leaf);
	int (*fault)(void *ctx, const struct pt_fault *fault);
	/* a table page about to be read; `via` is the entry pointing at it (level PT_LEVEL_CR3 for the PML4) */
	int (*table)(void *ctx, unsigned level, uint64_t gpa, const struct pt_entry_ref *via);
};

enum pt_walk_result {
	PT_WALK_DONE = 0,
	PT_WALK_STOPPED,        /* a callback returned non-zero */
	PT_WALK_TRUNCATED,      /* config.max_entries were examined before the end */
};

struct pt_walk_stats {
	uint64_t tables;        /* table pages read (the same page may count more than once) */
	uint64_t entries;       /* entries examined */
	uint64_t leaves;        /* present leaves reported */
	uint64_t faults;        /* bad entries reported */
};

/* Short name of an error ("reserved bit set"). Any thread. */
const char *pt_error_string(enum pt_error err);

/* Linux's name for a level: "pte", "pmd", "pud", "pgd", "cr3". Any thread. */
const char *pt_level_name(unsigned level);

/*
 * Translates VA through the tables at CR3 (cfg NULL: defaults), reading
 * guest RAM only through gm. Returns PT_OK with out->pa and out->leaf set,
 * or the error with out->fault naming the entry where the walk stopped.
 * The caller must keep the guest paused (or accept a racy answer).
 */
enum pt_error pt_translate(const struct guest_mem *gm, const struct pt_config *cfg, uint64_t cr3,
			   uint64_t va, struct pt_translation *out);

/*
 * Visits, in ascending VA order, every present leaf whose pages intersect
 * [va_start, va_last] (inclusive, so the top of the address space can be
 * named; the non-canonical hole is skipped). Non-present entries and their
 * subtrees are skipped silently; entries that would fault go to ops->fault
 * and their subtrees are skipped. Examines at most cfg->max_entries entries.
 * Returns how the walk ended; stats (may be NULL) says what it saw.
 */
enum pt_walk_result pt_walk(const struct guest_mem *gm, const struct pt_config *cfg, uint64_t cr3,
			    uint64_t va_start, uint64_t va_last, const struct pt_walk_ops *ops,
			    void *ctx, struct pt_walk_stats *stats);

#endif
