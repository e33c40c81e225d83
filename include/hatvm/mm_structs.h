/* SPDX-License-Identifier: BSD-2-Clause */
/* MM data structures shared by the guest kernel and the host checker: fixed layouts, guest pointers opaque on the host. */
#ifndef HATVM_MM_STRUCTS_H
#define HATVM_MM_STRUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "hatvm/layout.h"
#include "hatvm/x86.h"

/*
 * A guest pointer. The guest (and the hosted unit tests) see a real
 * pointer; the host (HATVM_HOST) sees an opaque guest-virtual address it
 * must translate and range-check before use. Either way it is 8 bytes.
 */
#ifdef HATVM_HOST
#define GPTR(T) uint64_t
#else
#define GPTR(T) T *
#endif

/*
 * How the MM uses the 4-level layout of hatvm/x86.h:
 *
 *   0x0000000000000000 .. USER_TOP           user half: per address space
 *   DIRECT_MAP_BASE  (PML4 256)              all RAM at DIRECT_MAP_BASE + PA,
 *                                            2 MiB pages, RW, NX
 *   KMAP_BASE .. KMAP_END (PML4 510)         kernel hat_memload window
 *   KERNEL_BASE      (PML4 511, PDPT 510)    kernel image at KERNEL_BASE + PA
 *
 * We never make 1 GiB leaves. PML4 entries 256..511 (the kernel half) are
 * filled at boot and never change afterwards; every address space copies
 * them (PT_KERNEL_HALF). Only the tables below them are shared and may change.
 */
#define USER_TOP           0x0000800000000000ull  /* first VA above the user half */
#define KERNEL_HALF_BASE   0xffff800000000000ull  /* first kernel-half VA */
#define MM_PML4_KERNEL     256u                   /* first kernel-half PML4 index */
#define KMAP_BASE          0xffffff0000000000ull
#define KMAP_END           0xffffff8000000000ull

/* page_t kinds (p_kind). */
enum page_kind {
	PG_FREE = 0,      /* on the page allocator's free list */
	PG_RESERVED = 1,  /* below page_first_managed: VMM data, image, boot tables */
	PG_KERNEL = 2,    /* allocated for the kernel (object caches, ...) */
	PG_USER = 3,      /* allocated to be mapped by address spaces */
	PG_PTP = 4,       /* a live page-table page (p_level, p_hat, p_valid valid) */
	PG_CACHE = 5,     /* an idle, all-zero table page on segtab_ptp_cache */
};

/* p_attr bits: accessed/dirty collected from PTEs by hat_pagesync / unloads. */
#define PG_ATTR_REF  0x1u
#define PG_ATTR_MOD  0x2u

/* hm_state values: where an hment is in its life. */
#define HM_STATE_ALLOC    0x414cu  /* handed out, not yet on a list */
#define HM_STATE_LISTED   0x4c49u  /* on a page's mapping list and in the hash */
#define HM_STATE_RESERVE  0x5253u  /* on the reserve pool */

/* Sizes of the hashed lock arrays (powers of two). */
#define HMENT_MLIST_NLOCK 256u
#define HMENT_HASH_NLOCK  256u

/*
 * A spinlock. 0/0 when free; while held ml_locked is 1 and ml_owner is
 * the holding CPU's index + 1. The checker reads ml_locked (LK_QUIESCENT).
 */
struct mm_lock {
	uint32_t ml_locked;   /* 1 while held; a space's h_lock: MM_RW_WRITER, or how many share it */
	uint32_t ml_owner;    /* holder's cpu_id() + 1, 0 when free or shared */
};

#define MM_RW_WRITER 0x80000000u   /* ml_locked of a reader-writer lock held exclusively */

#define MM_CACHE_LINE 64u

/*
 * A lock alone in its cache line: the mapping-list locks (the hash's
 * locks share their lines only with their counts). Packed eight
 * to a line, CPUs working on unrelated pages took turns owning one line
 * (measured hosted: two threads on spaces and pages of their own ran
 * slower together than one alone).
 */
struct mm_lock_line {
	struct mm_lock ll_lock;
	uint8_t ll_pad[MM_CACHE_LINE - sizeof(struct mm_lock)];
};

/*
 * hment references: 32 bits where a pointer would take 64. An hment is
 * 8-byte aligned in RAM and RAM ends below MM_RAM_MAX, so its PA / 8
 * fits; 0 means none (PA 0 is never managed). The guest reaches the hment
 * through the direct map, the host checker by PA: no translation.
 */
typedef uint32_t hment_ref_t;
#define HMENT_REF_NONE  0u
#define HMENT_REF_SHIFT 3

/*
 * The most RAM the MM manages: what a 32-bit hment reference reaches.
 * Our guest has less (GUEST_RAM_MAX: its RAM stays below the 32-bit
 * hole); the MM compiled hosted is given up to this much.
 */
#define MM_RAM_MAX (((uint64_t)UINT32_MAX + 1) << HMENT_REF_SHIFT)

static inline uint64_t hment_ref_pa(hment_ref_t ref)
{
	return (uint64_t)ref << HMENT_REF_SHIFT;
}

