/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: threads as CPUs map the same pages (4 KiB and a 2 MiB one), pageunload them and fork each other's spaces, while the host's model follows their one log at every barrier. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "hat_oplog.h"
#include "hment.h"
#include "hosted_check.h"
#include "segtab.h"
#include "mm_test.h"
#include "objcache.h"

/* STEPS × NT × the records one step appends at most (36) stay within the log between barriers. */
enum { NT = 4, NSHARED = 16, NSPACES = 2, NSLOTS = 32, HALF = NSLOTS / 2, STEPS = 20, BARRIERS = 1000 };
#define RW (HAT_READ | HAT_WRITE | HAT_USER)
#define RO (HAT_READ | HAT_USER)

static const uint64_t region_base[2] = { 0x40000000ull, 0x8000000000ull };
#define BIG_VA 0x10000000000ull   /* where each CPU maps the shared 2 MiB page, in its first space */

static struct {
	page_t *page[NSHARED];
	struct hat *space[NT][NSPACES];
	bool maybe[NT][NSPACES][NSLOTS];   /* may be mapped: unloaded slots surely are not */
	page_t *big;                       /* a 2 MiB page: CPUs map it whole and pageunload its pages */
	bool big_maybe[NT];
	unsigned long big_taken;           /* 2 MiB mappings pageunloads took (atomic) */
	pthread_barrier_t barrier;
	unsigned checks, dirty;            /* barriers checked, and those with violations */
	char first[2048];                  /* what the first dirty one reported */
} sm;

static uint64_t slot_va(unsigned k)
{
	return region_base[k / HALF] + (uint64_t)(k % HALF) * MM_PAGE_SIZE;
}

static unsigned pick(uint64_t *seed, unsigned n)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((*seed >> 33) % n);
}

static void unload_slots(unsigned cpu, unsigned s, unsigned k, unsigned n)
{
	if (k % HALF + n > HALF)
		n = HALF - k % HALF;
	hat_unload(sm.space[cpu][s], slot_va(k), (uint64_t)n * MM_PAGE_SIZE);
	for (unsigned j = k; j < k + n; j++)
		sm.maybe[cpu][s][j] = false;
}

/* A half of one of cpu's spaces becomes a read-only fork of any CPU's, its owner changing it meanwhile. */
static void fork_half(unsigned cpu, uint64_t *seed)
{
	unsigned d = pick(seed, NSPACES), half = pick(seed, 2);
	struct hat *src = sm.space[pick(seed, NT)][pick(seed, NSPACES)];

	if (src == sm.space[cpu][d])
		return;
	unload_slots(cpu, d, half * HALF, HALF);
	(void)hat_dup(sm.space[cpu][d], src, region_base[half], HALF * MM_PAGE_SIZE, RO);   /* NOMEM: steals ran dry */
	for (unsigned j = 0; j < HALF; j++)
		sm.maybe[cpu][d][half * HALF + j] = true;
}

static void step(unsigned cpu, uint64_t *seed)
{
	unsigned s = pick(seed, NSPACES), k = pick(seed, NSLOTS);

	switch (pick(seed, 8)) {
	case 0:
	case 1:   /* a load never replaces a mapping: a slot that may hold one is unloaded first */
		if (sm.maybe[cpu][s][k])
			unload_slots(cpu, s, k, 1);
		(void)hat_memload(sm.space[cpu][s], slot_va(k), sm.page[pick(seed, NSHARED)],
				  pick(seed, 4) ? RW : RO);
		sm.maybe[cpu][s][k] = true;
		break;
	case 2:
		unload_slots(cpu, s, k, 1 + pick(seed, 4));
		break;
	case 3:
		hat_chgprot(sm.space[cpu][s], slot_va(k), MM_PAGE_SIZE, RO);
		break;
	case 4:
		hat_pageunload(sm.page[pick(seed, NSHARED)]);
		break;
	case 5:
		fork_half(cpu, seed);
		break;
	case 6:   /* the 2 MiB mapping comes or goes; other CPUs' pageunloads may have taken it */
		if (sm.big_maybe[cpu])
			hat_unload(sm.space[cpu][0], BIG_VA, MM_LARGE_SIZE);
		else
			(void)hat_memload(sm.space[cpu][0], BIG_VA, sm.big, RW | HAT_LARGE);
		sm.big_maybe[cpu] = !sm.big_maybe[cpu];
		break;
	default:   /* any page of it, its first page (whose list holds the 2 MiB mappings) included */
		__atomic_fetch_add(&sm.big_taken,
				   hat_pageunload(sm.big + (pick(seed, 4) == 0 ? 0 : pick(seed, MM_LARGE_PAGES))),
				   __ATOMIC_RELAXED);
		break;
	}
}

/* At a barrier no CPU is in the MM: one checks everything against the model and drains the log. */
static void barrier_check(void)
{
	struct hat_oplog_mark m;
	char text[sizeof(sm.first) - 64];

	hat_oplog_mark(&m);
	sm.checks++;
	if (!hmm_clean(text, sizeof(text)) && sm.dirty++ == 0)
		snprintf(sm.first, sizeof(sm.first), "barrier %u: %s", sm.checks, text);
	hat_oplog_drained(&m);
}

