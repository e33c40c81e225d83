/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT's TLB shootdown hook on cross-calls, and its counters. */
#ifndef GUEST_TLB_SHOOTDOWN_H
#define GUEST_TLB_SHOOTDOWN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Installs mm_tlb_shootdown_hook (boot CPU, once cross-calls work). With
 * `skip` (the test-only no_shootdown=1) requests are counted and not
 * sent: the planted bug the tlb workload must catch.
 */
void tlb_shootdown_init(bool skip);

/* What the receivers did, all CPUs. */
struct tlb_remote_counts {
	uint64_t invlpg;    /* pages invalidated for other CPUs' requests */
	uint64_t full;      /* full flushes for them */
	uint64_t skipped;   /* requests not sent (no_shootdown=1) */
};
struct tlb_remote_counts tlb_shootdown_counts(void);

/*
 * What this CPU flushed for other CPUs' requests since its last
 * tlb_flushes_reset(): tlb_flushed(va) is true once a request covering
 * va (or a full flush) ran here. The tlb workload's proof that a
 * shootdown arrived, where the hardware would not show the stale
 * translation (shadow paging, as kvm_pvm's, flushes by itself).
 */
void tlb_flushes_reset(void);
bool tlb_flushed(uint64_t va);

#endif
