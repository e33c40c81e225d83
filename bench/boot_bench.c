/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark: vmm start->exit for a one-HLT image and for the hello guest, beside the bare KVM floor, same run. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_table.h"
#include "bench_util.h"
#include "hlt_image.h"
#include "host_kvm.h"

#define RUNS  31
#define GOAL  1.5     /* vmm / floor */

/*
 * One ratio row: vmm start->exit for `what` against the floor (NAN: not
 * measured). The target is the VMM's own cost, so only the one-HLT image
 * has it: hello's time includes the guest kernel's boot.
 */
static struct bench_row *vmm_row(struct bench_table *t, const char *what, double vmm_ms, double floor_ms,
				 bool targeted)
{
	struct bench_row *r = bench_add(t, vmm_ms, "ms", "vmm start->exit, %s", what);

	bench_set_baseline(r, floor_ms, "bare KVM create + HLT");
	bench_set_ratio(r, vmm_ms / floor_ms, "vmm/floor");
	if (targeted)
		bench_set_target(r, "<=", GOAL);
	if (bench_host_emulated())   /* vmm's own code emulated as well as KVM's: not the VMM's cost */
		r->met = BENCH_MET_NA;
	if (bench_kvm_emulated())
		bench_set_note(r, "emulated (%s)%s", bench_kvm_module(),
			       targeted ? "" : "; the guest kernel's boot included");
	else if (!targeted)
		bench_set_note(r, "the guest kernel's boot included");
	return r;
}

/* Times the floor, vmm on the one-HLT image and vmm on hello, interleaved so drift hits all alike. */
static void measure(struct bench_table *t, char **argv, const char *hlt_path)
{
	const char *hello[] = { argv[1], "--quiet", "--mem", "256M", "--cpus", "1", argv[2],
				"--", "workload=hello", NULL };
	const char *hlt[] = { argv[1], "--quiet", "--mem", "256M", "--cpus", "1", hlt_path, NULL };
	const char *floor[] = { argv[3], "268435456", NULL };
	double t_floor[RUNS], t_hlt[RUNS], t_hello[RUNS], floor_ms, hlt_ms, hello_ms;

	for (int i = 0; i < RUNS; i++) {
		t_floor[i] = bench_time_command(floor);
		t_hlt[i] = bench_time_command(hlt);
		t_hello[i] = bench_time_command(hello);
	}
	floor_ms = bench_median(t_floor, RUNS) * 1e3;
	hlt_ms = bench_median(t_hlt, RUNS) * 1e3;
	hello_ms = bench_median(t_hello, RUNS) * 1e3;
	printf("boot benchmark: %d runs each, 256 MiB, 1 vCPU, host KVM: %s\n", RUNS,
	       bench_kvm_module());
	printf("  %-34s %8.3f ms (median)\n", "bare KVM create + HLT (floor)", floor_ms);
	printf("  %-34s %8.3f ms (median)\n", "vmm one-HLT image start->exit", hlt_ms);
	printf("  %-34s %8.3f ms (median)\n", "vmm hello start->exit", hello_ms);
	vmm_row(t, "one-HLT image", hlt_ms, floor_ms, true);
	vmm_row(t, "hello guest", hello_ms, floor_ms, false);
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	char hlt_path[] = "/tmp/hatvm-hlt-XXXXXX";
	struct bench_table t;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s [--json FILE] VMM GUEST.ELF KVM_FLOOR\n", argv[0]);
		return 2;
	}
	bench_table_init(&t, "boot");
	if (!bench_kvm_usable()) {
		printf("boot benchmark: not measured, /dev/kvm absent\n");
		bench_set_note(vmm_row(&t, "one-HLT image", NAN, NAN, true), "not measured: /dev/kvm absent");
		bench_set_note(vmm_row(&t, "hello guest", NAN, NAN, false), "not measured: /dev/kvm absent");
		return bench_table_finish(&t, json);
	}
	if ((fd = mkstemp(hlt_path)) < 0) {
		perror("boot_bench: mkstemp");
		return 1;
	}
	close(fd);
	if (hlt_image_write(hlt_path) != 0) {
		unlink(hlt_path);
		return 1;
	}
	measure(&t, argv, hlt_path);
	unlink(hlt_path);
	return bench_table_finish(&t, json);
}
