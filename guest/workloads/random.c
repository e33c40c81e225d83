/* SPDX-License-Identifier: BSD-2-Clause */
/* random: a seeded mix of every HAT operation over a few address spaces and a pool of pages, cache modes and write-protection included, checked against a shadow model. */
#include "check_every.h"
#include "cmdline.h"
#include "hat.h"
#include "kernel.h"
#include "pte_walk.h"
#include "rand.h"
#include "trap.h"
#include "util.h"
#include "workload.h"

#define RND_MAX_SPACES 8u
#define RND_MAX_PAGES  256u
#define RND_DEF_SPACES 3u
#define RND_DEF_PAGES  32u
#define RND_DEF_OPS    500u
#define RND_REGIONS    4u
#define RND_REGION_SLOTS 16u
#define RND_SLOTS      (RND_REGIONS * RND_REGION_SLOTS)
#define RND_CHECK_EVERY 250u   /* ops between full checks (and checkpoints) */

/*
 * Slot k of every space is the page at region_base[k / 16] + (k % 16)
 * pages. The regions sit under different table pages at every level:
 * the first two share a PD, the third has its own PD, the fourth its own
 * PML4 entry, so tables are made and pruned at each level.
 */
static const uint64_t region_base[RND_REGIONS] = {
	0x0000000040000000ull, 0x0000000040200000ull, 0x0000000080000000ull,
	0x0000008000000000ull,
};

/* Protections the workload uses (memload and chgprot). */
static const unsigned prots[] = {
	HAT_READ, HAT_READ | HAT_WRITE, HAT_READ | HAT_EXEC, HAT_READ | HAT_USER,
	HAT_READ | HAT_WRITE | HAT_USER,
};

/* The read-only ones, for write-protecting. */
static const unsigned read_only_prots[] = {
	HAT_READ, HAT_READ | HAT_EXEC, HAT_READ | HAT_USER,
};

/*
 * Cache modes a page may get, write-back twice as likely. A page keeps
 * its mode in every mapping: x86 forbids aliasing one page with
 * different memory types.
 */
static const unsigned cache_modes[] = { 0, 0, HAT_NOCACHE, HAT_WRITETHRU };

/* The run's state; reset at every start. */
static struct {
	struct rand rng;
	unsigned maxspaces, npages, live;
	struct hat *space[RND_MAX_SPACES];           /* NULL: free slot */
	page_t *page[RND_MAX_PAGES];
	uint16_t map[RND_MAX_SPACES][RND_SLOTS];     /* shadow: page index + 1, 0 for none */
	uint8_t prot[RND_MAX_SPACES][RND_SLOTS];     /* shadow: protection (HAT_PROT_MASK) of that mapping */
	uint16_t cnt[RND_MAX_PAGES];                 /* shadow: mappings of each page */
	uint8_t cache[RND_MAX_PAGES];                /* every mapping's cache mode: 0, NOCACHE, WRITETHRU */
	unsigned write_faults;                       /* writes to write-protected mappings that faulted */
} rs;

static uint64_t slot_va(unsigned k)
{
	return region_base[k / RND_REGION_SLOTS] + (uint64_t)(k % RND_REGION_SLOTS) * MM_PAGE_SIZE;
}

/* What every page holds in its first word, written through the direct map at allocation. */
static uint64_t page_tag(unsigned i)
{
	return 0x524e440000000000ull | ((uint64_t)rs.page[i]->p_pagenum << 12) | i;
}

static unsigned pick(unsigned n)
{
	return (unsigned)rand_below(&rs.rng, n);
}

static unsigned pick_live(void)
{
	unsigned k = pick(rs.live);

	for (unsigned s = 0; s < rs.maxspaces; s++)
		if (rs.space[s] != NULL && k-- == 0)
			return s;
	panic("random: no live space (live count %u)", rs.live);
}

/* Sets the model's slot k of space s to m (page index + 1, or 0), keeping the counts. */
static void set_slot(unsigned s, unsigned k, unsigned m)
{
	if (rs.map[s][k] != 0)
		rs.cnt[rs.map[s][k] - 1]--;
	rs.map[s][k] = (uint16_t)m;
	if (m != 0)
		rs.cnt[m - 1]++;
}

