/* SPDX-License-Identifier: BSD-2-Clause */
/* tlb: TLB coherence across CPUs — once CPU 0's unload, chgprot or pageunload returns, a CPU running that space must fault. */
#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
#include "kernel.h"
#include "rand.h"
#include "stats.h"
#include "tlb_shootdown.h"
#include "trap.h"
#include "util.h"
#include "workload.h"
#include "xcall.h"

#define WHO          "tlb"
#define NPAGES       8                       /* per space */
#define SPACES       2                       /* per CPU: it loads one of them each round */
#define BASE_VA      0x40000000ull
#define RW           (HAT_READ | HAT_WRITE)
#define PING_COUNT   64                      /* cross-calls timed for the IPI round trip */
#define CHECK_EVERY  8                       /* rounds between checkpoints */

enum change { CH_UNLOAD, CH_CHGPROT, CH_PAGEUNLOAD, CH_KINDS };

static const char *const change_names[CH_KINDS] = { "hat_unload", "hat_chgprot(read-only)",
						     "hat_pageunload" };

/* What CPU 0 changed for one CPU this round, and what that CPU must then see. */
struct expect {
	unsigned change;
	unsigned page;      /* index in the CPU's pages */
	uint64_t va;
	uint64_t pfn;
};

/* One CPU's part: its spaces and pages, the space it loaded this round, its progress. */
struct tlb_cpu {
	struct hat *space[SPACES];
	page_t *page[NPAGES];
	unsigned loaded;            /* index into space[] */
	unsigned warm;              /* last round it touched every page */
	unsigned checked;           /* last round it verified the change */
	struct expect expect;
	struct rand rng;
};

static struct {
	unsigned rounds;
	unsigned round;             /* CPU 0 -> others: touch your pages for this round */
	unsigned check_round;       /* CPU 0 -> others: the round's changes have returned */
	struct tlb_cpu cpu[MAX_CPUS];
	struct rand rng;
} tl;

static uint64_t page_va(unsigned p)
{
	return BASE_VA + (uint64_t)p * MM_PAGE_SIZE;
}

static uint64_t pattern(unsigned cpu, unsigned round, unsigned p)
{
	return ((uint64_t)cpu << 48) | ((uint64_t)round << 16) | p;
}

static unsigned load_acquire(const unsigned *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(unsigned *p, unsigned v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * Spins (interrupts on: shootdowns are served) until *p >= v. No HLT
 * here: under nested virtualization a VM exit may flush the TLB and
 * hide the very staleness this workload looks for.
 */
static void spin_until(const unsigned *p, unsigned v)
{
	while (load_acquire(p) < v)
		x86_pause();
}

/* --- the other CPUs -------------------------------------------------------------- */

static void touch_all(unsigned cpu, unsigned round)
{
	struct tlb_cpu *c = &tl.cpu[cpu];

	for (unsigned p = 0; p < NPAGES; p++) {
		volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)page_va(p);
		uint64_t v = pattern(cpu, round, p), got = 0;

		if (probe_write64(q, v) || probe_read64(q, &got) || got != v)
			panic("tlb: CPU %u round %u: page %u at 0x%" PRIx64 " of space %u is not "
			      "mapped read-write as it should be (read 0x%" PRIx64 ")",
			      cpu, round, p, page_va(p), c->space[c->loaded]->h_id, got);
	}
}

static void __attribute__((noreturn)) stale(unsigned cpu, unsigned round, const char *access)
{
	const struct tlb_cpu *c = &tl.cpu[cpu];
	const struct expect *e = &c->expect;

	panic("tlb: TLB_STALE: CPU %u %s VA 0x%" PRIx64 " of space %u (PFN 0x%" PRIx64
	      ") after CPU 0's %s returned, round %u: a stale translation (no shootdown reached it)",
	      cpu, access, e->va, c->space[c->loaded]->h_id, e->pfn, change_names[e->change], round);
}

/*
 * The change CPU 0 made must show at once, without this CPU flushing
 * anything itself: a shootdown covering the page ran here (the proof
 * that holds on any KVM), and the page then faults as it should (the
 * proof where the hardware keeps stale translations).
 */
static void verify(unsigned cpu, unsigned round)
{
	const struct expect *e = &tl.cpu[cpu].expect;
	volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)e->va;
	uint64_t got;

	if (!tlb_flushed(e->va))
		stale(cpu, round, "was sent no flush of");

	if (e->change == CH_CHGPROT) {
		if (probe_read64(q, &got) || got != pattern(cpu, round, e->page))
			panic("tlb: CPU %u round %u: read-only page at 0x%" PRIx64 " unreadable or "
			      "changed (0x%" PRIx64 ")", cpu, round, e->va, got);
		if (!probe_write64(q, got))
			stale(cpu, round, "wrote");
		return;
	}
	if (!probe_read64(q, &got))
		stale(cpu, round, "read");
}

static void tlb_ap(unsigned cpu)
{
	struct tlb_cpu *c = &tl.cpu[cpu];

	/* round rounds + 1 is the end: rounds is set before round 1 */
	for (unsigned r = 1;; r++) {
		xcall_sleep_until(&tl.round, r);
		if (r > tl.rounds)
			break;
		c->loaded = (unsigned)rand_below(&c->rng, SPACES);
		hat_switch(c->space[c->loaded]);
		touch_all(cpu, r);
		tlb_flushes_reset();
		store_release(&c->warm, r);
		spin_until(&tl.check_round, r);
		verify(cpu, r);
		store_release(&c->checked, r);
	}
	hat_switch(&hat_kas);   /* CPU 0 destroys the spaces */
}

