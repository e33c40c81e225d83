/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by the checker's passes and the injector: the loaded MM view, walk results, the violation sink. */
#ifndef VMM_CHECK_INTERNAL_H
#define VMM_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hatvm/mm_structs.h"
#include "check_mem.h"
#include "checker.h"
#include "hat_model.h"
#include "report.h"

/*
 * Where violations go: the report (NULL: only counted). Past max_count
 * (0: no cap; a check sets the report's stored cap + one per page of
 * RAM) nothing more is counted and `full` is set: the check then stops,
 * since what it would still find could not be stored, and counting it
 * could cost more than the check itself (256 kernel-half entries per
 * fake address space, 512 leaves per fake table page).
 */
struct check_sink {
	struct report *report;
	uint64_t count;
	uint64_t max_count;
	uint64_t only;      /* 0: every ID; else the IDs (bit 1 << id) this check judges */
	bool full;
};

/* Records one violation in the sink. */
__attribute__((format(printf, 6, 7)))
void sink_violation(struct check_sink *s, enum invariant_id id, uint64_t space, uint64_t va,
		    uint64_t pfn, const char *fmt, ...);

/*
 * Brent's cycle detection over a stream of list nodes, in O(1) memory:
 * feed each node in order; it returns true once the stream is seen to
 * repeat (at most about twice the cycle's length after entering it).
 * Node values must be non-zero (0 ends lists).
 */
struct brent {
	uint64_t saved, power, steps;
};

static inline void brent_init(struct brent *b)
{
	*b = (struct brent){ .saved = 0, .power = 1, .steps = 0 };
}

static inline bool brent_step(struct brent *b, uint64_t node)
{
	if (node == b->saved)
		return true;
	if (++b->steps == b->power) {
		b->saved = node;
		b->power <<= 1;
		b->steps = 0;
	}
	return false;
}

/* One address space as read from hat_kas / hat_list. */
struct hat_rec {
	uint64_t va;            /* guest VA of its struct hat */
	struct hat h;           /* contents, read once */
	uint64_t reached;       /* table pages its walk reached in the part it owns */
};

/*
 * What a legitimate MM of this RAM can hold, computed once per check
 * (view_limits(), from RAM's pages and page_count). The checker walks a
 * structure only up to its bound; what exceeds it is reported as a
 * violation and not walked, so no guest-controlled size sets the work.
 */
struct check_limits {
	uint64_t hash_dir;      /* hh_dir_size: hment_hash_dir_size() of the pages, as the MM sizes it */
	uint64_t spaces;        /* hat_list: each space owns a PML4 page, so managed pages + hat_kas */
	uint64_t hments;        /* reserve, lists, chains: RAM holds no more than RAM / sizeof(struct hment) */
	uint64_t slack;         /* nodes walked past an exact legitimate count, to report them one by one */
};

/*
 * Work units between two polls of checker_stop_requested(): a unit is a
 * table entry, a page_t, a list or chain node, 16 hash buckets (a cache
 * line of chain heads) or a hat.
 */
#define CHECK_POLL_UNITS 4096u

/*
 * The MM's global state, loaded once per check: every count validated
 * against RAM, the page_t array read in place (or copied to the host).
 */
