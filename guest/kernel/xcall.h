/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-calls: run a function on a set of CPUs by IPI and wait until every one has run it. */
#ifndef GUEST_XCALL_H
#define GUEST_XCALL_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*xcall_fn)(void *arg);

/*
 * Sets up the vectors and the time bound (boot CPU, before any CPU is
 * online): a target that has not answered after timeout_ms is sent its
 * IPI once more, and after twice that the kernel panics naming the CPUs
 * and the request (a lost IPI is reported, not a hang). lose_requests
 * (test only) drops every request IPI, to show that report.
 */
void xcall_init(uint64_t timeout_ms, uint64_t tsc_khz, bool lose_requests);

/* This CPU takes requests from now on (its LAPIC is enabled, interrupts on). */
void xcall_online(void);

/*
 * This CPU takes none any more: returns once every request that may
 * have counted it has been served. Call with interrupts on.
 */
void xcall_offline(void);

/* CPUs that take requests. */
uint64_t xcall_online_cpus(void);

/*
 * Runs fn(arg) on every online CPU of `cpus` (on this one directly, with
 * interrupts off) and returns when all have. Any CPU, interrupts on or
 * off; not from an interrupt handler. While it waits, this CPU keeps
 * serving requests sent to it, so two CPUs cross-calling each other do
 * not deadlock; it waits in HLT, woken by the last target's
 * acknowledgement IPI.
 */
void xcall_run(uint64_t cpus, xcall_fn fn, void *arg);

/* Every CPU but this one. */
uint64_t xcall_other_cpus(void);

/* A cross-call that does nothing: wakes the CPUs of `cpus` from xcall_sleep_until() to look again. */
void xcall_wake(uint64_t cpus);

/*
 * Waits in HLT (interrupts on: requests are served) until *flag >= v,
 * as another CPU sets it, acquire ordered, before its xcall_wake().
 */
void xcall_sleep_until(const unsigned *flag, unsigned v);

/* IPIs this kernel sent (requests, acknowledgements, re-sends), all CPUs. */
uint64_t xcall_ipis_sent(void);

/* Requests sent to other CPUs, all CPUs. */
uint64_t xcall_requests(void);

#endif
