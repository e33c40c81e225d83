/* SPDX-License-Identifier: BSD-2-Clause */
/* Counters shared by the MM workloads and the closing stats line. */
#include "stats.h"

#include "hment.h"
#include "kernel.h"
#include "page.h"
#include "trap.h"

struct mm_stats stats;

void stats_sample(void)
{
	uint64_t in_use = hment_cache_inuse();

	if (in_use > stats.hments_peak)
		stats.hments_peak = in_use;
}

void stats_print(void)
{
	kprintf("stats: ops=%" PRIu64 " maps=%" PRIu64 " hments_peak=%" PRIu64 " steals=%" PRIu64
	        " faults=%" PRIu64 " spaces=%" PRIu64 " "
		"checkpoints=%" PRIu64 " pages_free=%" PRIu64 "\n",
		stats.ops, stats.maps,
		stats.hments_peak, hment_stats.steals,
		trap_page_faults_handled(), stats.spaces,
		stats.checkpoints, page_nfree());
}
