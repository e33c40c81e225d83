/* SPDX-License-Identifier: BSD-2-Clause */
/* share: many address spaces mapping the same pages as after fork; data written through one is read through another; teardown in random order. */
#include "cmdline.h"
#include "hat.h"
#include "kernel.h"
#include "pte_walk.h"
#include "rand.h"
#include "stats.h"
#include "trap.h"
#include "workload.h"
#include "util.h"

/*
 * Every space maps page i at SHARE_VA + i pages, from 32 pages below a
 * 1 GiB boundary: range loads and dups cross tables at two levels.
 */
#define SHARE_VA        (0x0000000040000000ull - 32 * MM_PAGE_SIZE)
#define SHARE_MAX_SPACES 64u
#define SHARE_MAX_PAGES  1024u
#define SHARE_DEF_SPACES 12u   /* above HMENT_SHORT_LIST: each page's list joins the hash, and leaves it in teardown */
#define SHARE_DEF_PAGES  64u
#define SHARE_UNLOAD_MAX 16u   /* pages in one teardown hat_unload */
#define RW (HAT_READ | HAT_WRITE)

/* The run's state; reset at every start (the `all` workload runs it after others). */
static struct {
	struct rand rng;
	unsigned nspaces, npages, live;
	struct hat *space[SHARE_MAX_SPACES];                 /* NULL once destroyed */
	page_t *page[SHARE_MAX_PAGES];
	bool cow[SHARE_MAX_PAGES];                           /* read-only everywhere after fork */
	uint64_t word[SHARE_MAX_PAGES];                      /* expected value of the page's data word */
	uint8_t mapped[SHARE_MAX_SPACES][SHARE_MAX_PAGES];   /* shadow: space s maps page i */
} sh;

static uint64_t page_va(unsigned i)
{
	return SHARE_VA + (uint64_t)i * MM_PAGE_SIZE;
}

/* The word of page i that the workload writes and reads (a different offset per page). */
static volatile uint64_t *data_word(unsigned i)
{
	return (volatile uint64_t *)(page_va(i) + (i % 512u) * 8u);
}

static uint64_t tag(unsigned i, uint64_t gen)
{
	return 0x5348000000000000ull | (gen << 24) | i;
}

/* Mappings of page i the shadow model expects (every live space that maps it). */
static unsigned shadow_count(unsigned i)
{
	unsigned n = 0;

	for (unsigned s = 0; s < sh.nspaces; s++)
		n += sh.space[s] != NULL && sh.mapped[s][i];
	return n;
}

static void check_mapcnt(unsigned i, const char *when)
{
	unsigned got = hat_getmapcnt(sh.page[i]), want = shadow_count(i);

	if (got != want)
		panic("share: %s: page %u (pfn 0x%x) has %u mappings, the model says %u", when, i,
		      sh.page[i]->p_pagenum, got, want);
}

static unsigned random_live_space(void)
{
	unsigned k = (unsigned)rand_below(&sh.rng, sh.live);

	for (unsigned s = 0; s < sh.nspaces; s++)
		if (sh.space[s] != NULL && k-- == 0)
			return s;
	panic("share: no live space (live count %u)", sh.live);
}

/* The parent: every page mapped RW, its data word written through the mapping. */
static void make_parent(void)
{
	struct hat *p = wl_hat_create("share");

	sh.space[0] = p;
	sh.live = 1;
	for (unsigned i = 0; i < sh.npages; i++) {
		sh.page[i] = wl_page_alloc("share");
		sh.cow[i] = rand_below(&sh.rng, 2) == 0;
		sh.mapped[0][i] = 1;
	}
	wl_memload_array("share", p, SHARE_VA, (uint64_t)sh.npages * MM_PAGE_SIZE, sh.page, RW);
	stats_sample();
	hat_switch(p);
	for (unsigned i = 0; i < sh.npages; i++) {
		sh.word[i] = tag(i, 0);
		*data_word(i) = sh.word[i];
	}
	hat_switch(&hat_kas);
}

/*
 * fork by hat_dup: the child gets the parent's range read-only in one
 * call, then write permission back where the parent has it (the pages
 * that are not copy-on-write).
 */
