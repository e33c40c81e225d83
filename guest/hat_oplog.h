/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT operation log: one record per operation that changes a mapping, for the host's model of what should be mapped. */
#ifndef GUEST_HAT_OPLOG_H
#define GUEST_HAT_OPLOG_H

#include "page.h"

/* Records in each CPU's lane: 40 bytes each, 160 KiB a lane; a forced checkpoint every ~4000 operations of a CPU at most. */
#define HAT_OPLOG_SIZE 4096u

extern struct hat_oplog hat_oplog;

/* Boot: carves a lane for each CPU (mm_oplog_lanes(), page_boot_alloc). */
void hat_oplog_init(void);

/*
 * Before an operation, with no MM lock held: when the ring is nearly
 * full, asks the platform for a checkpoint (mm_oplog_full), which shows
 * the host every record and then calls hat_oplog_drained().
 */
void hat_oplog_make_room(void);

/* hat_oplog_make_room() for an operation that appends up to n records more than one. */
void hat_oplog_make_room_for(unsigned n);

/* Appends n records with consecutive numbers (o_seq; ops' own is ignored) to this CPU's lane. Any CPU, any lock. */
void hat_oplog_append_n(const struct hat_op *ops, unsigned n);

/*
 * A record's place in the log, taken before the record is whole: inside
 * the lock that orders its effect against other CPUs' (a mapping made,
 * inside its page's list lock), so that the log holds effects in the
 * order they happened; hat_oplog_put() fills it before the operation
 * returns, on the same CPU. 0 when there is no log; otherwise a place
 * in this CPU's lane, not the record's number.
 */
uint64_t hat_oplog_reserve(void);
void hat_oplog_put(uint64_t place, const struct hat_op *op);

/*
 * Appends one record (numbered in the ring). Any CPU, any lock. Inline, so
 * the caller's record is appended where it was built: passed by value to
 * another file it was copied (40 bytes) and read back before the stores
 * had drained, a store-forwarding stall on every operation.
 */
static inline void hat_oplog_append(struct hat_op op)
{
	hat_oplog_append_n(&op, 1);
}

/* o_flushes of a record: the local flushes (INVLPG, full) and the shootdown requests, each saturating. */
static inline uint16_t hat_oplog_flushes(uint64_t local, uint64_t remote)
{
	return (uint16_t)((local > HOP_FLUSH_MAX ? HOP_FLUSH_MAX : local) |
			  (remote > HOP_FLUSH_MAX ? HOP_FLUSH_MAX : remote) << 8);
}

/* Lane i (of ol_nlanes): its counters, then its ring of records. */
struct hat_oplog_lane *hat_oplog_lane(unsigned i);

/* How far every lane had got, read before a checkpoint. */
struct hat_oplog_mark {
	uint64_t next;                   /* ol_next */
	uint64_t lane_next[HAT_MAX_CPUS];
};

void hat_oplog_mark(struct hat_oplog_mark *m);

/* The host has been shown every record up to mark m (taken before the checkpoint). */
void hat_oplog_drained(const struct hat_oplog_mark *m);

/* The platform's half of hat_oplog_make_room(): a checkpoint, then hat_oplog_drained(). */
void mm_oplog_full(void);

/* The platform's number of lanes: its CPUs (a CPU past them shares lane cpu % lanes). */
unsigned mm_oplog_lanes(void);

#endif