static void check_mapcnt(unsigned i, const char *after)
{
	unsigned got = hat_getmapcnt(rs.page[i]), want = rs.cnt[i];

	if (got != want)
		panic("random: after %s page %u (pfn 0x%x) has %u mappings, the model says %u", after,
		      i, rs.page[i]->p_pagenum, got, want);
}

/* The PTE's cache bits for cache mode `mode`: NOCACHE is PCD|PWT, WRITETHRU is PWT alone. */
static uint64_t cache_bits(unsigned mode)
{
	if (mode & HAT_NOCACHE)
		return PTE_PCD | PTE_PWT;
	return (mode & HAT_WRITETHRU) ? PTE_PWT : 0;
}

/* getpfnum, the PTE's protection and cache bits of slot k of space s against the model. */
static void check_slot(unsigned s, unsigned k)
{
	uint64_t pfn = wl_getpfnum("random", rs.space[s], slot_va(k));
	unsigned m = rs.map[s][k];

	if (m == 0) {
		if (pfn != HAT_PFN_INVALID)
			panic("random: space %u maps 0x%" PRIx64 " to pfn 0x%" PRIx64
			      ", the model says nothing", s,
			      slot_va(k), pfn);
		return;
	}
	if (pfn != rs.page[m - 1]->p_pagenum)
		panic("random: space %u maps 0x%" PRIx64 " to pfn 0x%" PRIx64
		      ", the model says page %u (pfn 0x%x)",
		      s, slot_va(k), pfn, m - 1,
		      rs.page[m - 1]->p_pagenum);
	uint64_t pte = wl_getpte("random", rs.space[s], slot_va(k));
	unsigned a = rs.prot[s][k];
	if (((pte & PTE_W) != 0) != ((a & HAT_WRITE) != 0) ||
	    ((pte & PTE_NX) == 0) != ((a & HAT_EXEC) != 0) ||
	    ((pte & PTE_U) != 0) != ((a & HAT_USER) != 0))
		panic("random: space %u pte 0x%" PRIx64 " at 0x%" PRIx64
		      " does not match attr 0x%x", s,
		      pte, slot_va(k), a);
	if ((pte & (PTE_PCD | PTE_PWT)) != cache_bits(rs.cache[m - 1]))
		panic("random: space %u pte 0x%" PRIx64 " at 0x%" PRIx64
		      " has the wrong cache bits for cache mode 0x%x", s, pte, slot_va(k),
		      rs.cache[m - 1]);
}

static void full_check(void)
{
	for (unsigned s = 0; s < rs.maxspaces; s++)
		if (rs.space[s] != NULL)
			for (unsigned k = 0; k < RND_SLOTS; k++)
				check_slot(s, k);
	for (unsigned i = 0; i < rs.npages; i++)
		check_mapcnt(i, "a full check");
}

/*
 * Forgets the model's mappings in slots [first, first + n) of space s,
 * then checks the pages they named (all cleared first: one page may sit
 * in several of the slots).
 */
static void forget_slots(unsigned s, unsigned first, unsigned n, const char *after)
{
	uint16_t named[RND_SLOTS];

	for (unsigned k = first; k < first + n; k++) {
		named[k] = rs.map[s][k];
		set_slot(s, k, 0);
	}
	for (unsigned k = first; k < first + n; k++)
		if (named[k] != 0)
			check_mapcnt(named[k] - 1, after);
}

static void op_create(void)
{
	for (unsigned s = 0; s < rs.maxspaces; s++) {
		if (rs.space[s] != NULL)
			continue;
		rs.space[s] = wl_hat_create("random");
		rs.live++;
		return;
	}
}

static void op_destroy(void)
{
	unsigned s;

	if (rs.live <= 1)
		return;
	s = pick_live();
	hat_switch(&hat_kas);
	wl_hat_destroy("random", rs.space[s]);
	rs.space[s] = NULL;
	rs.live--;
	forget_slots(s, 0, RND_SLOTS, "hat_destroy");
}