/*
 * A mapping-list entry: one PTE (table page, entry) that maps a page,
 * for the second and later mappings of that page (the first may be
 * embedded in the page_t). Linked on the page's list (hm_next/hm_prev)
 * and on one chain of the system-wide hash (hm_hashnext). 24 bytes:
 * illumos's is 48, a FreeBSD pv entry 24.
 */
struct hment {
	hment_ref_t hm_hashnext;         /* next hment on the same hash chain */
	hment_ref_t hm_next;             /* next mapping of the same page; reserve-pool link */
	hment_ref_t hm_prev;             /* previous mapping of the same page; NONE at the head */
	uint32_t hm_ptp;                 /* pfn of the table page holding the PTE */
	uint32_t hm_pfn;                 /* pfn of the mapped page (its page_t's p_pagenum) */
	uint16_t hm_entry;               /* index of the PTE in that table page, 0..511 */
	uint16_t hm_state;               /* HM_STATE_* */
};

/*
 * One page_t per 4 KiB page of RAM, indexed by pfn (page_array[pfn]).
 * Mapping-list fields follow the illumos seed; table-page fields are
 * meaningful only while p_kind == PG_PTP.
 *
 * Mapping lists: p_mapping == 0: no tracked mapping (p_embed 0,
 * p_share 0). p_embed == 1: exactly one mapping, embedded: p_mapping is
 * the pfn of the table page and p_mlentry the entry, p_share is 0.
 * Otherwise p_mapping is the hment_ref_t of the head of a list of
 * p_share hments.
 */
struct page {
	GPTR(struct page) p_next;     /* free list / table-page cache link */
	GPTR(struct hat) p_hat;       /* PG_PTP: owning address space */
	uint64_t p_ptva;              /* PG_PTP: first VA this table maps (canonical) */
	uint32_t p_mapping;           /* list head (hment_ref_t), or embedded: the table page's pfn */
	uint32_t p_pagenum;           /* this page's pfn */
	uint32_t p_share;             /* number of hments on the list (0 when embedded) */
	uint16_t p_mlentry;           /* embedded mapping: entry index in the table page */
	uint8_t p_embed;              /* 1: the single mapping is embedded */
	uint8_t p_kind;               /* enum page_kind */
	uint16_t p_valid;             /* PG_PTP: present entries in the table (PT_VALID_CNT) */
	uint8_t p_level;              /* PG_PTP: 4 PML4, 3 PDPT, 2 PD, 1 PT */
	uint8_t p_attr;               /* PG_ATTR_REF / PG_ATTR_MOD */
	uint16_t p_lockcnt;           /* PG_PTP: locked (PTE_LOCKED) leaves in the table (ST_LOCKED) */
	uint16_t p_busy;              /* PG_PTP: operations holding the table (hat_memload): never stolen from, never pruned */
};

/*
 * HAT attributes (hat_memload, hat_devload, hat_chgprot), shared with the
 * host's model of what should be mapped. Leaf bits they ask for: P; W
 * with HAT_WRITE; NX without HAT_EXEC; U with HAT_USER; PCD|PWT with
 * HAT_NOCACHE, else PWT with HAT_WRITETHRU; PS and a 2 MiB leaf with
 * HAT_LARGE. hat_chgprot changes W, U and NX only.
 */
#define HAT_READ       0x01u   /* x86 cannot refuse reads: implied by any of R/W/X */
#define HAT_WRITE      0x02u
#define HAT_EXEC       0x04u   /* without it the leaf gets NX */
#define HAT_USER       0x08u   /* user-accessible (user half only) */
#define HAT_NOCACHE    0x10u   /* uncached (PCD|PWT) */
#define HAT_WRITETHRU  0x20u   /* write-through (PWT) */
#define HAT_LARGE      0x40u   /* a 2 MiB page (va and frame 2 MiB-aligned) */
#define HAT_LOCK       0x80u   /* hat_memload: a locked (pinned) mapping, never stolen; hat_memunlock ends it */

/*
 * A leaf bit the CPU ignores (AVL bit 9), set by the HAT on locked
 * leaves: h_nlocked and each table's p_lockcnt count them (ST_LOCKED).
 */
#define PTE_LOCKED     (1ull << 9)
#define HAT_PROT_MASK  (HAT_READ | HAT_WRITE | HAT_EXEC | HAT_USER)

/*
 * The HAT operation log: every operation that changes what an address
 * space maps appends one record, so the host can keep its own model of
 * what should be mapped and compare it with the page tables. Of the
 * queries, getpfnum, getmapcnt and pagesync are logged too, so the host
 * can judge their answers and flushes; switch is not. Of the allocator,
 * page_free_large (it must give back its whole block).
 */
