/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC in x2APIC mode (MSRs) or xAPIC mode (MMIO): enable, send, EOI, timer. */
#include "lapic.h"

#include "arch_x86.h"
#include "kernel.h"

#define MSR_APIC_BASE       0x1bu
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_X2APIC    (1ull << 10)

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16. */
#define REG_ID       0x20u
#define REG_TPR      0x80u
#define REG_EOI      0xb0u
#define REG_SVR      0xf0u
#define REG_ICR_LOW  0x300u
#define REG_ICR_HIGH 0x310u
#define REG_LVT_TIMER 0x320u
#define REG_TIMER_INIT 0x380u
#define REG_TIMER_DIV 0x3e0u

#define SVR_ENABLE          0x100u
#define ICR_ASSERT          0x4000u    /* fixed delivery, physical destination */
#define ICR_BUSY            0x1000u    /* xAPIC: the previous IPI is not sent yet */
#define LVT_MASKED          0x10000u
#define TIMER_DIV_1         0xbu

static bool x2apic;
static volatile uint32_t *mmio_page;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint32_t reg_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800u + reg / 16);
	return mmio_page[reg / 4];
}

static void reg_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800u + reg / 16, v);
	else
		mmio_page[reg / 4] = v;
}

bool lapic_choose(bool force_xapic, volatile void *mmio)
{
	x2apic = !force_xapic && x86_cpuid_x2apic();
	mmio_page = mmio;
	if (!x2apic && mmio == NULL)
		panic("lapic: no x2APIC and no mapping of the xAPIC page");
	return x2apic;
}

bool lapic_is_x2apic(void)
{
	return x2apic;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

	/* x2APIC is entered from enabled xAPIC mode: two writes */
	wrmsr(MSR_APIC_BASE, base);
	if (x2apic)
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
	reg_write(REG_TPR, 0);
	reg_write(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	reg_write(REG_TIMER_DIV, TIMER_DIV_1);
	reg_write(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
}

uint32_t lapic_id(void)
{
	uint32_t id = reg_read(REG_ID);

	return x2apic ? id : id >> 24;
}

void lapic_send(uint32_t dest, uint8_t vector)
{
	if (x2apic) {
		/* one 64-bit write: destination in the high half */
		wrmsr(0x830u, ((uint64_t)dest << 32) | ICR_ASSERT | vector);
		return;
	}
	while (reg_read(REG_ICR_LOW) & ICR_BUSY)
		__asm__ volatile("pause");
	reg_write(REG_ICR_HIGH, dest << 24);
	reg_write(REG_ICR_LOW, ICR_ASSERT | vector);   /* this write sends */
}

void lapic_eoi(void)
{
	reg_write(REG_EOI, 0);
}

void lapic_timer_oneshot(uint32_t ticks)
{
	reg_write(REG_LVT_TIMER, (ticks ? 0 : LVT_MASKED) | VEC_TIMER);
	reg_write(REG_TIMER_INIT, ticks);
}
