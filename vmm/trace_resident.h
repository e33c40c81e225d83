/* SPDX-License-Identifier: BSD-2-Clause */
/* A rough residency model for trace-info: pages faulted in and not unmapped since, per process. */
#ifndef VMM_TRACE_RESIDENT_H
#define VMM_TRACE_RESIDENT_H

#include <stdint.h>

#include "hatvm/trace.h"

/*
 * Each process holds the pages it faulted in (one per distinct page
 * touched) until it unmaps them (munmap, madvise(DONTNEED), a mapping
 * over them, a shrinking brk), moves them (mremap) or exits or execs. A
 * forked child starts with none: until it touches a page it shares its
 * parent's. A vfork's child (any CLONE_VM child) uses its parent's
 * address space: what it touches is its parent's, and the space's pages
 * go when the last process using it exits or execs, which may be the
 * child. Shared file pages count once per process that touched them,
 * as RSS does, so the sum is an upper bound on what a replay needs.
 */
struct resident;

struct resident *resident_new(void);

/* Applies one event; -1 when memory ran out (the model is then undercounting). */
int resident_event(struct resident *r, const struct trace_event *ev);

uint64_t resident_now(const struct resident *r);
uint64_t resident_peak(const struct resident *r);

void resident_free(struct resident *r);

#endif