static void op_memload(void)
{
	unsigned s = pick_live(), k = pick(RND_SLOTS), i = pick(rs.npages);
	unsigned a = prots[pick(ARRAY_SIZE(prots))], old = rs.map[s][k];

	wl_memload("random", rs.space[s], slot_va(k), rs.page[i], a | rs.cache[i]);
	set_slot(s, k, i + 1);
	rs.prot[s][k] = (uint8_t)a;
	check_mapcnt(i, "hat_memload");
	if (old != 0 && old != i + 1)
		check_mapcnt(old - 1, "hat_memload over another page");
}

/* A run of slots inside one region: *first and the count. */
static unsigned pick_run(unsigned *first)
{
	unsigned r = pick(RND_REGIONS), start = pick(RND_REGION_SLOTS);
	unsigned n = 1 + pick(RND_REGION_SLOTS - start);

	*first = r * RND_REGION_SLOTS + start;
	return n;
}

static void op_unload(void)
{
	unsigned s = pick_live(), first, n = pick_run(&first);

	wl_unload("random", rs.space[s], slot_va(first), (uint64_t)n * MM_PAGE_SIZE);
	forget_slots(s, first, n, "hat_unload");
	check_slot(s, first);
}

static void op_pageunload(void)
{
	unsigned i = pick(rs.npages), want = rs.cnt[i];
	unsigned got = wl_pageunload("random", rs.page[i]);

	if (got != want)
		panic("random: hat_pageunload of page %u removed %u mappings, the model says %u", i,
		      got, want);
	for (unsigned s = 0; s < rs.maxspaces && rs.cnt[i] != 0; s++)
		for (unsigned k = 0; k < RND_SLOTS; k++)
			if (rs.map[s][k] == i + 1)
				set_slot(s, k, 0);
	check_mapcnt(i, "hat_pageunload");
}

static void op_chgprot(void)
{
	unsigned s = pick_live(), first, n = pick_run(&first), a = prots[pick(ARRAY_SIZE(prots))];

	wl_chgprot("random", rs.space[s], slot_va(first), (uint64_t)n * MM_PAGE_SIZE, a);
	for (unsigned k = first; k < first + n; k++)
		if (rs.map[s][k] != 0)
			rs.prot[s][k] = (uint8_t)a;
	check_slot(s, first + n - 1);
}

/* Finds a mapping of page i in the model, from a random starting point; false when none. */
static bool find_mapping(unsigned i, unsigned *sp, unsigned *kp)
{
	unsigned start = pick(rs.maxspaces * RND_SLOTS);

	if (rs.cnt[i] == 0)
		return false;
	for (unsigned j = 0; j < rs.maxspaces * RND_SLOTS; j++) {
		unsigned x = (start + j) % (rs.maxspaces * RND_SLOTS);
		unsigned s = x / RND_SLOTS, k = x % RND_SLOTS;

		if (rs.space[s] != NULL && rs.map[s][k] == i + 1) {
			*sp = s;
			*kp = k;
			return true;
		}
	}
	return false;
}

/* The CPU's accessed/dirty bits through one mapping of a page come back through pagesync. */
static void op_pagesync(void)
{
	unsigned i = pick(rs.npages), s, k, attr;
	page_t *pp = rs.page[i];

	wl_pagesync("random", pp, HAT_SYNC_CLEAR);
	wl_page_clrattr("random", pp, PG_ATTR_REF | PG_ATTR_MOD);
	if (!find_mapping(i, &s, &k)) {
		if ((attr = wl_pagesync("random", pp, 0)) != 0)
			panic("random: unmapped page %u syncs to attr 0x%x", i, attr);
		return;
	}
	bool write = (rs.prot[s][k] & HAT_WRITE) != 0 && pick(2) == 0;
	volatile uint64_t *p = (volatile uint64_t *)slot_va(k);

	hat_switch(rs.space[s]);
	if (*p != page_tag(i))
		panic("random: space %u reads 0x%" PRIx64 " at 0x%" PRIx64
		      ", expected page %u's tag", s,
		      *p, slot_va(k), i);
	if (write)
		*p = page_tag(i);
	hat_switch(&hat_kas);
	attr = wl_pagesync("random", pp, 0);
	if (!(attr & PG_ATTR_REF) || ((attr & PG_ATTR_MOD) != 0) != write)
		panic("random: page %u after a %s through space %u syncs to attr 0x%x", i,
		      write ? "write" : "read", s, attr);
}

