/* SPDX-License-Identifier: BSD-2-Clause */
/* kmain: every CPU's first C code; the boot CPU picks and runs the workload, the others join it. */
#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
#include "hypercall.h"
#include "demand.h"
#include "kernel.h"
#include "mm_boot.h"
#include "smp.h"
#include "trap.h"
#include "workload.h"

static const struct workload *volatile chosen;   /* set before APs are released */

static void __attribute__((noreturn)) ap_main(unsigned cpu)
{
	while (!chosen)
		x86_pause();
	smp_ap_stage(cpu, "released");
	trap_load_idt();
	if (chosen->needs_mm)
		mm_boot_ap();
	smp_ap_stage(cpu, "on the kernel space");
	smp_ap_online();
	if (chosen->ap)
		chosen->ap(cpu);
	workload_ap_done();
	smp_ap_finish(chosen->needs_mm);
}

void kmain(const struct boot_info *bi, unsigned cpu);

void kmain(const struct boot_info *bi, unsigned cpu)
{
	cpu_init(cpu, bi);
	if (cpu != 0)
		ap_main(cpu);
	if (bi->magic != BOOTINFO_MAGIC || bi->version != BOOTINFO_VERSION)
		panic("boot info at %p has a bad magic or version", (const void *)bi);
	trap_init();
	trap_load_idt();
	if (!cmdline_parse((const char *)bi->cmdline, bi->cmdline_len))
		cmdline_usage("too many words (at most %u)", CMDLINE_MAX_WORDS);
	const struct workload *w = workload_find();
	if (w->needs_mm) {
		mm_boot(bi);   /* bi (identity-mapped) is unreachable after this */
		demand_init();
	}
	smp_boot(w->needs_mm);
	chosen = w;
	smp_wait_ready();
	hc_exit((uint64_t)w->run());
}
