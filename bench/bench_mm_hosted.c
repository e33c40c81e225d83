/* SPDX-License-Identifier: BSD-2-Clause */
/* Hosted MM scaling: ns per operation at 256 to 1 M pages of working set and at 1 to 256 address spaces, natively timed, beside Linux's same shapes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_table.h"
#include "bench_util.h"
#include "cpu_ceiling.h"
#include "linux_shapes.h"
#include "mm_runs.h"

#define NSIZES       4
#define NSPACES      3
#define SPACES_PAGES 4096ul
#define LINUX_AT     2          /* sizes[] index the Linux shapes are measured at, run for run beside ours */
#define MAX_RUNS     61
#define CHURN_PAGES  65536ul
#define CHURN_CYCLES 16
#define CHURN_RUNS   3
#define FLAT         1.3        /* target: largest / smallest */
#define BELOW_LINUX  3.0        /* target: Linux / ours */
#define PAR_PAGES    16384ul    /* per CPU, in a parallel run */
#define PAR_CYCLES   16
#define PAR_RUNS     5
#define PAR_SPEEDUP  1.8        /* target: 2 CPUs' throughput / 1 CPU's */

static const unsigned long sizes[NSIZES] = { 256, 4096, 65536, MM_RUNS_MAX_PAGES };
static const char *const size_label[NSIZES] = { "256", "4K", "64K", "1M" };
/*
 * Runs per round: more where one is short and noisy, fewer where it is
 * long. Every size (and every number of spaces) runs in each round, so
 * the two sides of a flatness ratio see the same drift of this host's
 * speed (up to 2x from minute to minute).
 */
#define ROUNDS 3
static const int size_runs[NSIZES] = { 20, 7, 3, 1 };
static const unsigned spaces[NSPACES] = { 1, 16, 256 };
static const int spaces_runs[NSPACES] = { 3, 2, 2 };

struct results {
	double size_ns[SZ_NOPS][NSIZES];
	struct steal_work steal[NSIZES];   /* the same every run at a size: work counts */
	double spaces_ns[SP_NOPS][NSPACES];
	struct spaces_extra extra[NSPACES];
	double churn_load[CHURN_CYCLES], churn_pageunload[CHURN_CYCLES];   /* medians per cycle */
	double atomic_ns;   /* one uncontended locked read-modify-write */
	double par_ns[2][2];   /* wall ns per page-cycle, [spaces per CPU - 1][CPUs - 1] (medians) */
	double ceiling_ns[2];  /* wall ns per line of memory work sharing nothing, [CPUs - 1] (medians) */
	double of_ceiling[2];  /* median over the rounds of each round's speed-up / the ceiling's in it */
	struct linux_shapes lx;
};

/* At sizes[LINUX_AT] each of our runs is followed by one of Linux's, for the same reason as the rounds. */
static void measure_sizes(struct results *res)
{
	static double runs[NSIZES][SZ_NOPS][MAX_RUNS];
	struct linux_shapes lx_runs[MAX_RUNS];
	int fd = linux_shapes_memfd(sizes[LINUX_AT]), done[NSIZES] = { 0 };
	double ns[SZ_NOPS];

	/* untimed: caches and predictors warm, as in a running kernel */
	mm_size_run(sizes[0], ns, &res->steal[0]);
	for (int round = 0; round < ROUNDS; round++)
		for (int s = 0; s < NSIZES; s++)
			for (int k = 0; k < size_runs[s]; k++, done[s]++) {
				mm_size_run(sizes[s], ns, &res->steal[s]);
				for (int o = 0; o < SZ_NOPS; o++)
					runs[s][o][done[s]] = ns[o];
				if (s == LINUX_AT)
					linux_shapes_run(fd, sizes[s], &lx_runs[done[s]]);
			}
	for (int s = 0; s < NSIZES; s++)
		for (int o = 0; o < SZ_NOPS; o++)
			res->size_ns[o][s] = bench_median(runs[s][o], (size_t)done[s]);
	linux_shapes_median(lx_runs, done[LINUX_AT], &res->lx);
	close(fd);
}

