/* SPDX-License-Identifier: BSD-2-Clause */
/* smp-share and smp-steal: every CPU maps the same pages into spaces of its own and into one they all share, while the others pageunload them and fork its spaces; checkpoints at barriers. */
#include "cmdline.h"
#include "cpu.h"
#include "hment.h"
#include "kernel.h"
#include "objcache.h"
#include "rand.h"
#include "segtab.h"
#include "smp_rounds.h"
#include "trap.h"
#include "util.h"
#include "workload.h"

#define NSHARED 24u     /* pages every CPU maps */
#define NSPACES 2u      /* per CPU, and one more every CPU shares (COMMON) */
#define COMMON  NSPACES /* the index of the space all CPUs load into at once, as a process's threads fault */
#define NSLOTS  32u     /* per space: 16 under one table, 16 in another PML4 slot */
#define HALF    (NSLOTS / 2)
#define RUN     4u      /* slots an unload or chgprot covers at most */
#define RW      (HAT_READ | HAT_WRITE)
#define STEPS   40u     /* per CPU and round, by default */
#define STEAL_HMENTS 4u    /* smp-steal: hments out beyond those at its start, per CPU */
/* Log records one step may append at most: a fork's unload, copies and dup; under smp-steal each copy with two steals. */
#define STEP_RECORDS       (HALF + 4u)
#define STEAL_STEP_RECORDS (3u * HALF + 4u)

static const uint64_t region_base[2] = { 0x40000000ull, 0x8000000000ull };

enum step { SH_MAP, SH_MAP2, SH_UNLOAD, SH_PROTECT, SH_PAGEUNLOAD, SH_FORK, SH_KINDS };

/*
 * One CPU's spaces. Its shadow cannot say what is mapped: other CPUs'
 * pageunloads (and steals) take mappings at any time. It says what may
 * be: a slot it never mapped, or unloaded since, is surely empty.
 */
struct sh_cpu {
	struct hat *space[NSPACES + 1];  /* space[COMMON]: the same for every CPU */
	bool maybe[NSPACES + 1][NSLOTS];
	struct rand rng;
	uint64_t failed;                 /* smp-steal: loads and forks that found no hment */
	unsigned cpu;
};

static void run_round(unsigned cpu, unsigned r);

static struct {
	struct smp_rounds sr;
	bool steal;
	page_t *page[NSHARED];
	struct hat *common;              /* every CPU's space[COMMON] */
	struct sh_cpu cpu[MAX_CPUS];
} sh = { .sr = { .run_round = run_round } };

static uint64_t slot_va(unsigned k)
{
	return region_base[k / HALF] + (uint64_t)(k % HALF) * MM_PAGE_SIZE;
}

/* Slot k of cpu in space s: in the common space the CPUs' slots interleave, so they share tables. */
static uint64_t slot_at(unsigned cpu, unsigned s, unsigned k)
{
	if (s != COMMON)
		return slot_va(k);
	return region_base[k / HALF] + ((uint64_t)(k % HALF) * cpu_count() + cpu) * MM_PAGE_SIZE;
}

/* What shared page p holds in its first word: written through the direct map once. */
static uint64_t page_tag(uint64_t pfn)
{
	return 0x5348520000000000ull | pfn;
}

static unsigned pick(struct sh_cpu *c, unsigned n)
{
	return (unsigned)rand_below(&c->rng, n);
}

/* Slots [k, k + n) of space s, clipped to k's half. */
static unsigned run_len(unsigned k, unsigned n)
{
	unsigned end = (k / HALF + 1) * HALF;

	return k + n > end ? end - k : n;
}

/* Slots [k, k + n) of space s (in the common space one slot: the others' lie between). */
static void unload_slots(struct sh_cpu *c, unsigned s, unsigned k, unsigned n)
{
	if (s == COMMON)
		n = 1;
	wl_unload(sh.sr.who, c->space[s], slot_at(c->cpu, s, k), (uint64_t)n * MM_PAGE_SIZE);
	for (unsigned j = k; j < k + n; j++)
		c->maybe[s][j] = false;
}

