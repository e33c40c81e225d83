/* SPDX-License-Identifier: BSD-2-Clause */
/* What every MM workload needs: HAT operations that must succeed, checkpoints, the closing stats line. */
#ifndef GUEST_WORKLOAD_UTIL_H
#define GUEST_WORKLOAD_UTIL_H

#include "hat.h"

/* hat_create(), counted as a space and an op; panics naming `who` when it fails. */
struct hat *wl_hat_create(const char *who);

/* page_alloc(PG_USER); panics naming `who` when RAM is exhausted. */
page_t *wl_page_alloc(const char *who);

/* hat_memload(), counted as a map and an op; panics naming `who` when it fails. */
void wl_memload(const char *who, struct hat *h, uint64_t va, page_t *pp, unsigned attr);

/* A checkpoint labelled "<workload>:<what>", counted in stats. */
void wl_checkpoint(const char *workload, const char *what);

/* The workload's last checkpoint, then its `stats:` line. */
void wl_finish(const char *workload, const char *what);

#endif
