/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU descriptor tables and identity: GDT, TSS (IST stacks for #DF/NMI/#MC), GS base. */
#include "cpu.h"

#include "kernel.h"

#define MSR_GS_BASE 0xc0000101u
#define IST_SIZE    8192

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct percpu {
	struct percpu *self;      /* %gs:0 */
	unsigned index;
	uint64_t gdt[5];
	struct tss tss;
	uint8_t ist_stack[IST_SIZE] __attribute__((aligned(16)));
};

static struct percpu percpu[MAX_CPUS];
_Static_assert(offsetof(struct percpu, index) == PERCPU_INDEX_OFFSET, "cpu_id() reads %gs:index");
static struct boot_info boot_info_copy;
static unsigned ncpus = 1;

static void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static void load_gdt(struct percpu *pc)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc = {
		sizeof(pc->gdt) - 1, (uint64_t)pc->gdt,
	};

	__asm__ volatile("lgdt %0" : : "m"(desc));
	/* reload CS with a far return, then the data segments and TR */
	__asm__ volatile(
		"pushq $0x08\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw $0x10, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"movw %%ax, %%fs\n\t"
		"movw %%ax, %%gs\n\t"
		"movw $0x18, %%ax\n\t"
		"ltr %%ax"
		: : : "rax", "memory");
}

static void build_gdt(struct percpu *pc)
{
	uint64_t tss = (uint64_t)&pc->tss, limit = sizeof(pc->tss) - 1;

	pc->gdt[0] = 0;
	pc->gdt[1] = 0x00af9a000000ffffull;   /* 64-bit kernel code */
	pc->gdt[2] = 0x00cf92000000ffffull;   /* kernel data */
	pc->gdt[3] = limit | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
		     (((tss >> 24) & 0xff) << 56);   /* available 64-bit TSS */
	pc->gdt[4] = tss >> 32;
	pc->tss.ist[0] = (uint64_t)(pc->ist_stack + IST_SIZE);
	pc->tss.iomap_base = sizeof(pc->tss);
}

void cpu_init(unsigned index, const struct boot_info *bi)
{
	struct percpu *pc = &percpu[index];

	pc->self = pc;
	pc->index = index;
	build_gdt(pc);
	load_gdt(pc);   /* clears GS base: set it after */
	wrmsr(MSR_GS_BASE, (uint64_t)pc);
	if (index == 0) {
		boot_info_copy = *bi;
		ncpus = bi->cpu_count < MAX_CPUS ? (unsigned)bi->cpu_count : MAX_CPUS;
	}
}

unsigned cpu_count(void)
{
	return ncpus;
}

const struct boot_info *cpu_boot_info(void)
{
	return &boot_info_copy;
}
