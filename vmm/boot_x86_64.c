/* SPDX-License-Identifier: BSD-2-Clause */
/* Builds the long-mode entry state: page tables, GDT, TSS and boot info in guest RAM. */
#include "boot_x86_64.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hatvm/abi.h"
#include "hatvm/layout.h"
#include "hatvm/x86.h"

/* Hands out zeroed page-table pages from [BOOT_PT_GPA, BOOT_PT_END). */
struct pt_alloc {
	const struct guest_mem *gm;
	uint64_t next;
};

static uint64_t *pt_page(const struct guest_mem *gm, uint64_t gpa)
{
	return guest_mem_ptr(gm, gpa, MM_PAGE_SIZE);
}

static uint64_t pt_new(struct pt_alloc *pa)
{
	if (pa->next >= BOOT_PT_END)
		return 0;
	uint64_t gpa = pa->next;
	pa->next += MM_PAGE_SIZE;
	memset(pt_page(pa->gm, gpa), 0, MM_PAGE_SIZE);
	return gpa;
}

/* Returns the table under entry `index` of table `table`, creating it; 0 when out of pages. */
static uint64_t pt_descend(struct pt_alloc *pa, uint64_t table, unsigned index)
{
	uint64_t *entries = pt_page(pa->gm, table);

	if (entries[index] & PTE_P)
		return entries[index] & PTE_FRAME;
	uint64_t child = pt_new(pa);
	if (child)
		entries[index] = child | PTE_P | PTE_W;
	return child;
}

static void map_identity(struct pt_alloc *pa, uint64_t pml4)
{
	uint64_t pdpt = pt_descend(pa, pml4, 0);

	for (uint64_t gb = 0; gb < BOOT_IDENTITY_END >> 30; gb++) {
		uint64_t pd = pt_descend(pa, pdpt, (unsigned)gb);
		uint64_t *pde = pt_page(pa->gm, pd);
		for (uint64_t i = 0; i < 512; i++)
			pde[i] = ((gb << 30) | (i << 21)) | PTE_P | PTE_W | PTE_PS;
	}
}

/* Maps one 4 KiB page; the same frame twice merges permissions, a different one is a conflict. */
static int map_page(struct pt_alloc *pa, uint64_t pml4, uint64_t va, uint64_t gpa, uint64_t flags)
{
	uint64_t table = pml4;

	for (unsigned level = MM_LEVELS; level > 1; level--) {
		table = pt_descend(pa, table, MM_VA_INDEX(va, level));
		if (!table)
			return -1;
	}
	uint64_t *pte = &pt_page(pa->gm, table)[MM_VA_INDEX(va, 1)];
	if (!(*pte & PTE_P)) {
		*pte = gpa | flags;
		return 0;
	}
	if ((*pte & PTE_FRAME) != gpa)
		return -2;
	*pte = (*pte | (flags & PTE_W)) & ~(~flags & PTE_NX);
	return 0;
}

static int map_segment(struct pt_alloc *pa, uint64_t pml4, const struct elf_segment *seg,
		       unsigned index, char *err, size_t errlen)
{
	uint64_t flags = PTE_P | ((seg->flags & PF_W) ? PTE_W : 0) |
			 ((seg->flags & PF_X) ? 0 : PTE_NX);
	uint64_t first = seg->vaddr & ~(MM_PAGE_SIZE - 1);
	uint64_t delta = seg->paddr - seg->vaddr;   /* wraps harmlessly */

	if (seg->vaddr == seg->paddr || seg->memsz == 0)
		return 0;   /* the identity map already covers it */
	for (uint64_t va = first; va - first < seg->vaddr + seg->memsz - first; va += MM_PAGE_SIZE) {
		int rc = map_page(pa, pml4, va, va + delta, flags);
		if (rc == -1) {
			snprintf(err, errlen, "segment %u: boot page tables need more than %" PRIu64
				 " KiB", index, (uint64_t)((BOOT_PT_END - BOOT_PT_GPA) >> 10));
			return -1;
		}
		if (rc == -2) {
			snprintf(err, errlen, "segment %u maps virtual page 0x%" PRIx64
			         " onto a frame another segment maps there",
				 index, va);
			return -1;
		}
	}
	return 0;
}

