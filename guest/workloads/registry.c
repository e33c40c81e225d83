/* SPDX-License-Identifier: BSD-2-Clause */
/* The workload registry: every workload by name, the default first; the options they all share; the boot CPU's wait for the others. */
#include "arch_x86.h"
#include "check_every.h"
#include "cmdline.h"
#include "kernel.h"
#include "workload.h"

const struct workload *const workloads[] = {
	&workload_all, &workload_smoke, &workload_share, &workload_random, &workload_pressure,
	&workload_large, &workload_bench, &workload_corrupt, &workload_replay, &workload_tlb, &workload_smp_disjoint, &workload_smp_share, &workload_smp_steal, &workload_hello, &workload_fault, &workload_spin,
	&workload_triple, &workload_badcall, &workload_hole, NULL,
};

static volatile unsigned aps_done;

/* One line: the bad name and every known one. */
static void __attribute__((noreturn)) usage_unknown_workload(const char *name)
{
	static char known[512];
	size_t len = 0;

	for (unsigned i = 0; workloads[i] && len < sizeof(known); i++)
		len += (size_t)ksnprintf(known + len, sizeof(known) - len, " %s", workloads[i]->name);
	cmdline_usage("option workload=%s: unknown workload; known:%s", name, known);
}

void workload_ap_done(void)
{
	__atomic_fetch_add(&aps_done, 1, __ATOMIC_SEQ_CST);
}

void workload_wait_aps(void)
{
	while (__atomic_load_n(&aps_done, __ATOMIC_SEQ_CST) + 1 < cpu_count())
		x86_pause();
}

const struct workload *workload_find(void)
{
	const char *name = cmdline_get("workload");

	check_every_load();   /* refused here, before any workload starts, when malformed */

	if (!name && cmdline_get("fault"))
		name = "fault";
	if (!name)
		return workloads[0];
	for (unsigned i = 0; workloads[i]; i++)
		if (strcmp(workloads[i]->name, name) == 0)
			return workloads[i];
	usage_unknown_workload(name);
}
