/* SPDX-License-Identifier: BSD-2-Clause */
/* Rounds of MM work on every CPU at once, a checkpoint at each barrier between them, where no CPU is inside the MM. */
#include "smp_rounds.h"

#include "arch_x86.h"
#include "check_every.h"
#include "cmdline.h"
#include "hat_oplog.h"
#include "kernel.h"
#include "util.h"
#include "workload.h"
#include "xcall.h"

void smp_rounds_options(struct smp_rounds *sr, unsigned rounds, unsigned steps)
{
	/* a CPU's records go to its own lane of the log, however many CPUs there are */
	unsigned most = (HAT_OPLOG_SIZE - HAT_OPLOG_HEADROOM) / sr->step_records;

	if (check_every() != 0)
		cmdline_usage("workload=%s takes its checkpoints at barriers: check_every is not for it",
			      sr->who);
	sr->rounds = cmdline_get_u32("rounds", rounds);
	sr->steps = cmdline_get_u32("steps", steps < most ? steps : most);
	if (sr->steps > most)
		cmdline_usage("option steps=%u: at most %u (a CPU's operation log for a round must "
			      "fit its lane between two barriers)", sr->steps, most);
}

/* Round r for every CPU: wake them, run CPU 0's part, wait for theirs. */
static void round_all(struct smp_rounds *sr, unsigned r)
{
	uint64_t t0 = x86_rdtsc();

	__atomic_store_n(&sr->round, r, __ATOMIC_RELEASE);
	if (cpu_count() > 1)
		xcall_wake(xcall_other_cpus());
	if (r > sr->rounds)
		return;
	sr->run_round(0, r);
	for (unsigned i = 1; i < cpu_count(); i++)
		while (__atomic_load_n(&sr->done[i], __ATOMIC_ACQUIRE) < r)
			x86_pause();
	sr->cycles += x86_rdtsc() - t0;
}

/* Every CPU is done or asleep, no MM lock is held: the host sees every record, the log starts empty. */
static void barrier_checkpoint(const struct smp_rounds *sr, const char *what)
{
	struct hat_oplog_mark m;

	hat_oplog_mark(&m);
	wl_checkpoint(sr->who, what);
	hat_oplog_drained(&m);
}

void smp_rounds_run(struct smp_rounds *sr)
{
	barrier_checkpoint(sr, "setup");   /* the other CPUs wait for round 1 */
	for (unsigned r = 1; r <= sr->rounds; r++) {
		round_all(sr, r);
		barrier_checkpoint(sr, "round");
	}
	round_all(sr, sr->rounds + 1);
	workload_wait_aps();
}

void smp_rounds_ap(struct smp_rounds *sr, unsigned cpu)
{
	for (unsigned r = 1;; r++) {
		xcall_sleep_until(&sr->round, r);
		if (r > sr->rounds)
			break;
		sr->run_round(cpu, r);
		__atomic_store_n(&sr->done[cpu], r, __ATOMIC_RELEASE);
	}
}

void smp_rounds_meet(struct smp_rounds *sr, unsigned cpu, enum smp_meet point, unsigned r)
{
	__atomic_store_n(&sr->met[point][cpu], r, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < cpu_count(); i++)
		while (__atomic_load_n(&sr->met[point][i], __ATOMIC_ACQUIRE) < r)
			x86_pause();
}

void smp_rounds_print_throughput(const struct smp_rounds *sr)
{
	uint64_t khz = cpu_boot_info()->tsc_khz, steps = (uint64_t)cpu_count() * sr->rounds * sr->steps;

	if (khz == 0 || sr->cycles == 0)
		return;
	uint64_t us = sr->cycles * 1000 / khz;
	kprintf("%s: %" PRIu64 " steps in %" PRIu64 " us: %" PRIu64 " steps/s on %u CPUs\n", sr->who,
		steps, us, us ? steps * 1000000 / us : 0, cpu_count());
}
