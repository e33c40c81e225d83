/* SPDX-License-Identifier: BSD-2-Clause */
/* Rounds of MM work on every CPU at once, a checkpoint at each barrier between them, where no CPU is inside the MM. */
#ifndef GUEST_WORKLOADS_SMP_ROUNDS_H
#define GUEST_WORKLOADS_SMP_ROUNDS_H

#include <stdint.h>

#include "cpu.h"

/* Where in a round every CPU waits for the others (smp_rounds_meet). */
enum smp_meet { SMP_MEET_LOADED, SMP_MEET_STEPPED, SMP_MEET_POINTS };

struct smp_rounds {
	const char *who;
	unsigned step_records;                 /* log records one step may append at most */
	void (*run_round)(unsigned cpu, unsigned r);   /* a CPU's part of round r (rounds: its last) */
	unsigned rounds, steps;                /* options rounds= and steps= */
	unsigned round;                        /* CPU 0 -> all: run this round (rounds + 1: stop) */
	unsigned done[MAX_CPUS];               /* the last round each CPU finished */
	unsigned met[SMP_MEET_POINTS][MAX_CPUS];  /* the last round each CPU reached each meeting point at */
	uint64_t cycles;                       /* CPU 0's TSC over the rounds, barriers in, checkpoints out */
};

/*
 * Reads rounds= and steps= (defaults as given). A checkpoint outside a
 * barrier (check_every, or a full operation log) would find other CPUs
 * inside the MM: check_every is refused, and a round's records must fit
 * the log, which each barrier's checkpoint drains (steps is bounded).
 */
void smp_rounds_options(struct smp_rounds *sr, unsigned rounds, unsigned steps);

/* CPU 0, after the set-up: a checkpoint, then each round on every CPU and a checkpoint, then the stop. */
void smp_rounds_run(struct smp_rounds *sr);

/* Every other CPU: its part of each round, asleep in HLT between them. */
void smp_rounds_ap(struct smp_rounds *sr, unsigned cpu);

/*
 * CPU cpu has reached point of round r: it waits (interrupts on, so it
 * serves shootdowns) until every CPU has. A round that meets after its
 * hat_switch and before its switch back runs every CPU's steps while
 * every other CPU's space is loaded, however the CPUs are scheduled (a
 * host may run them one at a time for long slices).
 */
void smp_rounds_meet(struct smp_rounds *sr, unsigned cpu, enum smp_meet point, unsigned r);

/* "WHO: N steps in T us: S steps/s on C CPUs": all CPUs' steps per second, the figure that should grow with them. */
void smp_rounds_print_throughput(const struct smp_rounds *sr);

#endif