/* A shared page at a slot surely empty (unloaded first when it may not be: a load never replaces one). */
static void map_slot(struct sh_cpu *c, unsigned s, unsigned k)
{
	page_t *pp = sh.page[pick(c, NSHARED)];
	unsigned attr = pick(c, 4) == 0 ? HAT_READ : RW;

	if (c->maybe[s][k])
		unload_slots(c, s, k, 1);
	if (sh.steal)
		c->failed += wl_memload_try(sh.sr.who, c->space[s], slot_at(c->cpu, s, k), pp, attr) != 0;
	else
		wl_memload(sh.sr.who, c->space[s], slot_at(c->cpu, s, k), pp, attr);
	c->maybe[s][k] = true;
}

/*
 * A half of one of this CPU's spaces becomes a read-only fork of the same
 * half of any CPU's space (or the common one), whose owners may be
 * changing it meanwhile.
 */
static void fork_half(struct sh_cpu *c)
{
	unsigned d = pick(c, NSPACES), half = pick(c, 2), from = pick(c, cpu_count());
	struct hat *src = sh.cpu[from].space[pick(c, NSPACES + 1)], *dst = c->space[d];

	if (src == dst)
		return;
	unload_slots(c, d, half * HALF, HALF);
	if (sh.steal)
		c->failed += wl_dup_try(sh.sr.who, dst, src, region_base[half], HALF * MM_PAGE_SIZE,
					HAT_READ) != 0;
	else
		wl_dup(sh.sr.who, dst, src, region_base[half], HALF * MM_PAGE_SIZE, HAT_READ);
	for (unsigned j = 0; j < HALF; j++)
		c->maybe[d][half * HALF + j] = true;
}

static void step(unsigned cpu)
{
	struct sh_cpu *c = &sh.cpu[cpu];
	unsigned s = pick(c, NSPACES + 1), k = pick(c, NSLOTS);

	switch (pick(c, SH_KINDS)) {
	case SH_MAP:
	case SH_MAP2:
	default:
		map_slot(c, s, k);
		break;
	case SH_UNLOAD:
		unload_slots(c, s, k, run_len(k, 1 + pick(c, RUN)));
		break;
	case SH_PROTECT:
		wl_chgprot(sh.sr.who, c->space[s], slot_at(c->cpu, s, k),
			   (uint64_t)(s == COMMON ? 1 : run_len(k, 1 + pick(c, RUN))) * MM_PAGE_SIZE, HAT_READ);
		break;
	case SH_PAGEUNLOAD:   /* everyone's mappings of it go; the page stays, others map it again */
		wl_pageunload(sh.sr.who, sh.page[pick(c, NSHARED)]);
		break;
	case SH_FORK:
		fork_half(c);
		break;
	}
}

/*
 * Each CPU runs on one of its spaces, or the common one, meanwhile: the
 * others' pageunloads of pages it maps send it shootdowns, its own
 * changes flush here (and on the others running the common space). All
 * are loaded before any steps and stay loaded until all are done.
 */
static void run_round(unsigned cpu, unsigned r)
{
	hat_switch(sh.cpu[cpu].space[r % (NSPACES + 1)]);   /* every third round all run on the common one */
	smp_rounds_meet(&sh.sr, cpu, SMP_MEET_LOADED, r);
	for (unsigned i = 0; i < sh.sr.steps; i++)
		step(cpu);
	smp_rounds_meet(&sh.sr, cpu, SMP_MEET_STEPPED, r);
	hat_switch(&hat_kas);
}

/*
 * After the rounds, no CPU in the MM: what each slot maps (a getpfnum,
 * which the host checks against its model) is what the hardware reads
 * there, a shared page's tag, and a write goes through exactly where the
 * mapping is writable.
 */
static void verify_cpu(unsigned cpu)
{
	struct sh_cpu *c = &sh.cpu[cpu];

	for (unsigned s = 0; s <= COMMON; s++) {
		hat_switch(c->space[s]);
		for (unsigned k = 0; k < NSLOTS; k++) {
			uint64_t va = slot_at(cpu, s, k);
			volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)va;
			uint64_t pfn = wl_getpfnum(sh.sr.who, c->space[s], va), got = 0;
			uint64_t pte = wl_getpte(sh.sr.who, c->space[s], va);

			if (pfn == HAT_PFN_INVALID)
				continue;
			if (!c->maybe[s][k])
				panic("%s: CPU %u: VA 0x%" PRIx64 " of space %u maps pfn 0x%" PRIx64
				      " after its unload", sh.sr.who, cpu, va, c->space[s]->h_id, pfn);
			if (probe_read64(q, &got) || got != page_tag(pfn))
				panic("%s: CPU %u: VA 0x%" PRIx64 " of space %u reads 0x%" PRIx64
				      ", not pfn 0x%" PRIx64 "'s tag", sh.sr.who, cpu, va,
				      c->space[s]->h_id, got, pfn);
			if ((probe_write64(q, got) == 0) != ((pte & PTE_W) != 0))
				panic("%s: CPU %u: a write to VA 0x%" PRIx64 " of space %u %s", sh.sr.who,
				      cpu, va, c->space[s]->h_id,
				      (pte & PTE_W) ? "faulted" : "went through a read-only mapping");
		}
	}
	hat_switch(&hat_kas);
}

