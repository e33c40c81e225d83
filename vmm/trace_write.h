/* SPDX-License-Identifier: BSD-2-Clause */
/* The trace encoder: events and files in, a complete trace file (TRACE_VERSION) out. */
#ifndef VMM_TRACE_WRITE_H
#define VMM_TRACE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "hatvm/trace.h"

/* What the header says besides the counts (strings longer than the format's maxima are cut). */
struct trace_meta {
	const char *command;   /* the recorded command line */
	const char *machine;   /* uname of the recording machine */
	const char *date;      /* when, ISO 8601 */
	uint64_t lost;         /* events perf reported lost */
	uint64_t skipped;      /* perf lines or events the recorder could not use */
};

struct trace_writer;

/* NULL when out of memory. */
struct trace_writer *trace_writer_new(void);

/*
 * The file-table index of (DEV, INODE, PATH), added when new. -1 when the
 * path is longer than the format allows, the table is full or memory ran out.
 */
int trace_writer_file(struct trace_writer *w, uint64_t dev, uint64_t inode, const char *path,
		      uint32_t *idx);

/*
 * Encodes EV after checking it with the reader's rules (trace_rules.h),
 * so a writer never makes a file its reader refuses. -1 with WHY when EV
 * breaks them or memory ran out; nothing is written then.
 */
int trace_writer_add(struct trace_writer *w, const struct trace_event *ev, char *why, size_t len);

/* Process ids handed out so far (the next FORK's child is this number). */
uint32_t trace_writer_processes(const struct trace_writer *w);

/* Events added so far of KIND, or of every kind for 0. */
uint64_t trace_writer_count(const struct trace_writer *w, uint32_t kind);

/* Writes the whole trace to PATH (completely or not at all). 0, or -1 with err set. */
int trace_writer_save(struct trace_writer *w, const char *path, const struct trace_meta *meta,
		      char *err, size_t errlen);

void trace_writer_free(struct trace_writer *w);

#endif
