/* SPDX-License-Identifier: BSD-2-Clause */
/* Counters shared by the MM workloads and the closing stats line. */
#include "stats.h"

#include "hat.h"
#include "hment.h"
#include "kernel.h"
#include "page.h"
#include "tlb_shootdown.h"
#include "trap.h"
#include "xcall.h"

struct mm_stats stats;

void stats_note_hments(uint64_t in_use)
{
	uint64_t peak = __atomic_load_n(&stats.hments_peak, __ATOMIC_RELAXED);

	while (in_use > peak && !__atomic_compare_exchange_n(&stats.hments_peak, &peak, in_use, false,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void stats_sample(void)
{
	stats_note_hments(hment_cache_inuse());
}

void stats_print(void)
{
	struct tlb_remote_counts remote = tlb_shootdown_counts();

	kprintf("stats: ops=%" PRIu64 " maps=%" PRIu64 " hments_peak=%" PRIu64 " steals=%" PRIu64
	        " faults=%" PRIu64 " spaces=%" PRIu64 " "
		"checkpoints=%" PRIu64 " pages_free=%" PRIu64 " shootdowns=%" PRIu64 " ipis=%" PRIu64
		" invlpg=%" PRIu64 " full_flushes=%" PRIu64 " shootdowns_skipped=%" PRIu64 "\n",
		stats.ops, stats.maps,
		stats.hments_peak, hment_stats.steals,
		trap_page_faults_handled(), stats.spaces,
		stats.checkpoints, page_nfree(),
		/* TLB work, all CPUs: shootdown requests, IPIs, pages by INVLPG, full flushes */
		hat_tlb_counts.shootdowns, xcall_ipis_sent(), hat_tlb_counts.invlpg + remote.invlpg,
		hat_tlb_counts.full + remote.full, remote.skipped);
}
