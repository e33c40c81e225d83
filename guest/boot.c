/* kmain: every CPU's first C code; the boot CPU picks and runs the workload. */
#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
#include "hypercall.h"
#include "demand.h"
#include "kernel.h"
#include "mm_boot.h"
#include "trap.h"
#include "workload.h"

const struct workload *const workloads[] = {
	&workload_all, &workload_smoke, &workload_share, &workload_random, &workload_pressure,
	&workload_large, &workload_bench, &workload_hello, &workload_fault, &workload_spin,
	&workload_triple, &workload_badcall, &workload_hole, NULL,
};

static const struct workload *volatile chosen;   /* set before APs are released */
static volatile unsigned aps_done;

void workload_ap_done(void)
{
	__atomic_fetch_add(&aps_done, 1, __ATOMIC_SEQ_CST);
}

void workload_wait_aps(void)
{
	while (__atomic_load_n(&aps_done, __ATOMIC_SEQ_CST) + 1 < cpu_count())
		x86_pause();
}

static const struct workload *find_workload(void)
{
	const char *name = cmdline_get("workload");

	if (!name && cmdline_get("fault"))
		name = "fault";
	if (!name)
		return workloads[0];
	for (unsigned i = 0; workloads[i]; i++)
		if (strcmp(workloads[i]->name, name) == 0)
			return workloads[i];
	kprintf("unknown workload '%s'; known:", name);
	for (unsigned i = 0; workloads[i]; i++)
		kprintf(" %s", workloads[i]->name);
	kprintf("\n");
	panic("unknown workload '%s'", name);
}

static void __attribute__((noreturn)) ap_main(unsigned cpu)
{
	while (!chosen)
		x86_pause();
	trap_load_idt();
	if (chosen->needs_mm)
		mm_boot_ap();
	if (chosen->ap)
		chosen->ap(cpu);
	workload_ap_done();
	for (;;)
		__asm__ volatile("cli; hlt");
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
		panic("guest command line has too many words");
	const struct workload *w = find_workload();
	if (w->needs_mm) {
		mm_boot(bi);   /* bi (identity-mapped) is unreachable after this */
		demand_init();
	}
	chosen = w;
	hc_exit((uint64_t)w->run());
}
