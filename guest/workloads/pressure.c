/* SPDX-License-Identifier: BSD-2-Clause */
/* pressure: no hment reserve and an hment cap, so sharing steals mappings; then a page cap, so memload fails; the HAT must stay consistent. */
#include "cmdline.h"
#include "hat.h"
#include "kernel.h"
#include "objcache.h"
#include "rand.h"
#include "stats.h"
#include "util.h"
#include "workload.h"

#define PR_MAX_SPACES 8u
#define PR_SLOTS      64u       /* two tables of 32 slots per space */
#define PR_MAX_PAGES  PR_SLOTS  /* a sweep maps page i at slot i */
#define PR_DEF_SPACES 3u
#define PR_DEF_PAGES  32u
#define PR_DEF_OPS    32u       /* random operations after the sweeps */
#define PR_RECONCILE_EVERY 32u
#define PR_FAR_REGIONS 8u       /* phase 2: regions each needing a PDPT, a PD and a PT */
#define PR_FAR_PAGES  3u        /* pages the page cap leaves for tables */
#define RW (HAT_READ | HAT_WRITE)

/* The run's state; reset at every start. */
static struct {
	struct rand rng;
	unsigned nspaces, npages;
	struct hat *space[PR_MAX_SPACES];
	page_t *page[PR_MAX_PAGES];
	uint16_t map[PR_MAX_SPACES][PR_SLOTS];   /* shadow: page index + 1, 0 for none */
	uint64_t stolen;                         /* mappings the model found gone */
	uint64_t steals0;                        /* hment_stats.steals at the start */
	uint64_t limit;                          /* the hment cap */
} pr;

static uint64_t slot_va(unsigned k)
{
	return 0x0000000040000000ull + (uint64_t)(k / 32u) * MM_LARGE_SIZE +
	       (uint64_t)(k % 32u) * MM_PAGE_SIZE;
}

/* Phase 2's regions: each under its own PML4 entry. */
static uint64_t far_va(unsigned r)
{
	return 0x0000010000000000ull * (r + 1);
}

static uint64_t page_tag(unsigned i)
{
	return 0x5052450000000000ull | ((uint64_t)pr.page[i]->p_pagenum << 12) | i;
}

static unsigned pick(unsigned n)
{
	return (unsigned)rand_below(&pr.rng, n);
}

static unsigned shadow_count(unsigned i)
{
	unsigned n = 0;

	for (unsigned s = 0; s < pr.nspaces; s++)
		for (unsigned k = 0; k < PR_SLOTS; k++)
			n += pr.map[s][k] == i + 1;
	return n;
}

static void check_cap(const char *after)
{
	if (hment_cache_inuse() > pr.limit)
		panic("pressure: after %s %" PRIu64 " hments are out, the cap is %" PRIu64, after,
		      hment_cache_inuse(), pr.limit);
}

/*
 * Brings the model in line with stealing: a mapping the model has is
 * either still there, same frame, or gone (stolen); nothing else may
 * appear. Then every page's mapping count must match and every mapping
 * left must reach the right data through the hardware.
 */
static void reconcile(const char *when)
{
	for (unsigned s = 0; s < pr.nspaces; s++) {
		for (unsigned k = 0; k < PR_SLOTS; k++) {
			uint64_t pfn = wl_getpfnum("pressure", pr.space[s], slot_va(k));
			unsigned m = pr.map[s][k];

			if (m != 0 && pfn == pr.page[m - 1]->p_pagenum)
				continue;
			if (pfn != HAT_PFN_INVALID)
				panic("pressure: %s: space %u maps 0x%" PRIx64
				      " to pfn 0x%" PRIx64 ", the model says %s%u",
				      when, s, slot_va(k),
				      pfn, m ? "page " : "nothing ", m ? m - 1 : 0);
			if (m != 0) {
				pr.map[s][k] = 0;
				pr.stolen++;
			}
		}
	}
	for (unsigned i = 0; i < pr.npages; i++) {
		unsigned got = hat_getmapcnt(pr.page[i]), want = shadow_count(i);

		if (got != want)
			panic("pressure: %s: page %u has %u mappings, the model says %u", when, i, got,
			      want);
	}
	for (unsigned s = 0; s < pr.nspaces; s++) {
		hat_switch(pr.space[s]);
		for (unsigned k = 0; k < PR_SLOTS; k++) {
			unsigned m = pr.map[s][k];

			if (m != 0 && *(volatile uint64_t *)slot_va(k) != page_tag(m - 1))
				panic("pressure: %s: space %u reads the wrong data at 0x%" PRIx64,
				      when, s, slot_va(k));
		}
	}
	hat_switch(&hat_kas);
	if (pr.stolen > hment_stats.steals - pr.steals0)
		panic("pressure: the model lost %" PRIu64 " mappings but only %" PRIu64
		      " were stolen",
		      pr.stolen,
		      (hment_stats.steals - pr.steals0));
}

