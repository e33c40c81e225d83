/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark: the host checker on a live guest of the largest size vmm boots (3 GiB), from vmm's own report. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_table.h"
#include "bench_util.h"
#include "host_kvm.h"

#define RUNS       3
#define MAX_CHECKS 64
#define MEM        "3G"
#define GOAL_MS    50.0   /* issue 9: a 3 GiB guest checks in under this */
#define GOAL_ITEMS 20.0   /* M items (page_t + PTEs + hments) per second */

struct checks {
	double ms[MAX_CHECKS], mitems[MAX_CHECKS];
	unsigned n;
};

/* bench_each_checkpoint()'s step: one more check (past MAX_CHECKS, none). */
static void add_check(double ms, double items_per_s, void *arg)
{
	struct checks *all = arg;

	if (all->n == MAX_CHECKS)
		return;
	all->ms[all->n] = ms;
	all->mitems[all->n++] = items_per_s / 1e6;
}

/* Adds the report's checkpoint checks (the guest paused where it asked). */
static void add_checks(struct checks *all, const char *report)
{
	json_error_t err;
	json_t *doc = json_load_file(report, 0, &err);

	if (doc == NULL) {
		fprintf(stderr, "live_check_bench: %s: %s\n", report, err.text);
		exit(1);
	}
	bench_each_checkpoint(json_object_get(doc, "checks"), add_check, all);
	json_decref(doc);
}

/* RUNS boots of the smoke workload in 3 GiB with a report each; every checkpoint check's figures. */
static void measure(struct checks *all, const char *vmm, const char *guest)
{
	char report[] = "/tmp/hatvm-live-check-XXXXXX", option[64];
	int fd = mkstemp(report);
	const char *argv[] = { vmm, "--quiet", "--mem", MEM, "--cpus", "1", option, guest, "--",
			       "workload=smoke", NULL };

	if (fd < 0) {
		perror("live_check_bench: mkstemp");
		exit(1);
	}
	close(fd);
	snprintf(option, sizeof(option), "--report=%s", report);
	for (int r = 0; r < RUNS; r++) {
		bench_time_command(argv);
		add_checks(all, report);
	}
	unlink(report);
}

/* A row's note; where the host itself is emulated its figure meets or misses nothing, and says so. */
static void __attribute__((format(printf, 2, 3))) host_note(struct bench_row *r, const char *fmt, ...)
{
	char note[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	if (!bench_host_emulated()) {
		bench_set_note(r, "%s", note);
		return;
	}
	r->met = BENCH_MET_NA;
	bench_set_note(r, "%s; the host itself emulated (QEMU TCG): not the checker's own speed", note);
}

/* The two rows, from at least one check. */
static void rows(struct bench_table *t, struct checks *all)
{
	unsigned n = all->n;
	double ms = bench_median(all->ms, n), mitems = bench_median(all->mitems, n);
	struct bench_row *r;

	printf("live check: %u checkpoint checks of workload=smoke in %s of guest RAM, %d runs; "
	       "median %.2f ms, %.1f M items/s\n", n, MEM, RUNS, ms, mitems);
	r = bench_add(t, ms, "ms", "checker, live 3 GiB guest: one check");
	bench_set_target(r, "<=", GOAL_MS);
	host_note(r, "median of %u checks; the guest paused on KVM (%s%s), the check is the "
		  "host's own work", n, bench_kvm_emulated() ? "emulated, " : "", bench_kvm_module());
	r = bench_add(t, mitems, "M/s", "checker, live 3 GiB guest: items/s");
	bench_set_target(r, ">=", GOAL_ITEMS);
	host_note(r, "page_t + PTEs + hments per second of a check, median");
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	static struct checks all;
	struct bench_table t;

	if (argc != 3) {
		fprintf(stderr, "usage: %s [--json FILE] VMM GUEST.ELF\n", argv[0]);
		return 2;
	}
	bench_table_init(&t, "live_check");
	if (!bench_kvm_usable()) {
		printf("live check benchmark: not measured, /dev/kvm absent\n");
		bench_not_measured(&t, "checker, live 3 GiB guest", "/dev/kvm absent");
		return bench_table_finish(&t, json);
	}
	measure(&all, argv[1], argv[2]);
	if (all.n == 0) {
		fprintf(stderr, "live_check_bench: vmm reported no checkpoint check\n");
		return 1;
	}
	rows(&t, &all);
	return bench_table_finish(&t, json);
}
