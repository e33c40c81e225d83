/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark: the guest on several vCPUs — IPI round trip, a cross-call to every other CPU, a change with its shootdown, smp-disjoint's and smp-share's throughput on 2 vCPUs against 1, and what --check=async costs smp-share, in the same run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_table.h"
#include "bench_util.h"
#include "host_kvm.h"

#define RUNS    3      /* each figure is the median */
#define SPEEDUP 1.8    /* target: 2 vCPUs' throughput / 1 vCPU's */
#define MAX_FIGURES 8  /* read from one run */

static const char *vmm_path, *guest_path;

/* The number after `prefix` in out; NAN when the line is missing. */
static double number_after(const char *out, const char *prefix)
{
	const char *p = strstr(out, prefix);

	return p ? strtod(p + strlen(prefix), NULL) : NAN;
}

/* Median over RUNS guest runs on `cpus` vCPUs, with `check` (vmm's --check=), of the figures after each prefix (NULL-terminated). */
static void measure_checked(const char *cpus, const char *check, const char *const words[],
			    const char *const prefixes[], double out[])
{
	const char *argv[16] = { vmm_path, "--quiet", check, "--timeout", "600", "--cpus", cpus,
				 guest_path, "--" };
	double v[MAX_FIGURES][RUNS];
	int n = 9, figures = 0;

	for (int i = 0; words[i] != NULL && n < 15; i++)
		argv[n++] = words[i];
	while (figures < MAX_FIGURES && prefixes[figures] != NULL)
		figures++;
	for (int r = 0; r < RUNS; r++) {
		char *text = bench_run_capture(argv);

		for (int k = 0; k < figures; k++)
			v[k][r] = number_after(text, prefixes[k]);
		free(text);
	}
	for (int k = 0; k < figures; k++) {
		out[k] = bench_median(v[k], RUNS);
		if (isnan(out[k])) {
			fprintf(stderr, "smp_bench: the guest printed no `%s` line\n", prefixes[k]);
			exit(1);
		}
	}
}

/* measure_checked() with no checks at all: the guest's own figures. */
static void measure(const char *cpus, const char *const words[], const char *const prefixes[],
		    double out[])
{
	measure_checked(cpus, "--check=off", words, prefixes, out);
}

/* A guest-side figure: emulated on kvm_pvm, so it meets or misses nothing there. */
static struct bench_row *guest_row(struct bench_table *t, double value, const char *unit,
				   const char *figure)
{
	struct bench_row *r = bench_add(t, value, unit, "%s", figure);

	if (bench_kvm_emulated())
		bench_set_note(r, "emulated (%s): ring-0 guest code runs in software", bench_kvm_module());
	return r;
}

static void not_measured(struct bench_table *t)
{
	static const char *const figures[] = {
		"guest IPI round trip (cross-call, target asleep)", "guest cross-call to 2 other CPUs",
		"guest change with its shootdown, 1 target", "guest smp-disjoint steps/s, 2 vCPUs",
		"guest smp-share steps/s, 2 vCPUs", "guest smp-share steps/s, 2 vCPUs, --check=async:5",
	};

	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		bench_not_measured(t, figures[i], "/dev/kvm absent");
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	double two[2], three[1], one_cpu[1], two_cpus[1], share_one[1], share_two[1], plain[1], async[1];
	struct bench_table t;
	struct bench_row *r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s [--json FILE] VMM GUEST.ELF\n", argv[0]);
		return 2;
	}
	vmm_path = argv[1];
	guest_path = argv[2];
	bench_table_init(&t, "smp");
	if (!bench_kvm_usable()) {
		printf("smp benchmark: not measured, /dev/kvm absent\n");
		not_measured(&t);
		return bench_table_finish(&t, json);
	}
	measure("2", (const char *[]){ "workload=tlb", "rounds=8", NULL },
		(const char *[]){ "tlb: IPI round trip ", "tlb: a change with its shootdown (1 target) ", NULL },
		two);
	measure("3", (const char *[]){ "workload=tlb", "rounds=4", NULL },
		(const char *[]){ "tlb: cross-call to all 2 other CPUs ", NULL }, three);
	measure("1", (const char *[]){ "workload=smp-disjoint", "rounds=3", NULL },
		(const char *[]){ " us: ", NULL }, one_cpu);
	measure("2", (const char *[]){ "workload=smp-disjoint", "rounds=3", NULL },
		(const char *[]){ " us: ", NULL }, two_cpus);
	measure("1", (const char *[]){ "workload=smp-share", "rounds=3", NULL },
		(const char *[]){ " us: ", NULL }, share_one);
	measure("2", (const char *[]){ "workload=smp-share", "rounds=3", NULL },
		(const char *[]){ " us: ", NULL }, share_two);
	measure_checked("2", "--check=checkpoints", (const char *[]){ "workload=smp-share", "rounds=3", NULL },
			(const char *[]){ " us: ", NULL }, plain);
	measure_checked("2", "--check=async:5", (const char *[]){ "workload=smp-share", "rounds=3", NULL },
			(const char *[]){ " us: ", NULL }, async);
	printf("smp benchmark: median of %d runs each, host KVM: %s\n", RUNS, bench_kvm_module());
	printf("  IPI round trip %.0f ns, cross-call to 2 other CPUs %.0f ns, a change with its shootdown"
	       " %.0f ns; smp-disjoint %.0f steps/s on 1 vCPU, %.0f on 2 (%.2fx)\n", two[0], three[0],
	       two[1], one_cpu[0], two_cpus[0], two_cpus[0] / one_cpu[0]);
	printf("  smp-share (every CPU on the same pages) %.0f steps/s on 1 vCPU, %.0f on 2 (%.2fx);"
	       " on 2 with checkpoints %.0f, and instant checks every 5 ms too %.0f (%.2fx)\n",
	       share_one[0], share_two[0], share_two[0] / share_one[0], plain[0], async[0],
	       async[0] / plain[0]);
	guest_row(&t, two[0], "ns", "guest IPI round trip (cross-call, target asleep)");
	guest_row(&t, three[0], "ns", "guest cross-call to 2 other CPUs");
	guest_row(&t, two[1], "ns", "guest change with its shootdown, 1 target");
	r = guest_row(&t, two_cpus[0], "steps/s", "guest smp-disjoint steps/s, 2 vCPUs");
	bench_set_baseline(r, one_cpu[0], "the same on 1 vCPU");
	bench_set_ratio(r, two_cpus[0] / one_cpu[0], "speed-up");
	bench_set_target(r, ">=", SPEEDUP);
	if (bench_kvm_emulated())
		r->met = BENCH_MET_NA;
	/* contention: what sharing pages (long mapping lists and their locks, shootdowns) leaves of that speed-up */
	r = guest_row(&t, share_two[0], "steps/s", "guest smp-share steps/s, 2 vCPUs");
	bench_set_baseline(r, share_one[0], "the same on 1 vCPU");
	bench_set_ratio(r, share_two[0] / share_one[0], "speed-up");
	/* what stopping every vCPU every 5 ms for an instant check costs the guest */
	r = guest_row(&t, async[0], "steps/s", "guest smp-share steps/s, 2 vCPUs, --check=async:5");
	bench_set_baseline(r, plain[0], "the same, checkpoints only");
	bench_set_ratio(r, async[0] / plain[0], "async/checkpoints");
	return bench_table_finish(&t, json);
}
