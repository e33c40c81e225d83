/* SPDX-License-Identifier: BSD-2-Clause */
/* One timed pass over the hosted MM's operations: at a working-set size, or with N address spaces sharing one working set. */
#define _GNU_SOURCE
#include "mm_runs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "hat.h"
#include "hosted_platform.h"
#include "objcache.h"

#define VA_A        0x0000100000000000ull
#define VA_LARGE    0x0000200000000000ull
#define SPARSE_N    16u
#define SPARSE_REPS 64u
#define STEAL_PAGES 64u       /* pages with hments to steal from, spread over the working set */
#define STEAL_LOADS 256u
#define LARGE_REPS  32u
#define RW_USER     (HAT_READ | HAT_WRITE | HAT_USER)
#define RO_USER     (HAT_READ | HAT_USER)
#define SLACK_PAGES 8192ul    /* RAM beyond the working set: tables, hments, 2 MiB blocks */

const char *const size_op_name[SZ_NOPS] = {
	[SZ_LOAD_FIRST] = "memload, first mapping",
	[SZ_LOAD_THIRD] = "memload, 3rd mapping (hment)",
	[SZ_PAGESYNC] = "pagesync, page mapped 3 times",
	[SZ_CHGPROT] = "chgprot",
	[SZ_SHARE] = "share into a new space",
	[SZ_UNLOAD] = "unload of a range",
	[SZ_DESTROY_FULL] = "destroy, populated",
	[SZ_PAGEUNLOAD] = "pageunload, per mapping",
	[SZ_DESTROY_SPARSE] = "destroy, 16 pages over 512 GiB",
	[SZ_STEAL] = "steal (hment limit reached)",
	[SZ_LARGE] = "2 MiB alloc + memload",
	[SZ_ARRAY_FIRST] = "memload_array, first mapping",
	[SZ_ARRAY_THIRD] = "memload_array, 3rd mapping (hment)",
	[SZ_DUP] = "hat_dup into a new space",
};

const char *const size_op_unit[SZ_NOPS] = {
	[SZ_LOAD_FIRST] = "page", [SZ_LOAD_THIRD] = "page", [SZ_PAGESYNC] = "page",
	[SZ_CHGPROT] = "page", [SZ_SHARE] = "page", [SZ_UNLOAD] = "page",
	[SZ_DESTROY_FULL] = "page", [SZ_PAGEUNLOAD] = "mapping", [SZ_DESTROY_SPARSE] = "destroy",
	[SZ_STEAL] = "steal", [SZ_LARGE] = "2 MiB", [SZ_ARRAY_FIRST] = "page",
	[SZ_ARRAY_THIRD] = "page", [SZ_DUP] = "page",
};

const char *const spaces_op_name[SP_NOPS] = {
	[SP_SHARE] = "share into one more space",
	[SP_PAGESYNC] = "pagesync, per mapping",
	[SP_UNLOAD] = "unload of a range, shared pages",
	[SP_PAGEUNLOAD] = "pageunload, per mapping",
	[SP_PAGEUNLOAD_GROUP] = "pageunload beside a group's shared first page",
};

const char *const spaces_op_unit[SP_NOPS] = {
	[SP_SHARE] = "page", [SP_PAGESYNC] = "mapping", [SP_UNLOAD] = "page",
	[SP_PAGEUNLOAD] = "mapping", [SP_PAGEUNLOAD_GROUP] = "mapping",
};

static void die(const char *what)
{
	fprintf(stderr, "bench_mm_hosted: %s failed\n", what);
	exit(1);
}

/*
 * A kernel's RAM is resident and mapped with large pages: so is the
 * arena, before anything is timed, or first-touch page faults of the
 * host would be counted as MM work (worst at small sizes). Every op is
 * timed in this thread's CPU time (the MM here never sleeps), so other
 * processes on a busy machine do not count.
 */
static void boot(unsigned long ram_pages)
{
	mm_hosted_boot(MM_TEST_FIRST_FREE + ram_pages * MM_PAGE_SIZE);
	madvise(mm_hosted_ram, mm_hosted_ram_size, MADV_HUGEPAGE);
	madvise(mm_hosted_ram, mm_hosted_ram_size, MADV_POPULATE_WRITE);
}