static void write_gdt(const struct guest_mem *gm)
{
	uint64_t *gdt = guest_mem_ptr(gm, BOOT_GDT_GPA, 5 * 8);
	uint64_t tss = BOOT_TSS_GPA, limit = 0x67;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull;   /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf92000000ffffull;   /* data, DPL 0 */
	gdt[3] = limit | ((tss & 0xffffff) << 16) | (0x8bull << 40) | (((tss >> 24) & 0xff) << 56);
	gdt[4] = tss >> 32;
	memset(guest_mem_ptr(gm, BOOT_TSS_GPA, limit + 1), 0, limit + 1);
}

static void write_boot_info(const struct guest_mem *gm, const struct boot_params *params)
{
	size_t len = strlen(params->cmdline);
	struct boot_info *bi = guest_mem_ptr(gm, BOOT_INFO_GPA, sizeof(*bi));

	memcpy(guest_mem_ptr(gm, BOOT_CMDLINE_GPA, len + 1), params->cmdline, len + 1);
	*bi = (struct boot_info){
		.magic = BOOTINFO_MAGIC, .version = BOOTINFO_VERSION,
		.ram_size = gm->size, .cpu_count = params->cpus,
		.cmdline = BOOT_CMDLINE_GPA, .cmdline_len = len,
		.tsc_khz = params->tsc_khz, .reserved_end = BOOT_RESERVED_END,
	};
}

int boot_build(const struct guest_mem *gm, const struct elf_image *img,
	       const struct boot_params *params, char *err, size_t errlen)
{
	struct pt_alloc pa = { .gm = gm, .next = BOOT_PT_GPA };
	uint64_t pml4 = pt_new(&pa);

	if (strlen(params->cmdline) > BOOT_CMDLINE_MAX || params->cpus > BOOT_MAX_CPUS ||
	    gm->size < BOOT_RESERVED_END) {
		snprintf(err, errlen, "boot parameters out of range");
		return -1;
	}
	write_gdt(gm);
	write_boot_info(gm, params);
	map_identity(&pa, pml4);
	for (size_t i = 0; i < img->nsegs; i++)
		if (map_segment(&pa, pml4, &img->segs[i], (unsigned)i, err, errlen))
			return -1;
	return 0;
}

void boot_set_tsc_khz(const struct guest_mem *gm, uint64_t tsc_khz)
{
	struct boot_info *bi = guest_mem_ptr(gm, BOOT_INFO_GPA, sizeof(*bi));

	bi->tsc_khz = tsc_khz;
}

static struct kvm_segment segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
		.present = 1, .dpl = 0, .db = type == 0xb ? 0 : 1, .s = 1,
		.l = type == 0xb ? 1 : 0, .g = 1,
	};
}

void boot_sregs(struct kvm_sregs *sregs)
{
	sregs->cs = segment(BOOT_SEL_CODE, 0xb);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = segment(BOOT_SEL_DATA, 0x3);
	sregs->tr = (struct kvm_segment){
		.base = BOOT_TSS_GPA, .limit = 0x67, .selector = BOOT_SEL_TSS,
		.type = 0xb, .present = 1,
	};
	sregs->ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .unusable = 1 };
	sregs->gdt.base = BOOT_GDT_GPA;
	sregs->gdt.limit = 5 * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr3 = BOOT_PT_GPA;
	sregs->cr4 = CR4_PAE;
	sregs->efer = EFER_LME | EFER_LMA | EFER_NXE;
}

void boot_regs(struct kvm_regs *regs, uint64_t entry, unsigned cpu)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rdi = BOOT_INFO_GPA;
	regs->rsi = cpu;
	/* as if entry had been called: the SysV ABI wants RSP+8 16-byte aligned */
	regs->rsp = BOOT_STACK_GPA + (uint64_t)(cpu + 1) * BOOT_STACK_SIZE - 8;
	regs->rflags = 0x2;
}