static void *cpu_main(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	uint64_t seed = 0x5eed0000ull + cpu;

	mm_hosted_set_cpu(cpu);
	hat_switch(sm.space[cpu][0]);   /* pageunloads elsewhere send this CPU shootdowns */
	for (unsigned b = 0; b < BARRIERS; b++) {
		for (unsigned i = 0; i < STEPS; i++)
			step(cpu, &seed);
		if (pthread_barrier_wait(&sm.barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
			barrier_check();
		pthread_barrier_wait(&sm.barrier);
	}
	hat_switch(&hat_kas);
	return NULL;
}

/* Shootdowns reach the target "CPUs" as their IPI handlers would run them. */
static void shootdown(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages)
{
	mm_hosted_run_shootdown(cpus, h, gen, va, npages);
}

/* NT CPUs and the pages they share; the log never fills between barriers (STEPS, FAULT_PAGES). */
static void cpus_begin(void)
{
	memset(&sm, 0, sizeof(sm));
	mm_hosted_oplog_hook = NULL;
	mm_hosted_ncpus = NT;
	for (unsigned p = 0; p < NSHARED; p++)
		sm.page[p] = mm_test_page();
	sm.big = page_alloc_large(PG_USER);
	ck_assert_ptr_nonnull(sm.big);
}

/* Runs each_cpu on NT threads as CPUs 0 .. NT - 1, a barrier among them. */
static void cpus_run(void *(*each_cpu)(void *))
{
	pthread_t t[NT];

	mm_check_all();
	pthread_barrier_init(&sm.barrier, NULL, NT);
	for (unsigned i = 0; i < NT; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, each_cpu, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&sm.barrier);
}

/* The model clean at every one of `rounds` barriers; the shared pages freed. */
static void cpus_end(unsigned rounds)
{
	ck_assert_msg(sm.dirty == 0, "%u of %u barriers found violations; the first: %s", sm.dirty,
		      sm.checks, sm.first);
	ck_assert_uint_eq(sm.checks, rounds);
	for (unsigned p = 0; p < NSHARED; p++)
		page_free(sm.page[p]);
	page_free_large(sm.big);
}

static void run_cpus(bool steal)
{
	cpus_begin();
	for (unsigned i = 0; i < NT; i++)
		for (unsigned s = 0; s < NSPACES; s++)
			sm.space[i][s] = hat_create();
	if (steal) {
		hment_set_reserve_amount(0);
		hment_adjust_reserve();
		hment_set_limit(hment_cache_inuse() + 4 * NT);
	}
	mm_tlb_shootdown_hook = shootdown;
	cpus_run(cpu_main);
	mm_tlb_shootdown_hook = NULL;
	hment_set_limit(OBJCACHE_LIMIT_NONE);
	for (unsigned i = 0; i < NT; i++)
		for (unsigned s = 0; s < NSPACES; s++)
			hat_destroy(sm.space[i][s]);
	cpus_end(BARRIERS);
}

/*
 * A process's threads faulting at once: every CPU loads pages into ONE
 * space, each its own slots of the same fresh region (they race to make
 * the same tables: compare-and-swap losses), now and then CPU 0's slot
 * (a lost leaf takes the exclusive way); the model checks every round,
 * whose end unloads the region, tables and all.
 */
enum { FAULT_ROUNDS = 300, FAULT_PAGES = 16 };
#define FAULT_BASE 0x100000000000ull

static struct hat *one_space;

/* Between a table page's allocation and its install: let the other CPUs (threads on 2 cores) get there too. */
static void install_yields(struct hat *h, uint64_t va)
{
	(void)h;
	(void)va;
	sched_yield();
}

static void *fault_main(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	uint64_t seed = 0xfa0170000ull + cpu;

	mm_hosted_set_cpu(cpu);
	for (unsigned r = 0; r < FAULT_ROUNDS; r++) {
		uint64_t base = FAULT_BASE + (uint64_t)(r % 4) * (1ull << 39);   /* a PML4 slot of its own */

		for (unsigned i = 0; i < FAULT_PAGES; i++) {
			unsigned k = i * NT + (pick(&seed, 8) == 0 ? 0 : cpu);

			(void)hat_memload(one_space, base + (uint64_t)k * MM_PAGE_SIZE,
					  sm.page[pick(&seed, NSHARED)], pick(&seed, 4) ? RW : RO);
		}
		if (pthread_barrier_wait(&sm.barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
			barrier_check();
			hat_unload(one_space, base, (uint64_t)FAULT_PAGES * NT * MM_PAGE_SIZE);
		}
		pthread_barrier_wait(&sm.barrier);
	}
	return NULL;
}

START_TEST(test_cpus_fault_into_one_space)
{
	uint64_t lost = segtab_stats.cas_lost;

	cpus_begin();
	one_space = hat_create();
	segtab_race_hook = install_yields;
	cpus_run(fault_main);
	segtab_race_hook = NULL;
	ck_assert_uint_gt(segtab_stats.cas_lost, lost);   /* tables raced for, and lost, by some CPU */
	hat_destroy(one_space);
	cpus_end(FAULT_ROUNDS);
}
END_TEST

START_TEST(test_cpus_share_pages_under_the_model)
{
	uint64_t shootdowns = hat_tlb_counts.shootdowns;

	run_cpus(false);
	ck_assert_uint_gt(hat_tlb_counts.shootdowns, shootdowns);
	ck_assert_uint_gt(sm.big_taken, 0);   /* pageunloads met other CPUs' 2 MiB mappings */
}
END_TEST

START_TEST(test_cpus_steal_under_the_model)
{
	uint64_t steals = hment_stats.steals;

	run_cpus(true);
	ck_assert_uint_gt(hment_stats.steals, steals);
}
END_TEST

Suite *smp_model_suite(void)
{
	Suite *s = suite_create("smp_model");
	TCase *tc = tcase_create("share");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cpus_share_pages_under_the_model);
	tcase_add_test(tc, test_cpus_steal_under_the_model);
	tcase_add_test(tc, test_cpus_fault_into_one_space);
	suite_add_tcase(s, tc);
	return s;
}