enum hat_op_kind {
	HOP_CREATE = 1,      /* o_space: the new space's h_id */
	HOP_DESTROY = 2,     /* o_space: every mapping of it gone */
	HOP_LOAD = 3,        /* o_space, o_va, o_pfn, o_attr; o_result 0, or -1: nothing mapped there now */
	HOP_UNLOAD = 4,      /* o_space, [o_va, o_va + o_len); o_pfn: pages its shootdowns covered, o_result: table pages it freed (MD_FLUSH) */
	HOP_PAGEUNLOAD = 5,  /* o_pfn: its own mappings gone; o_attr HAT_LARGE: the 2 MiB ones covering it instead */
	HOP_CHGPROT = 6,     /* o_space, [o_va, o_va + o_len), o_attr (HAT_PROT_MASK); o_pfn as UNLOAD's */
	HOP_STEAL = 7,       /* o_space, o_va, o_pfn: that user mapping taken to reuse its hment */
	HOP_GETPFNUM = 8,    /* o_space, o_va: hat_getpfnum's answer o_pfn, o_result 0; -1: nothing mapped (MD_RESULT) */
	HOP_PAGESYNC = 9,    /* o_pfn, o_attr flags; o_result leaves whose A/D it cleared (MD_FLUSH), o_len its answer (MD_AD) */
	HOP_MAPCNT = 10,     /* o_pfn: hat_getmapcnt's answer o_result (MD_RESULT) */
	HOP_FREE_LARGE = 11, /* o_pfn: page_free_large's block; o_result pages the allocator got back meanwhile (PG_INUSE) */
	HOP_DUP = 12,        /* o_space (dst), [o_va, o_va + o_len), o_pfn: the source space's h_id, o_attr; o_result leaves copied (MD_MISSING) */
	HOP_KIND_MAX = HOP_DUP,
};

struct hat_op {
	uint64_t o_va;        /* first VA */
	uint64_t o_len;       /* bytes (UNLOAD, CHGPROT); PAGESYNC: the PG_ATTR_* it returned */
	uint32_t o_space;     /* h_id */
	uint32_t o_pfn;       /* frame (LOAD), page (PAGEUNLOAD, STEAL); UNLOAD, CHGPROT: see HOP_FLUSH_PAGES_ALL */
	uint32_t o_seq;       /* record number: 1, 2, 3, ... (mod 2^32) */
	uint8_t o_kind;       /* enum hat_op_kind */
	uint8_t o_cpu;        /* the CPU that appended it (records of CPUs racing: see MD_FLUSH, MD_PRUNE) */
	uint16_t o_attr;      /* HAT_* bits */
	int32_t o_result;     /* LOAD: 0 or -1; PAGEUNLOAD: mappings removed; UNLOAD: table pages freed */
	uint16_t o_loaded;    /* LOAD, UNLOAD, CHGPROT, STEAL: HOP_LOADED_* of the space; PAGESYNC: of any it changed */
	uint16_t o_flushes;   /* and the TLB flushes it made: HOP_FLUSH_LOCAL / HOP_FLUSH_REMOTE */
};

/* o_loaded: the space was loaded on the CPU doing the operation; on another (at its start and end). */
#define HOP_LOADED_HERE      0x1u
#define HOP_LOADED_ELSEWHERE 0x2u
/* o_flushes: INVLPGs and full flushes on this CPU (low byte), shootdown requests (high byte), each at most HOP_FLUSH_MAX. */
#define HOP_FLUSH_MAX        0xffu
#define HOP_FLUSH_LOCAL(f)   ((unsigned)(f) & HOP_FLUSH_MAX)
#define HOP_FLUSH_REMOTE(f)  ((unsigned)(f) >> 8)
/*
 * UNLOAD, CHGPROT: o_pfn is the pages the shootdown requests asked the
 * other CPUs to flush, summed (a full flush counts HOP_FLUSH_PAGES_ALL),
 * at least one per translation removed or changed while loaded there.
 */
#define HOP_FLUSH_PAGES_ALL  UINT32_MAX

/*
 * The TLB contract the log lets the host check (MD_FLUSH): an operation
 * that removes or changes a translation of a space loaded on some CPU
 * flushes it there (INVLPG, a full flush, or a shootdown request).
 *
 * The log is one lane per CPU (ol_nlanes; CPU c appends to lane
 * c % ol_nlanes), so that CPUs at work in spaces of their own write
 * no cache line of it in common but ol_next. Lane i starts at
 * ol_ring + i * HAT_OPLOG_LANE_BYTES(ol_size): its counters (struct
 * hat_oplog_lane), then a ring of ol_size records, a lane's k-th record
 * in slot k % ol_size. Records are numbered across lanes (o_seq): one
 * atomic add on ol_next, taken inside the lock that orders the
 * record's effect, so the host merges the lanes by number into the
 * order the effects happened. Records ol_drained .. ol_next - 1 are the
 * ones the host has not seen yet, in slots l_drained .. l_next - 1 of
 * their lanes; the guest advances both after a checkpoint returns (the
 * host has read them). Before an operation, with fewer than
 * HAT_OPLOG_HEADROOM free slots in its lane, the guest asks for a
 * checkpoint (mm_oplog_full), so no record is ever dropped; ol_lost
 * counts those that were anyway (a lane's oldest, given way).
 */
#define HAT_OPLOG_HEADROOM 64u

