/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest's HAT operation log as the host reads it: its lanes' undrained records merged by number. */
#include "oplog_read.h"

#include <stdbool.h>
#include <stdlib.h>

uint64_t oplog_lane_va(const struct hat_oplog *log, unsigned i)
{
	return log->ol_ring + i * HAT_OPLOG_LANE_BYTES(log->ol_size);
}

uint64_t oplog_slot_va(const struct hat_oplog *log, uint64_t lane_va, uint64_t slot)
{
	return lane_va + sizeof(struct hat_oplog_lane) + (slot % log->ol_size) * sizeof(struct hat_op);
}

void oplog_records_free(struct oplog_records *r)
{
	free(r->op);
	free(r->va);
	*r = (struct oplog_records){ 0 };
}

/*
 * Puts lane i's undrained records numbered first .. first + n - 1 in
 * place (have: which are); records before `first`, already followed, are
 * passed over (o_seq is 32 bits: numbers are taken as offsets from first).
 */
static const char *read_lane(struct mem_reader *rd, const struct hat_oplog *log, unsigned i,
			     struct oplog_records *r, bool *have, uint64_t *at)
{
	uint64_t lva = oplog_lane_va(log, i);
	struct hat_oplog_lane lane;

	*at = lva;
	if (!reader_read_va(rd, lva, &lane, sizeof(lane)))
		return "has a lane whose counters cannot be read";
	if (lane.l_drained > lane.l_next || lane.l_next - lane.l_drained > log->ol_size)
		return "has a lane whose counters are out of order (drained past next, or more undrained records than its ring holds)";
	for (uint64_t s = lane.l_drained; s < lane.l_next; s++) {
		struct hat_op op;
		uint64_t k;

		*at = oplog_slot_va(log, lva, s);
		if (!reader_read_va(rd, *at, &op, sizeof(op)))
			return "has a record that cannot be read";
		k = (uint32_t)(op.o_seq - (uint32_t)r->first);
		if (k >= r->n)
			continue;
		if (have[k])
			return "holds one record number twice";
		have[k] = true;
		r->op[k] = op;
		r->va[k] = *at;
	}
	return NULL;
}

const char *oplog_read(struct mem_reader *rd, const struct hat_oplog *log, uint64_t first,
		       struct oplog_records *r, uint64_t *at)
{
	const char *fault = NULL;
	bool *have;

	*r = (struct oplog_records){ .first = first, .n = log->ol_next - first };
	*at = log->ol_ring;
	if (log->ol_nlanes == 0 || log->ol_nlanes > HAT_MAX_CPUS || log->ol_size == 0 || first > log->ol_next ||
	    r->n > (uint64_t)log->ol_nlanes * log->ol_size)
		return "has more records to show than its lanes hold, or no lanes";
	have = calloc(r->n + 1, sizeof(*have));
	r->op = calloc(r->n + 1, sizeof(*r->op));
	r->va = calloc(r->n + 1, sizeof(*r->va));
	if (have == NULL || r->op == NULL || r->va == NULL)
		fault = "cannot be held: the host ran out of memory";
	for (unsigned i = 0; fault == NULL && i < log->ol_nlanes; i++)
		fault = read_lane(rd, log, i, r, have, at);
	for (uint64_t k = 0; fault == NULL && k < r->n; k++)
		if (!have[k]) {
			r->missing = first + k;
			fault = "has a record no lane holds";
		}
	free(have);
	return fault;
}