struct mm_view {
	struct mem_reader rd;
	struct mm_symbols sym;
	uint64_t ram_pages;
	uint64_t page_array_va;
	uint64_t npages;            /* page_count, capped at RAM's pages */
	uint64_t first_managed;     /* capped at npages */
	const struct page *pages;   /* npages page_t, or NULL when page_array is unreadable */
	bool pages_owned;           /* a copy (else guest RAM itself, read in place) */
	struct hat_rec *hats;       /* hat_kas first (when have_kas), then hat_list's others */
	size_t nhats;
	bool have_kas;
	struct hat_key { uint64_t va; uint32_t idx; } *hat_sorted;  /* by va: p_hat lookups */
	struct hment_hash hash;
	struct hment_hash_stripe stripes[HMENT_HASH_NLOCK];   /* hash_ok: read with hash */
	uint64_t hash_count;        /* the stripes' counts added up, UINT64_MAX if that overflows */
	struct hment_reserve reserve;
	struct ptp_cache cache;
	struct page_pool pool;      /* the page allocator (pool_ok: the guest exports page_pool) */
	struct objcache hcache;     /* the hment cache (hcache_ok: the guest exports hment_cache) */
	struct objcache hatcache;   /* the address-space cache (hatcache_ok: the guest exports hat_cache) */
	bool hash_ok, reserve_ok, cache_ok, pool_ok, hcache_ok, hatcache_ok;
	bool hat_list_whole;        /* hat_list was followed to its end: nhats counts every space */
	struct check_limits limits;
	bool stopped;               /* a stop request ended the load early: the view is partial */
	/* one pass over page_t at load (NULL maps when pages is NULL) */
	uint64_t *ptp_map;          /* per pfn below npages: p_kind is PG_PTP */
	uint64_t *busy_map;         /* per pfn below npages: !page_plain() */
	uint64_t ptp_top;           /* level-4 table pages among them */
	uint64_t free_kind;         /* pages whose p_kind is PG_FREE (PG_FREE_COUNT) */
	uint64_t ordinary_kind;     /* PG_KERNEL and PG_USER pages: never from the emergency reserve (PG_INUSE) */
	uint64_t pages_read;        /* page_t the pass read (the check's page_t examined) */
};

/* A page_t with no mapping state to check: the mapping-list pass may skip it. */
static inline bool page_plain(const struct page *pg, uint64_t pfn)
{
	return pg->p_mapping == 0 && pg->p_embed == 0 && pg->p_share == 0 && pg->p_pagenum == pfn;
}

/*
 * Loads the view through mem; problems with the globals go to sink (may
 * be NULL). Returns false only when host memory ran out (view freed).
 */
bool mm_view_load(struct mm_view *v, const struct check_mem *mem, const struct mm_symbols *sym,
		  struct check_sink *sink);
void mm_view_free(struct mm_view *v);

/* Guest VA of pfn's page_t. */
static inline uint64_t view_page_va(const struct mm_view *v, uint64_t pfn)
{
	return v->page_array_va + pfn * sizeof(struct page);
}

/* True and *pfn set when va is exactly the page_t of a pfn below npages. */
bool view_pfn_of_page_va(const struct mm_view *v, uint64_t va, uint64_t *pfn);

/* The address space whose struct hat is at va, or NULL. */
struct hat_rec *view_hat_at(const struct mm_view *v, uint64_t va);

/* h_id of the space at hat_va, or REPORT_NONE. */
uint64_t view_space_id(const struct mm_view *v, uint64_t hat_va);

/* True for a managed pfn: the pages mapping lists track. */
static inline bool view_managed(const struct mm_view *v, uint64_t pfn)
{
	return pfn >= v->first_managed && pfn < v->npages;
}

/* One table page the walk reached. */
struct table_info {
	uint64_t ptva;          /* first VA it maps */
	uint64_t leaf[8];       /* entries that are present user-half leaves of managed frames */
	uint64_t tracked[8];    /* entries a mapping list or an embedded mapping named */
	uint32_t pfn;
	uint32_t space;         /* h_id of the space whose walk reached it */
	uint8_t level;
};

/* The whole check's state. */
struct checker {
	struct check_sink sink;
	struct mm_view view;
	struct check_stats stats;
	uint64_t frame_mask;        /* frame bits of entries (below MAXPHYADDR) */
	uint64_t rsvd_mask;         /* address bits MAXPHYADDR..51: reserved */
	uint32_t *table_slot;       /* per RAM pfn: 1 + index into tables; 0: no table */
	struct table_info *tables;
	size_t ntables, tables_cap;
	uint64_t *embed_ok;         /* per pfn: the walk found its embedded mapping's PTE */
	uint64_t *referenced;       /* per RAM pfn: some non-leaf entry points at it */
	uint64_t *entered;          /* per RAM pfn: walked as a table (table_slot set); a bitmap to sweep */
	uint8_t *memtype;           /* a nibble per managed pfn: 1 + memory type of its first user leaf (PT_MEMTYPE) */
	uint64_t kas_pml4[MM_PTES];
	bool kas_pml4_ok;
	uint64_t kas_space;         /* h_id of hat_kas */
	enum { MODEL_OFF, MODEL_COMPARE, MODEL_REBUILD } model_mode;   /* check_model.c */
	bool instant;   /* checker_run_instant_into(): CPUs may be inside the MM */
	uint64_t model_next, model_lost;   /* the log's ol_next and ol_lost at this check */
	int64_t hments_found;       /* check_rmap.c: hments on lists, the reserve, hash-only; -1: unknown */
};

