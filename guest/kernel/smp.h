/* SPDX-License-Identifier: BSD-2-Clause */
/* Bringing the other CPUs up and down: LAPICs, cross-calls, the ready handshake, the done signal. */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdbool.h>

/*
 * Boot CPU, before it releases the others: with more than one CPU,
 * picks the LAPIC mode (x2APIC when offered; apic=xapic forces xAPIC),
 * enables its own LAPIC and interrupts, sets up cross-calls and the
 * HAT's shootdown hook (no_shootdown=1 skips every shootdown, for tests),
 * and goes online. mm_live: the kernel runs on its own tables (the xAPIC
 * page then needs a mapping of its own).
 */
void smp_boot(bool mm_live);

/* Boot CPU: waits until every other CPU is online (bounded: panics naming the missing ones). */
void smp_wait_ready(void);

/* Other CPUs: how far this one got on its way online (named if it never arrives). */
void smp_ap_stage(unsigned cpu, const char *stage);

/* Other CPUs: enable this LAPIC and interrupts, go online. */
void smp_ap_online(void);

/*
 * Other CPUs, after their part of the workload: back on the kernel
 * space (mm_live), offline (every request that counted this CPU served),
 * then the done hypercall. Does not return.
 */
void smp_ap_finish(bool mm_live) __attribute__((noreturn));

#endif