static void fork_dup(struct hat *p, struct hat *c)
{
	wl_dup("share", c, p, SHARE_VA, (uint64_t)sh.npages * MM_PAGE_SIZE, HAT_READ);
	stats_add(&stats.maps, sh.npages);   /* the parent maps every page: so does the child now */
	for (unsigned i = 0; i < sh.npages; i++)
		if (!sh.cow[i])
			wl_chgprot("share", c, page_va(i), MM_PAGE_SIZE, RW);
}

/*
 * fork: the child copies what an earlier space maps, PTE by PTE (frame
 * and write permission), or by fork_dup(); copy-on-write pages first
 * lose write permission in the parent, as fork does.
 */
static void fork_child(unsigned child)
{
	unsigned parent = (unsigned)rand_below(&sh.rng, child);
	struct hat *p = sh.space[parent], *c = wl_hat_create("share");
	bool dup = child % 2 == 0;   /* every other child by hat_dup, the others page by page */

	sh.space[child] = c;
	sh.live++;
	for (unsigned i = 0; i < sh.npages; i++) {
		uint64_t pte;

		if (sh.cow[i] && parent == 0 && child == 1) {
			wl_chgprot("share", p, page_va(i), MM_PAGE_SIZE, HAT_READ);
		}
		pte = wl_getpte("share", p, page_va(i));
		if (!(pte & PTE_P) || pte_pfn(pte) != sh.page[i]->p_pagenum)
			panic("share: space %u maps 0x%" PRIx64 " to pte 0x%" PRIx64
			      ", expected pfn 0x%x", parent,
			      page_va(i), pte,
			      sh.page[i]->p_pagenum);
		if (((pte & PTE_W) != 0) == sh.cow[i])
			panic("share: page %u is %s in space %u", i,
			      sh.cow[i] ? "writable though copy-on-write" : "read-only though shared",
			      parent);
		if (!dup)
			wl_memload("share", c, page_va(i), page_from_pfn(pte_pfn(pte)),
				   (pte & PTE_W) ? RW : HAT_READ);
		sh.mapped[child][i] = 1;
	}
	if (dup)
		fork_dup(p, c);
	stats_sample();
}

/*
 * A sparse fork: parent pages far apart (two in one 4 KiB table, one in
 * the next table, one in another 1 GiB, the last page of the 512 GiB
 * range), writable, one write-through, duplicated in one hat_dup of the
 * whole range: the walk must skip each hole at its level and copy every
 * leaf read-only, its frame and memory type kept. A checkpoint right
 * after gives the host's check (HOP_DUP's count, MD_ATTR, PT_MEMTYPE)
 * the first word.
 */
#define SPARSE_VA   0x0000008000000000ull   /* PML4 entry 1, away from SHARE_VA */
#define SPARSE_SPAN (1ull << 39)

static const uint64_t sparse_off[] = {
	0, MM_PAGE_SIZE, MM_LARGE_SIZE + 3 * MM_PAGE_SIZE, (1ull << 30) + 5 * MM_PAGE_SIZE,
	SPARSE_SPAN - MM_PAGE_SIZE,
};
#define SPARSE_N (sizeof(sparse_off) / sizeof(sparse_off[0]))
#define SPARSE_WRITETHRU 2u   /* the index of the write-through page */

static void check_sparse_copy(struct hat *p, struct hat *c)
{
	for (unsigned k = 0; k < SPARSE_N; k++) {
		uint64_t va = SPARSE_VA + sparse_off[k];
		uint64_t want = wl_getpte("share", p, va), got = wl_getpte("share", c, va);

		if (!(got & PTE_P) || pte_pfn(got) != pte_pfn(want) || (got & PTE_W) ||
		    (got & (PTE_PWT | PTE_PCD)) != (want & (PTE_PWT | PTE_PCD)))
			panic("share: sparse fork: the child maps 0x%" PRIx64 " as pte 0x%" PRIx64
			      ", the parent as 0x%" PRIx64 ": same frame and memory type, read-only expected",
			      va, got, want);
	}
}