static struct hat *create(void)
{
	struct hat *h = hat_create();

	if (h == NULL)
		die("hat_create");
	return h;
}

static page_t **alloc_pages(unsigned long n)
{
	page_t **pp = calloc(n, sizeof(*pp));

	if (pp == NULL)
		die("calloc");
	for (unsigned long i = 0; i < n; i++)
		if ((pp[i] = page_alloc(PG_USER)) == NULL)
			die("page_alloc");
	return pp;
}

static void free_pages(page_t **pp, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		page_free(pp[i]);
	free(pp);
}

static void load_all(struct hat *h, page_t **pp, unsigned long n, unsigned attr)
{
	for (unsigned long i = 0; i < n; i++)
		if (hat_memload(h, VA_A + i * MM_PAGE_SIZE, pp[i], attr) != 0)
			die("hat_memload");
}

/* ns per page of mapping every page into h. */
static double time_load(struct hat *h, page_t **pp, unsigned long n)
{
	double t0 = bench_cpu_now();

	load_all(h, pp, n, RW_USER);
	return (bench_cpu_now() - t0) * 1e9 / (double)n;
}

/* ns of pagesync per page. */
static double time_pagesync(page_t **pp, unsigned long n)
{
	double t0 = bench_cpu_now();

	for (unsigned long i = 0; i < n; i++)
		hat_pagesync(pp[i], HAT_SYNC_CLEAR);
	return (bench_cpu_now() - t0) * 1e9 / (double)n;
}

/* ns per mapping of unloading every mapping of every page (`per_page` mappings each). */
static double time_pageunload(page_t **pp, unsigned long n, unsigned per_page)
{
	double t0 = bench_cpu_now();
	unsigned long mappings = 0;

	for (unsigned long i = 0; i < n; i++)
		mappings += hat_pageunload(pp[i]);
	if (mappings != n * per_page)
		die("hat_pageunload (mapping count)");
	return (bench_cpu_now() - t0) * 1e9 / (double)mappings;
}

/* Whether pp is the first page of its 2 MiB group of frames. */
static bool group_first(const page_t *pp)
{
	return pp->p_pagenum % MM_LARGE_PAGES == 0;
}

/*
 * ns per mapping of pageunloading every page of pp but the first of each
 * 2 MiB group, each mapped once (into h[nspaces]), while every other
 * space maps those first pages: the list a pageunload looks at for a
 * covering 2 MiB mapping is that long, though there is none.
 */
static double time_pageunload_group(struct hat **h, unsigned nspaces, page_t **pp, unsigned long n)
{
	unsigned long others = 0;
	double t0;

	for (unsigned long i = 0; i < n; i++) {
		others += !group_first(pp[i]);
		for (unsigned s = 0; s <= nspaces; s++)
			if (group_first(pp[i]) == (s < nspaces) &&
			    hat_memload(h[s], VA_A + i * MM_PAGE_SIZE, pp[i], RW_USER) != 0)
				die("hat_memload");
	}
	if (others == n || others == 0)
		die("pageunload beside a group's first page: the pages hold no group's first page, or only those");
	t0 = bench_cpu_now();
	for (unsigned long i = 0; i < n; i++)
		if (!group_first(pp[i]) && hat_pageunload(pp[i]) != 1)
			die("hat_pageunload (mapping count)");
	return (bench_cpu_now() - t0) * 1e9 / (double)others;
}

/* ns per page of unloading h's range of n pages. */
static double time_unload(struct hat *h, unsigned long n)
{
	double t0 = bench_cpu_now();

	hat_unload(h, VA_A, n * MM_PAGE_SIZE);
	return (bench_cpu_now() - t0) * 1e9 / (double)n;
}

/* ns per destroy of a space holding 16 pages, one per 32 GiB. */
static double time_sparse_destroy(page_t *pp)
{
	double total = 0;

	for (unsigned r = 0; r < SPARSE_REPS; r++) {
		struct hat *h = create();
		double t0;

		for (unsigned i = 0; i < SPARSE_N; i++)
			if (hat_memload(h, ((uint64_t)i << 35) | ((uint64_t)i << 21), pp, RW_USER) != 0)
				die("hat_memload");
		t0 = bench_cpu_now();
		hat_destroy(h);
		total += bench_cpu_now() - t0;
	}
	return total * 1e9 / SPARSE_REPS;
}

