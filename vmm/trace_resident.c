/* SPDX-License-Identifier: BSD-2-Clause */
/* A rough residency model for trace-info: pages faulted in and not unmapped since, per process. */
#include "trace_resident.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace_format.h"
#include "trace_map.h"

struct space {
	struct trace_map pages;   /* page number -> 1 */
	uint64_t brk;
	bool borrows;             /* a vfork child: its pages are its lender's */
	uint32_t lender;
};

struct resident {
	struct space *spaces;     /* by process id */
	uint32_t nspaces;
	uint64_t now, peak;
};

struct resident *resident_new(void)
{
	return calloc(1, sizeof(struct resident));
}

static struct space *space_of(struct resident *r, uint32_t pid)
{
	if (pid >= r->nspaces) {
		uint32_t n = pid + 1 > r->nspaces * 2 ? pid + 1 : r->nspaces * 2;
		struct space *s = realloc(r->spaces, (size_t)n * sizeof(*s));
		if (!s)
			return NULL;
		memset(s + r->nspaces, 0, (size_t)(n - r->nspaces) * sizeof(*s));
		r->spaces = s;
		r->nspaces = n;
	}
	return &r->spaces[pid];
}

static void forget_all(struct resident *r, struct space *s)
{
	r->now -= s->pages.count;
	trace_map_free(&s->pages);
	s->brk = 0;
}

/* Removes the pages of [first, first + n); collects them into MOVED when not NULL. */
static int forget_range(struct resident *r, struct space *s, uint64_t first, uint64_t n,
			uint64_t **moved, size_t *nmoved)
{
	uint64_t *hit = NULL, key;
	size_t nhit = 0, slot = 0;
	uint32_t val;

	hit = malloc(((n < s->pages.count ? n : s->pages.count) + 1) * sizeof(*hit));
	if (!hit)
		return -1;
	if (n <= s->pages.count) {   /* the range is the shorter walk */
		for (uint64_t p = first; p < first + n; p++)
			if (trace_map_get(&s->pages, p, NULL))
				hit[nhit++] = p;
	} else {
		while (trace_map_next(&s->pages, &slot, &key, &val))
			if (key >= first && key - first < n)
				hit[nhit++] = key;
	}
	for (size_t i = 0; i < nhit; i++)
		trace_map_del(&s->pages, hit[i]);
	r->now -= nhit;
	if (moved) {
		*moved = hit;
		*nmoved = nhit;
	} else {
		free(hit);
	}
	return 0;
}

static int touch(struct resident *r, struct space *s, uint64_t page)
{
	if (trace_map_get(&s->pages, page, NULL))
		return 0;
	if (trace_map_put(&s->pages, page, 1))
		return -1;
	if (++r->now > r->peak)
		r->peak = r->now;
	return 0;
}

/* mremap moves the pages it keeps; those past the new length go. */
static int move_range(struct resident *r, struct space *s, const struct trace_event *ev)
{
	uint64_t old = ev->te_addr >> TRACE_PAGE_SHIFT, to = ev->te_arg >> TRACE_PAGE_SHIFT;
	uint64_t keep = ev->te_len2 >> TRACE_PAGE_SHIFT, *moved = NULL;
	size_t n = 0;
	int rc = 0;

	if (forget_range(r, s, old, ev->te_len >> TRACE_PAGE_SHIFT, &moved, &n))
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (moved[i] - old < keep)
			rc = touch(r, s, to + (moved[i] - old));
	free(moved);
	return rc;
}

static int shrink_heap(struct resident *r, struct space *s, uint64_t brk)
{
	uint64_t old_end = (s->brk + TRACE_PAGE_SIZE - 1) >> TRACE_PAGE_SHIFT;
	uint64_t new_end = (brk + TRACE_PAGE_SIZE - 1) >> TRACE_PAGE_SHIFT;

	s->brk = brk;
	if (old_end && new_end < old_end)
		return forget_range(r, s, new_end, old_end - new_end, NULL, NULL);
	return 0;
}

int resident_event(struct resident *r, const struct trace_event *ev)
{
	uint32_t last = ev->te_kind == TR_FORK && ev->te_arg > ev->te_pid ? (uint32_t)ev->te_arg
									: ev->te_pid;

	if (!space_of(r, last))   /* before s: growing moves the array */
		return -1;
	struct space *own = &r->spaces[ev->te_pid];
	struct space *s = own->borrows ? &r->spaces[own->lender] : own;
	switch (ev->te_kind) {
	case TR_EXEC:
	case TR_EXIT:
		if (own->borrows)
			own->borrows = false;   /* the lender keeps what its child touched */
		else
			forget_all(r, s);
		return 0;
	case TR_FAULT:
		return touch(r, s, ev->te_addr >> TRACE_PAGE_SHIFT);
	case TR_MMAP:
	case TR_MUNMAP:
	case TR_DONTNEED:
		return forget_range(r, s, ev->te_addr >> TRACE_PAGE_SHIFT,
				    ev->te_len >> TRACE_PAGE_SHIFT, NULL, NULL);
	case TR_MREMAP:
		return move_range(r, s, ev);
	case TR_BRK:
		return shrink_heap(r, s, ev->te_addr);
	case TR_FORK:   /* the child starts empty, or with its parent's memory */
		if ((ev->te_flags & TR_FORK_VM) && ev->te_arg > ev->te_pid)
			r->spaces[ev->te_arg] = (struct space){
				.borrows = true, .lender = own->borrows ? own->lender : ev->te_pid };
		return 0;
	default:   /* MPROTECT keeps the pages */
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
	for (uint32_t i = 0; i < r->nspaces; i++)
		trace_map_free(&r->spaces[i].pages);
	free(r->spaces);
	free(r);
}
