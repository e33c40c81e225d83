/* SPDX-License-Identifier: BSD-2-Clause */
/* What the replay engine's files share: allocation that reclaims, regions, anonymous pages, the page cache, processes. */
#ifndef GUEST_REPLAY_INT_H
#define GUEST_REPLAY_INT_H

#include "hat.h"
#include "replay.h"

#define RPAGE       MM_PAGE_SIZE
#define RPAGE_MASK  (MM_PAGE_SIZE - 1)

static inline uint64_t rp_vpn(uint64_t va)
{
	return va >> MM_PAGE_SHIFT;
}

/* --- memory: every allocation may reclaim (replay_reclaim.c) --- */

/* Keeps reclaim away from pfn until rp_unpin(). */
void rp_pin(struct replay *r, uint64_t pfn);
void rp_unpin(struct replay *r, uint64_t pfn);

/* A zeroed PG_USER page owned by `owner` (ROWN_* word), reclaiming if needed; NULL when nothing is left. */
page_t *rp_page(struct replay *r, uint64_t owner);
/* Frees a page the engine owned: it must have no mappings left. */
void rp_page_free(struct replay *r, page_t *pp);
void rp_set_owner(struct replay *r, uint64_t pfn, uint64_t owner);

/* An object of oc, reclaiming if needed; NULL when nothing is left. */
void *rp_obj(struct replay *r, struct objcache *oc);
/* A parray word, made when missing, reclaiming if needed; NULL when nothing is left. */
uint64_t *rp_word(struct replay *r, struct parray *a, uint64_t index);
/* hat_memload(), reclaiming for table pages; on failure va is left unmapped. */
int rp_map(struct replay *r, struct rproc *p, uint64_t va, page_t *pp, unsigned attr);
/* hat_dup(), reclaiming for table pages and hments; on failure dst maps nothing new in the range. */
int rp_dup(struct replay *r, struct hat *dst, struct hat *src, uint64_t va, uint64_t len, unsigned attr);
struct hat *rp_hat_create(struct replay *r);

/* Takes back up to `want` pages with the clock; returns how many. */
unsigned replay_reclaim(struct replay *r, unsigned want);

/* --- regions (replay_vma.c) --- */

struct rvma *vma_find(struct rproc *p, uint64_t va);
/* Splits the region containing addr (strictly inside) in two; false when out of memory. */
bool vma_split(struct replay *r, struct rproc *p, uint64_t addr);
void vma_insert(struct rproc *p, struct rvma *v);
/* Unmaps [s, e): regions, mappings, anonymous pages. False when out of memory for a split. */
bool vma_unmap(struct replay *r, struct rproc *p, uint64_t s, uint64_t e);
void vma_free_all(struct replay *r, struct rproc *p);
/* HAT attributes for a page of v: writable only when `writable` and v allows writes. */
unsigned vma_attr(const struct rvma *v, bool writable);

/* --- anonymous pages (replay_anon.c) --- */

struct rslot *slot_find(struct replay *r, const struct rproc *p, uint64_t vpn);
/* Adds p's slot at vpn naming a (whose ref the caller already counted); NULL when out of memory. */
struct rslot *slot_add(struct replay *r, struct rproc *p, uint64_t vpn, struct ranon *a);
/* Drops p's anonymous pages in [s, e) (their mappings must be gone). */
void slot_release_range(struct replay *r, struct rproc *p, uint64_t s, uint64_t e);
void slot_release_all(struct replay *r, struct rproc *p);
/* Moves p's anonymous pages in [s, e) by delta bytes (the destination holds none). */
void slot_move(struct replay *r, struct rproc *p, uint64_t s, uint64_t e, int64_t delta);
/* A new anonymous page identity for pp (ref 1); NULL when out of memory. */
struct ranon *anon_new(struct replay *r, page_t *pp);
/* Drops one reference; the last frees the page. */
void anon_put(struct replay *r, struct ranon *a);

/* --- the page cache (replay_pcache.c) --- */

/* The page of (obj, pgoff), read in (zero-filled) on a miss; NULL when out of memory. */
page_t *pcache_get(struct replay *r, uint64_t obj, uint64_t pgoff, bool *miss);
/* Forgets a cached page (reclaim: its mappings are gone). */
void pcache_remove(struct replay *r, struct rcache *c);
/* Unmaps and frees every cached page. */
void pcache_drop_all(struct replay *r);

/* --- faults (replay_fault.c) --- */

/* True when a region of protection prot (TR_PROT_*) allows the access acc. */
bool replay_prot_allows(uint16_t prot, unsigned acc);

/* --- processes (replay_proc.c) --- */

struct rproc *proc_find(struct replay *r, uint32_t pid);

/* The process whose address space p's memory events act on: its lender while a vfork child borrows it. */
static inline struct rproc *proc_space(struct rproc *p)
{
	return p->lender != NULL ? p->lender : p;
}

/* The process pid, created (empty) when unknown; NULL when out of memory. */
struct rproc *proc_get(struct replay *r, uint32_t pid);
/* A fork of parent's address space (copy-on-write); parent is a space (proc_space()). */
bool proc_fork(struct replay *r, struct rproc *parent, uint32_t child_pid);
/* A vfork: the child borrows parent's address space until it execs or exits. */
bool proc_vfork(struct replay *r, struct rproc *parent, uint32_t child_pid);
bool proc_exec(struct replay *r, struct rproc *p);
void proc_exit(struct replay *r, struct rproc *p);
/* Every process exits: the end of the replay. */
void proc_finish_all(struct replay *r);

/* --- statistics (replay_stats.c) --- */

/* Notes hment use; cheap, after each mapping. */
void replay_note_hments(struct replay *r);
/* Notes how many mappings pp has (the longest list and where). */
void replay_note_list(struct replay *r, page_t *pp, uint64_t obj, uint64_t pgoff, bool anon);
/* Walks every engine page: shared pages, mappings, metadata per mapping. */
void replay_sample(struct replay *r);

#endif
