/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: several vCPUs — LAPIC IPIs, cross-calls and TLB shootdowns seen by the tlb workload, a skipped shootdown caught, the MM on every CPU at once. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"

static const char *vmm_path, *guest_path;

#define ASSERT_STATUS(r, want) \
	ck_assert_msg((r).status == (want), "vmm exited %d, expected %d; stdout:\n%s\nstderr:\n%s", \
		      (r).status, (want), (r).out, (r).err)

/* The value of `key=` in the last stats line of out; fails the test when absent. */
static unsigned long long stat_of(const char *out, const char *key)
{
	const char *line = NULL, *p;
	char needle[64];

	for (p = strstr(out, "stats: "); p; p = strstr(p + 1, "stats: "))
		line = p;
	ck_assert_msg(line != NULL, "no stats line in:\n%s", out);
	snprintf(needle, sizeof(needle), " %s=", key);
	p = strstr(line, needle);
	ck_assert_msg(p != NULL && (!strchr(line, '\n') || p < strchr(line, '\n')),
		      "no %s in the stats line of:\n%s", key, out);
	return strtoull(p + strlen(needle), NULL, 10);
}

static struct vmm_result tlb_run(const char *cpus, const char *const words[])
{
	const char *opts[] = { "--cpus", cpus, "--mem", "128M", "--timeout", "600", NULL };

	return run_guest(vmm_path, guest_path, opts, words);
}

