/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT operation log: a ring the host drains at checkpoints; it never drops a record while the host keeps up. */
#include "hat_oplog.h"

struct hat_oplog hat_oplog;

void hat_oplog_init(void)
{
	uint64_t bytes = (uint64_t)HAT_OPLOG_SIZE * sizeof(struct hat_op);

	hat_oplog = (struct hat_oplog){
		.ol_ring = pa_to_kva(page_boot_alloc((bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT)),
		.ol_size = HAT_OPLOG_SIZE,
		.ol_next = 1,
		.ol_drained = 1,
	};
}

static uint64_t used(void)
{
	return __atomic_load_n(&hat_oplog.ol_next, __ATOMIC_RELAXED) -
	       __atomic_load_n(&hat_oplog.ol_drained, __ATOMIC_RELAXED);
}

void hat_oplog_make_room(void)
{
	hat_oplog_make_room_for(0);
}

void hat_oplog_make_room_for(unsigned n)
{
	if (hat_oplog.ol_size != 0 && used() + HAT_OPLOG_HEADROOM + n > hat_oplog.ol_size)
		mm_oplog_full();
}

/* A power of two, so a record's slot is a mask: a 64-bit division costs tens of cycles, and every operation appends. */
_Static_assert((HAT_OPLOG_SIZE & (HAT_OPLOG_SIZE - 1)) == 0, "the ring's size is a power of two");

/*
 * Copies one record into the ring, each field by a load of its own
 * width: the caller has just written some fields with narrow stores,
 * and a load spanning two of them would wait for both to drain (a
 * failed store forward, on every operation). Relaxed atomic loads, so
 * the compiler cannot merge them into wider ones.
 */
#define COPY_FIELD(d, s, f) ((d)->f = __atomic_load_n(&(s)->f, __ATOMIC_RELAXED))

static void put_one(struct hat_op *d, const struct hat_op *s, uint32_t seq)
{
	COPY_FIELD(d, s, o_va);
	COPY_FIELD(d, s, o_len);
	COPY_FIELD(d, s, o_space);
	COPY_FIELD(d, s, o_pfn);
	d->o_seq = seq;
	COPY_FIELD(d, s, o_kind);
	d->o_cpu = (uint8_t)cpu_id();
	COPY_FIELD(d, s, o_attr);
	COPY_FIELD(d, s, o_result);
	COPY_FIELD(d, s, o_loaded);
	COPY_FIELD(d, s, o_flushes);
}

/*
 * The ring holds at most ol_size undrained records: the oldest give way
 * to those up to `next` (ol_drained moves past them, ol_lost counts them).
 * Only an operation with more records than hat_oplog_make_room() left
 * room for gets here; the host reports the loss (MD_LOG).
 */
static void give_way(struct hat_oplog *l, uint64_t next)
{
	uint64_t drained = __atomic_load_n(&l->ol_drained, __ATOMIC_RELAXED);

	while (next - drained > l->ol_size) {
		uint64_t want = next - l->ol_size;

		if (__atomic_compare_exchange_n(&l->ol_drained, &drained, want, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			__atomic_fetch_add(&l->ol_lost, want - drained, __ATOMIC_RELAXED);
			return;
		}
	}
}

/* The first of n slots, reserved with one atomic add: no lock, as every operation appends. 0: no log. */
static uint64_t reserve_n(unsigned n)
{
	struct hat_oplog *l = &hat_oplog;
	uint64_t first;

	if (l->ol_size == 0 || n == 0)
		return 0;
	MM_REQUIRE(l->ol_size == HAT_OPLOG_SIZE);
	first = __atomic_fetch_add(&l->ol_next, n, __ATOMIC_RELAXED);
	give_way(l, first + n);
	return first;
}

/* The host reads the ring at checkpoints, when no record is between reserve and put. */
static void put_n(uint64_t first, const struct hat_op *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put_one(&hat_oplog.ol_ring[(first - 1 + i) & (HAT_OPLOG_SIZE - 1)], &ops[i],
			(uint32_t)(first + i));
}

void hat_oplog_append_n(const struct hat_op *ops, unsigned n)
{
	uint64_t first = reserve_n(n);

	if (first != 0)
		put_n(first, ops, n);
}

uint64_t hat_oplog_reserve(void)
{
	return reserve_n(1);
}

void hat_oplog_put(uint64_t seq, const struct hat_op *op)
{
	if (seq != 0)
		put_n(seq, op, 1);
}

void hat_oplog_drained(uint64_t upto)
{
	uint64_t drained = __atomic_load_n(&hat_oplog.ol_drained, __ATOMIC_RELAXED);

	while (upto > drained && upto <= __atomic_load_n(&hat_oplog.ol_next, __ATOMIC_RELAXED) &&
	       !__atomic_compare_exchange_n(&hat_oplog.ol_drained, &drained, upto, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}
