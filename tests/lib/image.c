/* SPDX-License-Identifier: BSD-2-Clause */
/* Builds synthetic guest memory images: kernel tables, page_t array, address spaces, embedded and listed mappings, hash, reserve, cache. */
#include "image.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hatvm/layout.h"

/* Offsets of the MM's variables inside the image page(s) at IMG_GLOBALS_PA. */
enum {
	G_PAGE_ARRAY = 0x000, G_PAGE_COUNT = 0x008, G_FIRST_MANAGED = 0x010, G_HAT_LIST = 0x018,
	G_HASH = 0x020, G_RESERVE = 0x040, G_CACHE = 0x060, G_KAS = 0x080, G_OPLOG = 0x100,
	G_POOL = 0x180, G_HAT_LIST_LOCK = 0x1e0, G_LISTED = 0x200, G_HCACHE = 0x400, G_HATCACHE = 0x480,
	G_HAT_CPU = 0x600, G_HASH_LOCKS = 0x800, G_MLIST_LOCKS = 0x4800, G_TLB_FLUSHED = 0x8800,
	G_HCACHE_CPUS = 0x9000, G_SHORT_LISTED = 0xa000,
};
_Static_assert(G_KAS + sizeof(struct hat) <= G_OPLOG, "image globals overlap");
_Static_assert(G_POOL + sizeof(struct page_pool) <= G_HAT_LIST_LOCK, "image globals overlap");
_Static_assert(G_HAT_LIST_LOCK + sizeof(struct mm_lock) <= G_LISTED, "image globals overlap");
_Static_assert(G_LISTED + sizeof(struct hment_listed) <= G_HCACHE, "image globals overlap");
_Static_assert(G_HCACHE + sizeof(struct objcache) <= G_HATCACHE, "image globals overlap");
_Static_assert(G_HATCACHE + sizeof(struct objcache) <= G_HAT_CPU, "image globals overlap");
_Static_assert(G_HAT_CPU + HAT_MAX_CPUS * 8 <= G_HASH_LOCKS, "image globals overlap");
_Static_assert(G_HASH_LOCKS + HMENT_HASH_NLOCK * sizeof(struct hment_hash_stripe) <= G_MLIST_LOCKS,
	       "image globals overlap");
_Static_assert(G_MLIST_LOCKS + HMENT_MLIST_NLOCK * sizeof(struct mm_lock_line) <= G_TLB_FLUSHED,
	       "image globals overlap");
_Static_assert(G_TLB_FLUSHED + HAT_MAX_CPUS * sizeof(struct hat_tlb_flushed) <= G_HCACHE_CPUS,
	       "image globals overlap");
_Static_assert(G_HCACHE_CPUS + HAT_MAX_CPUS * sizeof(struct objcache_cpu) <= G_SHORT_LISTED,
	       "image globals overlap");
_Static_assert(G_SHORT_LISTED + HAT_MAX_CPUS * sizeof(struct hment_short_count) <= IMG_BOOT_PA - IMG_GLOBALS_PA,
	       "image globals overlap");


static uint64_t dva(const struct image *img, uint64_t pa)
{
	return (img->override ? IMG_OVERRIDE_BASE : DIRECT_MAP_BASE) + pa;
}

static uint64_t kva(const struct image *img, uint64_t pa)
{
	return (img->override ? IMG_OVERRIDE_BASE : KERNEL_BASE) + pa;
}

static uint64_t pa_of(const struct image *img, uint64_t va)
{
	if (img->override)
		return va - IMG_OVERRIDE_BASE;
	return va >= KERNEL_BASE ? va - KERNEL_BASE : va - DIRECT_MAP_BASE;
}

void *img_pa(const struct image *img, uint64_t pa)
{
	if (pa >= img->ram_size) {
		fprintf(stderr, "image: PA 0x%" PRIx64 " outside RAM\n", pa);
		abort();
	}
	return img->ram + pa;
}

void *img_va(const struct image *img, uint64_t va)
{
	return img_pa(img, pa_of(img, va));
}

struct page *img_page(const struct image *img, uint64_t pfn)
{
	return img_pa(img, img->page_array_pa + pfn * sizeof(struct page));
}

struct hat *img_hat(const struct image *img, uint64_t hat)
{
	return img_va(img, hat);
}

uint64_t img_page_va(const struct image *img, uint64_t pfn)
{
	return dva(img, img->page_array_pa + pfn * sizeof(struct page));
}

static void *global(const struct image *img, unsigned off)
{
	return img_pa(img, IMG_GLOBALS_PA + off);
}

uint64_t img_kas(const struct image *img)
{
	return kva(img, IMG_GLOBALS_PA + G_KAS);
}

/* --- memory access for the checker --------------------------------------- */

static bool arena_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	struct image *img = ctx;

	if (pa > img->ram_size || len > img->ram_size - pa)
		return false;
	memcpy(dst, img->ram + pa, len);
	return true;
}

static bool arena_write(void *ctx, uint64_t pa, const void *src, size_t len)
{
	struct image *img = ctx;

	if (pa > img->ram_size || len > img->ram_size - pa)
		return false;
	memcpy(img->ram + pa, src, len);
	return true;
}

static bool arena_translate(void *ctx, uint64_t va, uint64_t *pa)
{
	struct image *img = ctx;

	if (va < IMG_OVERRIDE_BASE || va - IMG_OVERRIDE_BASE >= img->ram_size)
		return false;
	*pa = va - IMG_OVERRIDE_BASE;
	return true;
}

