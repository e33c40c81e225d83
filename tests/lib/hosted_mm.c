/* SPDX-License-Identifier: BSD-2-Clause */
/* Drives the real guest MM compiled hosted and lays its state out for the checker: the arena as RAM, the MM's globals relocated into it. */
#include "hosted_mm.h"

#include <stdlib.h>
#include <string.h>

#include "hat.h"
#include "hat_oplog.h"
#include "hosted_platform.h"
#include "rand.h"

#define SPACES_MAX  8u
#define POOL_PAGES  256u
#define LARGE_BLOCKS 2u
#define LARGE_BASE  0x40000000ull
#define LARGE_SLOTS 4u
#define SMALL_SLOTS 1024u
#define RW_USER     (HAT_READ | HAT_WRITE | HAT_USER)

extern struct mm_lock hat_list_lock;   /* hat.c's, exported for the checker (mm_structs.h) */

static struct hat *spaces[SPACES_MAX];
static unsigned nspaces;
static page_t *pool[POOL_PAGES];
static page_t *large[LARGE_BLOCKS];

void hmm_boot(uint64_t ram_size)
{
	mm_hosted_boot(ram_size);
	nspaces = 0;
	for (unsigned i = 0; i < POOL_PAGES; i++)
		pool[i] = page_alloc(PG_USER);
	for (unsigned i = 0; i < LARGE_BLOCKS; i++)
		large[i] = page_alloc_large(PG_USER);
	segtab_set_cache_max(8);
}

void hmm_shutdown(void)
{
	mm_hosted_shutdown();
	nspaces = 0;
}

/* A 4 KiB-slot VA in one of three PML4 regions, away from the 2 MiB slots. */
static uint64_t small_va(struct rand *r)
{
	static const uint64_t bases[] = { 0x0ull, 0x8000000000ull, 0x7f8000000000ull };

	return bases[rand_below(r, 3)] + (rand_below(r, SMALL_SLOTS) << MM_PAGE_SHIFT);
}

static struct hat *some_space(struct rand *r)
{
	return spaces[rand_below(r, nspaces)];
}

static void op_load_small(struct rand *r)
{
	unsigned attr = rand_below(r, 4) ? RW_USER : (HAT_READ | HAT_USER);

	hat_memload(some_space(r), small_va(r), pool[rand_below(r, POOL_PAGES)], attr);
}

static void op_load_large(struct rand *r)
{
	uint64_t va = LARGE_BASE + rand_below(r, LARGE_SLOTS) * MM_LARGE_SIZE;
	page_t *pp = large[rand_below(r, LARGE_BLOCKS)];

	if (pp != NULL)
		hat_memload(some_space(r), va, pp, RW_USER | HAT_LARGE);
}

static void op_unload(struct rand *r)
{
	if (rand_below(r, 4) == 0) {
		hat_unload(some_space(r), LARGE_BASE + rand_below(r, LARGE_SLOTS) * MM_LARGE_SIZE,
			   MM_LARGE_SIZE);
		return;
	}
	hat_unload(some_space(r), small_va(r), (1 + rand_below(r, 16)) << MM_PAGE_SHIFT);
}

static void op_respace(struct rand *r)
{
	unsigned i = (unsigned)rand_below(r, nspaces);
	struct hat *h = hat_create();

	if (h == NULL)
		return;
	hat_destroy(spaces[i]);
	spaces[i] = h;
}

static void op_reserve(struct rand *r)
{
	hment_set_reserve_amount((uint32_t)rand_below(r, 17));
	if (rand_below(r, 2))
		hment_reserve_fill((uint32_t)rand_below(r, 4));
	else
		hment_adjust_reserve();
}

static void one_op(struct rand *r)
{
	switch (rand_below(r, 16)) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		op_load_small(r);
		break;
	case 6: case 7:
		op_load_large(r);
		break;
	case 8: case 9:
		op_unload(r);
		break;
	case 10:
		hat_pageunload(pool[rand_below(r, POOL_PAGES)]);
		break;
	case 11:
		hat_chgprot(some_space(r), small_va(r), MM_PAGE_SIZE, HAT_READ | HAT_USER);
		break;
	case 12:
		if (rand_below(r, 8) == 0)
			op_respace(r);
		break;
	case 13:
		op_reserve(r);
		break;
	case 14:   /* an unmanaged frame: mapped, never tracked */
		hat_devload(some_space(r), small_va(r), 0x10 + rand_below(r, 16), RW_USER);
		break;
	default:
		hat_pagesync(pool[rand_below(r, POOL_PAGES)], HAT_SYNC_CLEAR);
		break;
	}
}

void hmm_workload(uint64_t seed, unsigned want_spaces, unsigned ops)
{
	struct rand r;

	rand_seed(&r, seed);
	if (want_spaces > SPACES_MAX)
		want_spaces = SPACES_MAX;
	while (nspaces < want_spaces && (spaces[nspaces] = hat_create()) != NULL)
		nspaces++;
	for (unsigned i = 0; i < ops && nspaces > 0; i++)
		one_op(&r);
}

void hmm_churn_tables(void)
{
	struct hat *h = hat_create();

	if (h == NULL)
		return;
	hat_memload(h, 0x1000, pool[0], RW_USER);
	hat_memload(h, 0x7f0000000000ull, pool[1], RW_USER);
	hat_destroy(h);
}

#define FLUSH_TARGET_VA 0x600000000000ull   /* away from every workload's VAs */

void hmm_flush_target_map(void)
{
	if (nspaces == 0 || hat_memload(spaces[0], FLUSH_TARGET_VA, pool[0], RW_USER) != 0)
		abort();
}