struct hat_oplog {
	/* read by every append, written only at checkpoints (and on a loss) */
	GPTR(struct hat_oplog_lane) ol_ring;   /* lane 0 */
	uint32_t ol_size;      /* records in each lane's ring */
	uint32_t ol_nlanes;    /* 1 .. HAT_MAX_CPUS */
	uint64_t ol_drained;   /* first number the host has not been shown */
	uint64_t ol_lost;      /* records dropped: the host's model must start again */
	uint64_t ol_pad[4];
	/* the one line every CPU's appends write: on a line of its own, or every read above would miss */
	uint64_t ol_next;      /* number of the next record */
	uint64_t ol_pad2[7];
};

/* A lane's counters, a cache line of their own; its ring of records follows them. */
struct hat_oplog_lane {
	uint64_t l_next;       /* slots taken so far */
	uint64_t l_drained;    /* first slot the host has not been shown */
	uint64_t l_pad[6];
};

/* Bytes from one lane's start to the next's: its counters and ring, in whole cache lines. */
#define HAT_OPLOG_LANE_BYTES(size) \
	((sizeof(struct hat_oplog_lane) + (uint64_t)(size) * sizeof(struct hat_op) + 63u) & ~63ull)

/* Flags of struct hat. */
#define HAT_F_KERNEL 0x1u

/*
 * An address space. The kernel's (hat_kas) is a static object in the
 * image; the others come from an object cache. All are on hat_list.
 * Counters are updated with atomics (other CPUs unload through lists).
 */
struct hat {
	GPTR(struct hat) h_next;      /* next on hat_list, NULL at the end */
	GPTR(struct hat) h_prev;      /* previous on hat_list, NULL at the head */
	GPTR(struct page) h_top;      /* page_t of the PML4 */
	uint64_t h_top_pa;            /* PA of the PML4: the CR3 value */
	struct mm_lock h_lock;        /* serializes changes to this table tree */
	uint64_t h_cpus;              /* bit i: loaded in CR3 on CPU i */
	uint32_t h_id;                /* creation serial; the kernel's is 0 */
	uint32_t h_flags;             /* HAT_F_* */
	uint64_t h_nptp;              /* table pages owned, the PML4 included (ST_ACCOUNT) */
	uint64_t h_nmap4k;            /* present 4 KiB leaves made by memload/devload */
	uint64_t h_nmap2m;            /* present 2 MiB leaves made by memload/devload */
	uint64_t h_tlb_page;          /* INVLPGs done on this CPU for it */
	uint64_t h_tlb_all;           /* full flushes done on this CPU for it */
	uint64_t h_tlb_remote;        /* shootdowns requested from other CPUs */
	uint64_t h_nlocked;           /* present locked (PTE_LOCKED) leaves (ST_LOCKED) */
	GPTR(struct page) h_hint;     /* NULL, or the user 4 KiB table the last walk reached (PT_PTP_OWNER) */
	uint64_t h_tlb_gen;           /* TLB generation: +1 per flush of a change made while CPUs had it loaded (TLB_STALE) */
};

/*
 * What one CPU's TLB has flushed (TLB_STALE), hat_tlb_flushed[cpu]: the
 * h_tlb_gen of the space it has loaded (hat_cpu) and of hat_kas up to
 * which no older translation can remain. Only an invalidation run on that
 * CPU advances them: INVLPGs of a change's pages when the change is the
 * next generation, else a full flush (to the generation read before it),
 * or a CR3 load (hat_switch).
 */
struct hat_tlb_flushed {
	uint64_t tf_space;
	uint64_t tf_kernel;
};

/*
 * The system-wide hash of hments, keyed by (table pfn, entry): linear
 * hashing, so it grows one bucket at a time as hments are added and
 * removal stays O(1) however many there are. It holds the hments of
 * lists longer than HMENT_SHORT_LIST: a mapping of a page with a shorter
 * list is found by walking that list, which costs less than a hash
 * insert and unlink (README: The memory manager). Buckets are hment_ref_t
 * chain heads, HMENT_HASH_PAGE_BUCKETS to a 4 KiB bucket page; hh_dir
 * names the bucket pages by pfn (0 where none yet). hment_hash_bucket()
 * maps a key's hash to one of the hh_nbuckets buckets.
 */
#define HMENT_HASH_PAGE_BUCKETS 1024u
#define HMENT_HASH_MIN          16384u  /* buckets at boot: 16 bucket pages (see hment_hash_lock_index) */
#define HMENT_HASH_LOAD         2u      /* a split follows when hments exceed buckets × this */
#define HMENT_SHORT_LIST        8u      /* lists up to this long (p_share) stay off the hash */

/*
 * hments on lists of at most HMENT_SHORT_LIST (off the hash), counted by
 * the CPU that listed or unlisted them (symbol hment_short_listed,
 * HAT_MAX_CPUS of them, a line each): one CPU's count may go below zero,
 * only the sum means anything. With the stripes' counts, the hments on
 * lists (OC_LEAK).
 */
struct hment_short_count {
	int64_t sc_count;
	uint8_t sc_pad[MM_CACHE_LINE - sizeof(int64_t)];
};