/* --- boot: the kernel address space ---------------------------------------- */

static uint64_t boot_next;

static uint64_t boot_alloc(uint64_t npages)
{
	uint64_t pa = boot_next;

	boot_next += npages * MM_PAGE_SIZE;
	return pa;
}

/* The table at `level` for va under top, made from boot pages as needed. */
static uint64_t boot_table(struct image *img, uint64_t va, unsigned level)
{
	uint64_t pa = img->kas_top_pa;

	for (unsigned l = MM_LEVELS; l > level; l--) {
		uint64_t *e = (uint64_t *)img_pa(img, pa) + MM_VA_INDEX(va, l);

		if (!(*e & PTE_P))
			*e = boot_alloc(1) | PTE_P | PTE_W;
		pa = *e & PTE_FRAME;
	}
	return pa;
}

static void boot_map(struct image *img, uint64_t va, unsigned level, uint64_t leaf)
{
	uint64_t *t = img_pa(img, boot_table(img, va, level));

	t[MM_VA_INDEX(va, level)] = leaf;
}

/* Marks a boot table and those below it as hat_kas's; returns how many. */
static uint64_t adopt(struct image *img, uint64_t pa, unsigned level, uint64_t ptva)
{
	struct page *pg = img_page(img, pa >> MM_PAGE_SHIFT);
	const uint64_t *t = img_pa(img, pa);
	uint64_t n = 1;

	*pg = (struct page){ .p_hat = img_kas(img), .p_ptva = ptva, .p_pagenum = (uint32_t)(pa >> 12),
			     .p_kind = PG_PTP, .p_level = (uint8_t)level };
	for (unsigned i = 0; i < MM_PTES; i++) {
		uint64_t child_va = x86_table_entry_va(ptva, level, i);

		if (!(t[i] & PTE_P))
			continue;
		pg->p_valid++;
		if (level > 1 && !(t[i] & PTE_PS))
			n += adopt(img, t[i] & PTE_FRAME, level - 1, child_va);
	}
	return n;
}

/* --- the page allocator: a free list per 2 MiB block, as page.c keeps it ---- */

static uint64_t img_nblocks(const struct image *img)
{
	return (img->npages + MM_LARGE_PAGES - 1) / MM_LARGE_PAGES;
}

static struct page_pool *img_pool(const struct image *img)
{
	return img_pa(img, IMG_GLOBALS_PA + G_POOL);
}

static struct page_block *img_block(const struct image *img, uint64_t b)
{
	return img_pa(img, img->blocks_pa + b * sizeof(struct page_block));
}

/* Moves block b to the head of the list its free count calls for. */
static void block_relist(struct image *img, uint64_t b)
{
	struct page_pool *pool = img_pool(img);
	struct page_block *blk = img_block(img, b);
	uint8_t list = blk->nfree == 0 ? BL_NONE : blk->nfree == MM_LARGE_PAGES ? BL_FULL : BL_PARTIAL;

	if (blk->list != BL_NONE) {
		if (blk->prev != BLK_NIL)
			img_block(img, blk->prev)->next = blk->next;
		else
			pool->head[blk->list] = blk->next;
		if (blk->next != BLK_NIL)
			img_block(img, blk->next)->prev = blk->prev;
	}
	blk->list = list;
	blk->prev = blk->next = BLK_NIL;
	if (list == BL_NONE)
		return;
	blk->next = pool->head[list];
	if (blk->next != BLK_NIL)
		img_block(img, blk->next)->prev = (uint32_t)b;
	pool->head[list] = (uint32_t)b;
}

/* Every managed page free, the lowest pfn of each block first on its list. */
static void boot_pool(struct image *img)
{
	struct page_pool *pool = img_pool(img);

	*pool = (struct page_pool){ .blocks = dva(img, img->blocks_pa), .limit = UINT64_MAX,
				    .head = { BLK_NIL, BLK_NIL, BLK_NIL } };
	for (uint64_t b = 0; b < img_nblocks(img); b++)
		*img_block(img, b) = (struct page_block){ .next = BLK_NIL, .prev = BLK_NIL };
	for (uint64_t pfn = img->npages; pfn-- > img->first_managed;) {
		struct page_block *blk = img_block(img, pfn / MM_LARGE_PAGES);

		img_page(img, pfn)->p_next = blk->free;
		blk->free = img_page_va(img, pfn);
		blk->nfree++;
		pool->nfree++;
	}
	for (uint64_t b = img_nblocks(img); b-- > 0;)
		block_relist(img, b);
}

/* Takes the free page pfn off its block's list (a walk of at most 512 pages) and counts it in use. */
static void pool_take(struct image *img, uint64_t pfn)
{
	struct page_pool *pool = img_pool(img);
	struct page_block *blk = img_block(img, pfn / MM_LARGE_PAGES);
	uint64_t *link = &blk->free, va = img_page_va(img, pfn);

	while (*link != va)
		link = &img_page(img, (pa_of(img, *link) - img->page_array_pa) / sizeof(struct page))->p_next;
	*link = img_page(img, pfn)->p_next;
	img_page(img, pfn)->p_next = 0;
	blk->nfree--;
	pool->nfree--;
	pool->ninuse++;
	block_relist(img, pfn / MM_LARGE_PAGES);
}

/*
 * The page_t array, the hash directory and its bucket pages (contiguous
 * here, a page per 1024 buckets; the count is seldom a power of two, as
 * after the MM's linear-hashing splits), carved after the kernel tables.
 */
