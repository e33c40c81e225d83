/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the hypercall decoder on arbitrary port accesses and argument memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_mem.h"
#include "hypercall.h"

#define FUZZ_RAM  (1u << 20)
#define ARG_GPA   0x1000u
/* port (2), flags (1: out, value mode, string I/O), size (1), count (4); then RAM from ARG_GPA */
#define HEADER    8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static FILE *sink_file;
	struct hc_result res;

	if (!gm.base && guest_mem_map(&gm, FUZZ_RAM) != 0)
		abort();
	if (!sink_file && !(sink_file = fopen("/dev/null", "w")))
		abort();
	if (size < HEADER)
		return 0;
	struct hc_call call = { .out = data[2] & 1, .string = data[2] & 4, .size = data[3] };
	memcpy(&call.port, data, 2);
	memcpy(&call.count, data + 4, 4);
	/* the value is mostly the argument struct's GPA, sometimes anything */
	call.value = (data[2] & 2) ? (uint32_t)call.count * 4099u : ARG_GPA;
	call.port = (uint16_t)(HC_PORT_BASE + call.port % (HC_PORT_COUNT + 2));

	size_t n = size - HEADER < FUZZ_RAM - ARG_GPA ? size - HEADER : FUZZ_RAM - ARG_GPA;
	memset(gm.base, 0, FUZZ_RAM);
	memcpy(gm.base + ARG_GPA, data + HEADER, n);
	struct hc_sink sink = { .console = sink_file, .diag = sink_file };
	hypercall_handle(&gm, 0, &call, &sink, &res);
	return 0;
}
