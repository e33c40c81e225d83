/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay engine: a recorded Linux process tree played on the HAT as a small kernel would (processes, regions, page cache, COW, reclaim). */
#ifndef GUEST_REPLAY_H
#define GUEST_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "hatvm/replay_stats.h"
#include "hatvm/trace.h"

struct hat;
struct replay;
struct rproc;

/* Linux's TASK_SIZE on x86-64: user mappings end below it; the page above is the replay's own. */
#define REPLAY_TASK_TOP 0x00007ffffffff000ull

/* An access, as replay_fault() and the seam name it. */
#define REPLAY_ACC_READ  0x1u
#define REPLAY_ACC_WRITE 0x2u
#define REPLAY_ACC_EXEC  0x4u

/* Results of replay_fault() and of the seam's access. */
enum replay_rc {
	REPLAY_OK = 0,
	REPLAY_ENOREGION,   /* no region covers the address: a trace error */
	REPLAY_EPROT,       /* the region does not allow the access: a trace error */
	REPLAY_ENOMEM,      /* nothing left to reclaim */
	REPLAY_EACCESS,     /* the access itself went wrong (an unexpected fault) */
};

/*
 * What the engine needs from where it runs. In the guest, access() runs
 * ring-3 code in the process's address space and the #PF handler calls
 * replay_fault(); hosted, it looks the PTE up and calls replay_fault()
 * itself. Both must end with the access done or an error.
 */
struct replay_seam {
	void *ctx;
	enum replay_rc (*access)(void *ctx, struct replay *r, struct rproc *p, struct hat *h,
				 uint64_t va, unsigned acc);
	/* A checkpoint labelled "replay:WHAT" (the host checks everything). */
	void (*checkpoint)(void *ctx, const char *what);
	/* h is about to be destroyed: make sure no CPU has it loaded. */
	void (*space_gone)(void *ctx, struct hat *h);
};

/* Options: checkpoint every check_every events (0: only at exits and the end). */
struct replay_config {
	uint64_t check_every;
	uint64_t files;          /* the trace's file table size (te_file below it); 0: unknown */
};

/* Sets up an engine on the booted MM; false when not even its tables fit. */
bool replay_init(struct replay *r, const struct replay_seam *seam, const struct replay_config *cfg);

/* Plays one event. Malformed events are trace errors (counted), never trusted. */
void replay_event(struct replay *r, const struct trace_event *ev);

/* Ends every process, empties the page cache and takes the last sample. */
void replay_finish(struct replay *r);

/*
 * Resolves a user fault of pid p at va (the #PF handler's work):
 * REPLAY_OK when the access can now succeed.
 */
enum replay_rc replay_fault(struct replay *r, struct rproc *p, uint64_t va, unsigned acc);

const struct replay_stats *replay_stats(const struct replay *r);

/* The one `replay: ...` line (no newline) into buf. */
void replay_format(const struct replay *r, char *buf, unsigned long size);

/* The engine's state, public only for its size (callers allocate it). */
#include "replay_state.h"

#endif
