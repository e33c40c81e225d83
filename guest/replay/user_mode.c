/* SPDX-License-Identifier: BSD-2-Clause */
/* Ring 3 for the replay: user segments, the trap stack, the stub page in every process, one access at a time. Guest only. */
#include "user_mode.h"

#include "hat.h"
#include "kernel.h"
#include "replay.h"
#include "trap.h"

#define MSR_GS_BASE   0xc0000101u
#define SEL_USER_DATA (0x28 | 3)
#define SEL_USER_CODE (0x30 | 3)
#define GDT_ENTRIES   7
#define TRAP_STACK    (32 * 1024)
#define DOORBELL      KERNEL_BASE    /* never user-accessible: a ring-3 read of it always faults */

/* What user_enter() saves: callee-saved registers, the stack, where to return. */
struct user_jump {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

/* What user_enter() IRETQs to. */
struct user_frame {
	uint64_t rip, rdi, rsi, cs, ss;
};

extern const char user_stub_start[], user_stub_end[];
uint64_t user_enter(struct user_jump *j, const struct user_frame *f);
void user_leave(struct user_jump *j, uint64_t value) __attribute__((noreturn));

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static uint8_t trap_stack[TRAP_STACK] __attribute__((aligned(16)));
static page_t *stub_page;
static struct user_jump jump;
static bool active;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

/*
 * A copy of this CPU's GDT (kernel code 0x08, data 0x10, the TSS at
 * 0x18) with user data and 64-bit user code added: the TSS stays loaded
 * (TR caches it), so the copy's busy TSS descriptor is never reloaded.
 * Returns the TSS's address.
 */
static uint8_t *install_gdt(void)
{
	struct desc_ptr cur, next = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

	__asm__ volatile("sgdt %0" : "=m"(cur));
	memcpy(gdt, (const void *)(uintptr_t)cur.base, 5 * sizeof(uint64_t));
	gdt[5] = 0x00cff2000000ffffull;   /* user data, DPL 3 */
	gdt[6] = 0x00affa000000ffffull;   /* 64-bit user code, DPL 3 */
	__asm__ volatile("lgdt %0" : : "m"(next));
	uint64_t tss = ((gdt[3] >> 16) & 0xffffff) | (((gdt[3] >> 56) & 0xff) << 24) |
		       (gdt[4] << 32);
	return (uint8_t *)(uintptr_t)tss;
}

/*
 * GS holds this CPU's per-CPU base. IRETQ to ring 3 nulls a DPL-0 GS,
 * which on some CPUs clears the base; a DPL-3 selector survives it, so
 * GS gets the user data selector and the base is written back after.
 */
static void keep_gs_base(void)
{
	uint64_t base = rdmsr(MSR_GS_BASE);

	__asm__ volatile("movw %w0, %%gs" : : "r"((uint16_t)SEL_USER_DATA));
	wrmsr(MSR_GS_BASE, base);
}

bool user_mode_init(bool (*handler)(uint64_t cr2, uint64_t error_code))
{
	uint8_t *tss = install_gdt();
	uint64_t rsp0 = (uint64_t)(uintptr_t)(trap_stack + TRAP_STACK);

	memcpy(tss + 4, &rsp0, sizeof(rsp0));   /* TSS.RSP0: where a trap from ring 3 lands */
	keep_gs_base();
	stub_page = page_alloc(PG_USER);
	if (stub_page == NULL)
		return false;
	memcpy(page_kva(stub_page), user_stub_start, (size_t)(user_stub_end - user_stub_start));
	trap_set_page_fault_handler(handler);
	return true;
}

bool user_map_stub(struct hat *h)
{
	return hat_memload(h, USER_STUB_VA, stub_page, HAT_READ | HAT_EXEC | HAT_USER) == 0;
}

bool user_active(void)
{
	return active;
}

enum user_fault user_fault_kind(uint64_t cr2, uint64_t error_code)
{
	if (!active || !(error_code & PF_ERR_USER))
		return UF_OTHER;
	if (cr2 == DOORBELL)
		return UF_DOORBELL;
	if ((cr2 & ~(uint64_t)(MM_PAGE_SIZE - 1)) == USER_STUB_VA)
		return UF_STUB;
	return UF_OTHER;
}

void user_finish(enum user_result result)
{
	active = false;
	user_leave(&jump, (uint64_t)result);
}

enum user_result user_access(struct hat *h, uint64_t va, unsigned acc)
{
	unsigned entry = acc & REPLAY_ACC_EXEC ? 2 : acc & REPLAY_ACC_WRITE ? 1 : 0;
	struct user_frame f = {
		.rip = USER_STUB_VA + 16 * entry, .rdi = va, .rsi = DOORBELL,
		.cs = SEL_USER_CODE, .ss = SEL_USER_DATA,
	};

	if (hat_getpfnum(h, USER_STUB_VA) != stub_page->p_pagenum && !user_map_stub(h))
		return USER_REFUSED;
	if (hat_current() != h)
		hat_switch(h);
	active = true;
	return (enum user_result)user_enter(&jump, &f);
}