static void op_getpfnum(void)
{
	check_slot(pick_live(), pick(RND_SLOTS));
}

/* A write through slot k of space s (loaded) after it became read-only must fault there. */
static void expect_write_fault(unsigned s, unsigned k, int faulted, struct probe_fault f,
			       const char *cause)
{
	uint64_t va = slot_va(k);

	if (!faulted)
		panic("random: space %u: a write to 0x%" PRIx64 " after chgprot to attr 0x%x went "
		      "through: %s", s, va, rs.prot[s][k], cause);
	if (f.vector != VEC_PF || f.cr2 != va ||
	    (f.error_code & (PF_ERR_PRESENT | PF_ERR_WRITE)) != (PF_ERR_PRESENT | PF_ERR_WRITE))
		panic("random: space %u: write to read-only 0x%" PRIx64 ": vector %" PRIu64
		      " cr2 0x%" PRIx64 " error 0x%" PRIx64, s, va, f.vector, f.cr2, f.error_code);
	rs.write_faults++;
}

/* Pages of the pool whose cache mode is `mode`. */
static unsigned pages_in_mode(unsigned mode)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rs.npages; i++)
		n += rs.cache[i] == mode;
	return n;
}

/*
 * Read-write to read-only: every writable mapping in a run is written
 * through (its writable translation now in the TLB), the run made
 * read-only, and a write to each must fault while reads still work. No
 * checkpoint in between: its VM exit could flush the TLB and hide a
 * missing invalidation.
 */
static void op_write_protect(void)
{
	unsigned s = pick_live(), first, n = pick_run(&first);
	unsigned ro = read_only_prots[pick(ARRAY_SIZE(read_only_prots))];
	bool written[RND_REGION_SLOTS] = { false };
	int faulted[RND_REGION_SLOTS] = { 0 };
	struct probe_fault fault[RND_REGION_SLOTS] = { 0 };
	const char *cause[RND_REGION_SLOTS] = { NULL };

	hat_switch(rs.space[s]);
	wl_hold_checkpoints();
	for (unsigned j = 0; j < n; j++) {
		unsigned k = first + j, m = rs.map[s][k];

		if (m != 0 && (rs.prot[s][k] & HAT_WRITE)) {
			*(volatile uint64_t *)slot_va(k) = page_tag(m - 1);
			written[j] = true;
		}
	}
	wl_chgprot("random", rs.space[s], slot_va(first), (uint64_t)n * MM_PAGE_SIZE, ro);
	for (unsigned j = 0; j < n; j++) {
		unsigned k = first + j, m = rs.map[s][k];

		if (!written[j])
			continue;
		faulted[j] = probe_write64((volatile uint64_t *)slot_va(k), page_tag(m - 1));
		fault[j] = trap_last_probe_fault();
		cause[j] = faulted[j] ? "" : wl_access_cause(slot_va(k), PTE_P | PTE_W);
		if (*(volatile uint64_t *)slot_va(k) != page_tag(m - 1))
			panic("random: space %u reads the wrong data at 0x%" PRIx64
			      " after write-protecting it", s, slot_va(k));
	}
	wl_release_checkpoints("random");
	hat_switch(&hat_kas);
	for (unsigned j = 0; j < n; j++) {
		if (rs.map[s][first + j] == 0)
			continue;
		rs.prot[s][first + j] = (uint8_t)ro;
		if (written[j])
			expect_write_fault(s, first + j, faulted[j], fault[j], cause[j]);
		check_slot(s, first + j);
	}
}

