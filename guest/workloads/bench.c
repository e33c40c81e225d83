/* SPDX-License-Identifier: BSD-2-Clause */
/* bench: TSC-timed HAT operations per page (first mapping, shared mapping, unload, pageunload, fork shape, destroy) and metadata per mapping. */
#include "arch_x86.h"
#include "cmdline.h"
#include "cpu.h"
#include "hat.h"
#include "kernel.h"
#include "workload.h"
#include "util.h"

#define BENCH_VA        0x0000000040000000ull
#define BENCH_MAX_PAGES 8192u
#define BENCH_DEF_PAGES 256u
#define RW (HAT_READ | HAT_WRITE)

static page_t *bench_pages[BENCH_MAX_PAGES];
static unsigned npages;
static uint64_t tsc_khz;

/* Maps every page into h, page i at BENCH_VA + i pages. */
static void map_all(struct hat *h)
{
	for (unsigned i = 0; i < npages; i++)
		wl_memload("bench", h, BENCH_VA + (uint64_t)i * MM_PAGE_SIZE, bench_pages[i], RW);
}

/* Prints `bench: key=N.D`, value given in tenths. */
static void print_tenths(const char *key, uint64_t tenths)
{
	kprintf("bench: %s=%" PRIu64 ".%" PRIu64 "\n", key, (tenths / 10),
		(tenths % 10));
}

/* Prints `bench: <what>_ns=` for `cycles` spent on `count` pages (tenths of ns, integer math). */
static void report(const char *what, uint64_t cycles, uint64_t count)
{
	char key[48];

	ksnprintf(key, sizeof(key), "%s_ns", what);
	print_tenths(key, cycles * 10000000ull / (tsc_khz * count));
}

static int bench_run(void)
{
	uint64_t t0, t1;
	unsigned removed = 0;

	npages = cmdline_get_u32("pages", BENCH_DEF_PAGES);
	tsc_khz = cpu_boot_info()->tsc_khz;
	if (npages < 1 || npages > BENCH_MAX_PAGES)
		cmdline_usage("bench: pages=%u: need 1..%u", npages, BENCH_MAX_PAGES);
	if (tsc_khz == 0)
		panic("bench: the TSC rate is unknown (boot info tsc_khz is 0)");
	for (unsigned i = 0; i < npages; i++)
		bench_pages[i] = wl_page_alloc("bench");
	kprintf("bench: pages=%u tsc_khz=%" PRIu64 "\n", npages, tsc_khz);
	struct hat *a = wl_hat_create("bench"), *b = wl_hat_create("bench");
	wl_checkpoint("bench", "start");

	/* every page's first mapping: embedded, no hment */
	t0 = x86_rdtsc();
	map_all(a);
	t1 = x86_rdtsc();
	report("memload_first", t1 - t0, npages);
	uint64_t tables = a->h_nptp - 1;   /* the user half's tables; the PML4 is the space's own */

	/* the same pages into a second space: each needs hments now */
	t0 = x86_rdtsc();
	map_all(b);
	t1 = x86_rdtsc();
	report("memload_share", t1 - t0, npages);
	wl_checkpoint("bench", "shared");

	t0 = x86_rdtsc();
	wl_unload("bench", b, BENCH_VA, (uint64_t)npages * MM_PAGE_SIZE);
	t1 = x86_rdtsc();
	report("unload", t1 - t0, npages);

	/* pageunload through the mapping lists: two mappings per page */
	map_all(b);
	t0 = x86_rdtsc();
	for (unsigned i = 0; i < npages; i++)
		removed += wl_pageunload("bench", bench_pages[i]);
	t1 = x86_rdtsc();
	if (removed != 2 * npages)
		panic("bench: pageunload removed %u mappings, expected %u", removed, 2 * npages);
	report("pageunload", t1 - t0, removed);
	wl_checkpoint("bench", "pageunloaded");

	/* the fork shape: a new space and a memload of every already-mapped page */
	map_all(a);
	t0 = x86_rdtsc();
	struct hat *c = wl_hat_create("bench");
	map_all(c);
	t1 = x86_rdtsc();
	report("fork", t1 - t0, npages);
	wl_checkpoint("bench", "forked");

	t0 = x86_rdtsc();
	wl_hat_destroy("bench", c);
	t1 = x86_rdtsc();
	report("destroy", t1 - t0, npages);

	kprintf("bench: hment_bytes=%u\n", (unsigned)sizeof(struct hment));
	kprintf("bench: first_mapping_bytes=0\n");
	kprintf("bench: page_t_bytes=%u\n", (unsigned)sizeof(struct page));
	kprintf("bench: table_pages=%" PRIu64 "\n", tables);
	kprintf("bench: table_pages_per_page=%" PRIu64 ".%04" PRIu64 "\n", (tables / npages),
		(tables * 10000 / npages % 10000));
	print_tenths("table_bytes_per_page", tables * MM_PAGE_SIZE * 10 / npages);

	wl_hat_destroy("bench", a);
	wl_hat_destroy("bench", b);
	for (unsigned i = 0; i < npages; i++)
		page_free(bench_pages[i]);
	wl_finish("bench", "done");
	return 0;
}

const struct workload workload_bench = {
	"bench", "TSC-timed HAT operations per page and metadata per mapping", true, bench_run,
	NULL,
};