static void measure_spaces(struct results *res)
{
	static double runs[NSPACES][SP_NOPS][MAX_RUNS];
	int done[NSPACES] = { 0 };
	double ns[SP_NOPS];

	for (int round = 0; round < ROUNDS; round++)
		for (int n = 0; n < NSPACES; n++)
			for (int k = 0; k < spaces_runs[n]; k++, done[n]++) {
				mm_spaces_run(SPACES_PAGES, spaces[n], ns, &res->extra[n]);
				for (int o = 0; o < SP_NOPS; o++)
					runs[n][o][done[n]] = ns[o];
			}
	for (int n = 0; n < NSPACES; n++)
		for (int o = 0; o < SP_NOPS; o++)
			res->spaces_ns[o][n] = bench_median(runs[n][o], (size_t)done[n]);
}

static void measure_churn(struct results *res)
{
	double load[CHURN_CYCLES][CHURN_RUNS], pageunload[CHURN_CYCLES][CHURN_RUNS];

	for (int r = 0; r < CHURN_RUNS; r++) {
		double l[CHURN_CYCLES], p[CHURN_CYCLES];

		mm_churn_run(CHURN_PAGES, CHURN_CYCLES, l, p);
		for (int c = 0; c < CHURN_CYCLES; c++) {
			load[c][r] = l[c];
			pageunload[c][r] = p[c];
		}
	}
	for (int c = 0; c < CHURN_CYCLES; c++) {
		res->churn_load[c] = bench_median(load[c], CHURN_RUNS);
		res->churn_pageunload[c] = bench_median(pageunload[c], CHURN_RUNS);
	}
}

/*
 * One CPU, then two at once, each on a space and pages of its own: what
 * they share (page allocator, table-page cache, hashed list locks, the
 * operation log, the statistics) decides how far the MM scales. Wall
 * time, alternating, so both see the same drift of the host; and beside
 * them, work that shares nothing, for what two CPUs of this machine can
 * give at all (on a shared host, at times far from 2).
 */
static void measure_parallel(struct results *res)
{
	double runs[2][2][PAR_RUNS], ceiling[2][PAR_RUNS];

	for (int r = 0; r < PAR_RUNS; r++)
		for (unsigned t = 1; t <= 2; t++) {
			for (unsigned s = 1; s <= 2; s++)
				runs[s - 1][t - 1][r] = mm_parallel_run(t, s, PAR_PAGES, PAR_CYCLES);
			ceiling[t - 1][r] = cpu_ceiling_run(t);
		}
	for (int t = 0; t < 2; t++) {
		for (int s = 0; s < 2; s++)
			res->par_ns[s][t] = bench_median(runs[s][t], PAR_RUNS);
		res->ceiling_ns[t] = bench_median(ceiling[t], PAR_RUNS);
	}
	for (int s = 0; s < 2; s++) {
		double of[PAR_RUNS];

		for (int r = 0; r < PAR_RUNS; r++)
			of[r] = (runs[s][0][r] / runs[s][1][r]) / (ceiling[0][r] / ceiling[1][r]);
		res->of_ceiling[s] = bench_median(of, PAR_RUNS);
	}
}

/*
 * The unit the MM's per-mapping costs are made of: every lock taken and
 * every shared count moved is one locked read-modify-write.
 */
