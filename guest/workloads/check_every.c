/* SPDX-License-Identifier: BSD-2-Clause */
/* check_every=N: every workload's HAT operations counted here, a checkpoint after every Nth. */
#include "check_every.h"

#include "cmdline.h"
#include "kernel.h"
#include "stats.h"
#include "util.h"

static uint32_t every;      /* 0: off */
static unsigned held;       /* wl_hold_checkpoints() nesting */
static bool due;            /* a checkpoint fell due while held */

void check_every_load(void)
{
	every = cmdline_get_u32("check_every", 0);
}

uint32_t check_every(void)
{
	return every;
}

static void dense_checkpoint(const char *who)
{
	char what[32];

	ksnprintf(what, sizeof(what), "op-%" PRIu64, stats.ops);
	wl_checkpoint(who, what);
}

void wl_op_done(const char *who)
{
	uint64_t n = __atomic_add_fetch(&stats.ops, 1, __ATOMIC_RELAXED);

	if (every == 0 || n % every != 0)
		return;
	if (held) {
		due = true;
		return;
	}
	dense_checkpoint(who);
}

void wl_hold_checkpoints(void)
{
	held++;
}

void wl_release_checkpoints(const char *who)
{
	if (held == 0)
		panic("%s: checkpoints released without a hold", who);
	if (--held == 0 && due) {
		due = false;
		dense_checkpoint(who);
	}
}
