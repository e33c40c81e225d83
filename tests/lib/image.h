/* SPDX-License-Identifier: BSD-2-Clause */
/* Synthetic guest memory images for the checker tests: an arena laid out as the guest MM lays out RAM, built by hand. */
#ifndef TESTS_CHECKER_CORE_IMAGE_H
#define TESTS_CHECKER_CORE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "hatvm/mm_structs.h"
#include "check_mem.h"
#include "checker.h"

#define IMG_GLOBALS_PA   0x200000ull   /* the "kernel image": the MM's variables */
#define IMG_BOOT_PA      0x400000ull   /* boot carving: kernel tables, hash buckets, page_t array */
#define IMG_OVERRIDE_BASE 0x0000500000000000ull  /* VA of PA 0 when virt_to_phys decides */

/*
 * An image. With `override`, every VA is IMG_OVERRIDE_BASE + PA and the
 * check_mem translates by subtraction; otherwise data lives at
 * DIRECT_MAP_BASE + PA and the MM's variables at KERNEL_BASE + PA, and the
 * checker translates through the kernel's page tables built here.
 */
struct image {
	uint8_t *ram;
	uint64_t ram_size;
	bool override;
	uint64_t npages, first_managed;
	uint64_t next_pfn;              /* managed pages are handed out upwards, never reused */
	uint64_t page_array_pa, dir_pa, buckets_pa, oplog_pa, kas_top_pa;
	uint64_t blocks_pa;             /* the page allocator's blocks (page_pool.blocks) */
	uint32_t hash_size;             /* hh_nbuckets; the bucket pages are contiguous at buckets_pa */
	uint64_t hment_page_pa, hat_page_pa;   /* the last page carved for hments, for spaces */
	uint32_t hat_serial;
	struct mm_symbols sym;
	struct check_mem mem;
};

/*
 * Maps an arena of ram_size bytes (a multiple of 2 MiB, at least 8 MiB)
 * and builds the kernel address space: direct map, KMAP table, image
 * tables, page_t array, hash, empty reserve and cache, and the page
 * allocator (every managed page free; pages the image takes leave its
 * free lists). NULL on failure.
 */
struct image *img_new(uint64_t ram_size, bool override);
void img_free(struct image *img);

/* The VA of the kernel's struct hat. */
uint64_t img_kas(const struct image *img);

/* A new address space (VA of its struct hat), sharing the kernel half. */
uint64_t img_hat_create(struct image *img);

/* n contiguous fresh managed pages of kind PG_USER; the first pfn. */
uint64_t img_alloc_user(struct image *img, unsigned n);

/* 512 fresh, 2 MiB-aligned PG_USER pages; the first pfn. */
uint64_t img_alloc_large(struct image *img);

/* Maps pfn at va in hat (4 KiB, or 2 MiB when large) and records it on the page's list. */
void img_map(struct image *img, uint64_t hat, uint64_t va, uint64_t pfn, bool large);

/* Unmaps the 4 KiB mapping at va of hat and drops it from the page's list. */
void img_unmap(struct image *img, uint64_t hat, uint64_t va);

/*
 * The healthy shape the bounds tests and benchmark start from: 4 spaces,
 * 8192 private pages spread over them, 4096 pages shared by all four, 64
 * reserved hments.
 */
void img_populate_healthy(struct image *img);

/* The hment ref names. */
struct hment *img_hment(const struct image *img, hment_ref_t ref);

/* Bucket b's chain head. */
hment_ref_t *img_bucket(const struct image *img, uint32_t b);

/* Appends op to the image's HAT operation log (o_seq filled in), as the MM's hat_oplog_append. */
void img_log_op(struct image *img, struct hat_op op);

/* The image's HAT operation log (its counters: ol_lost, ol_next, ...). */
struct hat_oplog *img_oplog(struct image *img);

/* Puts n fresh hments on the reserve pool. */
void img_reserve_fill(struct image *img, unsigned n);

/* The image's hment and address-space caches: their oc_inuse counts what the builders handed out. */
struct objcache *img_hment_cache(struct image *img);
struct objcache *img_hat_cache(struct image *img);

/* The page header a cache's partial list names by VA (oc_partial, os_next). */
struct objcache_slab *img_slab(const struct image *img, uint64_t slab_va);

/* Moves the whole free list of the hment cache's first partial page to CPU cpu's list, as objcache.c does (none: no-op). */
void img_cpu_list_take(struct image *img, unsigned cpu);

/* The hment cache's lists per CPU (HAT_MAX_CPUS, its oc_cpus). */
struct objcache_cpu *img_cpu_lists(struct image *img);

/* Puts n fresh zeroed table pages on the table-page cache. */
void img_cache_add(struct image *img, unsigned n);

/*
 * Adversarial images (tests/checker/test_bounds.c, bench/bench_checker.c):
 * each makes one guest-controlled size as large as RAM allows.
 */
/* The largest hash directory the checker accepts, every bucket in use, its pages the reserved ones (garbage chains). */
void img_adv_hash_all_ram(struct image *img);

/* n fake address spaces on hat_list, each with h_top_pa at a different page of RAM. */
void img_adv_fake_spaces(struct image *img, uint64_t n);

/*
 * A list of n fresh hments on a fresh page that nothing maps (p_share n),
 * each also chained into hash bucket 0; cyclic: the last links back to
 * the first on both the list and the chain.
 */
void img_adv_long_list(struct image *img, uint64_t n, bool cyclic);

/* Every block's free list loops (all its pages lead back to its first), as do the block lists. */
void img_adv_free_lists_loop(struct image *img);

/* Every page_t claims to be a level-1 table page of hat_kas. */
void img_adv_all_ptp(struct image *img);

/* Host pointer to guest PA pa / to the object at guest VA va. */
void *img_pa(const struct image *img, uint64_t pa);
void *img_va(const struct image *img, uint64_t va);

/* page_t of pfn (and its guest VA), the hat at VA hat. */
struct page *img_page(const struct image *img, uint64_t pfn);
uint64_t img_page_va(const struct image *img, uint64_t pfn);
struct hat *img_hat(const struct image *img, uint64_t hat);

/* The leaf entry for va in hat (level 1, or 2 for a 2 MiB leaf); NULL when no table. */
uint64_t *img_pte(const struct image *img, uint64_t hat, uint64_t va, unsigned level);

#endif
