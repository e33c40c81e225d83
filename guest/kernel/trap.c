/* SPDX-License-Identifier: BSD-2-Clause */
/* The IDT and trap_dispatch(): probe fix-ups, the #PF hook, else a report to the host. */
#include "trap.h"

#include "arch_x86.h"
#include "cpu.h"
#include "hypercall.h"
#include "kernel.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct probe_entry {
	uint64_t insn, fixup;
};

extern const char trap_stubs[];
extern const struct probe_entry __probe_table_start[], __probe_table_end[];

static struct idt_gate idt[256];
static page_fault_fn page_fault_handler;
static irq_fn irq_handlers[256];
static struct probe_fault last_probe_fault[MAX_CPUS];
static uint64_t page_faults_handled;

static struct idt_gate gate(uint64_t handler, uint8_t ist)
{
	return (struct idt_gate){
		.offset_low = (uint16_t)handler, .selector = 0x08, .ist = ist,
		.type = 0x8e,   /* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16), .offset_high = (uint32_t)(handler >> 32),
	};
}

/*
 * Stubs are 16 bytes apart from a page-aligned start, so consecutive
 * gates differ only in offset_low: a cheap loop, which matters where
 * guest instructions are emulated and boot time is measured.
 */
void trap_init(void)
{
	struct idt_gate g = gate((uint64_t)trap_stubs, 0);

	for (unsigned v = 0; v < 256; v++, g.offset_low += 16)
		idt[v] = g;
	/* fresh stacks where the current one may be the problem */
	idt[2].ist = idt[VEC_DF].ist = idt[18].ist = 1;
	/*
	 * #PF keeps IF as it was (trap gate): a demand fault may take MM locks,
	 * and a CPU spinning on one must still take the shootdown IPI of the
	 * holder, who waits for it.
	 */
	idt[VEC_PF].type = 0x8f;
}

void trap_set_irq_handler(unsigned vector, irq_fn fn)
{
	if (vector < 32 || vector > 255)
		panic("trap_set_irq_handler: vector %u is not an interrupt vector", vector);
	irq_handlers[vector] = fn;
}

static void load_idt(uint16_t limit)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc = {
		limit, (uint64_t)idt,
	};

	__asm__ volatile("lidt %0" : : "m"(desc));
}

void trap_load_idt(void)
{
	load_idt(sizeof(idt) - 1);
}

void trap_load_empty_idt(void)
{
	load_idt(0);
}

void trap_set_page_fault_handler(page_fault_fn fn)
{
	page_fault_handler = fn;
}

struct probe_fault trap_last_probe_fault(void)
{
	return last_probe_fault[cpu_id()];
}

uint64_t trap_page_faults_handled(void)
{
	return __atomic_load_n(&page_faults_handled, __ATOMIC_RELAXED);
}

/* A fault inside a probe resumes at its fix-up with RAX = 1. */
static bool probe_fixup(struct trap_frame *f, uint64_t cr2)
{
	for (const struct probe_entry *p = __probe_table_start; p < __probe_table_end; p++) {
		if (p->insn != f->rip)
			continue;
		last_probe_fault[cpu_id()] = (struct probe_fault){ f->vector, f->error_code, cr2 };
		f->rip = p->fixup;
		f->rax = 1;
		return true;
	}
	return false;
}

void trap_dispatch(struct trap_frame *f);

void trap_dispatch(struct trap_frame *f)
{
	uint64_t cr2 = f->vector == VEC_PF ? x86_read_cr2() : 0;

	if (f->vector >= 32 && f->vector < 256 && irq_handlers[f->vector]) {
		irq_handlers[f->vector]();
		return;
	}
	if (f->vector == VEC_PF && page_fault_handler && page_fault_handler(cr2, f->error_code)) {
		__atomic_fetch_add(&page_faults_handled, 1, __ATOMIC_RELAXED);
		return;
	}
	if (probe_fixup(f, cr2))
		return;
	struct hc_trap t = {
		.vector = f->vector, .error_code = f->error_code, .rip = f->rip,
		.rsp = f->rsp, .cr2 = cr2, .cpu = cpu_id(),
	};
	hc_trap(&t);
}