/* Pages holding n zeroed bytes. */
static uint64_t boot_bytes(uint64_t n)
{
	return boot_alloc((n + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT);
}

/* The steal index: empty, sized as hment_init sizes it. */
static void boot_listed(struct image *img)
{
	struct hment_listed *l = global(img, G_LISTED);

	l->npages = img->npages;
	for (unsigned i = 0; i < LISTED_LEVELS; i++)
		l->level[i] = dva(img, boot_bytes(((img->npages >> listed_word_shift(i)) + 1) * sizeof(uint64_t)));
	l->large = dva(img, boot_bytes(listed_large_groups(img->npages) * sizeof(uint32_t)));
}

/* The steal index's count of 2 MiB mappings of pfn's group, for a mapping in table ptp coming (+1) or going (-1). */
static void large_note(struct image *img, uint64_t pfn, uint64_t ptp, int delta)
{
	const struct hment_listed *l = global(img, G_LISTED);
	uint32_t *count = img_va(img, l->large + (pfn >> (MM_LARGE_SHIFT - MM_PAGE_SHIFT)) * sizeof(uint32_t));

	if (img_page(img, ptp)->p_level == 2)
		*count += (uint32_t)delta;
}

/* Keeps the steal index right after pfn's page_t changed; `had`: it had a list before. */
static void listed_note(struct image *img, uint64_t pfn, bool had)
{
	const struct hment_listed *l = global(img, G_LISTED);
	const struct page *pg = img_page(img, pfn);
	bool has = pg->p_mapping != 0 && !pg->p_embed;

	if (has == had)
		return;
	for (unsigned i = 0; i < LISTED_LEVELS; i++) {
		uint64_t entry = pfn >> listed_bit_shift(i);
		uint64_t *word = img_va(img, l->level[i] + (entry >> 6) * 8), was = *word;

		*word ^= 1ull << (entry & 63);
		if ((was == 0) == (*word == 0))
			return;   /* the word's emptiness did not change: the levels above stay */
	}
}

static void boot_carve(struct image *img)
{
	uint64_t array_bytes = img->npages * sizeof(struct page);
	uint32_t dir_size = hment_hash_dir_size(img->npages), bucket_pages, *dir;

	img->hash_size = HMENT_HASH_MIN + HMENT_HASH_PAGE_BUCKETS * (uint32_t)(img->npages / 2048 + 1);
	bucket_pages = img->hash_size / HMENT_HASH_PAGE_BUCKETS;
	img->dir_pa = boot_alloc((dir_size * 4ull + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT);
	img->buckets_pa = boot_alloc(bucket_pages);
	img->oplog_pa = boot_alloc(1);
	dir = img_pa(img, img->dir_pa);
	for (uint32_t k = 0; k < bucket_pages; k++)
		dir[k] = (uint32_t)((img->buckets_pa >> MM_PAGE_SHIFT) + k);
	img->blocks_pa = boot_alloc((img_nblocks(img) * sizeof(struct page_block) + MM_PAGE_SIZE - 1) >>
				    MM_PAGE_SHIFT);
	boot_listed(img);
	img->page_array_pa = boot_alloc((array_bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT);
	img->first_managed = boot_next >> MM_PAGE_SHIFT;
	img->next_pfn = img->first_managed;
}

/* Direct map (2 MiB), KMAP's PDPT, the image (4 KiB leaves). */
static void boot_kernel_tables(struct image *img)
{
	img->kas_top_pa = boot_alloc(1);
	for (uint64_t pa = 0; pa < img->ram_size; pa += MM_LARGE_SIZE)
		boot_map(img, DIRECT_MAP_BASE + pa, 2, pa | PTE_P | PTE_W | PTE_PS | PTE_NX);
	(void)boot_table(img, KMAP_BASE, 3);
	for (uint64_t pa = IMG_GLOBALS_PA; pa < IMG_BOOT_PA; pa += MM_PAGE_SIZE)
		boot_map(img, KERNEL_BASE + pa, 1, pa | PTE_P | PTE_W | PTE_NX);
}

/* Every page_t: reserved below first_managed, free above; then the kernel's tables. */
static void boot_pages(struct image *img)
{
	struct hat *kas = global(img, G_KAS);

	for (uint64_t pfn = 0; pfn < img->npages; pfn++)
		*img_page(img, pfn) = (struct page){
			.p_pagenum = (uint32_t)pfn,
			.p_kind = pfn < img->first_managed ? PG_RESERVED : PG_FREE,
		};
	boot_pool(img);
	*kas = (struct hat){ .h_top = img_page_va(img, img->kas_top_pa >> MM_PAGE_SHIFT),
			     .h_top_pa = img->kas_top_pa, .h_flags = HAT_F_KERNEL,
			     .h_cpus = 1 };   /* CPU 0 runs on it, as a booted guest's does */
	kas->h_nptp = adopt(img, img->kas_top_pa, MM_LEVELS, 0);
}

/* An empty object cache at global g, laid out as guest/objcache.c's (see cache_take). */
static void cache_init(struct image *img, unsigned g, uint32_t size)
{
	*(struct objcache *)global(img, g) = (struct objcache){
		.oc_size = size, .oc_per_page = (MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE) / size,
		.oc_limit = UINT64_MAX };
}

/* The MM's variables and the symbols naming them. */
static void boot_globals(struct image *img)
{
	struct mm_symbols *s = &img->sym;

	*(uint64_t *)global(img, G_PAGE_ARRAY) = dva(img, img->page_array_pa);
	*(uint64_t *)global(img, G_PAGE_COUNT) = img->npages;
	*(uint64_t *)global(img, G_FIRST_MANAGED) = img->first_managed;
	*(uint64_t *)global(img, G_HAT_LIST) = img_kas(img);
	*(uint64_t *)global(img, G_HAT_CPU) = img_kas(img);   /* CPU 0's loaded space */
	*(struct hment_hash *)global(img, G_HASH) = (struct hment_hash){
		.hh_dir = dva(img, img->dir_pa), .hh_dir_size = hment_hash_dir_size(img->npages),
		.hh_nbuckets = img->hash_size };
	*(struct hment_reserve *)global(img, G_RESERVE) = (struct hment_reserve){ .hr_amount = 64 };
	*(struct ptp_cache *)global(img, G_CACHE) = (struct ptp_cache){ .pc_max = 32 };
	cache_init(img, G_HCACHE, sizeof(struct hment));
	((struct objcache *)global(img, G_HCACHE))->oc_cpus = kva(img, IMG_GLOBALS_PA + G_HCACHE_CPUS);
	cache_init(img, G_HATCACHE, sizeof(struct hat));
	/* an empty HAT operation log: an image is built by hand, so a model starts from its tables */
	*(struct hat_oplog *)global(img, G_OPLOG) = (struct hat_oplog){
		.ol_ring = dva(img, img->oplog_pa), .ol_nlanes = 1, .ol_next = 1, .ol_drained = 1,
		.ol_size = (MM_PAGE_SIZE - sizeof(struct hat_oplog_lane)) / sizeof(struct hat_op) };
	*s = (struct mm_symbols){
		.page_array = kva(img, IMG_GLOBALS_PA + G_PAGE_ARRAY),
		.page_count = kva(img, IMG_GLOBALS_PA + G_PAGE_COUNT),
		.page_first_managed = kva(img, IMG_GLOBALS_PA + G_FIRST_MANAGED),
		.hment_hash = kva(img, IMG_GLOBALS_PA + G_HASH),
		.hment_hash_locks = kva(img, IMG_GLOBALS_PA + G_HASH_LOCKS),
		.hment_mlist_locks = kva(img, IMG_GLOBALS_PA + G_MLIST_LOCKS),
		.hment_reserve = kva(img, IMG_GLOBALS_PA + G_RESERVE),
		.hat_kas = img_kas(img),
		.hat_list = kva(img, IMG_GLOBALS_PA + G_HAT_LIST),
		.segtab_ptp_cache = kva(img, IMG_GLOBALS_PA + G_CACHE),
		.hat_oplog = kva(img, IMG_GLOBALS_PA + G_OPLOG),
		.page_pool = kva(img, IMG_GLOBALS_PA + G_POOL),
		.hat_list_lock = kva(img, IMG_GLOBALS_PA + G_HAT_LIST_LOCK),
		.hment_listed = kva(img, IMG_GLOBALS_PA + G_LISTED),
		.hment_cache = kva(img, IMG_GLOBALS_PA + G_HCACHE),
		.hat_cache = kva(img, IMG_GLOBALS_PA + G_HATCACHE),
		.hat_cpu = kva(img, IMG_GLOBALS_PA + G_HAT_CPU),
		.hat_tlb_flushed = kva(img, IMG_GLOBALS_PA + G_TLB_FLUSHED),
		.hment_short_listed = kva(img, IMG_GLOBALS_PA + G_SHORT_LISTED),
	};
}

struct image *img_new(uint64_t ram_size, bool override)
{
	struct image *img = calloc(1, sizeof(*img));
	void *ram;

	if (img == NULL || ram_size % MM_LARGE_SIZE != 0 || ram_size < (8ull << 20))
		goto fail;
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (ram == MAP_FAILED)
		goto fail;
	img->ram = ram;
	img->ram_size = ram_size;
	img->override = override;
	img->npages = ram_size >> MM_PAGE_SHIFT;
	img->mem = (struct check_mem){ .read_phys = arena_read, .write_phys = arena_write,
				       .virt_to_phys = override ? arena_translate : NULL,
				       .ctx = img, .direct = img->ram, .ram_size = ram_size };
	boot_next = IMG_BOOT_PA;
	boot_kernel_tables(img);
	boot_carve(img);
	boot_globals(img);
	boot_pages(img);
	return img;
fail:
	free(img);
	return NULL;
}

void img_free(struct image *img)
{
	if (img == NULL)
		return;
	munmap(img->ram, img->ram_size);
	free(img);
}

/* --- managed pages and object caches ------------------------------------------ */

static uint64_t page_take(struct image *img, unsigned kind)
{
	uint64_t pfn = img->next_pfn++;

	if (pfn >= img->npages) {
		fprintf(stderr, "image: out of pages\n");
		abort();
	}
	pool_take(img, pfn);
	img_page(img, pfn)->p_kind = (uint8_t)kind;
	return pfn;
}

uint64_t img_alloc_user(struct image *img, unsigned n)
{
	uint64_t first = page_take(img, PG_USER);

	for (unsigned i = 1; i < n; i++)
		page_take(img, PG_USER);
	return first;
}

uint64_t img_alloc_large(struct image *img)
{
	img->next_pfn = (img->next_pfn + MM_LARGE_PAGES - 1) & ~(uint64_t)(MM_LARGE_PAGES - 1);
	return img_alloc_user(img, MM_LARGE_PAGES);
}

struct hment *img_hment(const struct image *img, hment_ref_t ref)
{
	return img_pa(img, hment_ref_pa(ref));
}

hment_ref_t *img_bucket(const struct image *img, uint32_t b)
{
	return img_pa(img, img->buckets_pa + 4ull * b);
}

/* The hment count of bucket b's stripe. */
static uint64_t *stripe_count(struct image *img, uint32_t b)
{
	struct hment_hash_stripe *stripes = global(img, G_HASH_LOCKS);

	return &stripes[hment_hash_lock_index(b)].hs_count;
}

/* The bucket the MM files the hment of (table pfn, entry) in. */
static uint32_t home_index(const struct image *img, uint64_t ptp, unsigned entry)
{
	return hment_hash_bucket(hment_hash_key((uint32_t)ptp, entry), img->hash_size);
}

static hment_ref_t *home_bucket(const struct image *img, uint64_t ptp, unsigned entry)
{
	return img_bucket(img, home_index(img, ptp, entry));
}

/*
 * The image's object caches, laid out as guest/objcache.c lays them out
 * (the checker's OC_LEAK and OC_FREE read them): a header at the end of
 * each PG_KERNEL page carved, free objects linked through their first two
 * bytes (offset + 1), the pages with a free object on oc_partial.
 */
static struct objcache_slab *slab_at(const struct image *img, uint64_t page_pa)
{
	return img_pa(img, page_pa + MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE);
}

static void partial_append(struct image *img, struct objcache *oc, uint64_t page_pa)
{
	uint64_t va = dva(img, page_pa + MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE);

	slab_at(img, page_pa)->os_next = 0;
	if (oc->oc_partial_tail != 0)
		((struct objcache_slab *)img_pa(img, pa_of(img, oc->oc_partial_tail)))->os_next = va;
	else
		oc->oc_partial = va;
	oc->oc_partial_tail = va;
}

static void cache_grow(struct image *img, unsigned g, struct objcache *oc)
{
	uint64_t page_pa = page_take(img, PG_KERNEL) << MM_PAGE_SHIFT;

	*(g == G_HCACHE ? &img->hment_page_pa : &img->hat_page_pa) = page_pa;
	for (uint32_t i = 0; i < oc->oc_per_page; i++)
		*(uint16_t *)img_pa(img, page_pa + (uint64_t)i * oc->oc_size) =
			(uint16_t)(i + 1 < oc->oc_per_page ? (i + 1) * oc->oc_size + 1 : 0);
	*slab_at(img, page_pa) = (struct objcache_slab){ .os_free = 1, .os_nfree = (uint16_t)oc->oc_per_page,
							 .os_size = oc->oc_size };
	partial_append(img, oc, page_pa);
	oc->oc_nfree += oc->oc_per_page;
	oc->oc_npages++;
	oc->oc_nidle++;
}

/* A zeroed object of the cache at global g: the first free one of its first partial page. Its PA. */
static uint64_t cache_take(struct image *img, unsigned g)
{
	struct objcache *oc = global(img, g);
	uint64_t slab_pa, pa;
	struct objcache_slab *s;

	if (oc->oc_partial == 0)
		cache_grow(img, g, oc);
	slab_pa = pa_of(img, oc->oc_partial);
	s = img_pa(img, slab_pa);
	oc->oc_nidle -= s->os_nfree == oc->oc_per_page;
	pa = (slab_pa & ~(uint64_t)(MM_PAGE_SIZE - 1)) + s->os_free - 1;
	s->os_free = *(uint16_t *)img_pa(img, pa);
	if (--s->os_nfree == 0) {
		oc->oc_partial = s->os_next;
		if (oc->oc_partial == 0)
			oc->oc_partial_tail = 0;
	}
	oc->oc_nfree--;
	oc->oc_inuse++;
	memset(img_pa(img, pa), 0, oc->oc_size);
	return pa;
}

static void cache_put(struct image *img, unsigned g, uint64_t pa)
{
	struct objcache *oc = global(img, g);
	uint64_t page_pa = pa & ~(uint64_t)(MM_PAGE_SIZE - 1);
	struct objcache_slab *s = slab_at(img, page_pa);

	memset(img_pa(img, pa), 0, oc->oc_size);
	*(uint16_t *)img_pa(img, pa) = s->os_free;
	s->os_free = (uint16_t)(pa - page_pa + 1);
	if (s->os_nfree++ == 0)
		partial_append(img, oc, page_pa);
	oc->oc_nfree++;
	oc->oc_inuse--;
	oc->oc_nidle += s->os_nfree == oc->oc_per_page;
}

static hment_ref_t hment_new(struct image *img)
{
	return (hment_ref_t)(cache_take(img, G_HCACHE) >> HMENT_REF_SHIFT);
}

static void hment_release(struct image *img, hment_ref_t ref)
{
	cache_put(img, G_HCACHE, hment_ref_pa(ref));
}

static uint64_t hat_new(struct image *img)
{
	return dva(img, cache_take(img, G_HATCACHE));
}

struct objcache *img_hment_cache(struct image *img)
{
	return global(img, G_HCACHE);
}

struct objcache *img_hat_cache(struct image *img)
{
	return global(img, G_HATCACHE);
}

struct objcache_slab *img_slab(const struct image *img, uint64_t slab_va)
{
	return img_pa(img, pa_of(img, slab_va));
}

void img_reserve_fill(struct image *img, unsigned n)
{
	struct hment_reserve *r = global(img, G_RESERVE);

	for (unsigned i = 0; i < n; i++) {
		hment_ref_t ref = hment_new(img);
		struct hment *hm = img_hment(img, ref);

		hm->hm_state = HM_STATE_RESERVE;
		hm->hm_next = r->hr_pool;
		r->hr_pool = ref;
		r->hr_count++;
	}
}

void img_cpu_list_take(struct image *img, unsigned cpu)
{
	struct objcache *oc = global(img, G_HCACHE);
	struct objcache_cpu *a = (struct objcache_cpu *)global(img, G_HCACHE_CPUS) + cpu % HAT_MAX_CPUS;
	struct objcache_slab *s;

	if (oc->oc_partial == 0 || a->oa_count != 0)
		return;
	s = img_pa(img, pa_of(img, oc->oc_partial));
	oc->oc_nidle -= s->os_nfree == oc->oc_per_page;
	*a = (struct objcache_cpu){ .oa_slab = oc->oc_partial, .oa_free = s->os_free, .oa_count = s->os_nfree };
	oc->oc_nfree -= s->os_nfree;
	oc->oc_inuse += s->os_nfree;
	oc->oc_partial = s->os_next;
	if (oc->oc_partial == 0)
		oc->oc_partial_tail = 0;
	*s = (struct objcache_slab){ .os_size = s->os_size };
}

struct objcache_cpu *img_cpu_lists(struct image *img)
{
	return global(img, G_HCACHE_CPUS);
}

void img_cache_add(struct image *img, unsigned n)
{
	struct ptp_cache *c = global(img, G_CACHE);

	for (unsigned i = 0; i < n; i++) {
		uint64_t pfn = page_take(img, PG_CACHE);

		img_page(img, pfn)->p_next = c->pc_head;
		c->pc_head = img_page_va(img, pfn);
		c->pc_count++;
	}
}

/* --- address spaces and tables ------------------------------------------------ */

uint64_t img_hat_create(struct image *img)
{
	uint64_t hat_va = hat_new(img), top = page_take(img, PG_PTP), kas_va = img_kas(img);
	struct hat *h = img_hat(img, hat_va), *kas = img_hat(img, kas_va);
	uint64_t *dst = img_pa(img, top << MM_PAGE_SHIFT), *src = img_pa(img, img->kas_top_pa);
	struct page *pg = img_page(img, top);

	*h = (struct hat){ .h_top = img_page_va(img, top), .h_top_pa = top << MM_PAGE_SHIFT,
			   .h_id = ++img->hat_serial, .h_nptp = 1 };
	pg->p_hat = hat_va;
	pg->p_level = MM_LEVELS;
	for (unsigned i = MM_PML4_KERNEL; i < MM_PTES; i++) {
		dst[i] = src[i];
		pg->p_valid += (src[i] & PTE_P) != 0;
	}
	h->h_prev = kas_va;
	h->h_next = kas->h_next;
	if (h->h_next != 0)
		img_hat(img, h->h_next)->h_prev = hat_va;
	kas->h_next = hat_va;
	return hat_va;
}

/* A new table page of hat for level / va, installed in entry e of the parent (pfn). */
static uint64_t table_install(struct image *img, uint64_t hat_va, uint64_t parent, uint64_t *e,
			      unsigned level, uint64_t va)
{
	uint64_t pfn = page_take(img, PG_PTP);
	struct page *pg = img_page(img, pfn);

	pg->p_hat = hat_va;
	pg->p_level = (uint8_t)level;
	pg->p_ptva = x86_va_sign_extend(va & ~(mm_level_size(level + 1) - 1));
	*e = (pfn << MM_PAGE_SHIFT) | PTE_P | PTE_W | PTE_U;
	img_page(img, parent)->p_valid++;
	img_hat(img, hat_va)->h_nptp++;
	return pfn;
}

/* pfn of the table at `level` for va in hat; made when create, else 0 when missing. */
static uint64_t table_for(struct image *img, uint64_t hat_va, uint64_t va, unsigned level, bool create)
{
	uint64_t pfn = img_hat(img, hat_va)->h_top_pa >> MM_PAGE_SHIFT;

	for (unsigned l = MM_LEVELS; l > level; l--) {
		uint64_t *e = (uint64_t *)img_pa(img, pfn << MM_PAGE_SHIFT) + MM_VA_INDEX(va, l);

		if (!(*e & PTE_P)) {
			if (!create)
				return 0;
			table_install(img, hat_va, pfn, e, l - 1, va);
		}
		pfn = (*e & PTE_FRAME) >> MM_PAGE_SHIFT;
	}
	return pfn;
}

uint64_t *img_pte(const struct image *img, uint64_t hat, uint64_t va, unsigned level)
{
	uint64_t pfn = table_for((struct image *)img, hat, va, level, false);

	return pfn ? (uint64_t *)img_pa(img, pfn << MM_PAGE_SHIFT) + MM_VA_INDEX(va, level) : NULL;
}

/* --- mapping lists --------------------------------------------------------------- */

/* Pushes the hment ref on its hash chain. */
static void hash_add(struct image *img, hment_ref_t ref)
{
	struct hment *hm = img_hment(img, ref);
	hment_ref_t *bucket = home_bucket(img, hm->hm_ptp, hm->hm_entry);

	hm->hm_hashnext = *bucket;
	*bucket = ref;
	++*stripe_count(img, home_index(img, hm->hm_ptp, hm->hm_entry));
}

/* Unhooks the hment ref from its hash chain. */
static void hash_remove(struct image *img, hment_ref_t ref)
{
	struct hment *hm = img_hment(img, ref);
	hment_ref_t *link = home_bucket(img, hm->hm_ptp, hm->hm_entry);

	while (*link != ref)
		link = &img_hment(img, *link)->hm_hashnext;
	*link = hm->hm_hashnext;
	hm->hm_hashnext = HMENT_REF_NONE;
	--*stripe_count(img, home_index(img, hm->hm_ptp, hm->hm_entry));
}

/* The count of hments on short lists that the image keeps (on CPU 0, as if one CPU made them all). */
static int64_t *short_count(struct image *img)
{
	return &((struct hment_short_count *)global(img, G_SHORT_LISTED))[0].sc_count;
}

/* Adds (ptp, entry) to pfn's list head, and the list to the hash once it is longer than HMENT_SHORT_LIST. */
static void list_insert(struct image *img, uint64_t pfn, uint64_t ptp, unsigned entry)
{
	struct page *pg = img_page(img, pfn);
	hment_ref_t ref = hment_new(img);
	struct hment *hm = img_hment(img, ref);

	*hm = (struct hment){ .hm_next = pg->p_mapping, .hm_ptp = (uint32_t)ptp, .hm_pfn = (uint32_t)pfn,
			      .hm_entry = (uint16_t)entry, .hm_state = HM_STATE_LISTED };
	if (pg->p_mapping != HMENT_REF_NONE)
		img_hment(img, pg->p_mapping)->hm_prev = ref;
	pg->p_mapping = ref;
	pg->p_share++;
	if (pg->p_share <= HMENT_SHORT_LIST) {
		++*short_count(img);
	} else if (pg->p_share == HMENT_SHORT_LIST + 1) {
		*short_count(img) -= HMENT_SHORT_LIST;
		for (hment_ref_t r = ref; r != HMENT_REF_NONE; r = img_hment(img, r)->hm_next)
			hash_add(img, r);
	} else {
		hash_add(img, ref);
	}
}

/* Records the mapping (ptp, entry) of pfn: embedded first, a list from the second on. */
static void track_page(struct image *img, uint64_t pfn, uint64_t ptp, unsigned entry)
{
	struct page *pg = img_page(img, pfn);

	if (pg->p_mapping == 0) {
		pg->p_mapping = (uint32_t)ptp;
		pg->p_mlentry = (uint16_t)entry;
		pg->p_embed = 1;
		return;
	}
	if (pg->p_embed) {
		uint64_t eptp = pg->p_mapping;
		unsigned eentry = pg->p_mlentry;

		pg->p_mapping = 0;
		pg->p_mlentry = 0;
		pg->p_embed = 0;
		list_insert(img, pfn, eptp, eentry);
	}
	list_insert(img, pfn, ptp, entry);
}

static void track(struct image *img, uint64_t pfn, uint64_t ptp, unsigned entry)
{
	const struct page *pg = img_page(img, pfn);
	bool had = pg->p_mapping != 0 && !pg->p_embed;

	track_page(img, pfn, ptp, entry);
	listed_note(img, pfn, had);
	large_note(img, pfn, ptp, 1);
}

/* Forgets the mapping (ptp, entry) of pfn. */
static void untrack_page(struct image *img, uint64_t pfn, uint64_t ptp, unsigned entry)
{
	struct page *pg = img_page(img, pfn);
	hment_ref_t ref = pg->p_mapping;
	struct hment *hm;

	if (pg->p_embed) {
		pg->p_mapping = 0;
		pg->p_mlentry = 0;
		pg->p_embed = 0;
		return;
	}
	while (hm = img_hment(img, ref), hm->hm_ptp != ptp || hm->hm_entry != entry)
		ref = hm->hm_next;
	if (hm->hm_next != HMENT_REF_NONE)
		img_hment(img, hm->hm_next)->hm_prev = hm->hm_prev;
	if (hm->hm_prev != HMENT_REF_NONE)
		img_hment(img, hm->hm_prev)->hm_next = hm->hm_next;
	else
		pg->p_mapping = hm->hm_next;
	if (pg->p_share-- > HMENT_SHORT_LIST)
		hash_remove(img, ref);
	else
		--*short_count(img);
	if (pg->p_share == HMENT_SHORT_LIST) {
		*short_count(img) += HMENT_SHORT_LIST;
		for (hment_ref_t r = pg->p_mapping; r != HMENT_REF_NONE; r = img_hment(img, r)->hm_next)
			hash_remove(img, r);
	}
	hment_release(img, ref);
}

static void untrack(struct image *img, uint64_t pfn, uint64_t ptp, unsigned entry)
{
	const struct page *pg = img_page(img, pfn);
	bool had = pg->p_mapping != 0 && !pg->p_embed;

	untrack_page(img, pfn, ptp, entry);
	listed_note(img, pfn, had);
	large_note(img, pfn, ptp, -1);
}

void img_map(struct image *img, uint64_t hat, uint64_t va, uint64_t pfn, bool large)
{
	unsigned level = large ? 2 : 1;
	uint64_t ptp = table_for(img, hat, va, level, true);
	unsigned e = MM_VA_INDEX(va, level);
	uint64_t *pte = (uint64_t *)img_pa(img, ptp << MM_PAGE_SHIFT) + e;
	struct hat *h = img_hat(img, hat);

	*pte = (pfn << MM_PAGE_SHIFT) | PTE_P | PTE_W | PTE_U | PTE_NX | (large ? PTE_PS : 0);
	img_page(img, ptp)->p_valid++;
	if (large)
		h->h_nmap2m++;
	else
		h->h_nmap4k++;
	if (pfn >= img->first_managed && pfn < img->npages)
		track(img, pfn, ptp, e);
}

struct hat_oplog *img_oplog(struct image *img)
{
	return global(img, G_OPLOG);
}

void img_log_op(struct image *img, struct hat_op op)
{
	struct hat_oplog *log = global(img, G_OPLOG);
	struct hat_oplog_lane *lane = img_va(img, log->ol_ring);
	struct hat_op *ring = (struct hat_op *)(lane + 1);

	op.o_seq = (uint32_t)log->ol_next++;
	ring[lane->l_next++ % log->ol_size] = op;
}

void img_unmap(struct image *img, uint64_t hat, uint64_t va)
{
	uint64_t ptp = table_for(img, hat, va, 1, false);
	unsigned e = MM_VA_INDEX(va, 1);
	uint64_t *pte = (uint64_t *)img_pa(img, ptp << MM_PAGE_SHIFT) + e;
	uint64_t pfn = (*pte & PTE_FRAME) >> MM_PAGE_SHIFT;

	*pte = 0;
	img_page(img, ptp)->p_valid--;
	img_hat(img, hat)->h_nmap4k--;
	if (pfn >= img->first_managed && pfn < img->npages)
		untrack(img, pfn, ptp, e);
}

/* --- adversarial images ---------------------------------------------------------- */

void img_adv_hash_all_ram(struct image *img)
{
	struct hment_hash *hh = global(img, G_HASH);
	uint32_t *dir = img_pa(img, img->dir_pa);

	hh->hh_dir_size = hment_hash_dir_size(img->npages);
	hh->hh_nbuckets = hh->hh_dir_size * HMENT_HASH_PAGE_BUCKETS;
	for (uint32_t k = 0; k < hh->hh_dir_size; k++)
		dir[k] = (uint32_t)(k % img->first_managed);
}

void img_adv_fake_spaces(struct image *img, uint64_t n)
{
	uint64_t prev = img_kas(img);

	for (uint64_t i = 0; i < n; i++) {
		uint64_t va = hat_new(img), pfn = img->first_managed + i % (img->npages - img->first_managed);

		*img_hat(img, va) = (struct hat){ .h_top_pa = pfn << MM_PAGE_SHIFT, .h_top = img_page_va(img, pfn),
						  .h_prev = prev, .h_id = ++img->hat_serial, .h_nptp = 1 };
		img_hat(img, prev)->h_next = va;
		prev = va;
	}
}

void img_adv_long_list(struct image *img, uint64_t n, bool cyclic)
{
	uint64_t pfn = page_take(img, PG_USER);
	hment_ref_t first = 0, prev = 0, *bucket0 = img_bucket(img, 0);
	struct page *pg = img_page(img, pfn);

	for (uint64_t i = 0; i < n; i++) {
		hment_ref_t ref = hment_new(img);

		*img_hment(img, ref) = (struct hment){ .hm_prev = prev, .hm_ptp = (uint32_t)pfn,
						   .hm_pfn = (uint32_t)pfn, .hm_entry = (uint16_t)(i % MM_PTES),
						   .hm_state = HM_STATE_LISTED };
		if (prev != 0) {
			img_hment(img, prev)->hm_next = ref;
			img_hment(img, prev)->hm_hashnext = ref;
		} else {
			first = ref;
		}
		prev = ref;
	}
	if (cyclic && prev != 0) {
		img_hment(img, prev)->hm_next = first;
		img_hment(img, prev)->hm_hashnext = first;
	} else if (prev != 0) {
		img_hment(img, prev)->hm_hashnext = *bucket0;
	}
	*bucket0 = first;
	*stripe_count(img, 0) += n;
	pg->p_mapping = first;
	pg->p_share = (uint32_t)n;
}

void img_adv_free_lists_loop(struct image *img)
{
	struct page_pool *pool = img_pool(img);

	for (uint64_t pfn = 0; pfn < img->npages; pfn++)
		img_page(img, pfn)->p_next = img_page_va(img, pfn & ~(uint64_t)(MM_LARGE_PAGES - 1));
	for (uint64_t b = 0; b < img_nblocks(img); b++)
		*img_block(img, b) = (struct page_block){
			.free = img_page_va(img, b * MM_LARGE_PAGES), .nfree = MM_LARGE_PAGES, .list = BL_PARTIAL,
			.next = (uint32_t)((b + 1) % img_nblocks(img)), .prev = BLK_NIL };
	pool->head[BL_PARTIAL] = pool->head[BL_FULL] = 0;
}

void img_adv_all_ptp(struct image *img)
{
	for (uint64_t pfn = 0; pfn < img->npages; pfn++) {
		struct page *pg = img_page(img, pfn);

		pg->p_kind = PG_PTP;
		pg->p_level = 1;
		pg->p_hat = img_kas(img);
	}
}

void img_populate_healthy(struct image *img)
{
	uint64_t sp[4], priv, shared;

	for (unsigned s = 0; s < 4; s++)
		sp[s] = img_hat_create(img);
	priv = img_alloc_user(img, 8192);
	shared = img_alloc_user(img, 4096);
	for (unsigned i = 0; i < 8192; i++)
		img_map(img, sp[i % 4], 0x10000000ull + (uint64_t)(i / 4) * MM_PAGE_SIZE, priv + i, false);
	for (unsigned s = 0; s < 4; s++)
		for (unsigned i = 0; i < 4096; i++)
			img_map(img, sp[s], 0x400000000ull + (uint64_t)i * MM_PAGE_SIZE, shared + i, false);
	img_reserve_fill(img, 64);
}
