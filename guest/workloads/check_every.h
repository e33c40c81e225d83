/* SPDX-License-Identifier: BSD-2-Clause */
/* check_every=N: a checkpoint after every N HAT operations of any MM workload, counted in one place. */
#ifndef GUEST_CHECK_EVERY_H
#define GUEST_CHECK_EVERY_H

#include <stdint.h>

/* Reads check_every=N (0, the default, is off); a usage error when it does not fit 32 bits. */
void check_every_load(void);

/* N, or 0 when dense checkpoints are off. */
uint32_t check_every(void);

/*
 * Counts one HAT operation of workload `who` (stats.ops); after every
 * Nth, a checkpoint labelled "<who>:op-<count>" (count: stats.ops).
 */
void wl_op_done(const char *who);

/*
 * Between hold and release no dense checkpoint is taken; one that falls
 * due meanwhile is taken at the release. For sequences a VM exit could
 * mask: a hypercall may flush the TLB, hiding a stale entry the sequence
 * probes for.
 */
void wl_hold_checkpoints(void);
void wl_release_checkpoints(const char *who);

#endif
