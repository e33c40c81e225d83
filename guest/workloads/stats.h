/* SPDX-License-Identifier: BSD-2-Clause */
/* Workload statistics and the one `stats:` line every MM workload ends with. */
#ifndef GUEST_STATS_H
#define GUEST_STATS_H

#include <stdint.h>

struct mm_stats {
	uint64_t ops;          /* HAT operations performed */
	uint64_t maps;         /* memloads */
	uint64_t hments_peak;  /* most hments in use at once */
	uint64_t spaces;       /* address spaces created */
	uint64_t checkpoints;  /* checkpoint hypercalls made */
};

extern struct mm_stats stats;

/* Adds n to one of stats' counts; any CPU (smp-disjoint runs workloads on all of them). */
static inline void stats_add(uint64_t *count, uint64_t n)
{
	__atomic_fetch_add(count, n, __ATOMIC_RELAXED);
}

/* Notes the current hment use in hments_peak; call after mapping. */
void stats_sample(void);

/* Raises hments_peak to in_use when it is below (a peak the caller measured itself); any CPU. */
void stats_note_hments(uint64_t in_use);

/* Prints `stats: ops=... maps=... hments_peak=... steals=... faults=... spaces=...`. */
void stats_print(void);

#endif
