/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the core-file reader, then the page-table walker over what it loaded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core_dump.h"
#include "fuzz_input.h"
#include "guest_mem.h"
#include "ptdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct guest_mem gm = { 0 };
	struct core_vcpu_state *vcpus = NULL;
	unsigned ncpus = 0;
	uint64_t run_flags;
	char err[512];

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	if (core_dump_read(fuzz_input_path(data, size), &gm, &vcpus, &ncpus, &run_flags, err, sizeof(err)) != 0)
		return 0;
	for (unsigned i = 0; i < ncpus; i++)
		ptdump_write(sink, &gm, NULL, vcpus[i].cr3, NULL, NULL);
	free(vcpus);
	guest_mem_unmap(&gm);
	return 0;
}
