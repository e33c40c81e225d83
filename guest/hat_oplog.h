/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT operation log: one record per operation that changes a mapping, for the host's model of what should be mapped. */
#ifndef GUEST_HAT_OPLOG_H
#define GUEST_HAT_OPLOG_H

#include "page.h"

/* Records in the ring: 40 bytes each, 160 KiB in all; a forced checkpoint every ~4000 operations at most. */
#define HAT_OPLOG_SIZE 4096u

extern struct hat_oplog hat_oplog;

/* Boot: carves the ring (page_boot_alloc). */
void hat_oplog_init(void);

/*
 * Before an operation, with no MM lock held: when the ring is nearly
 * full, asks the platform for a checkpoint (mm_oplog_full), which shows
 * the host every record and then calls hat_oplog_drained().
 */
void hat_oplog_make_room(void);

/* hat_oplog_make_room() for an operation that appends up to n records more than one. */
void hat_oplog_make_room_for(unsigned n);

/* Appends n records with consecutive numbers (o_seq; ops' own is ignored): one atomic add reserves them. Any CPU, any lock. */
void hat_oplog_append_n(const struct hat_op *ops, unsigned n);

/*
 * A record's place in the log, taken before the record is whole: inside
 * the lock that orders its effect against other CPUs' (a mapping made,
 * inside its page's list lock), so that the log holds effects in the
 * order they happened; hat_oplog_put() fills it before the operation
 * returns. 0 when there is no log.
 */
uint64_t hat_oplog_reserve(void);
void hat_oplog_put(uint64_t seq, const struct hat_op *op);

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

/* The host has been shown every record before seq `upto` (the ol_next read before the checkpoint). */
void hat_oplog_drained(uint64_t upto);

/* The platform's half of hat_oplog_make_room(): a checkpoint, then hat_oplog_drained(). */
void mm_oplog_full(void);

#endif
