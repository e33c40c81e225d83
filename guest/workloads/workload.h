/* SPDX-License-Identifier: BSD-2-Clause */
/* Workloads: what the guest does after boot, chosen by workload=NAME. */
#ifndef GUEST_WORKLOAD_H
#define GUEST_WORKLOAD_H

#include <stdbool.h>

struct workload {
	const char *name;
	const char *summary;
	bool needs_mm;                 /* run on the kernel's own address space */
	int (*run)(void);              /* boot CPU; returns the exit status */
	void (*ap)(unsigned cpu);      /* other CPUs, may be NULL */
};

/* The registry, NULL-terminated; the first entry is the default. */
extern const struct workload *const workloads[];

/* Boot-level workloads (boot_level.c). */
extern const struct workload workload_hello, workload_fault, workload_spin,
	workload_triple, workload_badcall, workload_hole;

/* Memory-manager workloads (<name>.c). */
extern const struct workload workload_smoke, workload_share, workload_random,
	workload_pressure, workload_large, workload_all, workload_bench, workload_corrupt,
	workload_replay, workload_tlb, workload_smp_disjoint,
	workload_smp_share, workload_smp_steal;

/*
 * The workload the command line names (workload=NAME; a bare fault=KIND
 * means fault), or the default; also reads the options every workload
 * shares (check_every=N).
 */
const struct workload *workload_find(void);

/* CPUs other than the boot CPU that have finished their part. */
void workload_ap_done(void);
/* Waits until every other CPU called workload_ap_done(). */
void workload_wait_aps(void);

#endif
