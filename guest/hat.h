/* SPDX-License-Identifier: BSD-2-Clause */
/* Address spaces (the HAT): create/destroy, memload (one page, a range, a dup)/unload/pageunload/chgprot/getpfnum/pagesync/switch, TLB invalidation. */
#ifndef GUEST_HAT_H
#define GUEST_HAT_H

#include "hment.h"
#include "page.h"
#include "segtab.h"

/* hat_memload / hat_devload / hat_chgprot attributes: HAT_* in hatvm/mm_structs.h. */

/* hat_pagesync flags. */
#define HAT_SYNC_CLEAR 0x1u    /* clear A/D in the PTEs after collecting them */

#define HAT_PFN_INVALID UINT64_MAX
#define HAT_TLB_BATCH   32u    /* more pages than this in one operation: one full flush */

/* A piece of the kernel image: mapped at KERNEL_BASE + pa with attr (HAT_READ/WRITE/EXEC). */
struct hat_kseg {
	uint64_t pa_start;
	uint64_t pa_end;
	unsigned attr;
};

extern struct hat hat_kas;      /* the kernel address space */
extern struct hat *hat_cpu[HAT_MAX_CPUS];   /* the space each CPU has loaded (ST_CPUS) */
extern struct hat *hat_list;    /* every address space, hat_kas first */
extern struct objcache hat_cache;   /* where the others come from (OC_LEAK counts them) */

/*
 * OC_LEAK, asserted where no MM operation is in progress on any CPU (a
 * checkpoint): every address space the cache handed out is on hat_list,
 * every hment on a mapping list or on the reserve.
 */
void hat_assert_accounted(void);

/*
 * TLB shootdown: asks the CPUs in the bit mask `cpus` (never this one)
 * to run hat_tlb_run(h, gen, va, npages) and returns once they have:
 * the flush of generation gen of h's changes, va .. va + npages pages
 * (npages <= HAT_TLB_BATCH), or everything when npages is 0. Set by the
 * platform (IPIs) when it has more than one CPU; NULL means there is
 * nobody else to tell. The HAT calls it after changing the tables and
 * before a freed page or table page can be reused: the CPUs are those the
 * space is loaded on (hat_switch keeps that set), every CPU for the
 * kernel space.
 */
extern void (*mm_tlb_shootdown_hook)(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va,
				     uint64_t npages);

/*
 * A shootdown request run on this CPU: INVLPG of its pages, or a full
 * flush when it asks for everything or when this CPU has not flushed
 * every generation of h before gen (the pages would not cover those).
 * Records what this CPU has flushed (TLB_STALE). True: it flushed
 * everything.
 */
bool hat_tlb_run(struct hat *h, uint64_t gen, uint64_t va, uint64_t npages);

/* What each CPU's TLB has flushed (the checker reads it: TLB_STALE). */
extern struct hat_tlb_flushed hat_tlb_flushed[HAT_MAX_CPUS];

/* Test switch: the HAT forgets its own CPU's INVLPGs and full flushes (TLB_STALE must fire). */
extern bool hat_tlb_skip_local;

/* TLB work of this CPU's HAT calls, all CPUs (the receivers of shootdowns count theirs). */
struct hat_tlb_counts {
	uint64_t invlpg;       /* pages invalidated here by INVLPG */
	uint64_t full;         /* full flushes here */
	uint64_t shootdowns;   /* requests to other CPUs */
};
extern struct hat_tlb_counts hat_tlb_counts;

/*
 * Builds the memory manager and the kernel address space; boot CPU,
 * once, still on the host's boot tables (identity map of RAM). Maps all
 * RAM at DIRECT_MAP_BASE (2 MiB pages, and installs that into the boot
 * PML4 too, so pa_to_kva() works at once), each segs[i] at KERNEL_BASE +
 * pa, pre-allocates the kernel-half tables, then carves page_t array and
 * hment hash from first_free_pa up and frees the rest of RAM. Load it
 * with hat_switch(&hat_kas) afterwards.
 */
void hat_kernel_init(uint64_t ram_size, uint64_t first_free_pa,
		     const struct hat_kseg *segs, unsigned nsegs);

/* Returns a new address space sharing the kernel half, or NULL when out of memory. Any CPU. */
struct hat *hat_create(void);

/* Unloads everything of h, frees its tables and h itself. h must be loaded on no CPU. */
void hat_destroy(struct hat *h);

/* hat_memload / hat_devload failures. */
#define HAT_ERR_NOMEM          (-1)  /* no page for a table or no hment: nothing is mapped at va now, no table left empty */
#define HAT_ERR_KERNEL_MANAGED (-2)  /* refused: a managed page in the kernel's KMAP window (nothing changed) */