struct hment_hash {
	GPTR(uint32_t) hh_dir;        /* hh_dir_size pfns of bucket pages */
	uint32_t hh_dir_size;         /* bucket pages the directory can name: hment_hash_dir_size() */
	uint32_t hh_nbuckets;         /* buckets in use, HMENT_HASH_MIN .. hh_dir_size × 1024 */
};

/*
 * One stripe of the hash (symbol hment_hash_locks, HMENT_HASH_NLOCK of
 * them): the lock of every bucket whose keys share the stripe's index
 * (hment_hash_lock_index) and the count of hments those buckets hold,
 * changed under the lock. The hash's size is the stripes' sum (Σ p_share
 * over the lists longer than HMENT_SHORT_LIST, HS_ORPHAN); one shared count instead had every CPU that adds or
 * removes an hment take turns owning its cache line.
 */
struct hment_hash_stripe {
	struct mm_lock hs_lock;
	uint64_t hs_count;
	uint8_t hs_pad[MM_CACHE_LINE - sizeof(struct mm_lock) - sizeof(uint64_t)];
};

/* The hment reserve pool: singly linked through hm_next. */
struct hment_reserve {
	hment_ref_t hr_pool;          /* first reserved hment */
	uint32_t hr_count;            /* hments on the pool (RS_COUNT) */
	uint32_t hr_amount;           /* target size; frees refill the pool up to it */
	uint32_t hr_slack;            /* RS_TARGET: how far above target the last fill may leave it; */
				      /* HR_UNSETTLED from a new target or cap until a fill or trim */
	uint32_t hr_cap;              /* the hment cap (hment_set_limit), UINT32_MAX: none or larger */
	uint32_t hr_pad;              /* 0 */
	struct mm_lock hr_lock;       /* protects the pool */
};
#define HR_UNSETTLED UINT32_MAX

/*
 * An object cache (guest/objcache.c): pages carved into fixed-size
 * objects (hments, address spaces). Each page keeps its own free list in
 * a header at its end, so objects handed out one after another sit side
 * by side however much freeing scattered the free ones. The checker
 * reads the hment cache and the address-space cache (symbols
 * hment_cache, hat_cache): every object out is held (OC_LEAK), every
 * free one reachable (OC_FREE).
 *
 * The header, the last OBJCACHE_SLAB_SIZE bytes of a cache page. Free
 * objects link through their first two bytes: the next one's offset in
 * the page plus one (0: none). A page with a free object is on its
 * cache's oc_partial list (through os_next), a full one on none.
 */
struct objcache_slab {
	GPTR(struct objcache_slab) os_next;   /* the next page on oc_partial */
	uint16_t os_free;             /* offset + 1 of the page's first free object; 0: none */
	uint16_t os_nfree;            /* free objects on this page */
	uint32_t os_size;             /* the cache's object size: a free into another cache panics */
};
#define OBJCACHE_SLAB_SIZE 16u

struct objcache {
	/* read by every allocation and free, written only at boot and by objcache_set_limit */
	GPTR(const char) oc_name;
	uint32_t oc_size;             /* object size, a multiple of 8 */
	uint32_t oc_recip;            /* ceil(2^32 / oc_size): an offset in a page divided by oc_size is (off * oc_recip) >> 32 */
	uint32_t oc_per_page;         /* objects carved from one page */
	uint32_t oc_pad;              /* 0 */
	uint64_t oc_limit;            /* at most this many in use at once */
	GPTR(struct objcache_cpu) oc_cpus; /* HAT_MAX_CPUS lists of this CPU's own (objcache_per_cpu), or none */
	uint64_t oc_pad2[3];
	/* written under oc_lock: a line of its own, or a CPU on its own list would miss on the line above */
	GPTR(struct objcache_slab) oc_partial;      /* pages with free objects: allocations take the first's */
	GPTR(struct objcache_slab) oc_partial_tail; /* where a page that was full joins when one is freed */
	uint64_t oc_inuse;            /* objects handed out (OC_LEAK for the hment cache) */
	uint64_t oc_nfree;            /* free objects on all pages */
	uint64_t oc_npages;           /* pages carved and not given back to the page allocator */
	uint64_t oc_nfail;            /* allocations refused */
	struct mm_lock oc_lock;
	uint64_t oc_nidle;            /* pages on the partial list with every object free */
};

/*
 * A CPU's own free objects of one cache: the whole free list of one page
 * (oa_slab), taken from the pages at once, under oc_lock, when this
 * CPU's list is empty. The CPU then allocates from it, and frees objects
 * of that page back to it, under oa_lock alone: a lock no other CPU takes
 * but objcache_set_limit. So CPUs allocating at once no longer take
 * turns owning oc_lock's line, and each carves objects from a page of its
 * own (their lines stay in its cache). Taking a whole list is one pointer
 * move, not a walk: allocations still go up through a page in address
 * order. Objects another CPU frees into oa_slab go on the page's own list
 * (and the page back on oc_partial), not on this one.
 *
 * oc_inuse counts the objects on a CPU's list as out (they left the
 * pages); what callers hold is oc_inuse minus every oa_count. While the
 * cache has a limit the lists stay empty: a limit counts what callers
 * hold, exactly.
 */
