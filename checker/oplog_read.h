/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest's HAT operation log as the host reads it: its lanes' undrained records merged by number. */
#ifndef CHECKER_OPLOG_READ_H
#define CHECKER_OPLOG_READ_H

#include <stdint.h>

#include "check_mem.h"
#include "hatvm/mm_structs.h"

/* Records first .. first + n - 1: op[i] is record first + i, held by the guest at va[i]. */
struct oplog_records {
	uint64_t first, n;
	struct hat_op *op;
	uint64_t *va;
	uint64_t missing;   /* a record no lane holds, when oplog_read says so; else 0 */
};

/*
 * Reads records `first` .. ol_next - 1 of log (as read from the guest)
 * out of its lanes, each exactly once. NULL, or what is wrong with the
 * log (MD_LOG), *at the guest address it is about. r is freed either way
 * by oplog_records_free().
 */
const char *oplog_read(struct mem_reader *rd, const struct hat_oplog *log, uint64_t first,
		       struct oplog_records *r, uint64_t *at);
void oplog_records_free(struct oplog_records *r);

/* Where lane i's counters are (struct hat_oplog_lane), and its slot k's record. */
uint64_t oplog_lane_va(const struct hat_oplog *log, unsigned i);
uint64_t oplog_slot_va(const struct hat_oplog *log, uint64_t lane_va, uint64_t slot);

#endif