static inline bool bit_test(const uint64_t *map, uint64_t i)
{
	return (map[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_set(uint64_t *map, uint64_t i)
{
	map[i >> 6] |= 1ull << (i & 63);
}

/*
 * Counts n units of work. True when the check must end now: a stop
 * request (polled every CHECK_POLL_UNITS units) or the violation cap.
 * Once true it stays true; the passes then skip what depends on the
 * unfinished part, and the record says "complete": false.
 */
static inline bool check_work(struct checker *c, uint64_t n)
{
	uint64_t before = c->stats.work;

	c->stats.work += n;
	if (!c->stats.stopped &&
	    (c->sink.full ||
	     (before / CHECK_POLL_UNITS != c->stats.work / CHECK_POLL_UNITS && checker_stop_requested())))
		c->stats.stopped = true;
	return c->stats.stopped;
}

/* The table_info of a table pfn the walk reached, or NULL. */
static inline struct table_info *checker_table(const struct checker *c, uint64_t pfn)
{
	if (pfn >= c->view.ram_pages || c->table_slot[pfn] == 0)
		return NULL;
	return &c->tables[c->table_slot[pfn] - 1];
}

/*
 * A zeroed host-side map of `bytes` (checker.c). The maps are sized by
 * RAM but touched only where tables, pages or hments lie, so a large one
 * is fresh anonymous memory, zero without being written: calloc would
 * clear, and fault in, all of it on every check. NULL when out of memory.
 */
void *check_map_zalloc(size_t bytes);
void check_map_free(void *map, size_t bytes);

/* check_pt.c: every address space's tables (PT_*, ST_ACCOUNT, ST_NMAP). Returns false when out of memory. */
bool check_page_tables(struct checker *c);

/* check_pt.c: the table-page cache (ST_FREE_ZERO); after check_page_tables. */
void check_ptp_cache(struct checker *c);

/* check_locks.c: no MM lock held (LK_QUIESCENT). */
void check_locks(struct checker *c);

/* check_cpus.c: each space's CPU set against the CPUs' loaded spaces (ST_CPUS). */
void check_cpus(struct checker *c);

/* check_alloc.c: the page allocator's free lists and counts (PG_FREE_COUNT, PG_INUSE). */
void check_page_pool(struct checker *c);

/* check_listed.c: the steal index against the pages' lists (RM_LISTED). */
void check_steal_index(struct checker *c);

/* check_rmap.c: reserve, mapping lists, hash (RM_*, HS_*, RS_*); after check_page_tables. */
bool check_mapping_lists(struct checker *c);

/* check_objcache.c: the object caches (OC_LEAK, OC_FREE); after check_mapping_lists. */
void check_object_caches(struct checker *c);

/* The model of what should be mapped (check_model.c): drain the log, a hook per user leaf, the missing ones. */
void check_model_begin(struct checker *c);
void check_model_leaf(struct checker *c, uint32_t space, uint64_t va, uint64_t pte, unsigned level);
void check_model_end(struct checker *c);
/* A walked table of space with no present entry (below the top): MD_PRUNE when a drained record should have freed it. */
void check_model_empty_table(struct checker *c, uint32_t space, uint64_t ptva, unsigned level, uint64_t pfn);
/* The next check rebuilds the model (an injection changed a record the model has applied). */
void checker_model_forget(void);

/* True when a model is attached and in step with the log (the MD_* injectors need one). */
bool checker_model_following(void);

/* The first log record the model has not applied yet (MD_FLUSH's injector plants in those). */
uint64_t checker_model_next_seq(void);

#endif
