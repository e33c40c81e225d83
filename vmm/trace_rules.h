/* SPDX-License-Identifier: BSD-2-Clause */
/* What a well-formed trace event is: the one set of rules the writer obeys and the reader enforces. */
#ifndef VMM_TRACE_RULES_H
#define VMM_TRACE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "hatvm/trace.h"

/* The state the rules need while a stream goes by: constant size. */
struct trace_rules {
	uint32_t processes;       /* ids 0 .. processes-1 exist (process 0 from the start) */
	uint32_t max_processes;   /* a FORK may not make more */
	uint32_t files;           /* entries in the file table */
};

void trace_rules_init(struct trace_rules *r, uint32_t max_processes, uint32_t files);

/*
 * 0 when EV is well formed after the events checked before it, -1 with
 * WHY (e.g. "MMAP length is 0 pages") otherwise. A FORK that passes
 * creates its child. Checked: the kind, the process ids (a FORK's child
 * is the next new id), page alignment and ranges below
 * TRACE_ADDR_LIMIT, protection, flag and fault bits, file indexes, and
 * that fields the kind does not use are zero (TR_FILE_NONE for te_file).
 */
int trace_rules_check(struct trace_rules *r, const struct trace_event *ev, char *why, size_t len);

/* "fork", "exec", ... "fault"; "?" outside 1..TR_KIND_MAX. */
const char *trace_kind_name(uint32_t kind);

#endif