static double measure_atomic(void)
{
	enum { N = 10000000 };
	static uint64_t counter;
	double t0 = bench_cpu_now();

	for (int i = 0; i < N; i++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	return (bench_cpu_now() - t0) * 1e9 / N;
}

/* One line of the detail matrix; 0 prints as n/a (nothing could be measured). */
static void print_line(const char *name, const char *unit, const double *v, int n)
{
	char label[64];

	snprintf(label, sizeof(label), "%s (per %s)", name, unit);
	printf("  %-44s", label);
	for (int i = 0; i < n; i++)
		if (v[i] > 0)
			printf(" %10.1f", v[i]);
		else
			printf(" %10s", "n/a");
	printf(" %8.2f\n", v[0] > 0 && v[n - 1] > 0 ? v[n - 1] / v[0] : NAN);
}

static void print_details(const struct results *res)
{
	printf("hosted MM, ns per op (median), RAM = working set x 1.25 + 32 MiB, prefaulted\n");
	printf("  %-44s", "op \\ pages of working set");
	for (int s = 0; s < NSIZES; s++)
		printf(" %10lu", sizes[s]);
	printf(" %8s\n", "last/1st");
	for (int o = 0; o < SZ_NOPS; o++)
		print_line(size_op_name[o], size_op_unit[o], res->size_ns[o], NSIZES);
	printf("  steals per run:");
	for (int s = 0; s < NSIZES; s++)
		printf(" %lu", res->steal[s].steals);
	printf("; steal-index steps per steal:");
	for (int s = 0; s < NSIZES; s++)
		printf(" %.1f", res->steal[s].steps_per_steal);
	printf("\n\nhosted MM, %lu pages shared by N address spaces, ns per op (median)\n",
	       SPACES_PAGES);
	printf("  %-44s", "op \\ N spaces");
	for (int n = 0; n < NSPACES; n++)
		printf(" %10u", spaces[n]);
	printf(" %8s\n", "last/1st");
	for (int o = 0; o < SP_NOPS; o++)
		print_line(spaces_op_name[o], spaces_op_unit[o], res->spaces_ns[o], NSPACES);
	printf("\nhosted MM, %lu pages mapped into 3 new spaces and pageunloaded, %d cycles, ns per mapping"
	       " (median)\n", CHURN_PAGES, CHURN_CYCLES);
	print_line("memload_array, by cycle", "mapping", res->churn_load, CHURN_CYCLES);
	print_line("pageunload, by cycle", "mapping", res->churn_pageunload, CHURN_CYCLES);
	for (int sp = 0; sp < 2; sp++)
		printf("%shosted MM, each CPU %s and %lu pages of its own (create, memload, chgprot, unload,"
		       " destroy) x %d, wall ns per page-cycle (median of %d): 1 CPU %.1f, 2 CPUs at once %.1f,"
		       " speed-up %.2f\n", sp == 0 ? "\n" : "", sp == 0 ? "a space" : "two spaces (hments)",
		       PAR_PAGES, PAR_CYCLES, PAR_RUNS, res->par_ns[sp][0], res->par_ns[sp][1],
		       res->par_ns[sp][0] / res->par_ns[sp][1]);
	printf("the same machine, each CPU on memory of its own, sharing nothing, wall ns per line: 1 CPU %.2f,"
	       " 2 CPUs at once %.2f, speed-up %.2f (the ceiling of the two above)\n", res->ceiling_ns[0],
	       res->ceiling_ns[1], res->ceiling_ns[0] / res->ceiling_ns[1]);
	for (int sp = 0; sp < 2; sp++)
		printf("%s: %.2f of the machine's own speed-up (median of the rounds' ratios)\n",
		       sp == 0 ? "a space each" : "two spaces each", res->of_ceiling[sp]);
	printf("\nLinux at %lu pages, ns per page: mmap MAP_POPULATE of a memfd %.1f, again at a"
	       " second address %.1f, mprotect %.1f, munmap %.1f, fork %.1f\n\n", sizes[LINUX_AT],
	       res->lx.populate_ns, res->lx.share_ns, res->lx.mprotect_ns, res->lx.munmap_ns,
	       res->lx.fork_ns);
}

/* "256: 80.1, 4K: 82.0, ..." into buf. */
static void series_note(char *buf, size_t len, const char *const *labels, const double *v, int n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, v[i] >= 100 ? "%s%s: %.0f" : "%s%s: %.3g",
				       i ? ", " : "", labels[i], v[i]);
}

/* A flatness row: the op at the last point against the first, target <= FLAT. */
static void flat_row(struct bench_table *t, const char *name, const char *unit,
		     const double *v, int n, const char *const *labels, const char *what)
{
	char first[48], note[96], ratio_of[16];
	struct bench_row *r;

	if (!(v[0] > 0 && v[n - 1] > 0)) {
		char figure[72];

		snprintf(figure, sizeof(figure), "%s, %s", name, what);
		bench_not_measured(t, figure, "the run could not do it");
		return;
	}
	r = bench_add(t, v[n - 1], "ns", "%s /%s, %s", name, unit, what);
	snprintf(first, sizeof(first), "same op, %s", labels[0]);
	bench_set_baseline(r, v[0], first);
	snprintf(ratio_of, sizeof(ratio_of), "%s/%s", labels[n - 1], labels[0]);
	bench_set_ratio(r, v[n - 1] / v[0], ratio_of);
	bench_set_target(r, "<=", FLAT);
	series_note(note, sizeof(note), labels, v, n);
	bench_set_note(r, "%s", note);
}

