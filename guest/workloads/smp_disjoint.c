/* SPDX-License-Identifier: BSD-2-Clause */
/* smp-disjoint: every CPU runs the MM at once, each on spaces and pages of its own; checkpoints at barriers, where no CPU is inside the MM. */
#include "arch_x86.h"
#include "check_every.h"
#include "cmdline.h"
#include "cpu.h"
#include "hat_oplog.h"
#include "kernel.h"
#include "rand.h"
#include "smp_rounds.h"
#include "trap.h"
#include "util.h"
#include "workload.h"
#include "xcall.h"

#define WHO     "smp-disjoint"
#define NPAGES  16u     /* per CPU */
#define NSPACES 2u      /* per CPU; space 1 is re-forked from space 0 now and then */
#define NSLOTS  32u     /* per space: 16 pages under one table, 16 in another PML4 slot */
#define HALF    (NSLOTS / 2)
#define RW      (HAT_READ | HAT_WRITE)
#define STEPS   40u     /* per CPU and round, by default */
/* Log records one step may append at most: a fork's destroy, create and copies. */
#define STEP_RECORDS (NSLOTS + 4u)

static const uint64_t region_base[2] = { 0x40000000ull, 0x8000000000ull };

enum step { ST_MAP, ST_UNLOAD, ST_PROTECT, ST_PAGEUNLOAD, ST_FORK, ST_RENEW, ST_KINDS };

/* One CPU's part and its shadow of what its spaces map. */
struct sd_cpu {
	struct hat *space[NSPACES];
	page_t *page[NPAGES];
	uint8_t map[NSPACES][NSLOTS];    /* page index + 1; 0: nothing */
	bool ro[NSPACES][NSLOTS];        /* mapped read-only */
	struct rand rng;
};

static void run_round(unsigned cpu, unsigned r);

static struct {
	struct smp_rounds sr;
	struct sd_cpu cpu[MAX_CPUS];
} sd = { .sr = { .who = WHO, .step_records = STEP_RECORDS, .run_round = run_round } };

static uint64_t slot_va(unsigned k)
{
	return region_base[k / HALF] + (uint64_t)(k % HALF) * MM_PAGE_SIZE;
}

/* What page p of cpu holds in its first word: written through the direct map once. */
static uint64_t page_tag(unsigned cpu, unsigned p)
{
	return 0x534d500000000000ull | (uint64_t)cpu << 16 | p;
}

/* Page p of cpu: a fresh page, its tag written through the direct map. */
static void new_page(unsigned cpu, unsigned p)
{
	struct sd_cpu *c = &sd.cpu[cpu];

	c->page[p] = wl_page_alloc(WHO);
	*(uint64_t *)pa_to_kva(c->page[p]->p_pagenum << MM_PAGE_SHIFT) = page_tag(cpu, p);
}

static unsigned pick(struct sd_cpu *c, unsigned n)
{
	return (unsigned)rand_below(&c->rng, n);
}

/* Slot k of space s against the shadow: the frame, or nothing. */
static void check_slot(unsigned cpu, unsigned s, unsigned k, const char *after)
{
	struct sd_cpu *c = &sd.cpu[cpu];
	uint64_t got = wl_getpfnum(WHO, c->space[s], slot_va(k));
	uint64_t want = c->map[s][k] ? c->page[c->map[s][k] - 1]->p_pagenum : HAT_PFN_INVALID;

	if (got != want)
		panic(WHO ": CPU %u after %s: VA 0x%" PRIx64 " of space %u maps pfn 0x%" PRIx64
		      ", expected 0x%" PRIx64, cpu, after, slot_va(k), c->space[s]->h_id, got, want);
}

static void check_space(unsigned cpu, unsigned s, const char *after)
{
	for (unsigned k = 0; k < NSLOTS; k++)
		check_slot(cpu, s, k, after);
}

/* Space 1 becomes a fresh fork of space 0 (read-only copies), as a fork would. */
static void fork_space(unsigned cpu)
{
	struct sd_cpu *c = &sd.cpu[cpu];

	wl_hat_destroy(WHO, c->space[1]);
	c->space[1] = wl_hat_create(WHO);
	for (unsigned half = 0; half < 2; half++)
		wl_dup(WHO, c->space[1], c->space[0], region_base[half], HALF * MM_PAGE_SIZE, HAT_READ);
	for (unsigned k = 0; k < NSLOTS; k++) {
		c->map[1][k] = c->map[0][k];
		c->ro[1][k] = true;
	}
	check_space(cpu, 1, "hat_dup");
}

