/* SPDX-License-Identifier: BSD-2-Clause */
/* Page-table pages of an address space, after NetBSD's pmap_segtab: the x86-64 4-level tables are the tree. */
#ifndef GUEST_SEGTAB_H
#define GUEST_SEGTAB_H

#include "page.h"

typedef uint64_t pte_t;

extern struct ptp_cache segtab_ptp_cache;

/*
 * Test hook: called by segtab_reserve() after it allocated a table page
 * and before it installs it with compare-and-swap, as if another CPU
 * were reserving the same va right then. NULL in the guest.
 */
extern void (*segtab_race_hook)(struct hat *h, uint64_t va);

struct segtab_stats {
	uint64_t ptp_new;      /* table pages taken from the page allocator */
	uint64_t ptp_cached;   /* table pages taken from the cache */
	uint64_t ptp_freed;    /* table pages freed (to the cache or allocator) */
	uint64_t cas_lost;     /* reserves that lost the install race */
	uint64_t examined;     /* non-empty table entries a range walk looked at one by one (ptp_scan) */
};
extern struct segtab_stats segtab_stats;

/* The 512 entries of a table page. */
static inline pte_t *ptp_table(const page_t *ptp)
{
	return page_kva(ptp);
}

static inline bool va_in_user(uint64_t va)
{
	return va < USER_TOP;
}

/* First VA that entry idx of table page ptp maps. */
static inline uint64_t ptp_entry_va(const page_t *ptp, unsigned idx)
{
	return x86_table_entry_va(ptp->p_ptva, ptp->p_level, idx);
}

/* Index of entry pte inside its table page. */
static inline unsigned pte_index(const pte_t *pte)
{
	return (unsigned)(((uintptr_t)pte & (MM_PAGE_SIZE - 1)) / sizeof(pte_t));
}

