/* SPDX-License-Identifier: BSD-2-Clause */
/* Boot-level workloads: hello, deliberate faults, a spin, a triple fault, bad hypercalls, a hole. */
#include "cmdline.h"
#include "cpu.h"
#include "hatvm/layout.h"
#include "hypercall.h"
#include "kernel.h"
#include "trap.h"
#include "workload.h"

static int hello_run(void)
{
	kprintf("hello from CPU 0 of %u\n", cpu_count());
	workload_wait_aps();
	kprintf("hello: all %u CPUs up\n", cpu_count());
	return 0;
}

static void hello_ap(unsigned cpu)
{
	kprintf("hello from CPU %u of %u\n", cpu, cpu_count());
}

const struct workload workload_hello = {
	"hello", "print a line per CPU and exit 0", false, hello_run, hello_ap,
};

static int fault_run(void)
{
	const char *kind = cmdline_get("fault");

	if (!kind)
		kind = "ud";
	kprintf("fault: raising %s on purpose\n", kind);
	if (strcmp(kind, "ud") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(kind, "gp") == 0)
		*(volatile uint64_t *)0x8000000000000000ull = 1;   /* non-canonical */
	else if (strcmp(kind, "pf") == 0)
		*(volatile uint64_t *)0xffffc00000000000ull = 1;   /* never mapped */
	else if (strcmp(kind, "de") == 0)
		__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
	else
		cmdline_usage("option fault=%s: expected ud, gp, pf or de", kind);
	kprintf("fault: %s did not fault\n", kind);
	return 1;
}

const struct workload workload_fault = {
	"fault", "raise fault=ud|gp|pf|de on purpose (exit status 3)", false, fault_run, NULL,
};

static int __attribute__((noreturn)) spin_run(void)
{
	kprintf("spin: looping forever with interrupts off\n");
	for (;;)
		__asm__ volatile("cli; pause");
}

const struct workload workload_spin = {
	"spin", "loop forever with interrupts off (for --timeout)", false, spin_run, NULL,
};

static int triple_run(void)
{
	kprintf("triple: no IDT, then an exception\n");
	trap_load_empty_idt();
	__asm__ volatile("ud2");
	return 1;
}

const struct workload workload_triple = {
	"triple", "force a triple fault (exit status 3)", false, triple_run, NULL,
};

/*
 * `rep outsl` of two valid puts arguments to the puts port: KVM turns each
 * iteration into an exit that looks like a single OUT; the host must refuse
 * it as string I/O all the same.
 */
static void badcall_outs(void)
{
	static const char text[] = "badcall: string I/O was accepted\n";
	static struct hc_puts arg;
	static uint32_t args[2];
	const uint32_t *src = args;
	uint64_t n = 2;

	arg = (struct hc_puts){ .buf = kva_to_pa(text), .len = sizeof(text) - 1 };
	args[0] = args[1] = (uint32_t)kva_to_pa(&arg);
	__asm__ volatile("cld; rep outsl" : "+S"(src), "+c"(n) : "d"((uint16_t)HC_PORT_PUTS) : "memory");
}

/*
 * call=puts (default) hands a buffer past RAM; call=arg an argument struct
 * past RAM; call=port an unknown port; call=outs string I/O to a port.
 */
static int badcall_run(void)
{
	const char *call = cmdline_get("call");
	uint64_t past_ram = cpu_boot_info()->ram_size + 0x1000;
	static struct hc_puts bad;

	kprintf("badcall: hypercall with an out-of-range pointer\n");
	if (call && strcmp(call, "arg") == 0) {
		hc_raw(HC_PORT_PUTS, (uint32_t)past_ram);
	} else if (call && strcmp(call, "port") == 0) {
		hc_raw(HC_PORT_BASE + HC_PORT_COUNT, 0);
	} else if (call && strcmp(call, "outs") == 0) {
		badcall_outs();
	} else {
		bad = (struct hc_puts){ .buf = past_ram, .len = 16 };
		hc_raw(HC_PORT_PUTS, (uint32_t)kva_to_pa(&bad));
	}
	kprintf("badcall: the host accepted it\n");
	return 1;
}

const struct workload workload_badcall = {
	"badcall", "bad hypercall: call=puts|arg|port|outs (exit status 3)", false, badcall_run, NULL,
};

static int hole_run(void)
{
	kprintf("hole: reading GPA 0xe0000000, where no RAM is\n");
	(void)*(volatile uint64_t *)0xe0000000ull;   /* identity-mapped by the boot tables */
	return 1;
}

const struct workload workload_hole = {
	"hole", "read guest-physical memory where no RAM is (exit status 3)", false, hole_run, NULL,
};
