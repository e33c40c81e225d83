/* Counters shared by the MM workloads, checkpoints, and the closing stats line. */
#include "stats.h"

#include "hment.h"
#include "hypercall.h"
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

void stats_checkpoint(const char *workload, const char *what)
{
	char label[96];

	ksnprintf(label, sizeof(label), "%s:%s", workload, what);
	stats.checkpoints++;
	hc_checkpoint(label);
}

void stats_print(void)
{
	kprintf("stats: ops=%llu maps=%llu hments_peak=%llu steals=%llu faults=%llu spaces=%llu "
		"checkpoints=%llu pages_free=%llu\n",
		(unsigned long long)stats.ops, (unsigned long long)stats.maps,
		(unsigned long long)stats.hments_peak, (unsigned long long)hment_stats.steals,
		(unsigned long long)trap_page_faults_handled(), (unsigned long long)stats.spaces,
		(unsigned long long)stats.checkpoints, (unsigned long long)page_nfree());
}