/*
 * ns per steal: STEAL_PAGES pages spread over the working set are mapped
 * twice (so each has an hment), the hment cache is capped at what is out
 * and the reserve emptied, then STEAL_LOADS more mappings of them each
 * take another page's hment. The new mappings alternate between two
 * spaces: a steal may not take a mapping in the table being loaded
 * (busy), so with one space the loads would run out of victims once the
 * first two spaces' mappings are gone. *w: the steals that made and the
 * steal-index steps they took.
 */
static double time_steal(page_t **pp, unsigned long n, struct steal_work *w)
{
	struct hat *e = create(), *f = create(), *g[2] = { create(), create() };
	unsigned long stride = n / STEAL_PAGES, before, exam;
	double t0, t;

	for (unsigned i = 0; i < STEAL_PAGES; i++)
		for (struct hat *h = e; h != NULL; h = h == e ? f : NULL)
			if (hat_memload(h, VA_A + i * MM_PAGE_SIZE, pp[i * stride], RW_USER) != 0)
				die("hat_memload");
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	hment_set_limit(hment_cache_inuse());
	before = hment_stats.steals;
	exam = hment_stats.steal_exam;
	t0 = bench_cpu_now();
	for (unsigned i = 0; i < STEAL_LOADS; i++)
		if (hat_memload(g[i & 1], VA_A + i * MM_PAGE_SIZE, pp[(i % STEAL_PAGES) * stride],
				RW_USER) != 0)
			die("hat_memload (stealing)");
	t = bench_cpu_now() - t0;
	w->steals = hment_stats.steals - before;
	w->steps_per_steal = w->steals == 0 ? 0 :
			     (double)(hment_stats.steal_exam - exam) / (double)w->steals;
	hment_set_limit(OBJCACHE_LIMIT_NONE);
	hment_set_reserve_amount(HMENT_RESERVE_DEFAULT);
	hat_destroy(e);
	hat_destroy(f);
	hat_destroy(g[0]);
	hat_destroy(g[1]);
	return w->steals == 0 ? 0 : t * 1e9 / (double)w->steals;
}

/* ns per page_alloc_large + 2 MiB memload (unload and free untimed); 0 when RAM has no free 2 MiB block. */
static double time_large(void)
{
	struct hat *h = create();
	double total = 0;
	unsigned done = 0;

	for (unsigned r = 0; r < LARGE_REPS; r++) {
		double t0 = bench_cpu_now();
		page_t *big = page_alloc_large(PG_USER);

		if (big == NULL)
			break;
		if (hat_memload(h, VA_LARGE, big, RW_USER | HAT_LARGE) != 0)
			die("hat_memload (2 MiB)");
		total += bench_cpu_now() - t0;
		done++;
		hat_unload(h, VA_LARGE, MM_LARGE_SIZE);
		page_free_large(big);
	}
	hat_destroy(h);
	return done == 0 ? 0 : total * 1e9 / done;
}

/* Maps the working set into a, b, c and d (the share), timing each step but b's; d is destroyed populated. */
static void time_mappings(page_t **pp, unsigned long w, double ns[SZ_NOPS])
{
	struct hat *a = create(), *b = create(), *c = create(), *d;
	double t0;

	ns[SZ_LOAD_FIRST] = time_load(a, pp, w);
	load_all(b, pp, w, RW_USER);
	ns[SZ_LOAD_THIRD] = time_load(c, pp, w);
	ns[SZ_PAGESYNC] = time_pagesync(pp, w);
	t0 = bench_cpu_now();
	hat_chgprot(a, VA_A, w * MM_PAGE_SIZE, RO_USER);
	ns[SZ_CHGPROT] = (bench_cpu_now() - t0) * 1e9 / (double)w;
	t0 = bench_cpu_now();
	d = create();
	load_all(d, pp, w, RO_USER);
	ns[SZ_SHARE] = (bench_cpu_now() - t0) * 1e9 / (double)w;
	ns[SZ_UNLOAD] = time_unload(b, w);
	t0 = bench_cpu_now();
	hat_destroy(d);
	ns[SZ_DESTROY_FULL] = (bench_cpu_now() - t0) * 1e9 / (double)w;
	ns[SZ_PAGEUNLOAD] = time_pageunload(pp, w, 2);
	hat_destroy(a);
	hat_destroy(b);
	hat_destroy(c);
}

