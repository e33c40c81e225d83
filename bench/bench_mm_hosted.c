/* SPDX-License-Identifier: BSD-2-Clause */
/* Hosted MM scaling: ns per operation at three RAM sizes (working set RAM/8), natively timed, beside Linux's same shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_util.h"
#include "hat.h"
#include "hosted_platform.h"
#include "linux_shapes.h"

#define RUNS      5
#define NSIZES    3
#define VA_A      0x0000100000000000ull
#define VA_LARGE  0x0000200000000000ull
#define SPARSE_N  16u
#define RW_USER   (HAT_READ | HAT_WRITE | HAT_USER)

enum op {
	OP_LOAD_FIRST, OP_LOAD_THIRD, OP_CHGPROT, OP_UNLOAD, OP_PAGEUNLOAD, OP_DESTROY, OP_LARGE,
	NOPS
};

static const char *const op_name[NOPS] = {
	"memload, first mapping (per page)",
	"memload, 3rd mapping (per page)",
	"chgprot (per page)",
	"unload of a range (per page)",
	"pageunload (per mapping, 2 each)",
	"destroy, 16 pages over 512 GiB",
	"2 MiB alloc + memload",
};

static const unsigned long sizes[NSIZES] = { 1024, 16384, 262144 };

static void die(const char *what)
{
	fprintf(stderr, "bench_mm_hosted: %s failed\n", what);
	exit(1);
}

static void load_all(struct hat *h, page_t **pp, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		if (hat_memload(h, VA_A + i * MM_PAGE_SIZE, pp[i], RW_USER) != 0)
			die("hat_memload");
}

/* ns per destroy of a space holding 16 pages, one per 32 GiB. */
static double time_sparse_destroy(page_t *pp)
{
	double total = 0;
	unsigned reps = 200;

	for (unsigned r = 0; r < reps; r++) {
		struct hat *h = hat_create();
		double t0;

		if (h == NULL)
			die("hat_create");
		for (unsigned i = 0; i < SPARSE_N; i++)
			if (hat_memload(h, ((uint64_t)i << 35) | ((uint64_t)i << 21), pp, RW_USER) != 0)
				die("hat_memload");
		t0 = bench_now();
		hat_destroy(h);
		total += bench_now() - t0;
	}
	return total * 1e9 / reps;
}

/* ns per page_alloc_large + 2 MiB memload (unload and free untimed); 0 when RAM has no free 2 MiB block. */
static double time_large(struct hat *h)
{
	double total = 0;
	unsigned reps = 64, done = 0;

	for (unsigned r = 0; r < reps; r++) {
		double t0 = bench_now();
		page_t *big = page_alloc_large(PG_USER);

		if (big == NULL)
			break;
		if (hat_memload(h, VA_LARGE, big, RW_USER | HAT_LARGE) != 0)
			die("hat_memload (2 MiB)");
		total += bench_now() - t0;
		done++;
		hat_unload(h, VA_LARGE, MM_LARGE_SIZE);
		page_free_large(big);
	}
	return done == 0 ? 0 : total * 1e9 / done;
}

/* One run at `pages` of free RAM: ns/op for every op into t. */
static void one_run(unsigned long pages, double t[NOPS])
{
	unsigned long w = pages / 8;
	page_t **pp = calloc(w, sizeof(*pp));
	struct hat *a, *b, *c;
	double t0;

	mm_hosted_boot(MM_TEST_FIRST_FREE + pages * MM_PAGE_SIZE);
	a = hat_create();
	b = hat_create();
	c = hat_create();
	if (pp == NULL || a == NULL || b == NULL || c == NULL)
		die("set-up");
	for (unsigned long i = 0; i < w; i++)
		if ((pp[i] = page_alloc(PG_USER)) == NULL)
			die("page_alloc");
	t0 = bench_now();
	load_all(a, pp, w);
	t[OP_LOAD_FIRST] = (bench_now() - t0) * 1e9 / w;
	load_all(b, pp, w);
	t0 = bench_now();
	load_all(c, pp, w);
	t[OP_LOAD_THIRD] = (bench_now() - t0) * 1e9 / w;
	t0 = bench_now();
	hat_chgprot(a, VA_A, w * MM_PAGE_SIZE, HAT_READ | HAT_USER);
	t[OP_CHGPROT] = (bench_now() - t0) * 1e9 / w;
	t0 = bench_now();
	hat_unload(b, VA_A, w * MM_PAGE_SIZE);
	t[OP_UNLOAD] = (bench_now() - t0) * 1e9 / w;
	t0 = bench_now();
	for (unsigned long i = 0; i < w; i++)
		hat_pageunload(pp[i]);
	t[OP_PAGEUNLOAD] = (bench_now() - t0) * 1e9 / (2.0 * w);
	hat_destroy(a);
	hat_destroy(b);
	t[OP_DESTROY] = time_sparse_destroy(pp[0]);
	t[OP_LARGE] = time_large(c);
	hat_destroy(c);
	for (unsigned long i = 0; i < w; i++)
		page_free(pp[i]);
	free(pp);
	mm_hosted_shutdown();
}

static void print_row(const char *name, const double v[NSIZES], double linux_ns)
{
	double lo = v[0], hi = v[0];

	printf("%-36s", name);
	for (int s = 0; s < NSIZES; s++) {
		if (v[s] == 0)
			printf(" %10s", "n/a");
		else
			printf(" %10.1f", v[s]);
		if (v[s] != 0 && (lo == 0 || v[s] < lo))
			lo = v[s];
		if (v[s] > hi)
			hi = v[s];
	}
	printf(" %8.2f", lo > 0 ? hi / lo : 0.0);
	if (linux_ns > 0)
		printf(" %10.1f\n", linux_ns);
	else
		printf(" %10s\n", "-");
}

int main(void)
{
	double res[NOPS][NSIZES], runs[NOPS][RUNS], t[NOPS];
	struct linux_shapes lx;

	for (int s = 0; s < NSIZES; s++) {
		for (int r = 0; r < RUNS; r++) {
			one_run(sizes[s], t);
			for (int o = 0; o < NOPS; o++)
				runs[o][r] = t[o];
		}
		for (int o = 0; o < NOPS; o++)
			res[o][s] = bench_median(runs[o], RUNS);
	}
	/* Linux per page for the largest working set */
	linux_shapes_measure(sizes[NSIZES - 1] / 8, RUNS, &lx);
	printf("hosted MM, ns/op (median of %d), working set RAM/8; Linux per page at %lu pages\n",
	       RUNS, sizes[NSIZES - 1] / 8);
	printf("%-36s", "op \\ pages of RAM");
	for (int s = 0; s < NSIZES; s++)
		printf(" %10lu", sizes[s]);
	printf(" %8s %10s\n", "max/min", "Linux");
	{
		const double linux_of[NOPS] = {
			[OP_LOAD_FIRST] = lx.populate_ns, [OP_LOAD_THIRD] = lx.share_ns,
			[OP_UNLOAD] = lx.munmap_ns,
		};

		for (int o = 0; o < NOPS; o++)
			print_row(op_name[o], res[o], linux_of[o]);
	}
	printf("Linux fork of populated private pages: %.1f ns/page (no hosted counterpart here)\n",
	       lx.fork_ns);
	return 0;
}