static void fork_sparse(void)
{
	struct hat *p = wl_hat_create("share"), *c = wl_hat_create("share");
	page_t *pg[SPARSE_N];

	for (unsigned k = 0; k < SPARSE_N; k++) {
		pg[k] = wl_page_alloc("share");
		wl_memload("share", p, SPARSE_VA + sparse_off[k], pg[k],
			   k == SPARSE_WRITETHRU ? RW | HAT_WRITETHRU : RW);
	}
	wl_dup("share", c, p, SPARSE_VA, SPARSE_SPAN, HAT_READ);
	stats_add(&stats.maps, SPARSE_N);
	wl_checkpoint("share", "sparse-fork");
	check_sparse_copy(p, c);
	wl_hat_destroy("share", c);
	wl_hat_destroy("share", p);
	for (unsigned k = 0; k < SPARSE_N; k++)
		page_free(pg[k]);
}

/* Every live space reads every page it maps; each must see the latest data word. */
static void read_everywhere(const char *when)
{
	for (unsigned s = 0; s < sh.nspaces; s++) {
		if (sh.space[s] == NULL)
			continue;
		hat_switch(sh.space[s]);
		for (unsigned i = 0; i < sh.npages; i++) {
			if (!sh.mapped[s][i])
				continue;
			uint64_t got = *data_word(i);
			if (got != sh.word[i])
				panic("share: %s: space %u reads 0x%" PRIx64
				      " from page %u, expected 0x%" PRIx64,
				      when, s, got, i,
				      sh.word[i]);
		}
	}
	hat_switch(&hat_kas);
}

/*
 * One round: each page is written through a random space (a write to a
 * copy-on-write page must fault instead) and read back through another.
 */
static void write_round(uint64_t gen)
{
	for (unsigned i = 0; i < sh.npages; i++) {
		unsigned w = random_live_space(), r = random_live_space();
		volatile uint64_t *p = data_word(i);

		hat_switch(sh.space[w]);
		if (sh.cow[i]) {
			if (probe_write64(p, ~sh.word[i]) == 0)
				panic("share: write to copy-on-write page %u through space %u did not fault",
				      i, w);
			struct probe_fault f = trap_last_probe_fault();
			if (f.vector != VEC_PF || f.cr2 != (uint64_t)(uintptr_t)p ||
			    (f.error_code & (PF_ERR_PRESENT | PF_ERR_WRITE)) !=
				    (PF_ERR_PRESENT | PF_ERR_WRITE))
				panic("share: write to read-only page %u: vector %" PRIu64
				      " cr2 0x%" PRIx64 " error 0x%" PRIx64,
				      i, f.vector, f.cr2,
				      f.error_code);
		} else {
			sh.word[i] = tag(i, gen);
			*p = sh.word[i];
		}
		hat_switch(sh.space[r]);
		if (*p != sh.word[i])
			panic("share: page %u written through space %u reads 0x%" PRIx64
			      " through space %u, "
			      "expected 0x%" PRIx64, i, w, *p, r,
			      sh.word[i]);
	}
	hat_switch(&hat_kas);
}

/* Destroys space s (never loaded here: the kernel's space is). */
static void teardown_destroy(unsigned s)
{
	wl_hat_destroy("share", sh.space[s]);
	sh.space[s] = NULL;
	sh.live--;
	for (unsigned i = 0; i < sh.npages; i++)
		if (sh.mapped[s][i]) {
			sh.mapped[s][i] = 0;
			check_mapcnt(i, "after hat_destroy");   /* a space maps each page once */
		}
}

/* Unloads a random run of pages from space s; they must be gone from its tables. */
static void teardown_unload(unsigned s)
{
	unsigned first = (unsigned)rand_below(&sh.rng, sh.npages);
	unsigned max = sh.npages - first < SHARE_UNLOAD_MAX ? sh.npages - first : SHARE_UNLOAD_MAX;
	unsigned n = 1 + (unsigned)rand_below(&sh.rng, max);

	wl_unload("share", sh.space[s], page_va(first), (uint64_t)n * MM_PAGE_SIZE);
	for (unsigned i = first; i < first + n; i++) {
		sh.mapped[s][i] = 0;
		check_mapcnt(i, "after hat_unload");
	}
	if (wl_getpfnum("share", sh.space[s], page_va(first + n - 1)) != HAT_PFN_INVALID)
		panic("share: space %u still maps 0x%" PRIx64 " after hat_unload", s,
		      page_va(first + n - 1));
}