/* ns per page of mapping every page into h with one hat_memload_array. */
static double time_array(struct hat *h, page_t **pp, unsigned long n)
{
	double t0 = bench_cpu_now();

	if (hat_memload_array(h, VA_A, n * MM_PAGE_SIZE, pp, RW_USER) != 0)
		die("hat_memload_array");
	return (bench_cpu_now() - t0) * 1e9 / (double)n;
}

/* time_mappings() with the range ops: a, b, c by hat_memload_array, d by hat_dup of a. */
static void time_ranges(page_t **pp, unsigned long w, double ns[SZ_NOPS])
{
	struct hat *a = create(), *b = create(), *c = create(), *d;
	double t0;

	ns[SZ_ARRAY_FIRST] = time_array(a, pp, w);
	(void)time_array(b, pp, w);
	ns[SZ_ARRAY_THIRD] = time_array(c, pp, w);
	hat_chgprot(a, VA_A, w * MM_PAGE_SIZE, RO_USER);
	t0 = bench_cpu_now();
	d = create();
	if (hat_dup(d, a, VA_A, w * MM_PAGE_SIZE, RO_USER) != 0)
		die("hat_dup");
	ns[SZ_DUP] = (bench_cpu_now() - t0) * 1e9 / (double)w;
	hat_destroy(d);
	hat_destroy(c);
	hat_destroy(b);
	hat_destroy(a);
}

/* RAM for a size run: the working set, a quarter more (tables, hments, 2 MiB blocks), at most the MM's limit. */
static unsigned long size_ram_pages(unsigned long pages)
{
	unsigned long cap = (MM_RAM_MAX - MM_TEST_FIRST_FREE) / MM_PAGE_SIZE;
	unsigned long want = pages + pages / 4 + SLACK_PAGES;

	return want < cap ? want : cap;
}

void mm_size_run(unsigned long pages, double ns[SZ_NOPS], struct steal_work *steal)
{
	page_t **pp;

	boot(size_ram_pages(pages));
	pp = alloc_pages(pages);
	time_mappings(pp, pages, ns);
	time_ranges(pp, pages, ns);
	ns[SZ_DESTROY_SPARSE] = time_sparse_destroy(pp[0]);
	ns[SZ_STEAL] = time_steal(pp, pages, steal);
	ns[SZ_LARGE] = time_large();
	free_pages(pp, pages);
	mm_hosted_shutdown();
}

/* RAM for the spaces runs: the working set, an hment and a few table pages per mapping, slack. */
static unsigned long spaces_ram_pages(unsigned long pages, unsigned nspaces)
{
	unsigned long mappings = pages * (nspaces + 1ul);

	return pages + mappings * sizeof(struct hment) / MM_PAGE_SIZE * 2 +
	       (nspaces + 1ul) * (pages / 512 + 8) + SLACK_PAGES;
}

void mm_spaces_run(unsigned long pages, unsigned nspaces, double ns[SP_NOPS],
		   struct spaces_extra *extra)
{
	struct hat **h = calloc(nspaces + 1ul, sizeof(*h));
	unsigned long mappings = pages * (nspaces + 1ul);
	page_t **pp;

	if (h == NULL)
		die("calloc");
	boot(spaces_ram_pages(pages, nspaces));
	pp = alloc_pages(pages);
	for (unsigned s = 0; s < nspaces; s++)
		load_all(h[s] = create(), pp, pages, RW_USER);
	h[nspaces] = create();
	ns[SP_SHARE] = time_load(h[nspaces], pp, pages);
	extra->hment_bytes_per_mapping = (double)(hment_cache_inuse() - hment_reserve.hr_count) *
					 (double)sizeof(struct hment) / (double)mappings;
	extra->page_t_bytes_per_mapping = (double)sizeof(page_t) / (nspaces + 1.0);
	ns[SP_PAGESYNC] = time_pagesync(pp, pages) / (nspaces + 1.0);
	ns[SP_UNLOAD] = time_unload(h[nspaces], pages);
	ns[SP_PAGEUNLOAD] = time_pageunload(pp, pages, nspaces);
	ns[SP_PAGEUNLOAD_GROUP] = time_pageunload_group(h, nspaces, pp, pages);
	for (unsigned s = 0; s <= nspaces; s++)
		hat_destroy(h[s]);
	free(h);
	free_pages(pp, pages);
	mm_hosted_shutdown();
}