/* A memload under the cap: it may steal others' mappings but must itself stick. */
static void memload_checked(unsigned s, unsigned k, unsigned i)
{
	wl_memload("pressure", pr.space[s], slot_va(k), pr.page[i], pick(2) ? RW : HAT_READ);
	pr.map[s][k] = (uint16_t)(i + 1);
	if (wl_getpfnum("pressure", pr.space[s], slot_va(k)) != pr.page[i]->p_pagenum)
		panic("pressure: the mapping just made at 0x%" PRIx64 " in space %u is not there",
		      slot_va(k), s);
	check_cap("a memload");
}

static void op_memload(void)
{
	unsigned s = pick(pr.nspaces), k = pick(PR_SLOTS);

	memload_checked(s, k, pick(pr.npages));
}

/*
 * Maps page i at slot i of space s, for every page in ascending pfn
 * order. hment_steal() scans page_t's upward from where it last stole,
 * wrapping around through all of RAM; going the same way keeps its
 * scans short.
 */
static void sweep(unsigned s)
{
	for (unsigned i = 0; i < pr.npages; i++)
		memload_checked(s, i, i);
}

static void op_unload(void)
{
	unsigned s = pick(pr.nspaces), first = pick(PR_SLOTS), n = 1 + pick(8);

	if (n > PR_SLOTS - first)
		n = PR_SLOTS - first;
	/* slots 31 and 32 lie in different tables 2 MiB apart: unload per slot */
	for (unsigned k = first; k < first + n; k++) {
		wl_unload("pressure", pr.space[s], slot_va(k), MM_PAGE_SIZE);
		pr.map[s][k] = 0;
	}
}

/* pageunload removes what the model has, minus what was stolen: never more. */
static void op_pageunload(void)
{
	unsigned i = pick(pr.npages), most = shadow_count(i);
	unsigned got = wl_pageunload("pressure", pr.page[i]);

	if (got > most)
		panic("pressure: hat_pageunload of page %u removed %u mappings, the model has %u", i,
		      got, most);
	pr.stolen += most - got;
	for (unsigned s = 0; s < pr.nspaces; s++)
		for (unsigned k = 0; k < PR_SLOTS; k++)
			if (pr.map[s][k] == i + 1)
				pr.map[s][k] = 0;
}

/*
 * Phase 1: share pages among the spaces with no reserve and a small
 * hment cap: a sweep per space (as after fork), then random operations.
 */
static void hment_phase(uint64_t ops, uint64_t cap)
{

	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	pr.limit = hment_cache_inuse() + cap;
	hment_set_limit(pr.limit);
	kprintf("pressure: reserve 0, at most %" PRIu64 " hments out\n", pr.limit);
	wl_checkpoint("pressure", "capped");
	for (unsigned s = 0; s < pr.nspaces; s++)
		sweep(s);
	reconcile("sweeps");
	wl_checkpoint("pressure", "swept");
	for (uint64_t n = 1; n <= ops; n++) {
		unsigned r = pick(100);

		if (r < 75)
			op_memload();
		else if (r < 90)
			op_unload();
		else
			op_pageunload();
		if (n % PR_RECONCILE_EVERY == 0 || n == ops) {
			reconcile("stealing");
			wl_checkpoint("pressure", "stealing");
		}
	}
	if (hment_stats.steals == pr.steals0)
		panic("pressure: sweeps and %" PRIu64 " operations under a cap of %" PRIu64
		      " hments stole nothing",
		      ops, cap);
	kprintf("pressure: %" PRIu64 " steals, the model saw %" PRIu64 " mappings vanish\n",
		(hment_stats.steals - pr.steals0), pr.stolen);
}

/*
 * Phase 2: a page cap with room for only a few table pages. memloads
 * into far regions fail (-1) once tables run out, leave nothing mapped
 * there, and the half-built tables go away with an unload.
 */