/* Unloads every mapping of a random page: as many as the model says. */
static void teardown_pageunload(void)
{
	unsigned i = (unsigned)rand_below(&sh.rng, sh.npages), want = shadow_count(i);
	unsigned got = wl_pageunload("share", sh.page[i]);

	if (got != want)
		panic("share: hat_pageunload of page %u removed %u mappings, the model says %u", i,
		      got, want);
	for (unsigned s = 0; s < sh.nspaces; s++)
		sh.mapped[s][i] = 0;
	check_mapcnt(i, "after hat_pageunload");
}

/* Every page's count, then each live space's remaining data and unmapped holes. */
static void teardown_check(void)
{
	for (unsigned i = 0; i < sh.npages; i++)
		check_mapcnt(i, "teardown check");
	read_everywhere("teardown");
	if (sh.live == 0)
		return;
	/* one unmapped page of one space must fault on access (no stale TLB entry) */
	unsigned s = random_live_space();
	for (unsigned i = 0; i < sh.npages; i++) {
		uint64_t v;

		if (sh.mapped[s][i])
			continue;
		hat_switch(sh.space[s]);
		int faulted = probe_read64(data_word(i), &v);
		const char *cause = faulted ? "" : wl_access_cause(page_va(i), PTE_P);
		hat_switch(&hat_kas);
		if (!faulted)
			panic("share: space %u reads page %u at 0x%" PRIx64
			      " after it was unmapped: %s", s, i, page_va(i), cause);
		break;
	}
}

/* Random teardown: destroy, hat_unload ranges and pageunload mixed, until no space is left. */
static void teardown(void)
{
	unsigned step = 0;

	while (sh.live > 0) {
		unsigned op = (unsigned)rand_below(&sh.rng, 10);

		if (op < 3)
			teardown_destroy(random_live_space());
		else if (op < 7)
			teardown_unload(random_live_space());
		else
			teardown_pageunload();
		if (++step % 8 == 0)
			teardown_check();
		if (step % 16 == 0)
			wl_checkpoint("share", "teardown");
	}
	for (unsigned i = 0; i < sh.npages; i++) {
		if (hat_getmapcnt(sh.page[i]) != 0)
			panic("share: page %u still has %u mappings with every space gone", i,
			      hat_getmapcnt(sh.page[i]));
		page_free(sh.page[i]);
	}
}

static int share_run(void)
{
	memset(&sh, 0, sizeof(sh));
	rand_seed(&sh.rng, cmdline_get_u64("seed", 1));
	sh.nspaces = cmdline_get_u32("spaces", SHARE_DEF_SPACES);
	sh.npages = cmdline_get_u32("pages", SHARE_DEF_PAGES);
	if (sh.nspaces < 2 || sh.nspaces > SHARE_MAX_SPACES || sh.npages < 1 ||
	    sh.npages > SHARE_MAX_PAGES)
		cmdline_usage("share: spaces=%u pages=%u: need 2..%u spaces and 1..%u pages", sh.nspaces,
		      sh.npages, SHARE_MAX_SPACES, SHARE_MAX_PAGES);
	kprintf("share: %u spaces, %u pages\n", sh.nspaces, sh.npages);

	make_parent();
	wl_checkpoint("share", "parent");   /* the host's model follows the log from here */
	fork_sparse();
	for (unsigned c = 1; c < sh.nspaces; c++) {
		fork_child(c);
		if (c % 4 == 0)
			wl_checkpoint("share", "forking");
	}
	for (unsigned i = 0; i < sh.npages; i++)
		if (hat_getmapcnt(sh.page[i]) != sh.nspaces)
			panic("share: after fork page %u has %u mappings, expected %u", i,
			      hat_getmapcnt(sh.page[i]), sh.nspaces);
	wl_checkpoint("share", "forked");

	read_everywhere("after fork");
	write_round(1);
	write_round(2);
	read_everywhere("after writes");
	wl_checkpoint("share", "verified");

	teardown();
	wl_finish("share", "done");
	return 0;
}

const struct workload workload_share = {
	"share", "address spaces sharing pages as after fork; cross-space data; random teardown",
	true, share_run, NULL,
};