void mm_churn_run(unsigned long pages, unsigned cycles, double load_ns[], double pageunload_ns[])
{
	struct hat *h[3];
	page_t **pp;

	boot(size_ram_pages(pages));
	pp = alloc_pages(pages);
	for (unsigned c = 0; c < cycles; c++) {
		double t0 = bench_cpu_now();

		for (unsigned s = 0; s < 3; s++)
			if (hat_memload_array(h[s] = create(), VA_A, pages * MM_PAGE_SIZE, pp, RW_USER) != 0)
				die("hat_memload_array");
		load_ns[c] = (bench_cpu_now() - t0) * 1e9 / (3.0 * (double)pages);
		pageunload_ns[c] = time_pageunload(pp, pages, 3);
		for (unsigned s = 0; s < 3; s++)
			hat_destroy(h[s]);
	}
	free_pages(pp, pages);
	mm_hosted_shutdown();
}

unsigned long mm_hment_size(void)
{
	return sizeof(struct hment);
}

unsigned long mm_page_t_size(void)
{
	return sizeof(page_t);
}

/* One CPU of a parallel run: spaces of its own over pages of its own, made, loaded, protected, unloaded and destroyed `cycles` times. */
struct parallel_cpu {
	unsigned cpu, spaces, cycles;
	unsigned long pages;
	page_t **pp;
	pthread_barrier_t *start;
};

static void *parallel_cpu_run(void *arg)
{
	struct parallel_cpu *c = arg;

	mm_hosted_set_cpu(c->cpu);
	pthread_barrier_wait(c->start);
	for (unsigned k = 0; k < c->cycles; k++) {
		struct hat *h[2];

		for (unsigned s = 0; s < c->spaces; s++) {
			h[s] = create();
			load_all(h[s], c->pp, c->pages, RW_USER);
		}
		hat_chgprot(h[0], VA_A, c->pages * MM_PAGE_SIZE, RO_USER);
		hat_unload(h[0], VA_A, c->pages * MM_PAGE_SIZE);
		for (unsigned s = 0; s < c->spaces; s++)
			hat_destroy(h[s]);
	}
	return NULL;
}

double mm_parallel_run(unsigned threads, unsigned spaces, unsigned long pages, unsigned cycles)
{
	struct parallel_cpu cpu[MM_PARALLEL_MAX];
	pthread_t tid[MM_PARALLEL_MAX];
	pthread_barrier_t start;
	double t0;

	if (threads == 0 || threads > MM_PARALLEL_MAX || spaces == 0 || spaces > 2)
		die("mm_parallel_run (threads, spaces)");
	/* the pages, then per CPU its spaces' tables and (with 2) two hments a page */
	boot(threads * pages + (spaces - 1) * threads * pages / 64 + 1024 * threads);
	mm_hosted_ncpus = threads;
	pthread_barrier_init(&start, NULL, threads + 1);
	for (unsigned i = 0; i < threads; i++) {
		cpu[i] = (struct parallel_cpu){ .cpu = i, .spaces = spaces, .cycles = cycles, .pages = pages,
						.pp = alloc_pages(pages), .start = &start };
		if (pthread_create(&tid[i], NULL, parallel_cpu_run, &cpu[i]) != 0)
			die("pthread_create");
	}
	pthread_barrier_wait(&start);
	t0 = bench_now();
	for (unsigned i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	t0 = bench_now() - t0;
	for (unsigned i = 0; i < threads; i++)
		free_pages(cpu[i].pp, pages);
	pthread_barrier_destroy(&start);
	mm_hosted_set_cpu(0);
	return t0 * 1e9 / ((double)threads * pages * cycles);
}
