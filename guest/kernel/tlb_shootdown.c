/* SPDX-License-Identifier: BSD-2-Clause */
/* mm_tlb_shootdown_hook: the flush runs on every target CPU by cross-call before the HAT goes on. */
#include "tlb_shootdown.h"

#include "cpu.h"
#include "hat.h"
#include "xcall.h"

struct flush_request {
	struct hat *h;
	uint64_t gen;      /* h's generation the flush makes (TLB_STALE) */
	uint64_t va;
	uint64_t npages;   /* 0: everything */
};

/* The requests a CPU ran since its reset: up to SEEN_MAX ranges, then "everything". */
#define SEEN_MAX 8
struct flushes_seen {
	bool all;
	unsigned n;
	uint64_t lo[SEEN_MAX], hi[SEEN_MAX];   /* [lo, hi) */
};

static bool skip_all;
static struct tlb_remote_counts counts;
static struct flushes_seen seen[MAX_CPUS];

/* This CPU ran request r (all: it flushed everything). Interrupts are off (a cross-call), so nothing else here touches its record. */
static void note_seen(const struct flush_request *r, bool all)
{
	struct flushes_seen *f = &seen[cpu_id()];

	if (all || f->n == SEEN_MAX) {
		f->all = true;
		return;
	}
	f->lo[f->n] = r->va;
	f->hi[f->n] = r->va + r->npages * MM_PAGE_SIZE;
	f->n++;
}

/*
 * Runs on each target whatever it has loaded: a CPU that switched away
 * since the sender read the set only pays an INVLPG it did not need.
 */
static void flush_here(void *arg)
{
	const struct flush_request *r = arg;
	bool all = hat_tlb_run(r->h, r->gen, r->va, r->npages);

	note_seen(r, all);
	if (all)
		__atomic_fetch_add(&counts.full, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&counts.invlpg, r->npages, __ATOMIC_RELAXED);
}

static void shootdown(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages)
{
	struct flush_request r = { .h = h, .gen = gen, .va = va, .npages = npages };

	if (skip_all) {
		__atomic_fetch_add(&counts.skipped, 1, __ATOMIC_RELAXED);
		return;
	}
	xcall_run(cpus, flush_here, &r);
}

void tlb_shootdown_init(bool skip)
{
	skip_all = skip;
	mm_tlb_shootdown_hook = shootdown;
}

struct tlb_remote_counts tlb_shootdown_counts(void)
{
	struct tlb_remote_counts c;

	c.invlpg = __atomic_load_n(&counts.invlpg, __ATOMIC_RELAXED);
	c.full = __atomic_load_n(&counts.full, __ATOMIC_RELAXED);
	c.skipped = __atomic_load_n(&counts.skipped, __ATOMIC_RELAXED);
	return c;
}

void tlb_flushes_reset(void)
{
	uint64_t flags = mm_irq_save();   /* a cross-call must not change the record half-read */

	seen[cpu_id()] = (struct flushes_seen){ .all = false, .n = 0 };
	mm_irq_restore(flags);
}

bool tlb_flushed(uint64_t va)
{
	uint64_t flags = mm_irq_save();
	const struct flushes_seen *f = &seen[cpu_id()];
	bool hit = f->all;

	for (unsigned i = 0; i < f->n && !hit; i++)
		hit = va >= f->lo[i] && va < f->hi[i];
	mm_irq_restore(flags);
	return hit;
}
