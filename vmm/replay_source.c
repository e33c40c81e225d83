/* SPDX-License-Identifier: BSD-2-Clause */
/* vmm --replay: adapts the trace reader (trace_read.h) to the trace hypercall's source. */
#include "replay_source.h"

#include <stdio.h>

#include "hypercall.h"
#include "trace_read.h"

static struct trace *trace;
static struct hc_trace_source source;

static int next_event(void *ctx, struct trace_event *ev, char *err, size_t err_size)
{
	int rc = trace_next(ctx, ev);

	if (rc < 0)
		snprintf(err, err_size, "%s", trace_error(ctx));
	return rc;
}

bool replay_source_open(const char *path, FILE *err)
{
	char why[1024];

	trace = trace_open(path, why, sizeof(why));
	if (trace == NULL) {
		fprintf(err, "vmm: --replay: %s\n", why);
		return false;
	}
	source = (struct hc_trace_source){ .next_event = next_event, .ctx = trace,
					   .files = trace_header(trace)->files };
	hypercall_set_trace_source(&source);
	return true;
}

void replay_source_close(void)
{
	hypercall_set_trace_source(NULL);
	if (trace)
		trace_close(trace);
	trace = NULL;
}

uint64_t replay_source_events(void)
{
	return trace ? trace_header(trace)->events : 0;
}

const char *replay_source_file_path(uint64_t index)
{
	const struct trace_file *f;

	if (trace == NULL || index >= trace_header(trace)->files)
		return NULL;
	f = trace_file(trace, (uint32_t)index);
	return f ? f->path : NULL;
}