struct objcache_cpu {
	struct mm_lock oa_lock;       /* its CPU's; objcache_set_limit empties the list under it */
	GPTR(struct objcache_slab) oa_slab;   /* the page the list is on; 0: none yet */
	uint16_t oa_free;             /* offset + 1 in that page of the list's first object; 0: empty */
	uint16_t oa_count;            /* objects on the list */
	uint32_t oa_pad;
	uint64_t oa_pad2[5];
};

/* The cache of idle, all-zero table pages: linked through p_next. */
struct ptp_cache {
	GPTR(struct page) pc_head;    /* first cached page (p_kind PG_CACHE) */
	uint64_t pc_count;            /* pages on the cache */
	uint64_t pc_max;              /* above this, freed table pages go to the allocator */
	struct mm_lock pc_lock;       /* protects the cache */
};

/*
 * The page allocator (page.c, symbol page_pool): one LIFO free list per
 * 2 MiB block of 512 pages, linked through p_next, and the blocks with
 * free pages on two lists, partial and fully free (page_alloc_large
 * takes a whole block in O(1)). `blocks` has one entry per 512 pages of
 * page_count. Everything, p_kind changes included, under `lock`. Free
 * pages are not kept zero: page_alloc zeroes what it hands out. (Field
 * names without a prefix: the mutation table names page.c's lines.)
 */
#define BLK_NIL UINT32_MAX

enum page_block_list { BL_NONE = 0, BL_PARTIAL = 1, BL_FULL = 2, BL_NLISTS = 3 };

struct page_block {
	GPTR(struct page) free;       /* this block's free pages, linked by p_next */
	uint32_t next;                /* neighbours on the block list, or BLK_NIL */
	uint32_t prev;
	uint16_t nfree;               /* pages on free */
	uint8_t list;                 /* BL_*: BL_FULL iff all 512 free, BL_NONE iff none */
	uint8_t pad[5];
};

struct page_pool {
	struct mm_lock lock;
	GPTR(struct page_block) blocks;   /* block of pfn: blocks[pfn / 512] */
	uint32_t head[BL_NLISTS];     /* first block of each list (BL_NONE's unused) */
	uint32_t pad;
	uint64_t nfree;               /* pages on the free lists (PG_FREE_COUNT) */
	uint64_t ninuse;              /* pages allocated: nfree + ninuse = managed (PG_INUSE) */
	uint64_t limit;               /* the cap: ninuse <= limit (UINT64_MAX: none) */
	uint64_t nfail;               /* allocations refused */
	uint64_t large_exam;          /* page_t examined by page_alloc_large */
	uint64_t reserve;             /* the emergency reserve: the last pages, for the kernel's table pages only */
	uint64_t nreserve;            /* allocations served from the reserve */
};

/*
 * The steal index (hment.c, symbol hment_listed): which pages have a
 * mapping list (p_mapping set, not embedded), as a tree of 64-bit words.
 * level[0] has a bit per page; each word of level[i + 1] has a bit per
 * word of level[i], set when that word is not zero. A word of level[i]
 * so covers 64^(i+1) pages, and a steal finds the next page with a list
 * by a find-first-set per level (RM_LISTED). level[i] has
 * (npages >> listed_word_shift(i)) + 1 words.
 *
 * Why the summary bits are added and subtracted, not or-ed and and-ed:
 * the CPU that turns a word zero or not zero updates its bit above, and
 * two such updates of one bit from two CPUs may land in either order.
 * Adding and subtracting commute, so once every update has landed each
 * summary word is exact; meanwhile a summary may be briefly off (a steal
 * then misses a page or looks in vain, both harmless).
 *
 * large[g] counts the present 2 MiB leaves that map 2 MiB group g of
 * frames (pfns g * 512 ..; (npages >> 9) + 1 counters), each on the
 * list of the group's first page. A pageunload of any page of the group
 * walks that page's list only while its group's count is not zero (the
 * list can be long, a page many spaces map 4 KiB at a time, however few
 * 2 MiB mappings there are); a mapping count adds the count, no walk.
 * Changed under the first page's list lock, by atomic stores: those two
 * read it without the lock, and take it only to walk (RM_LISTED).
 */
#define LISTED_LEVELS 3

/* log2 of the pages one bit of level i stands for: pfn's bit there is bit (pfn >> it) % 64 of word (pfn >> it) / 64. */
static inline unsigned listed_bit_shift(unsigned level)
{
	return 6 * level;
}

/* log2 of the pages one word of level i covers. */
static inline unsigned listed_word_shift(unsigned level)
{
	return listed_bit_shift(level) + 6;
}

struct hment_listed {
	GPTR(uint64_t) level[LISTED_LEVELS];
	uint64_t npages;              /* pages the index covers (page_count at boot) */
	GPTR(uint32_t) large;         /* 2 MiB leaves per 2 MiB group of frames */
};

/* The 2 MiB group counters for npages of RAM. */
static inline uint64_t listed_large_groups(uint64_t npages)
{
	return (npages >> (MM_LARGE_SHIFT - MM_PAGE_SHIFT)) + 1;
}

