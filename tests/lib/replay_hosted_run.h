/* SPDX-License-Identifier: BSD-2-Clause */
/* One recorded trace replayed on a fresh hosted MM: the loop the hosted trace tests and the replay benchmark share. */
#ifndef TESTS_LIB_REPLAY_HOSTED_RUN_H
#define TESTS_LIB_REPLAY_HOSTED_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

struct trace;

struct replay_hosted_opts {
	uint64_t ram;              /* bytes of the hosted MM's RAM */
	uint64_t check_every;      /* a checkpoint every N events (0: exits and the end only) */
	uint64_t page_limit;       /* at most this many more pages in use once started (0: no limit) */
	void (*checkpoint)(void *ctx, const char *what);   /* at each checkpoint; may be NULL */
	void (*oplog_full)(void);  /* when the MM's operation log must be drained; may be NULL */
};

struct replay_hosted_run {
	struct trace *trace;
	struct replay *engine;     /* the library's one engine: one run at a time */
	double cpu_s;              /* thread CPU time of replay_hosted_play() (checkpoints included) */
};

/*
 * Opens PATH (the host's trace reader, which validates it whole), boots
 * a hosted MM and starts the engine on it. False with err set, nothing
 * left running. Attach a host model (checker_use_model) before, if any.
 */
bool replay_hosted_start(struct replay_hosted_run *run, const char *path,
			 const struct replay_hosted_opts *opts, char *err, size_t errlen);

/* Plays every event, then replay_finish(). 0, or -1 when the trace failed to read (trace_error()). */
int replay_hosted_play(struct replay_hosted_run *run);

/* Shuts the MM down and closes the trace (the engine's figures stay readable until the next start). */
void replay_hosted_stop(struct replay_hosted_run *run);

#endif
