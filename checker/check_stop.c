/* SPDX-License-Identifier: BSD-2-Clause */
/* The checker's stop request: one process-wide atomic flag that vmm's watchdog and signal handlers set and every long loop of a check polls. */
#include "checker.h"

#include <stdatomic.h>

/* Lock-free, so a signal handler may set it (C11 7.14.1.1). */
static atomic_bool stop_requested;

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "checker_request_stop must be async-signal-safe");

void checker_request_stop(void)
{
	atomic_store_explicit(&stop_requested, true, memory_order_relaxed);
}

void checker_clear_stop(void)
{
	atomic_store_explicit(&stop_requested, false, memory_order_relaxed);
}

bool checker_stop_requested(void)
{
	return atomic_load_explicit(&stop_requested, memory_order_relaxed);
}