/*
 * Guest symbols the checker finds by name (all non-static in guest.elf):
 *
 *   page_array          GPTR(struct page)    page_t of pfn i at page_array[i]
 *   page_count          uint64_t             entries in page_array (RAM / 4 KiB)
 *   page_first_managed  uint64_t             first managed pfn; see below
 *   hment_hash          struct hment_hash
 *   hment_hash_locks    struct hment_hash_stripe[HMENT_HASH_NLOCK]
 *   hment_mlist_locks   struct mm_lock_line[HMENT_MLIST_NLOCK]
 *   hment_reserve       struct hment_reserve
 *   hat_kas             struct hat           the kernel address space
 *   hat_list            GPTR(struct hat)     head of all address spaces (hat_kas first)
 *   segtab_ptp_cache    struct ptp_cache
 *   hat_oplog           struct hat_oplog     (optional: without it no model)
 *   page_pool           struct page_pool     (optional: without it no PG_* checks)
 *   hat_list_lock       struct mm_lock       (optional: LK_QUIESCENT over it)
 *   hment_listed        struct hment_listed  (optional: without it no RM_LISTED)
 *   hment_cache         struct objcache      (optional: without it no OC_LEAK of hments)
 *   hat_cache           struct objcache      (optional: without it no OC_LEAK of spaces)
 *   hat_cpu             GPTR(struct hat)[HAT_MAX_CPUS]  the space each CPU has loaded,
 *                                            NULL: none yet (optional: without it no ST_CPUS)
 *   hat_tlb_flushed     struct hat_tlb_flushed[HAT_MAX_CPUS]  what each CPU's TLB has
 *                                            flushed (optional: without it no TLB_STALE)
 *   hment_short_listed  struct hment_short_count[HAT_MAX_CPUS]  hments on short lists, by
 *                                            CPU (optional: without it their count is not
 *                                            checked)
 *
 * What the mapping lists track: a page is managed when
 * page_first_managed <= pfn < page_count (the allocatable pages; all
 * pages below are PG_RESERVED or boot-built kernel tables). Exactly the
 * present leaves in the user half (VA < USER_TOP) of an address space
 * whose frame is a managed page are on mapping lists. A 2 MiB leaf is
 * tracked on the list of its first page (the frame's pfn) with hm_ptp
 * naming the level-2 table. Kernel-half mappings are never tracked, so
 * no managed page may be mapped in hat_kas's KMAP window (hat_memload
 * refuses it: the direct map reaches every page): one that is would be
 * invisible to pageunload, pagesync, mapcnt and page_free, and the
 * checker reports it as RM_MISSING.
 *
 * Kernel-half table pages below PML4 256..511 are owned by hat_kas even
 * when reached from another address space's PML4.
 */
#define MM_SYM_PAGE_ARRAY    "page_array"
#define MM_SYM_PAGE_COUNT    "page_count"
#define MM_SYM_FIRST_MANAGED "page_first_managed"
#define MM_SYM_HMENT_HASH    "hment_hash"
#define MM_SYM_HASH_LOCKS    "hment_hash_locks"
#define MM_SYM_MLIST_LOCKS   "hment_mlist_locks"
#define MM_SYM_RESERVE       "hment_reserve"
#define MM_SYM_HAT_KAS       "hat_kas"
#define MM_SYM_HAT_LIST      "hat_list"
#define MM_SYM_PTP_CACHE     "segtab_ptp_cache"
#define MM_SYM_OPLOG         "hat_oplog"
#define MM_SYM_PAGE_POOL     "page_pool"
#define MM_SYM_HAT_LIST_LOCK "hat_list_lock"
#define MM_SYM_HMENT_LISTED  "hment_listed"
#define MM_SYM_HMENT_CACHE   "hment_cache"
#define MM_SYM_HAT_CACHE     "hat_cache"
#define MM_SYM_HAT_CPU       "hat_cpu"
#define MM_SYM_TLB_FLUSHED   "hat_tlb_flushed"
#define MM_SYM_SHORT_LISTED  "hment_short_listed"

/* CPUs an address space's h_cpus can name, and hat_cpu's entries. */
#define HAT_MAX_CPUS 64u

/*
 * Hash of the PTE (table pfn, entry). Consecutive entries of a table land
 * in consecutive buckets, so walking or filling a table's worth of
 * mappings touches the buckets (and, allocated in order, the hments) in
 * order; highly shared pages have the same entry in many tables, so the
 * table pfn is mixed into the low bits as well as shifted above the 9
 * entry bits. Linear hashing takes more of the low bits as it grows.
 */
static inline uint32_t hment_hash_key(uint32_t ptp_pfn, uint32_t entry)
{
	return (uint32_t)(((uint64_t)ptp_pfn << 9) + ptp_pfn + entry);
}

/*
 * The bucket of hash h among nbuckets (>= HMENT_HASH_MIN): with span the
 * smallest power of two >= nbuckets, buckets [nbuckets - span/2, span/2)
 * are not split yet and hold the keys of their images too.
 */
