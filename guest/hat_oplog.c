/* SPDX-License-Identifier: BSD-2-Clause */
/* The HAT operation log: a lane per CPU the host drains at checkpoints; it never drops a record while the host keeps up. */
#include "hat_oplog.h"

struct hat_oplog hat_oplog __attribute__((aligned(MM_CACHE_LINE)));

#define PUT_INLINE inline __attribute__((always_inline))   /* an append's steps: calls between them cost as much again */

/* A power of two, so a record's slot is a mask: a 64-bit division costs tens of cycles, and every operation appends. */
_Static_assert((HAT_OPLOG_SIZE & (HAT_OPLOG_SIZE - 1)) == 0, "a lane's ring size is a power of two");

/* Each CPU's lane, found with one load: every append looks it up. */
static struct hat_oplog_lane *lane_of[HAT_MAX_CPUS];

struct hat_oplog_lane *hat_oplog_lane(unsigned i)
{
	return (struct hat_oplog_lane *)((char *)hat_oplog.ol_ring + i * HAT_OPLOG_LANE_BYTES(HAT_OPLOG_SIZE));
}

void hat_oplog_init(void)
{
	unsigned nlanes = mm_oplog_lanes();
	uint64_t bytes;

	nlanes = nlanes == 0 ? 1 : nlanes > HAT_MAX_CPUS ? HAT_MAX_CPUS : nlanes;
	bytes = nlanes * HAT_OPLOG_LANE_BYTES(HAT_OPLOG_SIZE);
	hat_oplog = (struct hat_oplog){
		.ol_ring = pa_to_kva(page_boot_alloc((bytes + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT)),
		.ol_size = HAT_OPLOG_SIZE,
		.ol_nlanes = nlanes,
		.ol_next = 1,
		.ol_drained = 1,
	};
	for (unsigned c = 0; c < HAT_MAX_CPUS; c++)
		lane_of[c] = hat_oplog_lane(c % nlanes);
}

static PUT_INLINE struct hat_oplog_lane *my_lane(void)
{
	return lane_of[cpu_slot()];
}

static PUT_INLINE struct hat_op *slot_at(struct hat_oplog_lane *l, uint64_t slot)
{
	return (struct hat_op *)(l + 1) + (slot & (HAT_OPLOG_SIZE - 1));
}

void hat_oplog_make_room(void)
{
	hat_oplog_make_room_for(0);
}

void hat_oplog_make_room_for(unsigned n)
{
	struct hat_oplog_lane *l;

	if (hat_oplog.ol_size == 0)
		return;
	l = my_lane();
	if (__atomic_load_n(&l->l_next, __ATOMIC_RELAXED) - __atomic_load_n(&l->l_drained, __ATOMIC_RELAXED) +
	    HAT_OPLOG_HEADROOM + n > hat_oplog.ol_size)
		mm_oplog_full();
}

/*
 * Copies one record into the ring, each field by a load of its own
 * width: the caller has just written some fields with narrow stores,
 * and a load spanning two of them would wait for both to drain (a
 * failed store forward, on every operation). Relaxed atomic loads, so
 * the compiler cannot merge them into wider ones.
 */
#define COPY_FIELD(d, s, f) ((d)->f = __atomic_load_n(&(s)->f, __ATOMIC_RELAXED))

static PUT_INLINE void put_one(struct hat_op *d, const struct hat_op *s, uint32_t seq)
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
 * A lane holds at most ol_size undrained records: its oldest give way
 * to those up to slot `next` (l_drained moves past them, ol_lost counts
 * them). Only an operation with more records than
 * hat_oplog_make_room() left room for gets here; the host reports the
 * loss (MD_LOG).
 */
static void give_way_slow(struct hat_oplog_lane *l, uint64_t next)
{
	uint64_t drained = __atomic_load_n(&l->l_drained, __ATOMIC_RELAXED);

	while (next - drained > hat_oplog.ol_size) {
		uint64_t want = next - hat_oplog.ol_size;

		if (__atomic_compare_exchange_n(&l->l_drained, &drained, want, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			__atomic_fetch_add(&hat_oplog.ol_lost, want - drained, __ATOMIC_RELAXED);
			return;
		}
	}
}

static PUT_INLINE void give_way(struct hat_oplog_lane *l, uint64_t next)
{
	if (next - __atomic_load_n(&l->l_drained, __ATOMIC_RELAXED) > hat_oplog.ol_size)
		give_way_slow(l, next);
}

/*
 * The number of the first of n records, and the first of n slots for
 * them in this CPU's lane (*lane, *slot); 0: no log. One atomic add on
 * ol_next numbers them across CPUs; the slots are lines no other CPU
 * writes (a locked add there costs nothing measurable: its line stays
 * in this CPU's cache).
 */
static PUT_INLINE uint64_t reserve_n(unsigned n, struct hat_oplog_lane **lane, uint64_t *slot)
{
	struct hat_oplog *log = &hat_oplog;
	uint64_t first;

	if (log->ol_size == 0 || n == 0)
		return 0;
	MM_REQUIRE(log->ol_size == HAT_OPLOG_SIZE);
	*lane = my_lane();
	/*
	 * Acquire and release: what a CPU wrote before taking its number is
	 * seen by one that takes a later number, then looks (a pageunload
	 * reads a 2 MiB count without its lock; the host holds it to every
	 * 2 MiB load numbered before it). A locked add either way on x86.
	 */
	first = __atomic_fetch_add(&log->ol_next, n, __ATOMIC_ACQ_REL);
	*slot = __atomic_fetch_add(&(*lane)->l_next, n, __ATOMIC_RELAXED);   /* CPUs past the lanes share */
	give_way(*lane, *slot + n);
	return first;
}

void hat_oplog_append_n(const struct hat_op *ops, unsigned n)
{
	struct hat_oplog_lane *lane;
	uint64_t slot, first = reserve_n(n, &lane, &slot);

	for (unsigned i = 0; first != 0 && i < n; i++)
		put_one(slot_at(lane, slot + i), &ops[i], (uint32_t)(first + i));
}

/*
 * The place is the slot's address. The slot gets its number now and
 * kind 0 (none): a record the host finds still reserved at a checkpoint
 * is a bad record, not an old one.
 */
uint64_t hat_oplog_reserve(void)
{
	struct hat_oplog_lane *lane;
	uint64_t slot, seq = reserve_n(1, &lane, &slot);
	struct hat_op *d;

	if (seq == 0)
		return 0;
	d = slot_at(lane, slot);
	d->o_kind = 0;
	d->o_seq = (uint32_t)seq;
	return (uint64_t)(uintptr_t)d;
}

void hat_oplog_put(uint64_t place, const struct hat_op *op)
{
	struct hat_op *d = (struct hat_op *)(uintptr_t)place;

	if (d != NULL)
		put_one(d, op, d->o_seq);
}

void hat_oplog_mark(struct hat_oplog_mark *m)
{
	m->next = __atomic_load_n(&hat_oplog.ol_next, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < hat_oplog.ol_nlanes; i++)
		m->lane_next[i] = __atomic_load_n(&hat_oplog_lane(i)->l_next, __ATOMIC_RELAXED);
}

/* Moves *counter up to upto, never past *limit nor back. */
static void advance(uint64_t *counter, uint64_t upto, const uint64_t *limit)
{
	uint64_t cur = __atomic_load_n(counter, __ATOMIC_RELAXED);

	while (upto > cur && upto <= __atomic_load_n(limit, __ATOMIC_RELAXED) &&
	       !__atomic_compare_exchange_n(counter, &cur, upto, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void hat_oplog_drained(const struct hat_oplog_mark *m)
{
	if (hat_oplog.ol_size == 0)
		return;
	advance(&hat_oplog.ol_drained, m->next, &hat_oplog.ol_next);
	for (unsigned i = 0; i < hat_oplog.ol_nlanes; i++)
		advance(&hat_oplog_lane(i)->l_drained, m->lane_next[i], &hat_oplog_lane(i)->l_next);
}
