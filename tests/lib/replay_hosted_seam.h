/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay engine's seam hosted: user accesses simulated on the PTEs, checkpoints handed to the test. */
#ifndef TESTS_LIB_REPLAY_HOSTED_SEAM_H
#define TESTS_LIB_REPLAY_HOSTED_SEAM_H

#include "replay.h"

/*
 * A seam whose access walks h's tables like the CPU: a missing or too
 * weak leaf is a fault handed to replay_fault() (as the guest's #PF
 * handler would), then retried; a successful access sets the accessed
 * (and, for a write, dirty) bit. checkpoint(ctx, what) is called at every
 * checkpoint; it may be NULL.
 */
struct replay_seam replay_hosted_seam(void (*checkpoint)(void *ctx, const char *what), void *ctx);

/* Faults the hosted accesses raised so far. */
extern uint64_t replay_hosted_faults;

#endif
