/* SPDX-License-Identifier: BSD-2-Clause */
/* SMP bring-up: LAPIC mode, cross-calls and the shootdown hook on the boot CPU; online, ready and done for the others. */
#include "smp.h"

#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
#include "hat.h"
#include "hypercall.h"
#include "kernel.h"
#include "lapic.h"
#include "tlb_shootdown.h"
#include "xcall.h"

#define XAPIC_PA          0xfee00000ull
#define XAPIC_VA          (KMAP_END - MM_PAGE_SIZE)   /* the last page of the kernel window */
#define XCALL_TIMEOUT_MS  10000u

static const char *volatile ap_stage[MAX_CPUS];
static uint64_t ready;   /* CPUs that have been online (one may already be done again) */

void smp_ap_stage(unsigned cpu, const char *stage)
{
	ap_stage[cpu] = stage;
}

/* The first CPU of `missing` and its stage, for the panic. */
static void __attribute__((noreturn)) report_missing(uint64_t missing)
{
	unsigned c = (unsigned)__builtin_ctzll(missing);

	panic("smp: CPUs 0x%" PRIx64 " did not come online (ready 0x%" PRIx64 "); CPU %u got to: %s",
	      missing, __atomic_load_n(&ready, __ATOMIC_SEQ_CST), c,
	      ap_stage[c] ? ap_stage[c] : "not released");
}

static void interrupts_on(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/* The xAPIC page: the boot tables' identity map, or a mapping of our own once they are gone. */
static volatile void *xapic_page(bool mm_live)
{
	if (!mm_live)
		return (volatile void *)(uintptr_t)XAPIC_PA;
	if (hat_devload(&hat_kas, XAPIC_VA, XAPIC_PA >> MM_PAGE_SHIFT,
			HAT_READ | HAT_WRITE | HAT_NOCACHE) != 0)
		panic("smp: no page table left to map the xAPIC page");
	return (volatile void *)(uintptr_t)XAPIC_VA;
}

static void go_online(void)
{
	smp_ap_stage(cpu_id(), "enabling its LAPIC");
	lapic_init();
	if (lapic_id() != cpu_id())
		panic("smp: CPU %u's LAPIC says APIC ID %u (the VMM's CPUID should make them equal)",
		      cpu_id(), lapic_id());
	interrupts_on();
	xcall_online();
	__atomic_fetch_or(&ready, 1ull << cpu_id(), __ATOMIC_SEQ_CST);
}

void smp_boot(bool mm_live)
{
	bool force_xapic = false;
	const char *mode = cmdline_get("apic");

	if (cpu_count() < 2)
		return;   /* one vCPU: the VMM gave it no LAPIC of the kernel's */
	if (mode && strcmp(mode, "xapic") == 0)
		force_xapic = true;
	else if (mode && strcmp(mode, "auto") != 0)
		cmdline_usage("option apic=%s: expected auto or xapic", mode);
	xcall_init(cmdline_get_u32("xcall_timeout_ms", XCALL_TIMEOUT_MS),
		   cpu_boot_info()->tsc_khz, cmdline_get_u32("xcall_lose", 0) != 0);
	lapic_choose(force_xapic, force_xapic || !(x86_cpuid_x2apic()) ? xapic_page(mm_live) : NULL);
	tlb_shootdown_init(cmdline_get_u32("no_shootdown", 0) != 0);
	go_online();
}

void smp_wait_ready(void)
{
	unsigned n = cpu_count();
	uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1;
	uint64_t khz = cpu_boot_info()->tsc_khz ? cpu_boot_info()->tsc_khz : 1000000;
	uint64_t deadline = x86_rdtsc() + (uint64_t)XCALL_TIMEOUT_MS * khz;

	if (n < 2)
		return;
	while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) != all) {
		if (x86_rdtsc() > deadline)
			report_missing(all & ~__atomic_load_n(&ready, __ATOMIC_SEQ_CST));
		x86_pause();
	}
}

void smp_ap_online(void)
{
	go_online();
}

void smp_ap_finish(bool mm_live)
{
	if (mm_live && hat_current() != &hat_kas)
		hat_switch(&hat_kas);   /* leaves every user space's CPU set */
	xcall_offline();
	__asm__ volatile("cli" : : : "memory");
	hc_done();
}
