/* SPDX-License-Identifier: BSD-2-Clause */
/* The trace reader: an untrusted trace file validated whole at open, then streamed one event at a time. */
#ifndef VMM_TRACE_READ_H
#define VMM_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "hatvm/trace.h"

/* One row of the file table. */
struct trace_file {
	uint64_t dev;        /* major << 32 | minor; 0 for the kernel's [vdso]-style mappings */
	uint64_t inode;
	const char *path;    /* as the recording machine named it; may hold unprintable bytes */
};

struct trace_header {
	uint32_t version;
	char *command, *machine, *date;   /* NUL-terminated */
	uint64_t events;                  /* all kinds */
	uint64_t count[TR_KIND_MAX + 1];  /* by kind; count[0] unused */
	uint32_t processes;               /* ids 0 .. processes-1 */
	uint32_t files;                   /* entries in the file table */
	uint64_t lost;                    /* events perf reported lost while recording */
	uint64_t skipped;                 /* perf lines or events the recorder could not use */
	uint64_t size;                    /* the file's size in bytes */
};

struct trace;

/*
 * Opens the trace at PATH and validates all of it before returning:
 * magic and version, every length (against the file's size and the
 * format's maxima), every varint, every event under the rules of
 * trace_rules.h, the header's counts against the events, the end tag and
 * the CRC. Memory: the file table plus a constant. NULL with
 * err = "PATH: event N (byte B): what is wrong" (or "header", "file table
 * entry N", "end of trace") when anything is off.
 */
struct trace *trace_open(const char *path, char *err, size_t errlen);

const struct trace_header *trace_header(const struct trace *t);

/* Row IDX of the file table, NULL when IDX is outside it (TR_FILE_NONE included). */
const struct trace_file *trace_file(const struct trace *t, uint32_t idx);

/*
 * The next event into *ev: 1, 0 at the end of the trace, -1 on an error
 * (the file changed since it was opened, or a read failed): trace_error()
 * says what, in the format of trace_open's messages.
 */
int trace_next(struct trace *t, struct trace_event *ev);

/* The latest error message ("" when none). */
const char *trace_error(const struct trace *t);

/* Events returned so far: the number of the latest (the first is 1). */
uint64_t trace_record(const struct trace *t);

/* Back to the first event. 0, or -1 with trace_error() set. */
int trace_rewind(struct trace *t);

void trace_close(struct trace *t);

#endif
