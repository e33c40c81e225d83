/* SPDX-License-Identifier: BSD-2-Clause */
/* Mapping lists (after illumos hment.c): which PTEs map each page — embedded first mapping, hment lists, hash, reserve, stealing. */
#ifndef GUEST_HMENT_H
#define GUEST_HMENT_H

#include "page.h"

typedef struct hment hment_t;

/* The hment a reference names, NULL for HMENT_REF_NONE (the direct map: hments live in RAM). */
static inline hment_t *hment_at(hment_ref_t ref)
{
	return ref == HMENT_REF_NONE ? NULL : (hment_t *)pa_to_kva(hment_ref_pa(ref));
}

/* The reference of hm (NULL: HMENT_REF_NONE). */
static inline hment_ref_t hment_ref(const hment_t *hm)
{
	return hm == NULL ? HMENT_REF_NONE : (hment_ref_t)(mm_kva_to_pa(hm) >> HMENT_REF_SHIFT);
}

/* hment_walk() returns this for a page's embedded (only) mapping. */
#define HMENT_EMBEDDED ((hment_t *)(uintptr_t)1)

/* Default hment reserve target; a guess, like the seed's. */
#define HMENT_RESERVE_DEFAULT 64u

extern struct hment_hash hment_hash;
extern struct hment_hash_stripe hment_hash_locks[HMENT_HASH_NLOCK];
extern struct mm_lock_line hment_mlist_locks[HMENT_MLIST_NLOCK];
extern struct hment_reserve hment_reserve;
extern struct hment_listed hment_listed;      /* the steal index: which pages have a list */
extern struct objcache hment_cache;           /* where hments come from (OC_LEAK counts them) */
extern struct hment_short_count hment_short_listed[HAT_MAX_CPUS];
extern struct objcache_cpu hment_cache_cpus[HAT_MAX_CPUS];   /* hment_cache's lists per CPU (its oc_cpus) */

struct hment_stats {
	uint64_t donated;      /* fresh hments donated to the reserve */
	uint64_t reserve_get;  /* hments taken from the reserve */
	uint64_t reserve_put;  /* hments put on the reserve */
	uint64_t steals;       /* successful steals */
	uint64_t steal_tries;  /* steal attempts */
	uint64_t steal_exam;   /* steal-index words read while stealing */
	uint64_t splits;       /* hash buckets split (the hash grew by one) */
	uint64_t split_fails;  /* splits given up: no page for a bucket page */
	uint64_t steal_skipped; /* mappings a steal passed over: locked, busy table, the kernel's */
	uint64_t alloc_fails;  /* hment_alloc() calls that found nothing: a memload failed */
};
extern struct hment_stats hment_stats;

/* hment_alloc() calls, and embedded mappings moved to a list: counted per CPU (hment.c), summed here. */
uint64_t hment_stats_allocs(void);
uint64_t hment_stats_promotions(void);

/* hments in the hash: the stripes' counts added up (Σ p_share of the lists longer than HMENT_SHORT_LIST, at rest). Any CPU. */
uint64_t hment_hash_count(void);

/* hments on mapping lists, hashed or not (Σ p_share at rest). Any CPU. */
uint64_t hment_listed_count(void);

/* Sets up the hash directory for npages of RAM and its first HMENT_HASH_MIN buckets' pages (page_boot_alloc), locks, reserve, cache. Boot, before page_init(). */
void hment_init(uint64_t npages);

/* The mapping-list lock of pp (hashed; several pages share one). Any CPU. */
static inline struct mm_lock *hment_mlist_lock(const page_t *pp)
{
	return &hment_mlist_locks[hment_mlist_lock_index(pp->p_pagenum)].ll_lock;
}

static inline void hment_enter(page_t *pp)
{
	mm_lock_enter(hment_mlist_lock(pp));
}

static inline void hment_exit(page_t *pp)
{
	mm_lock_exit(hment_mlist_lock(pp));
}

/* Inline: every list operation asks it (MM_REQUIRE), most of them several times a mapping. */
static inline bool hment_held(page_t *pp)
{
	return mm_lock_held(hment_mlist_lock(pp));
}

/*
 * A mapping-list lock kept across consecutive leaves of a range
 * operation while their pages share it (runs of frames do:
 * HMENT_MLIST_GROUP_SHIFT), for at most HMENT_HOLD_MAX leaves, so other
 * CPUs wait no longer than that. Start at HMENT_HOLD_NONE; hment_hold()
 * makes pp's lock the one held, hment_hold_end() lets it go. Between
 * them the caller takes no other mapping-list lock. hment_remove() given
 * the hold keeps its hash stripe in it the same way (a table's
 * neighbouring entries share one); hment_hold_end() lets that go first.
 */
#define HMENT_HOLD_MAX 16u
struct hment_hold {
	struct mm_lock *hd_lock;                /* NULL when none is held */
	struct hment_hash_stripe *hd_stripe;    /* the hash stripe held under it, or NULL */
	unsigned hd_left;                       /* leaves it may still cover */
};
#define HMENT_HOLD_NONE ((struct hment_hold){ .hd_lock = NULL })
/* hment_hold() when hd holds another lock or has covered its leaves: lets go of that, takes pp's. */
void hment_hold_switch(struct hment_hold *hd, page_t *pp);
void hment_hold_end(struct hment_hold *hd);