/* Loads one space and reads every mapped slot through the hardware; one unmapped slot must fault. */
static void op_touch(void)
{
	unsigned s = pick_live(), hole = RND_SLOTS;

	hat_switch(rs.space[s]);
	for (unsigned k = 0; k < RND_SLOTS; k++) {
		unsigned m = rs.map[s][k];

		if (m == 0) {
			hole = k;
			continue;
		}
		uint64_t got = *(volatile uint64_t *)slot_va(k);
		if (got != page_tag(m - 1))
			panic("random: space %u reads 0x%" PRIx64 " at 0x%" PRIx64
			      ", expected page %u's tag", s,
			      got, slot_va(k), m - 1);
	}
	if (hole != RND_SLOTS) {
		uint64_t v;

		if (probe_read64((volatile uint64_t *)slot_va(hole), &v) == 0)
			panic("random: space %u reads unmapped 0x%" PRIx64 ": %s", s,
			      slot_va(hole), wl_access_cause(slot_va(hole), PTE_P));
	}
	hat_switch(&hat_kas);
}

/*
 * One random operation; weights out of 1000. hat_destroy scans its whole
 * table tree (~0.3 s when every instruction is emulated), so it is rare.
 */
static void random_op(void)
{
	unsigned r = pick(1000);

	if (r < 320)
		op_memload();
	else if (r < 420)
		op_unload();
	else if (r < 470)
		op_pageunload();
	else if (r < 570)
		op_chgprot();
	else if (r < 640)
		op_pagesync();
	else if (r < 835)
		op_getpfnum();
	else if (r < 885)
		op_write_protect();
	else if (r < 895)
		op_create();
	else if (r < 900)
		op_destroy();
	else
		op_touch();
}

static int random_run(void)
{
	uint64_t ops;

	memset(&rs, 0, sizeof(rs));
	rand_seed(&rs.rng, cmdline_get_u64("seed", 1));
	ops = cmdline_get_u64("ops", RND_DEF_OPS);
	rs.maxspaces = cmdline_get_u32("spaces", RND_DEF_SPACES);
	rs.npages = cmdline_get_u32("pages", RND_DEF_PAGES);
	if (rs.maxspaces < 1 || rs.maxspaces > RND_MAX_SPACES || rs.npages < 1 ||
	    rs.npages > RND_MAX_PAGES)
		cmdline_usage("random: spaces=%u pages=%u: need 1..%u spaces and 1..%u pages", rs.maxspaces,
		      rs.npages, RND_MAX_SPACES, RND_MAX_PAGES);
	kprintf("random: %" PRIu64 " ops, up to %u spaces, %u pages, %u slots each\n",
		ops, rs.maxspaces, rs.npages, RND_SLOTS);
	for (unsigned i = 0; i < rs.npages; i++) {
		rs.page[i] = wl_page_alloc("random");
		rs.cache[i] = (uint8_t)cache_modes[pick(ARRAY_SIZE(cache_modes))];
		*(uint64_t *)page_kva(rs.page[i]) = page_tag(i);
		/* written through the write-back direct map: out to memory for uncached reads */
		__asm__ volatile("clflush %0" : "+m"(*(volatile uint64_t *)page_kva(rs.page[i])));
	}
	op_create();
	op_create();
	wl_checkpoint("random", "start");

	for (uint64_t n = 1; n <= ops; n++) {
		random_op();
		if (n % RND_CHECK_EVERY == 0 || n == ops) {
			full_check();
			wl_checkpoint("random", "ops");
		}
	}

	kprintf("random: %u uncached and %u write-through pages; %u writes to write-protected "
		"mappings faulted\n", pages_in_mode(HAT_NOCACHE), pages_in_mode(HAT_WRITETHRU),
		rs.write_faults);
	hat_switch(&hat_kas);
	for (unsigned s = 0; s < rs.maxspaces; s++) {
		if (rs.space[s] == NULL)
			continue;
		wl_hat_destroy("random", rs.space[s]);
		rs.space[s] = NULL;
		rs.live--;
		forget_slots(s, 0, RND_SLOTS, "the final teardown");
	}
	for (unsigned i = 0; i < rs.npages; i++) {
		check_mapcnt(i, "the final teardown");
		page_free(rs.page[i]);
	}
	wl_finish("random", "done");
	return 0;
}

const struct workload workload_random = {
	"random", "seeded mix of every HAT operation checked against a shadow model", true,
	random_run, NULL,
};