/*
 * Maps pp at va in h (4 KiB, or 2 MiB with HAT_LARGE and pp the first of
 * 512 aligned pages) with attr; replaces whatever was mapped there (a
 * whole 2 MiB mapping if va lies inside one). With HAT_LOCK the mapping
 * is locked: no steal takes it (nor any mapping in its table) until
 * hat_memunlock or an unload. Returns 0 or a HAT_ERR_*: HAT_ERR_NOMEM
 * when no page was left for a table or no hment could be had (every
 * mapping left locked or busy), HAT_ERR_KERNEL_MANAGED for a managed
 * page in the kernel space (the direct map already reaches it; a KMAP
 * mapping would be on no mapping list, invisible to hat_pageunload and
 * page_free). Any CPU.
 */
int hat_memload(struct hat *h, uint64_t va, page_t *pp, unsigned attr);

/* hat_memload() for a frame number (RAM or not); only managed frames are tracked. */
int hat_devload(struct hat *h, uint64_t va, uint64_t pfn, unsigned attr);

/*
 * Range load (illumos's hat_memload_array): maps the len / 4 KiB pages
 * pps[0], pps[1], ... at va, va + 4 KiB, ... of the user space h with
 * attr (no HAT_LARGE), each as hat_memload() would: it replaces what was
 * there, goes on its page's mapping list and gets its own HOP_LOAD log
 * record. One table walk, lock hold and count update per run of up to
 * 64 pages of one 4 KiB table, and no TLB flush for an empty entry.
 * Returns 0, or HAT_ERR_NOMEM when a table page or an hment could not be
 * had: then [va, the page that failed] is unloaded again (tables it made
 * freed), so a range that was empty before is empty after; a mapping it
 * had replaced there is not restored. Any CPU.
 */
int hat_memload_array(struct hat *h, uint64_t va, uint64_t len, page_t **pps, unsigned attr);

/*
 * Range share (illumos's hat_dup), fork's shape: every leaf src has in
 * [va, va + len) (4 KiB and 2 MiB, which the range must cover whole) is
 * mapped at the same va in dst, same frame, with protection attr
 * (HAT_PROT_MASK bits, HAT_LOCK) and the leaf's own memory type. Only
 * src's present tables are visited, each once; the copies go in as
 * hat_memload_array's do (a HOP_LOAD record each). dst and src are two
 * user spaces. Returns 0, or HAT_ERR_NOMEM, with [va, the leaf that
 * failed] of dst unloaded again: dst should map nothing there before
 * (a new child), as then it maps nothing there after. Any CPU: each
 * copy is made under its page's list lock, after checking that src
 * still maps the page, so a hat_pageunload of it on another CPU either
 * comes first (no copy) or removes the copy too.
 */
int hat_dup(struct hat *dst, struct hat *src, uint64_t va, uint64_t len, unsigned attr);

/* Unlocks the locked mappings in [va, va + len) of h (a 2 MiB mapping must be covered whole). */
void hat_memunlock(struct hat *h, uint64_t va, uint64_t len);

/* Unmaps [va, va + len) of h; a 2 MiB mapping must be covered whole. Frees emptied tables. */
void hat_unload(struct hat *h, uint64_t va, uint64_t len);

/* Unmaps every mapping of pp (in any address space); returns how many. Any CPU. */
unsigned hat_pageunload(page_t *pp);

/* Sets the protection of the mappings in [va, va + len) of h to attr (HAT_PROT_MASK bits). */
void hat_chgprot(struct hat *h, uint64_t va, uint64_t len, unsigned attr);

/* Returns the pfn va maps in h, or HAT_PFN_INVALID. */
uint64_t hat_getpfnum(struct hat *h, uint64_t va);

/*
 * Returns how many mappings pp has: its 4 KiB ones and the 2 MiB ones
 * covering it (hment_mapcnt), logged so the host can judge the answer.
 */
unsigned hat_getmapcnt(page_t *pp);

/* Returns the leaf PTE that maps va in h (0 when none). */
uint64_t hat_getpte(struct hat *h, uint64_t va);

/*
 * Collects the accessed/dirty bits of pp's mappings into its p_attr
 * (PG_ATTR_REF / PG_ATTR_MOD), with HAT_SYNC_CLEAR also clearing them in
 * the PTEs; returns p_attr.
 */
unsigned hat_pagesync(page_t *pp, unsigned flags);

/* Clears PG_ATTR_* bits of pp. */
void hat_page_clrattr(page_t *pp, unsigned attr);

/* Loads h's tables on this CPU. */
void hat_switch(struct hat *h);

/* The address space loaded on this CPU (NULL before the first hat_switch). */
struct hat *hat_current(void);

/*
 * For hment stealing: unloads the mapping (ptp, entry) of pp, whose
 * mapping-list lock the caller holds. Returns its hment (NULL if it was
 * the embedded one).
 */
hment_t *hat_mapping_unload(page_t *pp, page_t *ptp, unsigned entry);

#endif
