/* SPDX-License-Identifier: BSD-2-Clause */
/* Joins the benchmarks' JSON files into the one table (printed) and one JSON file: bench_report [--json OUT] IN.json... */
#include <stdio.h>

#include "bench_table.h"
#include "host_kvm.h"

/* One line under the table: how many targets were met. */
static void print_summary(const struct bench_table *t)
{
	size_t count[3] = { 0 };

	for (size_t i = 0; i < t->n; i++)
		count[t->rows[i].met]++;
	printf("%zu figures: %zu targets met, %zu not met, %zu without a target or not measured\n",
	       t->n, count[BENCH_MET_YES], count[BENCH_MET_NO], count[BENCH_MET_NA]);
}

int main(int argc, char **argv)
{
	const char *out = bench_json_option(&argc, argv);
	struct bench_table t;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s [--json OUT] IN.json...\n", argv[0]);
		return 2;
	}
	bench_table_init(&t, "");
	for (int i = 1; i < argc; i++)
		if (bench_table_read_json(&t, argv[i]) != 0)
			rc = 1;
	const char *kvm = t.kvm[0] != '\0' ? t.kvm : bench_kvm_module();

	printf("hatvm benchmarks, KVM: %s\n", kvm);
	bench_table_print(&t, stdout);
	print_summary(&t);
	if (out != NULL && bench_table_write_json(&t, out, kvm) != 0)
		rc = 1;
	bench_table_free(&t);
	return rc;
}
