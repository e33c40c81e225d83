/* SPDX-License-Identifier: BSD-2-Clause */
/* A small object cache: pages carved into fixed-size objects (hments, address spaces), a list per CPU, with a failure knob. */
#ifndef GUEST_OBJCACHE_H
#define GUEST_OBJCACHE_H

#include "page.h"

/* struct objcache and its page header are in hatvm/mm_structs.h: the checker reads them (OC_*). */

#define OBJCACHE_LIMIT_NONE UINT64_MAX

/* Sets up an empty cache of size-byte objects; allocates nothing yet. Boot only. */
void objcache_init(struct objcache *oc, const char *name, uint32_t size);

/* Returns a zeroed object, or NULL at the limit or when no page is left. Any CPU. */
void *objcache_alloc(struct objcache *oc);

/*
 * objcache_alloc() without the zeroing, for a caller that sets every
 * byte itself: the object holds what its last free left (its first two
 * bytes a free-list link). Any CPU.
 */
void *objcache_alloc_uninit(struct objcache *oc);

/* Returns an object to its cache. Any CPU. */
void objcache_free(struct objcache *oc, void *obj);

/* Returns n objects to their cache under one lock hold. Any CPU. */
void objcache_free_n(struct objcache *oc, void *const objs[], unsigned n);

/*
 * Allows at most max_in_use objects out at once (OBJCACHE_LIMIT_NONE: no
 * limit); a limit empties every CPU's list and keeps them empty.
 */
void objcache_set_limit(struct objcache *oc, uint64_t max_in_use);

/* From now on each CPU allocates from and frees to a list of its own (cpus: HAT_MAX_CPUS, never freed). Boot only. */
void objcache_per_cpu(struct objcache *oc, struct objcache_cpu cpus[HAT_MAX_CPUS]);

/* Objects on the CPUs' lists: counted in oc_inuse, held by no caller. */
uint64_t objcache_on_cpus(const struct objcache *oc);

#endif
