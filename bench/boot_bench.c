/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark: vmm start->exit for the hello guest beside the bare KVM floor, same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define RUNS 31

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s VMM GUEST.ELF KVM_FLOOR\n", argv[0]);
		return 2;
	}
	const char *vmm[] = { argv[1], "--quiet", "--mem", "256M", "--cpus", "1", argv[2],
			      "--", "workload=hello", NULL };
	const char *floor[] = { argv[3], "268435456", NULL };
	double t_vmm[RUNS], t_floor[RUNS];

	/* interleaved so drift in the machine hits both alike */
	for (int i = 0; i < RUNS; i++) {
		t_floor[i] = bench_time_command(floor);
		t_vmm[i] = bench_time_command(vmm);
	}
	double floor_ms = bench_median(t_floor, RUNS) * 1e3;
	double vmm_ms = bench_median(t_vmm, RUNS) * 1e3;
	printf("boot benchmark: %d runs each, 256 MiB, 1 vCPU\n", RUNS);
	printf("  %-34s %8.3f ms (median)\n", "bare KVM create + HLT (floor)", floor_ms);
	printf("  %-34s %8.3f ms (median)\n", "vmm hello start->exit", vmm_ms);
	printf("  %-34s %8.2fx (goal <= 1.5x)\n", "ratio vmm / floor", vmm_ms / floor_ms);
	return 0;
}
