/* SPDX-License-Identifier: BSD-2-Clause */
/* Checked reads of guest memory by PA and by VA (4-level walk from the kernel's CR3, cached per page) for the checker and the injector. */
#include "check_mem.h"

#include <string.h>

#include "hatvm/layout.h"
#include "hatvm/mm_structs.h"

#define PAGE_MASK_4K (MM_PAGE_SIZE - 1)
#define PAGE_MASK_2M (MM_LARGE_SIZE - 1)
#define PAGE_MASK_1G ((1ull << 30) - 1)

static bool guest_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	return guest_mem_read(ctx, pa, dst, len);
}

static bool guest_write(void *ctx, uint64_t pa, const void *src, size_t len)
{
	return guest_mem_write(ctx, pa, src, len);
}

void check_mem_from_guest(struct check_mem *mem, const struct guest_mem *gm)
{
	*mem = (struct check_mem){
		.read_phys = guest_read,
		.write_phys = guest_write,
		.ctx = (void *)gm,
		.direct = gm->base,
		.ram_size = gm->size,
	};
}

uint64_t reader_frame_mask(const struct check_mem *mem)
{
	unsigned m = mem->maxphyaddr;

	if (m < 32 || m > 52)
		m = 52;
	return PTE_FRAME & ((1ull << m) - 1);
}

void reader_flush(struct mem_reader *rd)
{
	memset(rd->tlb4k_tag, 0, sizeof(rd->tlb4k_tag));
	memset(rd->tlb2m_tag, 0, sizeof(rd->tlb2m_tag));
}

void reader_init(struct mem_reader *rd, const struct check_mem *mem)
{
	rd->mem = mem;
	rd->ram_size = mem->ram_size;
	rd->cr3 = 0;
	rd->frame_mask = reader_frame_mask(mem);
	rd->misses = 0;
	reader_flush(rd);
}

void reader_set_cr3(struct mem_reader *rd, uint64_t cr3)
{
	rd->cr3 = cr3 & rd->frame_mask;
	reader_flush(rd);
}

/* True when [pa, pa + len) lies in RAM, without overflow. */
static bool in_ram(const struct mem_reader *rd, uint64_t pa, uint64_t len)
{
	return pa <= rd->ram_size && len <= rd->ram_size - pa;
}

bool reader_write_pa(struct mem_reader *rd, uint64_t pa, const void *src, size_t len)
{
	if (!in_ram(rd, pa, len) || rd->mem->write_phys == NULL)
		return false;
	return rd->mem->write_phys(rd->mem->ctx, pa, src, len);
}

/*
 * Walks the tables at rd->cr3 for va. Returns true with *pa and *page_mask
 * (the leaf's size - 1) set for a present leaf in RAM. Reserved bits are
 * the checker's business, not the translator's: they are ignored here.
 */
static bool walk_va(struct mem_reader *rd, uint64_t va, uint64_t *pa, uint64_t *page_mask)
{
	uint64_t table = rd->cr3;

	if (table == 0)
		return false;
	for (unsigned level = MM_LEVELS; level >= 1; level--) {
		uint64_t e;

		if (!reader_read_u64_pa(rd, table + 8ull * MM_VA_INDEX(va, level), &e) || !(e & PTE_P))
			return false;
		if (level == 1 || (level <= 3 && (e & PTE_PS))) {
			uint64_t mask = level == 1 ? PAGE_MASK_4K : level == 2 ? PAGE_MASK_2M : PAGE_MASK_1G;

			*page_mask = mask;
			*pa = ((e & rd->frame_mask) & ~mask) | (va & mask);
			return true;
		}
		table = e & rd->frame_mask;
	}
	return false;
}

/* Remembers the page of va; a 1 GiB leaf is cached as its 2 MiB piece. */
static void tlb_fill(struct mem_reader *rd, uint64_t va, uint64_t pa, uint64_t page_mask)
{
	if (page_mask >= PAGE_MASK_2M) {
		unsigned i = (unsigned)((va >> MM_LARGE_SHIFT) & (READER_TLB_2M - 1));

		rd->tlb2m_tag[i] = (va >> MM_LARGE_SHIFT) + 1;
		rd->tlb2m_pa[i] = pa & ~PAGE_MASK_2M;
	} else {
		unsigned i = (unsigned)((va >> MM_PAGE_SHIFT) & (READER_TLB_4K - 1));

		rd->tlb4k_tag[i] = (va >> MM_PAGE_SHIFT) + 1;
		rd->tlb4k_pa[i] = pa & ~PAGE_MASK_4K;
	}
}

/* Uncached translation: the override, the image mapping, or the page tables. */
static bool translate_slow(struct mem_reader *rd, uint64_t va, uint64_t *pa, uint64_t *page_mask)
{
	const struct check_mem *m = rd->mem;

	if (m->virt_to_phys) {
		*page_mask = PAGE_MASK_4K;
		return m->virt_to_phys(m->ctx, va, pa);
	}
	if (!x86_va_canonical(va))
		return false;   /* non-canonical: the CPU would fault */
	if (va >= KERNEL_BASE && va - KERNEL_BASE < rd->ram_size) {
		*page_mask = PAGE_MASK_4K;
		*pa = va - KERNEL_BASE;
		return true;
	}
	return walk_va(rd, va, pa, page_mask);
}

bool reader_translate_miss(struct mem_reader *rd, uint64_t va, uint64_t *pa)
{
	uint64_t mask;

	rd->misses++;
	if (!translate_slow(rd, va, pa, &mask) || *pa >= rd->ram_size)
		return false;
	tlb_fill(rd, va, *pa, mask);
	return true;
}

bool reader_read_va(struct mem_reader *rd, uint64_t va, void *dst, size_t len)
{
	uint8_t *out = dst;

	while (len > 0) {
		uint64_t pa, room = MM_PAGE_SIZE - (va & PAGE_MASK_4K);
		size_t chunk = len < room ? len : (size_t)room;

		if (!reader_translate(rd, va, &pa) || !reader_read_pa(rd, pa, out, chunk))
			return false;
		out += chunk;
		len -= chunk;
		va += chunk;
	}
	return true;
}

bool reader_read_u64_va(struct mem_reader *rd, uint64_t va, uint64_t *out)
{
	return reader_read_va(rd, va, out, sizeof(*out));
}
