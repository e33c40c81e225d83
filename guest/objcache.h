/* SPDX-License-Identifier: BSD-2-Clause */
/* A small object cache: pages carved into fixed-size objects (hments, address spaces), with a failure knob. */
#ifndef GUEST_OBJCACHE_H
#define GUEST_OBJCACHE_H

#include "page.h"

#define OBJCACHE_LIMIT_NONE UINT64_MAX

/*
 * Each page a cache carves keeps its own free list, in a header at the
 * page's end (struct objcache_slab, objcache.c). Allocations drain one
 * page before the next: objects handed out one after another sit side
 * by side however much freeing has scattered the free ones (a single
 * list would hand them out in the order they were freed).
 */
struct objcache {
	const char *oc_name;
	uint32_t oc_size;        /* object size, a multiple of 8 */
	uint32_t oc_recip;       /* ceil(2^32 / oc_size): an offset in a page divided by oc_size is (off * oc_recip) >> 32 */
	uint32_t oc_per_page;    /* objects carved from one page */
	struct objcache_slab *oc_partial;       /* pages with free objects: allocations take the first's */
	struct objcache_slab *oc_partial_tail;  /* where a page that was full joins when one is freed */
	uint64_t oc_inuse;       /* objects handed out */
	uint64_t oc_nfree;       /* free objects on all pages */
	uint64_t oc_npages;      /* pages taken from the page allocator (never returned) */
	uint64_t oc_limit;       /* at most this many in use at once */
	uint64_t oc_nfail;       /* allocations refused */
	struct mm_lock oc_lock;
};

/* Sets up an empty cache of size-byte objects; allocates nothing yet. Boot only. */
void objcache_init(struct objcache *oc, const char *name, uint32_t size);

/* Returns a zeroed object, or NULL at the limit or when no page is left. Any CPU. */
void *objcache_alloc(struct objcache *oc);

/* Returns an object to its cache. Any CPU. */
void objcache_free(struct objcache *oc, void *obj);

/* Returns n objects to their cache under one lock hold. Any CPU. */
void objcache_free_n(struct objcache *oc, void *const objs[], unsigned n);

/* Allows at most max_in_use objects out at once (OBJCACHE_LIMIT_NONE: no limit). */
void objcache_set_limit(struct objcache *oc, uint64_t max_in_use);

#endif