/* Every change CPU 0 makes is seen at once by the CPU running the space: shootdowns by IPI. */
START_TEST(tlb_shootdowns_reach_other_cpus)
{
	char seed[32];

	snprintf(seed, sizeof(seed), "seed=%d", _i + 1);
	struct vmm_result r = tlb_run("2", (const char *[]){ "workload=tlb", seed, "rounds=24", NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "every change seen at once");
	ASSERT_HAS(r.out, "IPI round trip");
	ck_assert_uint_ge(stat_of(r.out, "shootdowns"), 24);
	ck_assert_uint_ge(stat_of(r.out, "ipis"), 48);   /* a request and an acknowledgement each */
	ck_assert_uint_gt(stat_of(r.out, "invlpg"), 0);
	ck_assert_uint_eq(stat_of(r.out, "shootdowns_skipped"), 0);
	vmm_result_free(&r);
}
END_TEST

/* Three vCPUs on a two-core machine: targets sets of more than one CPU. */
START_TEST(tlb_three_cpus)
{
	struct vmm_result r = tlb_run("3", (const char *[]){ "workload=tlb", "rounds=12", NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "12 rounds on 3 CPUs");
	ck_assert_uint_ge(stat_of(r.out, "shootdowns"), 24);
	vmm_result_free(&r);
}
END_TEST

/* The same through the xAPIC's MMIO page instead of x2APIC MSRs. */
START_TEST(tlb_xapic)
{
	struct vmm_result r = tlb_run("2", (const char *[]){ "workload=tlb", "apic=xapic", "rounds=8",
							   NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ck_assert_uint_ge(stat_of(r.out, "shootdowns"), 8);
	vmm_result_free(&r);
}
END_TEST

/*
 * The planted bug: shootdowns counted but never sent. The host's
 * generation check (TLB_STALE) finds the other CPU behind at the first
 * round's checkpoint, taken before that CPU looks; then the CPU's own
 * probe finds its stale translation. Nested virtualization flushes TLBs
 * now and then (a VM exit may), so the probe gets many rounds; on
 * hardware and kvm_pvm the first one fails.
 */
START_TEST(tlb_skipped_shootdown_is_caught)
{
	struct vmm_result r = tlb_run("2", (const char *[]){ "workload=tlb", "no_shootdown=1",
							   "rounds=400", NULL });

	ASSERT_STATUS(r, VMM_EXIT_VIOLATION);
	ASSERT_HAS(r.err, "violation TLB_STALE space=2");
	ASSERT_HAS(r.err, "CPU 1 runs space 2 and has flushed it to generation 0");
	ASSERT_HAS(r.err, "tlb: TLB_STALE: CPU 1");
	ASSERT_HAS(r.err, "a stale translation");
	vmm_result_free(&r);
}
END_TEST

/* The other planted bug: the HAT forgets its own CPU's INVLPGs. Its own TLB_STALE check stops it. */
START_TEST(tlb_skipped_local_flush_is_caught)
{
	struct vmm_result r = tlb_run("1", (const char *[]){ "workload=large", "no_local_flush=1",
							   NULL });

	ASSERT_STATUS(r, VMM_EXIT_VIOLATION);
	ASSERT_HAS(r.err, "ASSERT TLB_STALE failed: CPU 0 has flushed space");
	ASSERT_HAS(r.err, "violation TLB_STALE");
	vmm_result_free(&r);
}
END_TEST

/* A lost IPI (test switch: requests never sent) is reported, bounded, instead of a hang. */
START_TEST(lost_ipi_is_reported)
{
	struct vmm_result r = tlb_run("2", (const char *[]){ "workload=tlb", "xcall_lose=1",
							   "xcall_timeout_ms=200", NULL });

	ASSERT_STATUS(r, VMM_EXIT_CRASH);
	ASSERT_HAS(r.err, "xcall: CPU 0's request");
	ASSERT_HAS(r.err, "CPUs 0x2 never ran it");
	vmm_result_free(&r);
}
END_TEST

START_TEST(tlb_needs_two_cpus)
{
	struct vmm_result r = tlb_run("1", (const char *[]){ "workload=tlb", NULL });

	ASSERT_STATUS(r, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "needs at least 2 vCPUs");
	vmm_result_free(&r);
}
END_TEST

/* A single-CPU workload on several vCPUs: the others come online, then say they are done. */
START_TEST(smoke_on_four_cpus)
{
	struct vmm_result r = tlb_run("4", (const char *[]){ "workload=smoke", NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ck_assert_uint_eq(stat_of(r.out, "shootdowns_skipped"), 0);
	vmm_result_free(&r);
}
END_TEST

/*
 * Every CPU inside the MM at once, on spaces and pages of its own: each
 * mapping as its CPU's shadow says, through the HAT and on the CPU's own
 * CR3; the host checks the whole catalogue at every barrier.
 */
START_TEST(smp_disjoint_runs_on_every_cpu)
{
	static const char *const cpus[] = { "2", "2", "4" };
	char seed[32];

	snprintf(seed, sizeof(seed), "seed=%d", _i + 1);
	struct vmm_result r = tlb_run(cpus[_i], (const char *[]){ "workload=smp-disjoint", seed, NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "CPUs, 6 rounds of 40 steps each, every mapping as expected");   /* a lane each: no cap */
	ASSERT_HAS(r.err, "\nvmm: 9 checks, 0 violations");   /* setup, 6 barriers, end, exit: none from a full log */
	ck_assert_uint_gt(stat_of(r.out, "spaces"), 20);
	vmm_result_free(&r);
}
END_TEST

/* A round whose operation log could overflow between barriers is refused. */
START_TEST(smp_disjoint_refuses_a_round_too_long)
{
	struct vmm_result r = tlb_run("4", (const char *[]){ "workload=smp-disjoint", "steps=200", NULL });

	ASSERT_STATUS(r, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "option steps=200: at most 112 (a CPU's operation log for a round must fit its lane");
	vmm_result_free(&r);
	r = tlb_run("2", (const char *[]){ "workload=smp-disjoint", "check_every=5", NULL });
	ASSERT_STATUS(r, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "check_every is not for it");
	vmm_result_free(&r);
}
END_TEST

/*
 * Every CPU maps the same pages into spaces of its own, runs on one of
 * them, while the others pageunload those pages (shootdowns to it) and
 * fork its spaces: the host's model follows records the CPUs appended in
 * the order their effects took, at every barrier.
 */
START_TEST(smp_share_runs_on_every_cpu)
{
	static const char *const cpus[] = { "2", "2", "4" };
	char seed[32];

	snprintf(seed, sizeof(seed), "seed=%d", _i + 1);
	struct vmm_result r = tlb_run(cpus[_i], (const char *[]){ "workload=smp-share", seed, NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "every mapping read back");
	ASSERT_HAS(r.err, "\nvmm: 9 checks, 0 violations");
	ck_assert_uint_gt(stat_of(r.out, "shootdowns"), 0);
	ck_assert_uint_eq(stat_of(r.out, "shootdowns_skipped"), 0);
	vmm_result_free(&r);
}
END_TEST

/*
 * Instant checks every 5 ms while every CPU races in the MM: not one false
 * alarm in more than ASYNC_WANTED of them. Where checks are slow beside the
 * run (an emulated host checks a few times a run), the run is repeated
 * until they add up, at most ASYNC_RUNS times.
 */
#define ASYNC_WANTED 10ull
#define ASYNC_RUNS   8
START_TEST(async_checks_while_cpus_race)
{
	static const char *const workloads[] = { "workload=smp-share", "workload=smp-steal",
						 "workload=smp-disjoint" };
	const char *opts[] = { "--cpus", _i == 1 ? "4" : "2", "--mem", "128M", "--timeout", "600",
			       "--check=async:5", NULL };
	unsigned long long total = 0;

	for (int run = 0; run < ASYNC_RUNS && total <= ASYNC_WANTED; run++) {
		struct vmm_result r = run_guest(vmm_path, guest_path, opts,
						(const char *[]){ workloads[_i], NULL });
		const char *line = strstr(r.err, "\nvmm: 9 checks and ");   /* setup, 6 barriers, end, exit */
		unsigned long long async = 0;

		ASSERT_STATUS(r, VMM_EXIT_OK);
		ck_assert_msg(line && sscanf(line, "\nvmm: 9 checks and %llu async checks, 0 violations",
					     &async) == 1, "%s", r.err);
		total += async;
		vmm_result_free(&r);
	}
	ck_assert_uint_gt(total, ASYNC_WANTED);
}
END_TEST

/* The same with the hment cache capped: every CPU's loads steal mappings of the others' spaces. */
START_TEST(smp_steal_steals_across_cpus)
{
	static const char *const cpus[] = { "2", "4" };
	char seed[32];

	snprintf(seed, sizeof(seed), "seed=%d", _i + 1);
	struct vmm_result r = tlb_run(cpus[_i], (const char *[]){ "workload=smp-steal", seed, NULL });

	ASSERT_STATUS(r, VMM_EXIT_OK);
	ASSERT_HAS(r.err, "\nvmm: 9 checks, 0 violations");
	ck_assert_uint_gt(stat_of(r.out, "steals"), 0);
	ck_assert_uint_gt(stat_of(r.out, "shootdowns"), 0);
	vmm_result_free(&r);
}
END_TEST

static Suite *smp_suite(void)
{
	Suite *s = suite_create("smp");
	TCase *tc = tcase_create("tlb");

	tcase_set_timeout(tc, 900);
	tcase_add_loop_test(tc, tlb_shootdowns_reach_other_cpus, 0, 2);
	tcase_add_test(tc, tlb_three_cpus);
	tcase_add_test(tc, tlb_xapic);
	tcase_add_test(tc, tlb_skipped_shootdown_is_caught);
	tcase_add_test(tc, tlb_skipped_local_flush_is_caught);
	tcase_add_test(tc, lost_ipi_is_reported);
	tcase_add_test(tc, tlb_needs_two_cpus);
	tcase_add_test(tc, smoke_on_four_cpus);
	tcase_add_loop_test(tc, smp_disjoint_runs_on_every_cpu, 0, 3);
	tcase_add_test(tc, smp_disjoint_refuses_a_round_too_long);
	tcase_add_loop_test(tc, smp_share_runs_on_every_cpu, 0, 3);
	tcase_add_loop_test(tc, smp_steal_steals_across_cpus, 0, 2);
	tcase_add_loop_test(tc, async_checks_while_cpus_race, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return kvm_test_main(argc, argv, &vmm_path, &guest_path, smp_suite);
}
