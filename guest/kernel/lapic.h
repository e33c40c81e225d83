/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC: bring-up (x2APIC when offered, else xAPIC), fixed IPIs, EOI, a one-shot timer. */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Interrupt vectors of the kernel (every one >= 32, above the exceptions). */
#define VEC_XCALL    0xf0   /* run the cross-call requests addressed to this CPU */
#define VEC_XCALL_ACK 0xf1  /* every target ran a request: wakes its waiting sender */
#define VEC_TIMER    0xf2   /* wakes a CPU that waits in HLT, to check its deadline */
#define VEC_SPURIOUS 0xff   /* the LAPIC's spurious vector: no EOI */

/*
 * Chooses the mode once (boot CPU, before any other CPU calls
 * lapic_init): x2APIC when CPUID offers it and force_xapic is false,
 * else xAPIC through the MMIO page at mmio (a kernel-virtual address of
 * GPA 0xFEE00000, uncached). Returns true for x2APIC.
 */
bool lapic_choose(bool force_xapic, volatile void *mmio);

/* Enables this CPU's LAPIC (software enable, spurious vector, TPR 0); any CPU, once. */
void lapic_init(void);

/* This CPU's APIC ID as its LAPIC reports it. */
uint32_t lapic_id(void);

/* Sends a fixed, physical-destination IPI with vector to the CPU whose APIC ID is dest. */
void lapic_send(uint32_t dest, uint8_t vector);

/* Ends the interrupt being served (not for the spurious vector). */
void lapic_eoi(void);

/* Arms the timer to raise VEC_TIMER once, about `ticks` bus cycles from now (0 disarms). */
void lapic_timer_oneshot(uint32_t ticks);

/* True when lapic_choose() picked x2APIC. */
bool lapic_is_x2apic(void);

#endif
