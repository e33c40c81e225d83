/* SPDX-License-Identifier: BSD-2-Clause */
/* The invariant checker: validates the guest's page tables and mapping lists against include/hatvm/invariants.h. */
#ifndef VMM_CHECKER_H
#define VMM_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check_mem.h"
#include "elf_symbols.h"
#include "report.h"

/* Guest VAs of the MM's variables (names and types in hatvm/mm_structs.h). */
struct mm_symbols {
	uint64_t page_array;          /* GPTR(struct page) */
	uint64_t page_count;          /* uint64_t */
	uint64_t page_first_managed;  /* uint64_t */
	uint64_t hment_hash;          /* struct hment_hash */
	uint64_t hment_hash_locks;    /* struct hment_hash_stripe[HMENT_HASH_NLOCK] */
	uint64_t hment_mlist_locks;   /* struct mm_lock_line[HMENT_MLIST_NLOCK] */
	uint64_t hment_reserve;       /* struct hment_reserve */
	uint64_t hat_kas;             /* struct hat */
	uint64_t hat_list;            /* GPTR(struct hat) */
	uint64_t segtab_ptp_cache;    /* struct ptp_cache */
	uint64_t hat_oplog;           /* struct hat_oplog; 0: the guest has none (no model) */
	uint64_t page_pool;           /* struct page_pool; 0: none (no PG_* checks) */
	uint64_t hat_list_lock;       /* struct mm_lock; 0: none */
	uint64_t hment_listed;        /* struct hment_listed; 0: none (no RM_LISTED) */
	uint64_t hment_cache;         /* struct objcache; 0: none (no OC_LEAK of hments) */
	uint64_t hat_cache;           /* struct objcache; 0: none (no OC_LEAK of address spaces) */
	uint64_t hat_cpu;             /* GPTR(struct hat)[HAT_MAX_CPUS]; 0: none (no ST_CPUS) */
	uint64_t hat_tlb_flushed;     /* struct hat_tlb_flushed[HAT_MAX_CPUS]; 0: none (no TLB_STALE) */
	uint64_t hment_short_listed;  /* struct hment_short_count[HAT_MAX_CPUS]; 0: none (not counted) */
};

/*
 * Fills *out from guest.elf's symbol table. Returns false when a symbol
 * is missing or its size contradicts mm_structs.h; `missing` then names
 * it (vmm then runs with checks skipped and says so once). Called by vmm
 * at start-up and by check-core.
 */
bool mm_symbols_from_elf(const struct elf_symbols *syms, struct mm_symbols *out,
			 char *missing, size_t missing_len);

/*
 * Runs every invariant of the catalogue over the guest memory MEM (the
 * guest paused) as one check named LABEL in REPORT (NULL: only counted).
 * Hostile memory yields violations, never a crash or an unbounded walk.
 * Fills *stats_out when not NULL. Returns the number of violations.
 * Called from vmm's checkpoint hook, by check-core and by tests.
 */
unsigned checker_run(const struct check_mem *mem, const struct mm_symbols *sym,
		     struct report *report, const char *label, struct check_stats *stats_out);

/*
 * checker_run() into the check the caller opened in REPORT, left open so
 * the caller can add findings of its own (vmm's walker comparison) and
 * close it with *stats_out.
 */
unsigned checker_run_into(const struct check_mem *mem, const struct mm_symbols *sym,
			  struct report *report, struct check_stats *stats_out);

/*
 * The invariants that hold at every instant, whatever each CPU is doing
 * inside the MM: the page tables' own format, which the hardware may
 * walk at any moment. Every PTE is written whole by one 8-byte store or
 * compare-and-swap, a table page is made ready before the entry that
 * points at it, so between two instructions no entry is half-made.
 * Counts, mapping lists, the hash, the caches and the model change in
 * several steps under locks and are judged at checkpoints only.
 */
#define CHECK_INSTANT_IDS ((1ull << INV_PT_PTP_RANGE) | (1ull << INV_PT_RSVD) |          \
			   (1ull << INV_PT_LARGE_ALIGN) | (1ull << INV_PT_NONLEAF) |      \
			   (1ull << INV_PT_DIRTY_ACCESSED))

/*
 * checker_run_into() of the instant invariants alone (--check=async):
 * the guest was stopped wherever it was, perhaps inside an operation.
 */
unsigned checker_run_instant_into(const struct check_mem *mem, const struct mm_symbols *sym,
				  struct report *report, struct check_stats *stats_out);

/*
 * Attaches the host's model of what should be mapped (hat_model.h) to
 * this process's checks (NULL: none, the default): each check drains the
 * guest's HAT operation log into it and compares it with the page tables
 * (MD_*). It must see every check of one guest run from its start: a
 * check that finds records it missed rebuilds the model from the tables
 * and compares nothing that time.
 */
struct hat_model;
void checker_use_model(struct hat_model *m);

/*
 * TEST ONLY: violations of every ID whose bit (1 << id) is set in MASK
 * are dropped as if that invariant were never checked, so tests can show
 * that --inject notices a checker that misses its corruption. Process-wide;
 * 0 (the default) checks everything.
 */
void checker_set_disabled(uint64_t mask);

/*
 * The stop request (check_stop.c): a process-wide flag. A check in
 * progress polls it every few thousand units of work and, once it is
 * set, ends early with its record marked incomplete (stats.stopped,
 * JSON "complete": false). checker_request_stop() is async-signal-safe:
 * vmm's watchdog and signal handlers call it. The flag stays set (every
 * later check stops at once) until checker_clear_stop().
 */
void checker_request_stop(void);
void checker_clear_stop(void);
bool checker_stop_requested(void);

#endif