static void step(unsigned cpu)
{
	struct sd_cpu *c = &sd.cpu[cpu];
	unsigned s = pick(c, NSPACES), k = pick(c, NSLOTS), p = pick(c, NPAGES);

	switch (pick(c, ST_KINDS)) {
	case ST_MAP:
	default:
		c->ro[s][k] = pick(c, 4) == 0;
		wl_memload(WHO, c->space[s], slot_va(k), c->page[p], c->ro[s][k] ? HAT_READ : RW);
		c->map[s][k] = (uint8_t)(p + 1);
		check_slot(cpu, s, k, "hat_memload");
		break;
	case ST_UNLOAD:
		wl_unload(WHO, c->space[s], slot_va(k), MM_PAGE_SIZE);
		c->map[s][k] = 0;
		check_slot(cpu, s, k, "hat_unload");
		break;
	case ST_PROTECT:
		wl_chgprot(WHO, c->space[s], slot_va(k), MM_PAGE_SIZE, HAT_READ);
		c->ro[s][k] = true;
		check_slot(cpu, s, k, "hat_chgprot");
		break;
	case ST_PAGEUNLOAD:   /* the page's end, as a kernel's: unmapped everywhere, freed, replaced */
		wl_pageunload(WHO, c->page[p]);
		for (unsigned t = 0; t < NSPACES; t++)
			for (unsigned j = 0; j < NSLOTS; j++)
				if (c->map[t][j] == p + 1)
					c->map[t][j] = 0;
		check_space(cpu, 0, "hat_pageunload");
		check_space(cpu, 1, "hat_pageunload");
		page_free(c->page[p]);
		new_page(cpu, p);
		break;
	case ST_FORK:
		fork_space(cpu);
		break;
	case ST_RENEW:
		wl_hat_destroy(WHO, c->space[s]);
		c->space[s] = wl_hat_create(WHO);
		for (unsigned j = 0; j < NSLOTS; j++)
			c->map[s][j] = 0;
		check_space(cpu, s, "hat_destroy");
		break;
	}
}

/*
 * The hardware's side, on this CPU's own CR3: every slot reads its
 * page's tag; a writable one takes a write, a read-only one faults.
 */
static void touch_spaces(unsigned cpu)
{
	struct sd_cpu *c = &sd.cpu[cpu];

	for (unsigned s = 0; s < NSPACES; s++) {
		hat_switch(c->space[s]);
		for (unsigned k = 0; k < NSLOTS; k++) {
			volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)slot_va(k);
			uint64_t got = 0, want;

			if (c->map[s][k] == 0)
				continue;
			want = page_tag(cpu, c->map[s][k] - 1u);
			if (probe_read64(q, &got) || got != want)
				panic(WHO ": CPU %u: VA 0x%" PRIx64 " of space %u reads 0x%" PRIx64
				      ", expected its page's tag 0x%" PRIx64, cpu, slot_va(k),
				      c->space[s]->h_id, got, want);
			if ((probe_write64(q, want) == 0) == c->ro[s][k])
				panic(WHO ": CPU %u: a write to VA 0x%" PRIx64 " of space %u %s", cpu,
				      slot_va(k), c->space[s]->h_id,
				      c->ro[s][k] ? "went through a read-only mapping" : "faulted");
		}
	}
	hat_switch(&hat_kas);
}

static void teardown_cpu(unsigned cpu)
{
	for (unsigned s = 0; s < NSPACES; s++)
		wl_hat_destroy(WHO, sd.cpu[cpu].space[s]);
	for (unsigned p = 0; p < NPAGES; p++)
		page_free(sd.cpu[cpu].page[p]);
}

/* The last round ends in every CPU destroying its spaces and freeing its pages, at once with the others. */
static void run_round(unsigned cpu, unsigned r)
{
	for (unsigned i = 0; i < sd.sr.steps; i++)
		step(cpu);
	touch_spaces(cpu);
	if (r == sd.sr.rounds)
		teardown_cpu(cpu);
}

static void setup_cpu(unsigned cpu)
{
	struct sd_cpu *c = &sd.cpu[cpu];

	rand_seed(&c->rng, cmdline_get_u64("seed", 1) * 64 + cpu);
	for (unsigned p = 0; p < NPAGES; p++)
		new_page(cpu, p);
	for (unsigned s = 0; s < NSPACES; s++)
		c->space[s] = wl_hat_create(WHO);
}

static void smp_disjoint_ap(unsigned cpu)
{
	smp_rounds_ap(&sd.sr, cpu);
}

static int smp_disjoint_run(void)
{
	unsigned n = cpu_count();

	smp_rounds_options(&sd.sr, 6, STEPS);
	for (unsigned i = 0; i < n; i++)
		setup_cpu(i);
	smp_rounds_run(&sd.sr);
	smp_rounds_print_throughput(&sd.sr);
	kprintf(WHO ": %u CPUs, %u rounds of %u steps each, every mapping as expected\n", n,
		sd.sr.rounds, sd.sr.steps);
	wl_finish(WHO, "end");
	return 0;
}

const struct workload workload_smp_disjoint = {
	"smp-disjoint", "the MM on every CPU at once, each on spaces and pages of its own; checkpoints "
	"at barriers (rounds=N, steps=N per round, seed=N)",
	true, smp_disjoint_run, smp_disjoint_ap,
};