static void setup(void)
{
	for (unsigned p = 0; p < NSHARED; p++) {
		sh.page[p] = wl_page_alloc(sh.sr.who);
		*(uint64_t *)pa_to_kva(sh.page[p]->p_pagenum << MM_PAGE_SHIFT) =
			page_tag(sh.page[p]->p_pagenum);
	}
	sh.common = wl_hat_create(sh.sr.who);
	for (unsigned i = 0; i < cpu_count(); i++) {
		rand_seed(&sh.cpu[i].rng, cmdline_get_u64("seed", 1) * 64 + i);
		sh.cpu[i].cpu = i;
		for (unsigned s = 0; s < NSPACES; s++)
			sh.cpu[i].space[s] = wl_hat_create(sh.sr.who);
		sh.cpu[i].space[COMMON] = sh.common;
	}
	if (sh.steal) {
		/* few hments beyond the pages' first mappings: most loads take another's */
		hment_set_reserve_amount(0);
		hment_adjust_reserve();
		hment_set_limit(hment_cache_inuse() + (uint64_t)STEAL_HMENTS * cpu_count());
	}
}

static void teardown(void)
{
	if (sh.steal)
		hment_set_limit(OBJCACHE_LIMIT_NONE);
	for (unsigned i = 0; i < cpu_count(); i++)
		for (unsigned s = 0; s < NSPACES; s++)
			wl_hat_destroy(sh.sr.who, sh.cpu[i].space[s]);
	wl_hat_destroy(sh.sr.who, sh.common);
	for (unsigned p = 0; p < NSHARED; p++)
		page_free(sh.page[p]);
}

static int run(const char *who, bool steal)
{
	uint64_t steals = hment_stats.steals, lost = segtab_stats.cas_lost, failed = 0;

	sh.sr.who = who;
	sh.steal = steal;
	sh.sr.step_records = steal ? STEAL_STEP_RECORDS : STEP_RECORDS;
	smp_rounds_options(&sh.sr, 6, STEPS);
	setup();
	smp_rounds_run(&sh.sr);
	for (unsigned i = 0; i < cpu_count(); i++) {
		verify_cpu(i);
		failed += sh.cpu[i].failed;
	}
	smp_rounds_print_throughput(&sh.sr);
	kprintf("%s: %u CPUs, %u rounds of %u steps each on %u shared pages; %" PRIu64 " steals, %"
		PRIu64 " loads and forks without an hment, %" PRIu64 " table installs lost to another"
		" CPU's; every mapping read back\n", who, cpu_count(), sh.sr.rounds, sh.sr.steps, NSHARED,
		hment_stats.steals - steals, failed, segtab_stats.cas_lost - lost);
	teardown();
	wl_finish(who, "end");
	return 0;
}

static int smp_share_run(void)
{
	return run("smp-share", false);
}

static int smp_steal_run(void)
{
	return run("smp-steal", true);
}

static void smp_share_ap(unsigned cpu)
{
	smp_rounds_ap(&sh.sr, cpu);
}

const struct workload workload_smp_share = {
	"smp-share", "every CPU maps the same pages into spaces of its own while the others "
	"pageunload them and fork its spaces; checkpoints at barriers (rounds=N, steps=N, seed=N)",
	true, smp_share_run, smp_share_ap,
};

const struct workload workload_smp_steal = {
	"smp-steal", "smp-share with the hment cache capped: loads on every CPU steal each other's "
	"mappings (rounds=N, steps=N, seed=N)",
	true, smp_steal_run, smp_share_ap,
};