static inline pte_t pte_load(const pte_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void pte_store(pte_t *p, pte_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* pfn a present leaf maps (for a 2 MiB leaf: its first page). */
static inline uint64_t pte_pfn(pte_t v)
{
	return (v & PTE_FRAME) >> MM_PAGE_SHIFT;
}

/* One more present entry in ptp (PT_VALID_CNT). */
static inline void ptp_valid_inc(page_t *ptp)
{
	uint16_t old = __atomic_fetch_add(&ptp->p_valid, 1, __ATOMIC_RELAXED);

	MM_ASSERT(PT_VALID_CNT, old < MM_PTES);
}

/* One present entry fewer; the caller's last access to ptp, which may be freed right after. */
static inline void ptp_valid_dec(page_t *ptp)
{
	uint16_t old = __atomic_fetch_sub(&ptp->p_valid, 1, __ATOMIC_RELEASE);

	MM_ASSERT(PT_VALID_CNT, old > 0);
}

/*
 * Busy tables (illumos's ht_busy): an operation that holds on to a table
 * page across a point where it may be stolen from (hat_memload between
 * reserving the table and recording the new leaf, which may allocate
 * and steal) marks it busy. Steals skip its mappings and pruning leaves
 * it in place even when it is empty. Counted by atomic adds: loads
 * under a space's shared lock hold one table busy from several CPUs at
 * once. Steals read it under a mapping-list lock the holder takes after
 * marking the table.
 */
static inline void ptp_busy_hold(page_t *ptp)
{
	__atomic_fetch_add(&ptp->p_busy, 1, __ATOMIC_ACQ_REL);
}

static inline void ptp_busy_release(page_t *ptp)
{
	uint16_t old = __atomic_fetch_sub(&ptp->p_busy, 1, __ATOMIC_ACQ_REL);

	MM_REQUIRE(old > 0);
}

static inline bool ptp_busy(const page_t *ptp)
{
	return __atomic_load_n(&ptp->p_busy, __ATOMIC_ACQUIRE) != 0;
}

/* Locked leaves in ptp (ST_LOCKED): a steal takes nothing from a table that has any. */
static inline bool ptp_locked(const page_t *ptp)
{
	return __atomic_load_n(&ptp->p_lockcnt, __ATOMIC_ACQUIRE) != 0;
}

/*
 * The present entries [from, to) of one table page, in order. Empty
 * entries are skipped a block at a time (mm_find_nonzero); it stops
 * once it has seen as many as the valid count said at the start: under
 * h's lock entries only disappear, so none is missed, and an empty table
 * costs nothing. For a user address space's PML4 the kernel-half entries
 * are not counted when the range is in the user half.
 */
struct ptp_scan {
	const pte_t *t;
	unsigned i, end, left;
	uint64_t seen;      /* entries looked at, added to segtab_stats.examined at the end */
};
void ptp_scan_init(struct ptp_scan *s, const page_t *ptp, unsigned from, unsigned to);

/* Next present entry's index (its value in *vp), or -1 when none is left (call until then). */
int ptp_scan_next(struct ptp_scan *s, pte_t *vp);

/* Empties the table-page cache and the stats; boot only. */
void segtab_init(void);

/*
 * This CPU holds h's lock shared from now until segtab_shared_end(): its
 * walks of h may use and set the walk hint, as the exclusive holder's do.
 */
void segtab_shared_begin(const struct hat *h);
void segtab_shared_end(void);

/*
 * Returns the entry for va at level *levelp (in: the level wanted), or
 * NULL when a table on the way is missing. Stops early at a 2 MiB leaf
 * and then sets *levelp to 2. *ptpp gets the table page holding the
 * entry. The caller holds h's lock or knows the tables cannot go away.
 */
pte_t *segtab_walk(struct hat *h, uint64_t va, unsigned *levelp, page_t **ptpp);

/*
 * Returns the entry for va at level (1: 4 KiB leaf, 2: 2 MiB leaf),
 * allocating missing table pages and installing them with
 * compare-and-swap (a loser returns its page). NULL when no page is left.
 * No 2 MiB leaf may lie on the way. Kernel-half PML4 entries are never
 * created here. Caller holds h's lock (pruning may not run meanwhile).
 */
pte_t *segtab_reserve(struct hat *h, uint64_t va, unsigned level, page_t **ptpp);

/*
 * Called by segtab_process() for each leaf-bearing run in [va, eva):
 * level 1: the entries of the 4 KiB table ptp from va up to eva (one
 * table page at most); level 2: the single 2 MiB leaf holding va, where
 * [va, eva) is the part of the range inside it.
 */
typedef void (*segtab_fn)(struct hat *h, page_t *ptp, unsigned level,
			  uint64_t va, uint64_t eva, void *arg);

/* Calls fn over [sva, eva), visiting only present entries. Caller holds h's lock. */
void segtab_process(struct hat *h, uint64_t sva, uint64_t eva, segtab_fn fn, void *arg);

/*
 * segtab_process() that also detaches, in the same walk and bottom up,
 * each table page under [sva, eva) left with valid count 0, returning
 * them as segtab_prune() does. With drain, it first waits for the count
 * of each table the range covers whole to reach 0: another CPU's
 * pageunload or steal may have cleared a leaf and not yet decremented
 * (its last access to the table). Only for ranges fn empties entirely.
 */
page_t *segtab_process_prune(struct hat *h, uint64_t sva, uint64_t eva, segtab_fn fn, void *arg,
			     bool drain);

/* Copies the kernel half of the PML4 src into top, a new user address space's PML4. */
void segtab_top_init(page_t *top, const page_t *src);

/*
 * Detaches every table page under [sva, eva) whose valid count is 0
 * (bottom up) and returns them linked through p_next, still PG_PTP, for
 * the caller to free with segtab_free_list() after flushing TLBs.
 * Kernel-half PDPTs (below PML4 entries) are never detached. Caller
 * holds h's lock.
 */
page_t *segtab_prune(struct hat *h, uint64_t sva, uint64_t eva);

/* Frees a list segtab_prune() returned; the table pages freed. */
unsigned segtab_free_list(page_t *list);

/* Returns a zeroed table page for level / va owned by h (cache first), or NULL. */
page_t *segtab_ptp_alloc(struct hat *h, unsigned level, uint64_t va);

/* Frees a table page to the cache (or allocator when full); panics unless all zero (ST_FREE_ZERO). */
void segtab_ptp_free(page_t *ptp);

/* Returns every cached table page to the page allocator. */
void segtab_cache_drain(void);

/* At most max pages stay on the cache: lowering max frees the excess at once. */
void segtab_set_cache_max(uint64_t max);

/*
 * Frees every user-half table page of h and then its PML4. Every user
 * mapping must be unloaded and every user table pruned already (see
 * segtab_process_prune) and h loaded on no CPU.
 */
void segtab_destroy(struct hat *h);

/* Boot: PA of the table at level for va under top_pa, made with page_boot_alloc() as needed. */
uint64_t segtab_boot_table(uint64_t top_pa, uint64_t va, unsigned level);

/* Boot: writes leaf as the level entry for va under top_pa. */
void segtab_boot_map(uint64_t top_pa, uint64_t va, unsigned level, pte_t leaf);

/*
 * Boot, after page_init(): marks every table page reachable from
 * h->h_top as h's PG_PTP with level, VA and valid count; sets h_nptp.
 */
void segtab_adopt(struct hat *h);

#endif
