/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the trace reader and trace-info over it, with the CRC as found and as recomputed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "trace_crc.h"
#include "trace_info.h"
#include "trace_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opens the bytes as a trace and, when the reader takes them, streams and summarises them. */
static void read_trace(const uint8_t *data, size_t size, FILE *sink)
{
	char err[1024];
	struct trace_event ev;
	const char *path = fuzz_input_path(data, size);
	struct trace *t = trace_open(path, err, sizeof(err));

	if (!t)
		return;
	while (trace_next(t, &ev) == 1)
		if (ev.te_file != TR_FILE_NONE && !trace_file(t, ev.te_file))
			abort();   /* the reader let an index outside the file table through */
	trace_close(t);
	trace_info_print(path, sink, sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	read_trace(data, size, sink);
	if (size < 4)
		return 0;
	/* a mutation with its CRC made right again reaches every structural check */
	uint8_t *fixed = malloc(size);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	uint32_t crc = trace_crc32(0, fixed, size - 4);
	for (int i = 0; i < 4; i++)
		fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	read_trace(fixed, size, sink);
	free(fixed);
	return 0;
}
