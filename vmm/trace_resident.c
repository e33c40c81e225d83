/* SPDX-License-Identifier: BSD-2-Clause */
/* A rough residency model for trace-info: pages faulted in and not unmapped since, per process. */
#include "trace_resident.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace_format.h"
#include "trace_map.h"

/* An address space: a process's own, or one a vfork's children borrow. */
struct mem {
	struct trace_map pages;   /* page number -> 1 */
	uint64_t brk;
	uint32_t users;           /* processes using it: its owner and its borrowers */
};

struct resident {
	struct mem **mems;        /* by process id; NULL until the process touches memory */
	uint32_t nprocs;
	uint64_t now, peak;
};

struct resident *resident_new(void)
{
	return calloc(1, sizeof(struct resident));
}

/* Makes room for process ids up to pid; false when memory ran out. */
static bool procs_up_to(struct resident *r, uint32_t pid)
{
	if (pid < r->nprocs)
		return true;
	uint32_t n = pid + 1 > r->nprocs * 2 ? pid + 1 : r->nprocs * 2;
	struct mem **m = realloc(r->mems, (size_t)n * sizeof(*m));
	if (!m)
		return false;
	memset(m + r->nprocs, 0, (size_t)(n - r->nprocs) * sizeof(*m));
	r->mems = m;
	r->nprocs = n;
	return true;
}

/* pid's address space, made empty on its first use. */
static struct mem *mem_of(struct resident *r, uint32_t pid)
{
	if (r->mems[pid] == NULL && (r->mems[pid] = calloc(1, sizeof(struct mem))) != NULL)
		r->mems[pid]->users = 1;
	return r->mems[pid];
}

/* pid stops using its space (exit, exec): the last user's going releases the pages. */
static void leave(struct resident *r, uint32_t pid)
{
	struct mem *m = r->mems[pid];

	r->mems[pid] = NULL;
	if (m == NULL || --m->users > 0)
		return;
	r->now -= m->pages.count;
	trace_map_free(&m->pages);
	free(m);
}

/* Removes the pages of [first, first + n); collects them into MOVED when not NULL. */
static int forget_range(struct resident *r, struct mem *m, uint64_t first, uint64_t n,
			uint64_t **moved, size_t *nmoved)
{
	uint64_t *hit = NULL, key;
	size_t nhit = 0, slot = 0;
	uint32_t val;

	hit = malloc(((n < m->pages.count ? n : m->pages.count) + 1) * sizeof(*hit));
	if (!hit)
		return -1;
	if (n <= m->pages.count) {   /* the range is the shorter walk */
		for (uint64_t p = first; p < first + n; p++)
			if (trace_map_get(&m->pages, p, NULL))
				hit[nhit++] = p;
	} else {
		while (trace_map_next(&m->pages, &slot, &key, &val))
			if (key >= first && key - first < n)
				hit[nhit++] = key;
	}
	for (size_t i = 0; i < nhit; i++)
		trace_map_del(&m->pages, hit[i]);
	r->now -= nhit;
	if (moved) {
		*moved = hit;
		*nmoved = nhit;
	} else {
		free(hit);
	}
	return 0;
}

static int touch(struct resident *r, struct mem *m, uint64_t page)
{
	if (trace_map_get(&m->pages, page, NULL))
		return 0;
	if (trace_map_put(&m->pages, page, 1))
		return -1;
	if (++r->now > r->peak)
		r->peak = r->now;
	return 0;
}

/* mremap moves the pages it keeps; those past the new length go. */
static int move_range(struct resident *r, struct mem *m, const struct trace_event *ev)
{
	uint64_t old = ev->te_addr >> TRACE_PAGE_SHIFT, to = ev->te_arg >> TRACE_PAGE_SHIFT;
	uint64_t keep = ev->te_len2 >> TRACE_PAGE_SHIFT, *moved = NULL;
	size_t n = 0;
	int rc = 0;

	if (forget_range(r, m, old, ev->te_len >> TRACE_PAGE_SHIFT, &moved, &n))
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (moved[i] - old < keep)
			rc = touch(r, m, to + (moved[i] - old));
	free(moved);
	return rc;
}

static int shrink_heap(struct resident *r, struct mem *m, uint64_t brk)
{
	uint64_t old_end = (m->brk + TRACE_PAGE_SIZE - 1) >> TRACE_PAGE_SHIFT;
	uint64_t new_end = (brk + TRACE_PAGE_SIZE - 1) >> TRACE_PAGE_SHIFT;

	m->brk = brk;
	if (old_end && new_end < old_end)
		return forget_range(r, m, new_end, old_end - new_end, NULL, NULL);
	return 0;
}

int resident_event(struct resident *r, const struct trace_event *ev)
{
	bool forks = ev->te_kind == TR_FORK && ev->te_arg > ev->te_pid;

	if (!procs_up_to(r, forks ? (uint32_t)ev->te_arg : ev->te_pid))
		return -1;
	if (ev->te_kind == TR_EXEC || ev->te_kind == TR_EXIT) {
		leave(r, ev->te_pid);
		return 0;
	}
	if (ev->te_kind == TR_MPROTECT || (ev->te_kind == TR_FORK && !forks))
		return 0;   /* the pages stay */
	struct mem *m = mem_of(r, ev->te_pid);
	if (m == NULL)
		return -1;
	switch (ev->te_kind) {
	case TR_FAULT:
		return touch(r, m, ev->te_addr >> TRACE_PAGE_SHIFT);
	case TR_MMAP:
	case TR_MUNMAP:
	case TR_DONTNEED:
		return forget_range(r, m, ev->te_addr >> TRACE_PAGE_SHIFT,
				    ev->te_len >> TRACE_PAGE_SHIFT, NULL, NULL);
	case TR_MREMAP:
		return move_range(r, m, ev);
	case TR_BRK:
		return shrink_heap(r, m, ev->te_addr);
	case TR_FORK:   /* the child starts empty, or with its parent'm space as its own */
		leave(r, (uint32_t)ev->te_arg);
		if (ev->te_flags & TR_FORK_VM) {
			r->mems[ev->te_arg] = m;
			m->users++;
		}
		return 0;
	default:
		return 0;
	}
}

uint64_t resident_now(const struct resident *r)
{
	return r->now;
}

uint64_t resident_peak(const struct resident *r)
{
	return r->peak;
}

void resident_free(struct resident *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nprocs; i++)
		leave(r, i);
	free(r->mems);
	free(r);
}
