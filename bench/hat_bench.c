/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark: the guest HAT's ns per page (workload=bench, TSC-timed) beside Linux doing the same shapes, same run. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_table.h"
#include "bench_util.h"
#include "host_kvm.h"
#include "linux_shapes.h"

#define RUNS        3      /* guest runs; each figure is the median */
#define LINUX_RUNS  9
#define DEF_PAGES   256
#define MAX_FIGURES 32

/* One `bench: key=value` line. */
struct figure {
	char key[48];
	double value[RUNS];
};

static struct figure figures[MAX_FIGURES];
static int nfigures;

static struct figure *figure(const char *key)
{
	for (int i = 0; i < nfigures; i++)
		if (strcmp(figures[i].key, key) == 0)
			return &figures[i];
	return NULL;
}

/* Records every `bench: key=value` line of one run. */
static void parse_run(char *out, int run)
{
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char key[48];
		double value;
		struct figure *f;

		if (sscanf(line, "bench: %47[a-z_0-9]=%lf", key, &value) != 2)
			continue;
		if ((f = figure(key)) == NULL) {
			if (nfigures == MAX_FIGURES)
				continue;
			f = &figures[nfigures++];
			snprintf(f->key, sizeof(f->key), "%s", key);
		}
		f->value[run] = value;
	}
}

/* Median over the runs of a figure the guest must have printed. */
static double median_of(const char *key)
{
	struct figure *f = figure(key);
	double v[RUNS];

	if (f == NULL) {
		fprintf(stderr, "hat_bench: the guest printed no `bench: %s=` line\n", key);
		exit(1);
	}
	memcpy(v, f->value, sizeof(v));
	return bench_median(v, RUNS);
}

#define GOAL 5.0   /* Linux / guest */

static const struct {
	const char *label, *key, *linux_label;
	int linux_index;
} ops[] = {
	{ "memload, a page's first mapping", "memload_first_ns", "mmap MAP_POPULATE", 0 },
	{ "memload, a shared page (hment)", "memload_share_ns", "2nd MAP_POPULATE", 1 },
	{ "unload (one range)", "unload_ns", "munmap", 2 },
	{ "pageunload, per mapping", "pageunload_ns", "munmap", 2 },
	{ "share N pages into a new space", "fork_ns", "fork", 3 },
	{ "destroy, per page", "destroy_ns", "munmap", 2 },
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* One guest op against Linux (NAN: not measured); emulated figures meet or miss nothing. */
static struct bench_row *op_row(struct bench_table *t, size_t i, double guest, double lx)
{
	struct bench_row *r = bench_add(t, guest, "ns", "guest %s", ops[i].label);

	bench_set_baseline(r, lx, ops[i].linux_label);
	bench_set_ratio(r, lx / guest, "Linux/guest");
	bench_set_target(r, ">=", GOAL);
	if (bench_kvm_emulated()) {
		r->met = BENCH_MET_NA;
		bench_set_note(r, "emulated (%s): not the HAT's own cost", bench_kvm_module());
	}
	return r;
}

static void print_and_add(struct bench_table *t, unsigned long pages, const struct linux_shapes *lx)
{
	const double lx_ns[] = { lx->populate_ns, lx->share_ns, lx->munmap_ns, lx->fork_ns };

	printf("hat benchmark: %lu pages, median of %d guest runs and %d Linux runs, host KVM: %s\n",
	       pages, RUNS, LINUX_RUNS, bench_kvm_module());
	printf("  %-34s %14s %10s  %-18s %12s\n", "op (per page)", "guest ns", "Linux ns",
	       "Linux shape", "Linux/guest");
	for (size_t i = 0; i < NOPS; i++) {
		double g = median_of(ops[i].key), l = lx_ns[ops[i].linux_index];

		printf("  %-34s %14.1f %10.1f  %-18s %11.3gx%s\n", ops[i].label, g, l,
		       ops[i].linux_label, l / g, l / g >= GOAL ? "" : "  below the 5x goal");
		op_row(t, i, g, l);
	}
	if (bench_kvm_emulated())
		printf("  note: kvm_pvm virtualizes in software; guest code here runs at about a\n"
		       "  microsecond per instruction, so the guest column is not the HAT's native cost\n");
	printf("  metadata per mapping:\n");
	printf("    %-44s %8.0f bytes\n", "a page's only mapping (embedded in page_t)",
	       median_of("first_mapping_bytes"));
	printf("    %-44s %8.0f bytes\n", "each further mapping (one hment)", median_of("hment_bytes"));
	printf("    %-44s %8.0f bytes\n", "page_t, per page of RAM", median_of("page_t_bytes"));
	printf("    %-44s %8.4f (%.1f bytes)\n", "table pages per mapped page",
	       median_of("table_pages_per_page"), median_of("table_bytes_per_page"));
	bench_set_note(bench_add(t, median_of("table_bytes_per_page"), "B",
				 "guest table bytes per mapped page"),
		       "%lu pages mapped", pages);
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	unsigned long pages = DEF_PAGES;
	char pages_arg[32];
	struct linux_shapes lx;
	struct bench_table t;

	if (argc < 3 || argc > 4 || (argc == 4 && (pages = strtoul(argv[3], NULL, 10)) == 0)) {
		fprintf(stderr, "usage: %s [--json FILE] VMM GUEST.ELF [PAGES]\n", argv[0]);
		return 2;
	}
	bench_table_init(&t, "hat");
	if (!bench_kvm_usable()) {
		printf("hat benchmark: not measured, /dev/kvm absent\n");
		for (size_t i = 0; i < NOPS; i++)
			bench_set_note(op_row(&t, i, NAN, NAN), "not measured: /dev/kvm absent");
		return bench_table_finish(&t, json);
	}
	snprintf(pages_arg, sizeof(pages_arg), "pages=%lu", pages);
	const char *vmm[] = { argv[1], "--quiet", "--check=off", "--timeout", "300", argv[2], "--",
			      "workload=bench", pages_arg, NULL };

	for (int r = 0; r < RUNS; r++) {
		char *out = bench_run_capture(vmm);

		parse_run(out, r);
		free(out);
	}
	linux_shapes_measure(pages, LINUX_RUNS, &lx);
	print_and_add(&t, pages, &lx);
	return bench_table_finish(&t, json);
}