static void page_phase(void)
{
	struct hat *h = pr.space[0];
	uint64_t nptp0 = h->h_nptp;
	unsigned ok = 0, failed = 0;
	page_t *pp = pr.page[0];

	page_set_limit(page_ninuse() + PR_FAR_PAGES);
	for (unsigned r = 0; r < PR_FAR_REGIONS; r++) {
		int rc = wl_memload_try("pressure", h, far_va(r), pp, RW);

		if (rc == 0) {
			ok++;
			continue;
		}
		failed++;
		if (wl_getpfnum("pressure", h, far_va(r)) != HAT_PFN_INVALID)
			panic("pressure: failed memload left 0x%" PRIx64 " mapped",
			      far_va(r));
	}
	/* may fail under the cap; must not break anything */
	struct hat *extra = wl_hat_try_create("pressure");
	wl_checkpoint("pressure", "page-capped");
	if (extra != NULL)
		wl_hat_destroy("pressure", extra);
	page_set_limit(PAGE_LIMIT_NONE);
	if (failed == 0)
		panic("pressure: %u memloads with room for %u table pages never failed",
		      PR_FAR_REGIONS, PR_FAR_PAGES);
	for (unsigned r = 0; r < PR_FAR_REGIONS; r++)
		wl_unload("pressure", h, far_va(r), MM_PAGE_SIZE);
	if (h->h_nptp != nptp0)
		panic("pressure: space 0 owns %" PRIu64
		      " table pages after unloading the far regions, "
		      "%" PRIu64 " before", h->h_nptp, nptp0);
	kprintf("pressure: page cap: %u memloads succeeded, %u failed cleanly\n", ok, failed);
	/* with the cap lifted the same memloads work */
	for (unsigned r = 0; r < PR_FAR_REGIONS; r++)
		if (wl_memload_try("pressure", h, far_va(r), pp, RW) != 0)
			panic("pressure: memload of 0x%" PRIx64 " fails with the cap lifted",
			      far_va(r));
	for (unsigned r = 0; r < PR_FAR_REGIONS; r++)
		wl_unload("pressure", h, far_va(r), MM_PAGE_SIZE);
}

static int pressure_run(void)
{
	uint32_t saved_amount = hment_reserve.hr_amount;
	uint64_t ops, cap;

	memset(&pr, 0, sizeof(pr));
	pr.steals0 = hment_stats.steals;
	rand_seed(&pr.rng, cmdline_get_u64("seed", 1));
	ops = cmdline_get_u64("ops", PR_DEF_OPS);
	pr.nspaces = cmdline_get_u32("spaces", PR_DEF_SPACES);
	pr.npages = cmdline_get_u32("pages", PR_DEF_PAGES);
	/* hments out beyond those already out: half of what the sweeps need (one per mapping) */
	cap = (uint64_t)pr.npages * pr.nspaces / 2;
	cap = cmdline_get_u64("hments", cap < 2 ? 2 : cap);
	if (pr.nspaces < 2 || pr.nspaces > PR_MAX_SPACES || pr.npages < 1 ||
	    pr.npages > PR_MAX_PAGES || cap < 2)
		cmdline_usage("pressure: spaces=%u pages=%u hments=%" PRIu64 " ops=%" PRIu64
		      ": need 2..%u spaces, 1..%u "
		      "pages, hments >= 2", pr.nspaces, pr.npages,
		      cap, ops, PR_MAX_SPACES, PR_MAX_PAGES);
	kprintf("pressure: %u spaces, %u pages, %" PRIu64 " ops\n", pr.nspaces, pr.npages,
		ops);
	for (unsigned i = 0; i < pr.npages; i++) {
		page_t *pp = wl_page_alloc("pressure");
		unsigned j = i;

		for (; j > 0 && pr.page[j - 1]->p_pagenum > pp->p_pagenum; j--)
			pr.page[j] = pr.page[j - 1];   /* keep them in pfn order for sweep() */
		pr.page[j] = pp;
	}
	for (unsigned i = 0; i < pr.npages; i++)
		*(uint64_t *)page_kva(pr.page[i]) = page_tag(i);
	for (unsigned s = 0; s < pr.nspaces; s++)
		pr.space[s] = wl_hat_create("pressure");

	hment_phase(ops, cap);
	hment_set_limit(OBJCACHE_LIMIT_NONE);
	hment_set_reserve_amount(saved_amount);
	hment_reserve_fill(0);
	reconcile("cap lifted");
	wl_checkpoint("pressure", "uncapped");

	page_phase();
	reconcile("page cap lifted");

	hat_switch(&hat_kas);
	for (unsigned s = 0; s < pr.nspaces; s++) {
		wl_hat_destroy("pressure", pr.space[s]);
		pr.space[s] = NULL;
	}
	memset(pr.map, 0, sizeof(pr.map));
	for (unsigned i = 0; i < pr.npages; i++) {
		if (hat_getmapcnt(pr.page[i]) != 0)
			panic("pressure: page %u still mapped with every space gone", i);
		page_free(pr.page[i]);
	}
	wl_finish("pressure", "done");
	return 0;
}

const struct workload workload_pressure = {
	"pressure", "no hment reserve, capped hments and pages: stealing and failed memloads", true,
	pressure_run, NULL,
};