/* Inline: a range operation asks once a leaf, and its lock is usually the one held already. */
static inline void hment_hold(struct hment_hold *hd, page_t *pp)
{
	if (hd->hd_lock == hment_mlist_lock(pp) && hd->hd_left > 0)
		hd->hd_left--;
	else
		hment_hold_switch(hd, pp);
}

/*
 * Gets ready to add the mapping (ptp, entry) to pp: sets *hmp to the
 * hment hment_assign() will need (NULL when the mapping can be embedded
 * or is already the embedded one) and returns 0; returns -1 when no
 * hment can be had (none free, nothing a steal may take), with pp's
 * mappings as they were (an embedded one may have moved to a list). May
 * drop and retake pp's mapping-list lock to allocate, so the caller
 * re-reads nothing it saw before. Caller holds pp's lock and no other
 * mapping-list lock; ptp should be busy (ptp_busy_hold), so a steal
 * leaves the table being filled alone.
 */
int hment_prepare(page_t *ptp, unsigned entry, page_t *pp, hment_t **hmp);

/* Records the mapping (ptp, entry) of pp with what hment_prepare() returned. pp's lock held. */
void hment_assign(page_t *ptp, unsigned entry, page_t *pp, hment_t *hm);

/*
 * Walks pp's mappings: pass prev NULL first, then the last result.
 * Returns NULL at the end, HMENT_EMBEDDED for the embedded mapping, else
 * the hment; sets *ptpp and *entryp. pp's lock held.
 */
hment_t *hment_walk(page_t *pp, page_t **ptpp, unsigned *entryp, hment_t *prev);

/*
 * Removes the mapping (ptp, entry) from pp's list (found through the
 * hash when the list is longer than HMENT_SHORT_LIST, else by walking
 * it) and from the hash. Returns the hment for the caller to
 * hment_free(), or NULL for the embedded mapping. Panics when the mapping
 * is not there. pp's lock held: by hd when it is not NULL, which then
 * keeps the hash stripe for the next removal.
 */
hment_t *hment_remove(page_t *pp, page_t *ptp, unsigned entry, struct hment_hold *hd);

/* Frees an hment to the reserve (when below its target) or the cache. Any CPU, any lock. */
void hment_free(hment_t *hm);

/*
 * hments an operation frees together: the cache's lock once for up to
 * HMENT_FREES_MAX of them, not once each. hment_free_later() gathers
 * one (freeing the batch first when it is full), hment_free_now() frees
 * what is gathered. Start with hment_frees_init(). Any CPU, any lock.
 */
#define HMENT_FREES_MAX 16u
struct hment_frees {
	unsigned hf_n;
	void *hf_hm[HMENT_FREES_MAX];   /* void *: what objcache_free_n() takes */
};
/* Only the count: an initializer would zero the array too, a `rep stos` on every pageunload. */
static inline void hment_frees_init(struct hment_frees *f)
{
	f->hf_n = 0;
}
void hment_free_later(struct hment_frees *f, hment_t *hm);
void hment_free_now(struct hment_frees *f);

/*
 * Removes every mapping of pp at once, for a pageunload: leaf(pp, ptp,
 * entry, arg) clears each one's leaf, and its hment leaves the hash (a
 * long list's) and goes to f (the caller's hment_free_now() frees them, lock or none).
 * The list goes as a whole, head first: no mapping is looked for on it
 * and no neighbour's links are rewritten. Returns how many there were.
 * pp's lock held.
 */
typedef void hment_leaf_fn(page_t *pp, page_t *ptp, unsigned entry, void *arg);
unsigned hment_remove_all(page_t *pp, hment_leaf_fn *leaf, void *arg, struct hment_frees *f);

/* Returns how many mappings pp has, a covering 2 MiB mapping included. Takes the locks itself. */
unsigned hment_mapcnt(page_t *pp);

/* The 2 MiB mappings on lead's list (its group's count in the steal index). lead's lock held. */
unsigned hment_large_count(page_t *lead);

/*
 * The same count read without lead's lock: a snapshot, as good as a
 * read under the lock once the lock is let go. A 2 MiB mapping whose
 * load this misses was being made meanwhile, so it may as well come after.
 */
unsigned hment_large_peek(const page_t *lead);

/*
 * The first page of pp's 2 MiB group when that is another managed page,
 * else NULL. A 2 MiB leaf is on its first page's list only, yet maps pp
 * too: whoever counts or removes pp's mappings looks there as well.
 */
static inline page_t *hment_large_leader(const page_t *pp)
{
	uint64_t lead = pp->p_pagenum & ~(uint64_t)(MM_LARGE_PAGES - 1);

	return lead != pp->p_pagenum && page_pfn_managed(lead) ? &page_array[lead] : NULL;
}

/* Sets the reserve target (0 in the pressure workload: every shortage steals). */
void hment_set_reserve_amount(uint32_t amount);

/* Tops the reserve up to target + extra hments from the cache (stops when the cache refuses). */
void hment_reserve_fill(uint32_t extra);

/* Frees reserve hments above the target back to the cache. */
void hment_adjust_reserve(void);

/* Caps hments handed out by the cache (OBJCACHE_LIMIT_NONE: no cap); beyond it allocation steals. */
void hment_set_limit(uint64_t max_in_use);

/* hments currently handed out by the cache (listed, reserved or in flight). */
uint64_t hment_cache_inuse(void);

/* OC_LEAK for hments (hat_assert_accounted's half): every hment out is on a list or the reserve. */
void hment_assert_accounted(void);

#endif