/* Ours against Linux per page at sizes[LINUX_AT], target Linux/ours >= BELOW_LINUX. */
static void linux_row(struct bench_table *t, const char *name, double ours, double lx,
		      const char *lx_name)
{
	struct bench_row *r = bench_add(t, ours, "ns", "%s, vs Linux at %s pages", name,
					size_label[LINUX_AT]);

	bench_set_baseline(r, lx, lx_name);
	bench_set_ratio(r, lx / ours, "Linux/ours");
	bench_set_target(r, ">=", BELOW_LINUX);
}

/*
 * The first and the last quarter of the churn cycles, each the median of
 * its cycles: one cycle alone moves with the host (a busy second made one
 * last cycle 1.5x its neighbours).
 */
static void churn_quarters(const double *cycles, double out[2])
{
	double v[CHURN_CYCLES / 4];

	for (int q = 0; q < 2; q++) {
		memcpy(v, cycles + (q ? CHURN_CYCLES - CHURN_CYCLES / 4 : 0), sizeof(v));
		out[q] = bench_median(v, CHURN_CYCLES / 4);
	}
}

/*
 * A parallel run's row: 2 CPUs' wall ns against 1 CPU's (ns[0], ns[1]),
 * as a speed-up; the note adds it as a share of what the machine's two
 * CPUs gave work sharing nothing, round by round.
 */
static void parallel_row(struct bench_table *t, const double ns[2], double of_ceiling, const char *figure,
			 const char *note)
{
	struct bench_row *r = bench_add(t, ns[1], "ns", "%s", figure);

	bench_set_baseline(r, ns[0], "1 CPU alone, wall /page-cycle");
	bench_set_ratio(r, ns[0] / ns[1], "speed-up");
	bench_set_target(r, ">=", PAR_SPEEDUP);
	bench_set_note(r, "%s; %.2f of the machine's own speed-up, round by round", note, of_ceiling);
}

