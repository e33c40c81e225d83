/* SPDX-License-Identifier: BSD-2-Clause */
/* The mutation driver's workload model: what each address space should map, a software TLB fed by the HAT's shootdowns, allocator counts. */
#ifndef TESTS_MUTATE_MUTATE_MODEL_H
#define TESTS_MUTATE_MUTATE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "hat.h"
#include "rand.h"

#define MD_RAM          (32ull << 20)
#define MD_RAM_PAGES    (MD_RAM >> MM_PAGE_SHIFT)
#define MD_SPACES       8u
#define MD_REGIONS      4u
#define MD_REGION_SLOTS 16u
#define MD_REGULAR      (MD_REGIONS * MD_REGION_SLOTS)
#define MD_BULK         4608u         /* slots of the bulk region (the hash shape: 8 spaces × 4608 hments, past the hash's boot size) */
#define MD_SMALL        (MD_REGULAR + MD_BULK)
#define MD_LARGE        4u
#define MD_POOL         32u
#define MD_BLOCKS       2u
#define MD_SCRATCH      8u
#define MD_TLB          48u
#define MD_KMAP         8u            /* slots of the kernel's KMAP window the driver loads */

/* One mapping the model expects: frame, HAT attributes, and the A/D bits the "CPU" set. */
struct md_map {
	bool on;
	uint64_t pfn;
	unsigned attr;
	bool a, d;
};

struct md_space {
	struct hat *h;                 /* NULL: slot unused; loaded on CPU index + 1 */
	struct md_map small[MD_SMALL];
	struct md_map large[MD_LARGE];
};

/* A translation the simulated CPU cached: dropped only by the HAT's shootdowns (or a CR3 switch). */
struct md_tlb {
	bool on;
	unsigned space;
	uint64_t va;                   /* page (or 2 MiB) base */
	uint64_t pte;                  /* the leaf as it was when cached */
};

struct model {
	struct rand rng;
	unsigned nspaces;              /* space slots in play */
	unsigned nsmall;               /* small slots in play: MD_REGULAR, or MD_SMALL with bulk */
	struct md_space sp[MD_SPACES];
	page_t *pool[MD_POOL];
	unsigned npool;
	page_t *block[MD_BLOCKS];
	unsigned nblocks;
	page_t *scratch[MD_SCRATCH];   /* pages the exhaust shape allocates and frees */
	bool scratch_large[MD_SCRATCH];
	uint8_t attr[MD_RAM_PAGES];    /* PG_ATTR_* the model expects in each page_t */
	struct md_tlb tlb[MD_TLB];
	bool kmap[MD_KMAP];            /* a kernel load was made at that KMAP slot (unloaded next time) */
	bool may_steal;                /* pressure: a mapping may vanish (stolen), never change */
	uint64_t hment_cap;            /* OBJCACHE_LIMIT_NONE or the cap set */
	uint64_t steals0, vanished;
	uint64_t page_cap;             /* PAGE_LIMIT_NONE or the cap set */
	uint64_t nreserve0;            /* page_nreserve() when the cap was set */
	uint64_t ops;
	unsigned every;                /* a checkpoint after every `every` operations */
	void (*checkpoint)(void *arg, const char *label);
	void *arg;
	unsigned nfindings;            /* model mismatches; the first one's text and op below */
	uint64_t finding_op;
	const char *finding_kind;
	char finding[256];
};

/* Sets the model up over a booted MM: pool pages, 2 MiB blocks, spaces, CPUs and the TLB hook. */
void md_init(struct model *m, uint64_t seed, unsigned spaces, unsigned pool, unsigned blocks);

/* Ends one operation: a checkpoint every `every` ops, then compares everything with the MM. */
void md_end_op(struct model *m);

/*
 * Inside an operation made of several HAT calls (a fork), between two of
 * them: with a checkpoint after every operation, one here too, so damage
 * done by one call is seen before the next call trips over it.
 */
void md_between_calls(struct model *m);

/*
 * Records a mismatch of kind (tlb, leaf, getpfnum, mapcnt, pageunload,
 * pagesync, allocator, hments, reserve). The run goes on: the checker
 * gets the first word at the next checkpoint.
 */
void md_finding(struct model *m, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* VAs of the slots. */
uint64_t md_small_va(unsigned k);
uint64_t md_large_va(unsigned j);

/* Operations: each calls the HAT and updates the model the way the HAT's contract says. */
void md_create(struct model *m, unsigned s);
void md_destroy(struct model *m, unsigned s);
void md_load_small(struct model *m, unsigned s, unsigned k, uint64_t pfn, unsigned attr);
void md_load_large(struct model *m, unsigned s, unsigned j, unsigned b, unsigned attr);
void md_unload_small(struct model *m, unsigned s, unsigned first, unsigned n);
void md_unload_large(struct model *m, unsigned s, unsigned j);
void md_unload_all(struct model *m, unsigned s);
void md_pageunload(struct model *m, uint64_t pfn);
void md_chgprot_small(struct model *m, unsigned s, unsigned first, unsigned n, unsigned prot);
void md_chgprot_large(struct model *m, unsigned s, unsigned j, unsigned prot);
void md_unlock_small(struct model *m, unsigned s, unsigned first, unsigned n);
/* The range loads, driven with no cap set (a failure's extent is not in the contract). */
void md_load_array(struct model *m, unsigned s, unsigned first, unsigned n, page_t **pps,
		   unsigned attr);
void md_dup(struct model *m, unsigned a, unsigned b, unsigned prot);
/*
 * The kernel space: a load at KMAP slot k (hat.h: a managed page is
 * refused, HAT_ERR_KERNEL_MANAGED; an unmanaged frame is mapped), or,
 * when the slot was loaded, its unload.
 */
void md_kernel_load(struct model *m, unsigned k, uint64_t pfn);
void md_pagesync(struct model *m, uint64_t pfn, bool clear);
void md_clrattr(struct model *m, uint64_t pfn, unsigned bits);
void md_touch(struct model *m, unsigned s, uint64_t va, bool write);
void md_reserve(struct model *m, unsigned amount, unsigned fill, bool adjust);
void md_bulk(struct model *m, unsigned s, bool load);
void md_scratch(struct model *m, unsigned i, bool large);
/* Kernel loads at the hard cap: two tables from an emergency reserve of two, a third refused. */
void md_kernel_at_cap(struct model *m);
void md_page_cap(struct model *m, uint64_t extra);
/* mutate_busy.c: a table held busy as another CPU's memload holds it; steals skip it, prunes leave it. */
void md_busy_steal(struct model *m);
void md_busy_prune(struct model *m);

/* The cache attribute (0, HAT_NOCACHE, HAT_WRITETHRU) every mapping of pfn uses: one memory type per page. */
unsigned md_frame_cache(const struct model *m, uint64_t pfn);

/* True when a large mapping of s covers small slot k. */
bool md_small_covered(const struct model *m, unsigned s, unsigned k);

#endif
