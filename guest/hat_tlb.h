/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT's TLB invalidation: each change flushed on this CPU and by shootdown on the others, and the generations that record it (TLB_STALE). */
#ifndef GUEST_HAT_TLB_H
#define GUEST_HAT_TLB_H

#include "hat.h"

/* Pages one operation invalidated: INVLPG each, or one full flush past HAT_TLB_BATCH. */
struct tlb_batch {
	struct hat *h;
	unsigned n;
	bool all;
	uint64_t va[HAT_TLB_BATCH];
};

void tlb_batch_init(struct tlb_batch *b, struct hat *h);
void tlb_batch_add(struct tlb_batch *b, uint64_t va);

/* Flushes the batch's pages of its space where it is loaded, here and on the other CPUs, and empties it. */
void tlb_batch_flush(struct tlb_batch *b);

/* The same for one page of h, and for everything of h. */
void tlb_flush_page(struct hat *h, uint64_t va);
void tlb_flush_all(struct hat *h);

/* Pages CPU cpu asked the others to flush so far (a full flush: HOP_FLUSH_PAGES_ALL), for log records (MD_FLUSH). */
uint64_t tlb_remote_pages(unsigned cpu);

/* At boot: no CPU has a space loaded, nothing counted. */
void tlb_reset(void);

#endif
