/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-calls over fixed IPIs: one request slot per sending CPU, acknowledged bit by bit (after illumos xc_call). */
#include "xcall.h"

#include "arch_x86.h"
#include "cpu.h"
#include "kernel.h"
#include "lapic.h"
#include "trap.h"

#define RFLAGS_IF (1ull << 9)

/*
 * The request CPU s is making. `pending` holds the targets that have
 * not run it yet; each clears its own bit after running fn, and the one
 * that clears the last bit wakes s. `seq` counts s's finished requests
 * and `busy` spans one request, from before s reads the online set to
 * after the last acknowledgement: xcall_offline() waits on both.
 */
struct xcall_slot {
	xcall_fn fn;
	void *arg;
	uint64_t pending;
	uint64_t seq;
	uint32_t busy;
} __attribute__((aligned(64)));

static struct xcall_slot slots[MAX_CPUS];
static uint64_t online;
static uint64_t timeout_cycles;
static uint64_t ipis, requests;
static bool lose;   /* test only: request IPIs are never sent */

static uint64_t irq_save_disable(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static void irq_restore(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		__asm__ volatile("sti" : : : "memory");
}

static void send(unsigned cpu, uint8_t vector)
{
	if (lose && vector == VEC_XCALL)
		return;
	lapic_send(cpu, vector);   /* APIC ID = CPU index: the VMM's CPUID says so */
	__atomic_fetch_add(&ipis, 1, __ATOMIC_RELAXED);
}

/* Runs every request addressed to this CPU; interrupts off. */
static void serve(void)
{
	unsigned me = cpu_id(), n = cpu_count();
	uint64_t bit = 1ull << me;

	for (unsigned s = 0; s < n; s++) {
		struct xcall_slot *slot = &slots[s];

		if (!(__atomic_load_n(&slot->pending, __ATOMIC_ACQUIRE) & bit))
			continue;
		slot->fn(slot->arg);
		if (__atomic_fetch_and(&slot->pending, ~bit, __ATOMIC_ACQ_REL) == bit && s != me)
			send(s, VEC_XCALL_ACK);
	}
}

static void on_xcall(void)
{
	serve();
	lapic_eoi();
}

static void on_wakeup(void)
{
	lapic_eoi();   /* the waiter re-checks its state after HLT */
}

static void on_spurious(void)
{
}

void xcall_init(uint64_t timeout_ms, uint64_t tsc_khz, bool lose_requests)
{
	lose = lose_requests;
	/* without a known TSC rate, assume 1 GHz: the bound only has to be finite */
	timeout_cycles = timeout_ms * (tsc_khz ? tsc_khz : 1000000);
	trap_set_irq_handler(VEC_XCALL, on_xcall);
	trap_set_irq_handler(VEC_XCALL_ACK, on_wakeup);
	trap_set_irq_handler(VEC_TIMER, on_wakeup);
	trap_set_irq_handler(VEC_SPURIOUS, on_spurious);
}

void xcall_online(void)
{
	__atomic_fetch_or(&online, 1ull << cpu_id(), __ATOMIC_SEQ_CST);
}

uint64_t xcall_online_cpus(void)
{
	return __atomic_load_n(&online, __ATOMIC_SEQ_CST);
}

uint64_t xcall_ipis_sent(void)
{
	return __atomic_load_n(&ipis, __ATOMIC_RELAXED);
}

uint64_t xcall_requests(void)
{
	return __atomic_load_n(&requests, __ATOMIC_RELAXED);
}

/*
 * Sleeps until an interrupt (an acknowledgement, a request, the timer);
 * interrupts off on entry and on return. STI's one-instruction shadow
 * makes "sti; hlt" atomic: an IPI that arrived since the caller's check
 * wakes the HLT instead of being taken before it.
 */
static void wait_for_interrupt(void)
{
	lapic_timer_oneshot(10000000);   /* ~10 ms at KVM's 1 GHz APIC bus */
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

static void __attribute__((noreturn)) report_lost(const struct xcall_slot *slot, uint64_t targets)
{
	panic("xcall: CPU %u's request (fn %p, arg %p) to CPUs 0x%" PRIx64 ": CPUs 0x%" PRIx64
	      " never ran it (IPI lost? re-sent once), online 0x%" PRIx64,
	      cpu_id(), (void *)slot->fn, slot->arg, targets,
	      __atomic_load_n(&slot->pending, __ATOMIC_ACQUIRE), xcall_online_cpus());
}

/* Waits, serving others' requests, until every target acknowledged; interrupts off. */
static void wait_acks(struct xcall_slot *slot, uint64_t targets)
{
	uint64_t deadline = x86_rdtsc() + timeout_cycles;
	bool resent = false;
	uint64_t left;

	while ((left = __atomic_load_n(&slot->pending, __ATOMIC_ACQUIRE)) != 0) {
		serve();
		if (x86_rdtsc() > deadline) {
			if (resent)
				report_lost(slot, targets);
			for (unsigned c = 0; c < MAX_CPUS; c++)
				if (left & (1ull << c))
					send(c, VEC_XCALL);
			resent = true;
			deadline = x86_rdtsc() + timeout_cycles;
		}
		if (__atomic_load_n(&slot->pending, __ATOMIC_ACQUIRE) != 0)
			wait_for_interrupt();
	}
	lapic_timer_oneshot(0);
}

void xcall_run(uint64_t cpus, xcall_fn fn, void *arg)
{
	unsigned me = cpu_id();
	uint64_t self = 1ull << me, flags = irq_save_disable(), targets;
	struct xcall_slot *slot = &slots[me];

	if (slot->busy)
		panic("xcall_run: CPU %u is already cross-calling (from an interrupt handler?)", me);
	__atomic_store_n(&slot->busy, 1, __ATOMIC_SEQ_CST);
	targets = cpus & ~self & xcall_online_cpus();
	if (targets != 0) {
		slot->fn = fn;
		slot->arg = arg;
		__atomic_store_n(&slot->pending, targets, __ATOMIC_RELEASE);
		__atomic_fetch_add(&requests, 1, __ATOMIC_RELAXED);
		for (unsigned c = 0; c < MAX_CPUS; c++)
			if (targets & (1ull << c))
				send(c, VEC_XCALL);
	}
	if (cpus & self)
		fn(arg);
	if (targets != 0)
		wait_acks(slot, targets);
	__atomic_fetch_add(&slot->seq, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->busy, 0, __ATOMIC_SEQ_CST);
	irq_restore(flags);
}

/*
 * A sender that read the online set before our bit went is busy now
 * (busy is set before that read, both sequentially consistent), so
 * waiting until each busy slot finishes its current request is enough.
 */
void xcall_offline(void)
{
	unsigned me = cpu_id(), n = cpu_count();
	uint64_t seen[MAX_CPUS];
	uint64_t waiting = 0;

	__atomic_fetch_and(&online, ~(1ull << me), __ATOMIC_SEQ_CST);
	for (unsigned s = 0; s < n; s++) {
		seen[s] = __atomic_load_n(&slots[s].seq, __ATOMIC_ACQUIRE);
		if (s != me && __atomic_load_n(&slots[s].busy, __ATOMIC_SEQ_CST))
			waiting |= 1ull << s;
	}
	for (unsigned s = 0; s < n; s++)
		while ((waiting & (1ull << s)) && __atomic_load_n(&slots[s].busy, __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(&slots[s].seq, __ATOMIC_ACQUIRE) == seen[s])
			x86_pause();   /* interrupts on: their requests to us are served */
}

uint64_t xcall_other_cpus(void)
{
	unsigned n = cpu_count();

	return (n >= 64 ? ~0ull : (1ull << n) - 1) & ~(1ull << cpu_id());
}

static void nothing(void *arg)
{
	(void)arg;
}

void xcall_wake(uint64_t cpus)
{
	xcall_run(cpus, nothing, NULL);
}

void xcall_sleep_until(const unsigned *flag, unsigned v)
{
	__asm__ volatile("cli" : : : "memory");
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < v)
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	__asm__ volatile("sti" : : : "memory");
}