static void add_rows(struct bench_table *t, const struct results *res)
{
	static const char *const space_labels[NSPACES] = { "1 sp", "16 sp", "256 sp" };
	static const char *const churn_labels[2] = { "first 4", "last 4" };
	double quarters[2];
	const struct linux_shapes *lx = &res->lx;
	const double (*ns)[NSIZES] = res->size_ns;
	const int at = LINUX_AT;
	double steps[NSIZES];
	char note[96];
	struct bench_row *r;

	for (int o = 0; o < SZ_NOPS; o++)
		flat_row(t, size_op_name[o], size_op_unit[o], ns[o], NSIZES, size_label,
			 "1M vs 256 pages");
	/*
	 * The steal's work, counted: steps from one listed page to the next
	 * grow with the distance between them (the index's fanout at each
	 * level), bounded whatever RAM holds; the time is mostly cache misses.
	 */
	for (int s = 0; s < NSIZES; s++)
		steps[s] = res->steal[s].steps_per_steal;
	r = bench_add(t, steps[NSIZES - 1], "steps", "steal, steal-index steps /steal at 1M pages");
	series_note(note, sizeof(note), size_label, steps, NSIZES);
	bench_set_note(r, "%s", note);
	for (int o = 0; o < SP_NOPS; o++)
		flat_row(t, spaces_op_name[o], spaces_op_unit[o], res->spaces_ns[o], NSPACES,
			 space_labels, "256 vs 1 spaces");
	churn_quarters(res->churn_load, quarters);
	flat_row(t, "churn: memload_array of 3 spaces", "mapping", quarters, 2, churn_labels,
		 "last 4 vs first 4 cycles");
	churn_quarters(res->churn_pageunload, quarters);
	flat_row(t, "churn: pageunload", "mapping", quarters, 2, churn_labels,
		 "last 4 vs first 4 cycles");
	linux_row(t, "memload, first mapping /page", ns[SZ_LOAD_FIRST][at], lx->share_ns,
		  "mmap POPULATE /page, pages exist");
	linux_row(t, "memload, 3rd mapping /page", ns[SZ_LOAD_THIRD][at], lx->share_ns,
		  "mmap POPULATE /page, pages exist");
	linux_row(t, "memload_array, first mapping /page", ns[SZ_ARRAY_FIRST][at], lx->share_ns,
		  "mmap POPULATE /page, pages exist");
	linux_row(t, "memload_array, 3rd mapping /page", ns[SZ_ARRAY_THIRD][at], lx->share_ns,
		  "mmap POPULATE /page, pages exist");
	linux_row(t, "chgprot /page", ns[SZ_CHGPROT][at], lx->mprotect_ns, "mprotect /page");
	linux_row(t, "unload of a range /page", ns[SZ_UNLOAD][at], lx->munmap_ns, "munmap /page");
	linux_row(t, "pageunload /mapping", ns[SZ_PAGEUNLOAD][at], lx->munmap_ns, "munmap /page");
	linux_row(t, "destroy, populated /page", ns[SZ_DESTROY_FULL][at], lx->munmap_ns,
		  "munmap /page");
	linux_row(t, "fork-like: chgprot + share /page", ns[SZ_CHGPROT][at] + ns[SZ_SHARE][at],
		  lx->fork_ns, "fork /page, private populated");
	linux_row(t, "fork-like, range ops: chgprot + hat_dup /page",
		  ns[SZ_CHGPROT][at] + ns[SZ_DUP][at], lx->fork_ns, "fork /page, private populated");
	parallel_row(t, res->par_ns[0], res->of_ceiling[0], "2 CPUs at once, spaces of their own /page-cycle",
		     "wall time; create, memload, chgprot, unload, destroy");
	parallel_row(t, res->par_ns[1], res->of_ceiling[1], "2 CPUs at once, pages in two spaces each /page-cycle",
		     "every page mapped twice: mapping lists, the hash, the hment cache");
	r = bench_add(t, res->ceiling_ns[1], "ns", "2 CPUs at once, memory work sharing nothing /line");
	bench_set_baseline(r, res->ceiling_ns[0], "1 CPU alone, wall /line");
	bench_set_ratio(r, res->ceiling_ns[0] / res->ceiling_ns[1], "speed-up");
	bench_set_note(r, "this machine's own two CPUs, in the same runs: the ceiling of the two rows above");
	r = bench_add(t, res->atomic_ns, "ns", "one locked read-modify-write, uncontended");
	bench_set_note(r, "a lock or a shared count: the unit per-mapping costs are made of");
	r = bench_add(t, (double)mm_hment_size(), "B", "hment, per mapping after a page's first");
	bench_set_target(r, "<=", 32);
	bench_set_note(r, "sizeof(struct hment); aim 24 B; the first mapping: 0 B (in page_t)");
	r = bench_add(t, (double)mm_page_t_size(), "B", "page_t, per page of RAM");
	bench_set_target(r, "<=", 48);
	r = bench_add(t, res->extra[1].hment_bytes_per_mapping + res->extra[1].page_t_bytes_per_mapping,
		      "B", "metadata per mapping, 17 spaces share %lu pages", SPACES_PAGES);
	bench_set_note(r, "hments in use %.1f B + page_t %.1f B per mapping",
		       res->extra[1].hment_bytes_per_mapping, res->extra[1].page_t_bytes_per_mapping);
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	static struct results res;
	struct bench_table t;

	if (argc != 1) {
		fprintf(stderr, "usage: %s [--json FILE]\n", argv[0]);
		return 2;
	}
	measure_sizes(&res);
	measure_spaces(&res);
	measure_churn(&res);
	res.atomic_ns = measure_atomic();
	measure_parallel(&res);
	print_details(&res);
	bench_table_init(&t, "mm_hosted");
	add_rows(&t, &res);
	return bench_table_finish(&t, json);
}