/* --- CPU 0 ------------------------------------------------------------------------- */

static void setup_cpu(unsigned cpu)
{
	struct tlb_cpu *c = &tl.cpu[cpu];

	rand_seed(&c->rng, cmdline_get_u64("seed", 1) * 64 + cpu);
	for (unsigned p = 0; p < NPAGES; p++)
		c->page[p] = wl_page_alloc(WHO);
	for (unsigned s = 0; s < SPACES; s++) {
		c->space[s] = wl_hat_create(WHO);
		for (unsigned p = 0; p < NPAGES; p++)
			wl_memload(WHO, c->space[s], page_va(p), c->page[p], RW);
	}
}

static void wait_all(unsigned (*field)(unsigned cpu), unsigned round)
{
	for (unsigned i = 1; i < cpu_count(); i++)
		while (field(i) < round)
			x86_pause();
}

static unsigned warm_of(unsigned cpu)
{
	return load_acquire(&tl.cpu[cpu].warm);
}

static unsigned checked_of(unsigned cpu)
{
	return load_acquire(&tl.cpu[cpu].checked);
}

/* Takes away what CPU i's loaded space maps at one page: CPU i's next access must fault. */
static void change_one(unsigned cpu)
{
	struct tlb_cpu *c = &tl.cpu[cpu];
	struct expect *e = &c->expect;
	struct hat *h = c->space[c->loaded];

	e->change = (unsigned)rand_below(&tl.rng, CH_KINDS);
	e->page = (unsigned)rand_below(&tl.rng, NPAGES);
	e->va = page_va(e->page);
	e->pfn = c->page[e->page]->p_pagenum;
	if (e->change == CH_UNLOAD)
		wl_unload(WHO, h, e->va, MM_PAGE_SIZE);
	else if (e->change == CH_CHGPROT)
		wl_chgprot(WHO, h, e->va, MM_PAGE_SIZE, HAT_READ);
	else
		wl_pageunload(WHO, c->page[e->page]);   /* both of CPU i's spaces map it */
}

/* Gives the page back its read-write mapping in every space of CPU i (quiescent: i is asleep). */
static void restore_one(unsigned cpu)
{
	struct tlb_cpu *c = &tl.cpu[cpu];

	for (unsigned s = 0; s < SPACES; s++)
		wl_memload(WHO, c->space[s], c->expect.va, c->page[c->expect.page], RW);
}

/* ns per cross-call that does nothing, to the CPUs of `cpus`, asleep in HLT. */
static uint64_t time_xcalls(uint64_t cpus)
{
	uint64_t khz = cpu_boot_info()->tsc_khz, t0 = x86_rdtsc();

	for (unsigned i = 0; i < PING_COUNT; i++)
		xcall_wake(cpus);
	return khz ? (x86_rdtsc() - t0) * 1000000 / khz / PING_COUNT : 0;
}

/* The IPI round trip (to CPU 1), and a cross-call to every other CPU. */
static void measure_ipi(void)
{
	unsigned others = cpu_count() - 1;

	kprintf("tlb: IPI round trip %" PRIu64 " ns (%u cross-calls to CPU 1, asleep in HLT)\n",
		time_xcalls(1ull << 1), PING_COUNT);
	kprintf("tlb: cross-call to all %u other CPUs %" PRIu64 " ns\n", others,
		time_xcalls(xcall_other_cpus()));
}

static int tlb_run(void)
{
	unsigned n = cpu_count();
	uint64_t change_cycles = 0, khz = cpu_boot_info()->tsc_khz;

	if (n < 2)
		cmdline_usage("workload=tlb needs at least 2 vCPUs (vmm --cpus 2)");
	tl.rounds = cmdline_get_u32("rounds", 40);
	rand_seed(&tl.rng, cmdline_get_u64("seed", 1));
	for (unsigned i = 1; i < n; i++)
		setup_cpu(i);
	wl_checkpoint(WHO, "setup");
	measure_ipi();
	for (unsigned r = 1; r <= tl.rounds; r++) {
		store_release(&tl.round, r);
		xcall_wake(xcall_other_cpus());   /* wake the sleepers */
		wait_all(warm_of, r);
		uint64_t t0 = x86_rdtsc();
		for (unsigned i = 1; i < n; i++)
			change_one(i);
		change_cycles += x86_rdtsc() - t0;
		/* before the others look: the host's TLB_STALE sees a lost shootdown before the probe does */
		if (r == 1 || r % CHECK_EVERY == 0)
			wl_checkpoint(WHO, "round");
		store_release(&tl.check_round, r);
		wait_all(checked_of, r);
		for (unsigned i = 1; i < n; i++)
			restore_one(i);
	}
	store_release(&tl.round, tl.rounds + 1);
	xcall_wake(xcall_other_cpus());
	workload_wait_aps();
	for (unsigned i = 1; i < n; i++)
		for (unsigned s = 0; s < SPACES; s++)
			wl_hat_destroy(WHO, tl.cpu[i].space[s]);
	kprintf("tlb: %u rounds on %u CPUs, every change seen at once\n", tl.rounds, n);
	if (khz && tl.rounds)
		kprintf("tlb: a change with its shootdown (1 target) %" PRIu64 " ns\n",
			change_cycles * 1000000 / khz / ((uint64_t)tl.rounds * (n - 1)));
	wl_finish(WHO, "end");
	return 0;
}

const struct workload workload_tlb = {
	"tlb", "TLB shootdowns: CPU 0 unloads, protects and pageunloads pages other CPUs run on; "
	"each must fault at once (rounds=N, seed=N; needs --cpus 2+)",
	true, tlb_run, tlb_ap,
};