static inline uint32_t hment_hash_bucket(uint32_t h, uint32_t nbuckets)
{
	uint32_t span = nbuckets <= 1 ? 1 : 1u << (32 - __builtin_clz(nbuckets - 1));
	uint32_t b = h & (span - 1);

	return b < nbuckets ? b : b & (span / 2 - 1);
}

/*
 * Bucket pages the directory can name for npages of RAM: room for every
 * hment RAM could hold (170 to a page) at HMENT_HASH_LOAD per bucket.
 */
static inline uint32_t hment_hash_dir_size(uint64_t npages)
{
	uint64_t max_hments = npages * (4096 / 24);

	return (uint32_t)(max_hments / HMENT_HASH_LOAD / HMENT_HASH_PAGE_BUCKETS + 1);
}

/* Frames in a run that share one mapping-list lock: a range operation takes it once for them (hment_hold). */
#define HMENT_MLIST_GROUP_SHIFT 4u

/* Mapping-list lock of a page: its group's; >> 8 sends groups a lock-array cycle (16 MiB) apart to different locks. */
static inline uint32_t hment_mlist_lock_index(uint32_t pfn)
{
	uint32_t group = pfn >> HMENT_MLIST_GROUP_SHIFT;

	return (group + (group >> 8)) & (HMENT_MLIST_NLOCK - 1);
}

/*
 * Stripe (lock and count) of a hash key: bits HMENT_HASH_STRIPE_SHIFT and
 * up of its low bits, which every bucket the key can live in shares
 * (there are at least HMENT_HASH_MIN buckets), so a key's stripe never
 * changes as the hash grows. The shift gives 64 neighbouring entries of
 * a table one stripe: a range operation sweeping a table touches 8
 * stripes, not all of them, so two CPUs on tables of their own seldom
 * meet on a stripe's cache line.
 */
#define HMENT_HASH_STRIPE_SHIFT 6u

static inline uint32_t hment_hash_lock_index(uint32_t h)
{
	return (h >> HMENT_HASH_STRIPE_SHIFT) & (HMENT_HASH_NLOCK - 1);
}

_Static_assert(sizeof(struct mm_lock) == 8, "mm_lock layout");
_Static_assert(sizeof(struct hment) == 24, "hment must stay 24 bytes");
_Static_assert(offsetof(struct hment, hm_ptp) == 12, "hment layout");
_Static_assert(offsetof(struct hment, hm_entry) == 20, "hment layout");
_Static_assert(GUEST_RAM_MAX <= MM_RAM_MAX, "the MM manages all of the guest's RAM");
_Static_assert(HMENT_HASH_MIN >= (HMENT_HASH_NLOCK << HMENT_HASH_STRIPE_SHIFT),
	       "a key's stripe must not depend on the size");
_Static_assert(sizeof(struct hment_hash_stripe) == MM_CACHE_LINE, "hment_hash_stripe layout");
_Static_assert(sizeof(struct page) == 48, "page_t layout");
_Static_assert(offsetof(struct page, p_ptva) == 16, "page_t layout");
_Static_assert(offsetof(struct page, p_mapping) == 24, "page_t layout");
_Static_assert(offsetof(struct page, p_mlentry) == 36, "page_t layout");
_Static_assert(offsetof(struct page, p_valid) == 40, "page_t layout");
_Static_assert(offsetof(struct page, p_attr) == 43, "page_t layout");
_Static_assert(sizeof(struct objcache) == 2 * MM_CACHE_LINE, "objcache layout");
_Static_assert(sizeof(struct objcache_cpu) == MM_CACHE_LINE, "objcache_cpu layout");
_Static_assert(sizeof(struct objcache_slab) == OBJCACHE_SLAB_SIZE, "objcache_slab layout");
_Static_assert(offsetof(struct objcache, oc_partial) == MM_CACHE_LINE, "objcache layout");
_Static_assert(sizeof(struct hat) == 128, "hat layout");
_Static_assert(sizeof(struct hat_tlb_flushed) == 16, "hat_tlb_flushed layout");
_Static_assert(offsetof(struct hat, h_top_pa) == 24, "hat layout");
_Static_assert(offsetof(struct hat, h_lock) == 32, "hat layout");
_Static_assert(offsetof(struct hat, h_nptp) == 56, "hat layout");
_Static_assert(sizeof(struct hment_hash) == 16, "hment_hash layout");
_Static_assert(sizeof(struct hment_reserve) == 32, "hment_reserve layout");
_Static_assert(sizeof(struct ptp_cache) == 32, "ptp_cache layout");
_Static_assert(sizeof(struct hat_op) == 40, "hat_op layout");
_Static_assert(sizeof(struct hat_oplog) == 128 && offsetof(struct hat_oplog, ol_next) == 64, "hat_oplog layout");
_Static_assert(sizeof(struct hat_oplog_lane) == 64, "hat_oplog_lane layout");
_Static_assert(sizeof(struct page_block) == 24, "page_block layout");
_Static_assert(sizeof(struct page_pool) == 88, "page_pool layout");
_Static_assert(sizeof(struct hment_listed) == 40, "hment_listed layout");

#endif
