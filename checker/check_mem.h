/* SPDX-License-Identifier: BSD-2-Clause */
/* The checker's view of guest memory: checked physical reads and writes, and virtual reads through the guest's page tables with a small translation cache. */
#ifndef VMM_CHECK_MEM_H
#define VMM_CHECK_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest_mem.h"
#include "hatvm/x86.h"

/*
 * Where the checker reads (and the injector writes) guest memory: a live
 * guest, a core file or a test image. Every callback returns false, with
 * nothing copied, when [pa, pa + len) is not all RAM. A virt_to_phys
 * override must map each 4 KiB page linearly: translations are cached
 * per page.
 */
struct check_mem {
	bool (*read_phys)(void *ctx, uint64_t pa, void *dst, size_t len);
	bool (*write_phys)(void *ctx, uint64_t pa, const void *src, size_t len);  /* NULL: read-only */
	/* NULL: translate through the kernel's page tables; else this decides (test images) */
	bool (*virt_to_phys)(void *ctx, uint64_t va, uint64_t *pa);
	void *ctx;
	const uint8_t *direct;  /* optional: RAM in this process (zero-copy reads); NULL: read_phys only */
	uint64_t ram_size;      /* RAM is [0, ram_size) */
	uint64_t kernel_cr3;    /* PML4 PA for kernel VAs; 0: hat_kas.h_top_pa */
	unsigned maxphyaddr;    /* CPU's MAXPHYADDR, 32..52; anything else means 52 */
};

/* A check_mem over guest RAM held in host memory (live guest or core file); gm must outlive it. */
void check_mem_from_guest(struct check_mem *mem, const struct guest_mem *gm);

/* Direct-mapped translation caches: 4 KiB pages and 2 MiB pages. */
#define READER_TLB_4K 4096u
#define READER_TLB_2M 2048u

/*
 * Reads guest memory for one check (one thread). Kernel-image VAs
 * (KERNEL_BASE .. + RAM) translate as va - KERNEL_BASE, the documented
 * image mapping, so the reader can bootstrap from symbols before it
 * knows the kernel's CR3; every other VA goes through the tables at cr3.
 */
struct mem_reader {
	const struct check_mem *mem;
	uint64_t ram_size;
	uint64_t cr3;           /* 0 until set: only image VAs translate */
	uint64_t frame_mask;    /* PTE frame bits below MAXPHYADDR */
	uint64_t tlb4k_tag[READER_TLB_4K], tlb4k_pa[READER_TLB_4K];   /* tag: vpn + 1 */
	uint64_t tlb2m_tag[READER_TLB_2M], tlb2m_pa[READER_TLB_2M];
	uint64_t misses;
};

/* Prepares rd over mem with an empty cache and no CR3. */
void reader_init(struct mem_reader *rd, const struct check_mem *mem);

/* Sets the PML4 used for non-image VAs and empties the cache. */
void reader_set_cr3(struct mem_reader *rd, uint64_t cr3);

/* Empties the cache (after page-table writes). */
void reader_flush(struct mem_reader *rd);

/* Frame bits of a table entry (PTE_FRAME cut at MAXPHYADDR). */
uint64_t reader_frame_mask(const struct check_mem *mem);

/* The cache's answer for va: true with *pa set on a hit. */
static inline bool reader_cached(const struct mem_reader *rd, uint64_t va, uint64_t *pa)
{
	uint64_t vpn = va >> MM_PAGE_SHIFT, vln = va >> MM_LARGE_SHIFT;
	unsigned i4 = (unsigned)(vpn & (READER_TLB_4K - 1));
	unsigned i2 = (unsigned)(vln & (READER_TLB_2M - 1));

	if (rd->tlb2m_tag[i2] == vln + 1) {
		*pa = rd->tlb2m_pa[i2] | (va & (MM_LARGE_SIZE - 1));
		return true;
	}
	if (rd->tlb4k_tag[i4] == vpn + 1) {
		*pa = rd->tlb4k_pa[i4] | (va & (MM_PAGE_SIZE - 1));
		return true;
	}
	return false;
}

/* reader_translate() past a cache miss: walks, and fills the cache. */
bool reader_translate_miss(struct mem_reader *rd, uint64_t va, uint64_t *pa);

/*
 * True and *pa set when va translates to a PA inside RAM. Inline: the
 * checker translates per list node, and nearly every one hits.
 */
static inline bool reader_translate(struct mem_reader *rd, uint64_t va, uint64_t *pa)
{
	return reader_cached(rd, va, pa) || reader_translate_miss(rd, va, pa);
}

/* Copies [pa, pa + len) of RAM; false (dst undefined) when any byte is outside. */
static inline bool reader_read_pa(struct mem_reader *rd, uint64_t pa, void *dst, size_t len)
{
	if (pa > rd->ram_size || len > rd->ram_size - pa)
		return false;
	if (rd->mem->direct != NULL) {
		memcpy(dst, rd->mem->direct + pa, len);
		return true;
	}
	return rd->mem->read_phys(rd->mem->ctx, pa, dst, len);
}

/* Host pointer to [pa, pa + len) when RAM is mapped here (check_mem.direct), else NULL. */
static inline const void *reader_direct(const struct mem_reader *rd, uint64_t pa, size_t len)
{
	if (rd->mem->direct == NULL || pa > rd->ram_size || len > rd->ram_size - pa)
		return NULL;
	return rd->mem->direct + pa;
}

/* Copies len bytes at va (may cross pages); false when any page does not translate. */
bool reader_read_va(struct mem_reader *rd, uint64_t va, void *dst, size_t len);

/* Writes [pa, pa + len) of RAM; false when outside RAM or the memory is read-only. */
bool reader_write_pa(struct mem_reader *rd, uint64_t pa, const void *src, size_t len);

/* Reads one 64-bit word at va. */
bool reader_read_u64_va(struct mem_reader *rd, uint64_t va, uint64_t *out);

/* Reads one 64-bit word at pa: a bounds check and, over RAM in this process, one load. */
static inline bool reader_read_u64_pa(struct mem_reader *rd, uint64_t pa, uint64_t *out)
{
	return reader_read_pa(rd, pa, out, sizeof(*out));
}

#endif
