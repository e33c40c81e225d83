/* SPDX-License-Identifier: BSD-2-Clause */
/* What every MM workload needs: the HAT operations (each counted once, check_every honoured), checkpoints, the closing stats line. */
#ifndef GUEST_WORKLOAD_UTIL_H
#define GUEST_WORKLOAD_UTIL_H

#include "hat.h"

/*
 * Workloads call the HAT only through these wrappers (hat_switch aside:
 * it changes no mapping): each counts one op in stats and, with
 * check_every=N, may be followed by a checkpoint. `who` names the
 * workload, in panics and checkpoint labels.
 */

/* hat_create(), counted as a space; panics when it fails. */
struct hat *wl_hat_create(const char *who);
/* hat_create() that may fail (NULL), as under a page cap. */
struct hat *wl_hat_try_create(const char *who);
void wl_hat_destroy(const char *who, struct hat *h);

/* hat_memload(), counted as a map; panics when it fails. */
void wl_memload(const char *who, struct hat *h, uint64_t va, page_t *pp, unsigned attr);
/* hat_memload() that may fail: its result (0, or -1 with nothing mapped). */
int wl_memload_try(const char *who, struct hat *h, uint64_t va, page_t *pp, unsigned attr);

/* hat_memload_array() of len / 4 KiB pages, counted as that many maps; panics when it fails. */
void wl_memload_array(const char *who, struct hat *h, uint64_t va, uint64_t len, page_t **pps,
		      unsigned attr);
/* hat_dup() of src's [va, va + len) into dst with attr; panics when it fails. */
void wl_dup(const char *who, struct hat *dst, struct hat *src, uint64_t va, uint64_t len,
	    unsigned attr);
/* hat_dup() that may fail: its result (0, or HAT_ERR_NOMEM with dst's range left empty). */
int wl_dup_try(const char *who, struct hat *dst, struct hat *src, uint64_t va, uint64_t len,
	       unsigned attr);

void wl_unload(const char *who, struct hat *h, uint64_t va, uint64_t len);
unsigned wl_pageunload(const char *who, page_t *pp);
void wl_chgprot(const char *who, struct hat *h, uint64_t va, uint64_t len, unsigned attr);
uint64_t wl_getpfnum(const char *who, struct hat *h, uint64_t va);
uint64_t wl_getpte(const char *who, struct hat *h, uint64_t va);
unsigned wl_pagesync(const char *who, page_t *pp, unsigned flags);
void wl_page_clrattr(const char *who, page_t *pp, unsigned attr);

/* page_alloc(PG_USER); panics naming `who` when RAM is exhausted. */
page_t *wl_page_alloc(const char *who);

/* A checkpoint labelled "<workload>:<what>", counted in stats. */
void wl_checkpoint(const char *workload, const char *what);

/* The workload's last checkpoint, then its `stats:` line. */
void wl_finish(const char *workload, const char *what);

#endif