void hmm_flush_target_unload(void)
{
	hat_switch(spaces[0]);
	hat_unload(spaces[0], FLUSH_TARGET_VA, MM_PAGE_SIZE);
	hat_switch(&hat_kas);
}

/* --- the checker's view ------------------------------------------------------ */

/*
 * One process page holding MM globals and the arena page standing in for
 * it. Relocation is page by page, at the same offsets, because the
 * checker caches translations per 4 KiB page.
 */
struct reloc {
	uint64_t host_page;
	uint64_t pa_page;
};

static struct reloc relocs[32];
static unsigned nrelocs;
static uint64_t next_gap_pa;

static bool arena_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	(void)ctx;
	if (pa > mm_hosted_ram_size || len > mm_hosted_ram_size - pa)
		return false;
	memcpy(dst, mm_hosted_ram + pa, len);
	return true;
}

static bool arena_write(void *ctx, uint64_t pa, const void *src, size_t len)
{
	(void)ctx;
	if (pa > mm_hosted_ram_size || len > mm_hosted_ram_size - pa)
		return false;
	memcpy(mm_hosted_ram + pa, src, len);
	return true;
}

/* Process addresses: inside the arena, or one of the relocated globals. */
static bool arena_translate(void *ctx, uint64_t va, uint64_t *pa)
{
	uint64_t base = (uintptr_t)mm_hosted_ram;

	(void)ctx;
	if (va >= base && va - base < mm_hosted_ram_size) {
		*pa = va - base;
		return true;
	}
	for (unsigned i = 0; i < nrelocs; i++) {
		if ((va & ~(MM_PAGE_SIZE - 1)) == relocs[i].host_page) {
			*pa = relocs[i].pa_page + (va & (MM_PAGE_SIZE - 1));
			return true;
		}
	}
	return false;
}

/* The arena page standing in for the process page of addr (a new, zeroed one the first time). */
static uint64_t gap_page(uint64_t addr)
{
	uint64_t page = addr & ~(MM_PAGE_SIZE - 1);
	struct reloc *r;

	for (unsigned i = 0; i < nrelocs; i++)
		if (relocs[i].host_page == page)
			return relocs[i].pa_page;
	if (nrelocs == sizeof(relocs) / sizeof(relocs[0]) || next_gap_pa >= MM_TEST_FIRST_FREE)
		abort();
	r = &relocs[nrelocs++];
	*r = (struct reloc){ .host_page = page, .pa_page = next_gap_pa };
	memset(mm_hosted_ram + r->pa_page, 0, MM_PAGE_SIZE);
	next_gap_pa += MM_PAGE_SIZE;
	return r->pa_page;
}

/* Copies one global into the image gap, page by page; returns its process address for the symbols. */
static uint64_t relocate(const void *var, uint64_t size)
{
	uint64_t addr = (uintptr_t)var, done = 0;

	while (done < size) {
		uint64_t at = addr + done, off = at & (MM_PAGE_SIZE - 1);
		uint64_t chunk = MM_PAGE_SIZE - off < size - done ? MM_PAGE_SIZE - off : size - done;

		memcpy(mm_hosted_ram + gap_page(at) + off, (const uint8_t *)var + done, chunk);
		done += chunk;
	}
	return addr;
}

void hmm_view(struct check_mem *mem, struct mm_symbols *sym)
{
	nrelocs = 0;
	next_gap_pa = MM_HOSTED_IMAGE_BASE;   /* mm_hosted_boot's image: mapped, never written */
	sym->page_array = relocate(&page_array, sizeof(page_array));
	sym->page_count = relocate(&page_count, sizeof(page_count));
	sym->page_first_managed = relocate(&page_first_managed, sizeof(page_first_managed));
	sym->hment_hash = relocate(&hment_hash, sizeof(hment_hash));
	sym->hment_hash_locks = relocate(hment_hash_locks, sizeof(hment_hash_locks));
	sym->hment_mlist_locks = relocate(hment_mlist_locks, sizeof(hment_mlist_locks));
	sym->hment_reserve = relocate(&hment_reserve, sizeof(hment_reserve));
	sym->hat_kas = relocate(&hat_kas, sizeof(hat_kas));
	sym->hat_list = relocate(&hat_list, sizeof(hat_list));
	sym->segtab_ptp_cache = relocate(&segtab_ptp_cache, sizeof(segtab_ptp_cache));
	sym->hat_oplog = relocate(&hat_oplog, sizeof(hat_oplog));
	sym->page_pool = relocate(&page_pool, sizeof(page_pool));
	sym->hat_list_lock = relocate(&hat_list_lock, sizeof(hat_list_lock));
	sym->hment_listed = relocate(&hment_listed, sizeof(hment_listed));
	sym->hment_cache = relocate(&hment_cache, sizeof(hment_cache));
	relocate(hment_cache_cpus, sizeof(hment_cache_cpus));   /* reached through hment_cache.oc_cpus */
	sym->hat_cache = relocate(&hat_cache, sizeof(hat_cache));
	sym->hat_cpu = relocate(hat_cpu, sizeof(hat_cpu));
	sym->hat_tlb_flushed = relocate(hat_tlb_flushed, sizeof(hat_tlb_flushed));
	sym->hment_short_listed = relocate(hment_short_listed, sizeof(hment_short_listed));
	*mem = (struct check_mem){ .read_phys = arena_read, .write_phys = arena_write,
				   .virt_to_phys = arena_translate, .direct = mm_hosted_ram,
				   .ram_size = mm_hosted_ram_size };
}
