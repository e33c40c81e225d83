/* SPDX-License-Identifier: BSD-2-Clause */
/* mm_tlb_shootdown_hook: the flush runs on every target CPU by cross-call before the HAT goes on. */
#include "tlb_shootdown.h"

#include "cpu.h"
#include "hat.h"
#include "xcall.h"

struct flush_request {
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

/* Past HAT_TLB_BATCH pages, one full flush costs less than the INVLPGs. */
static bool flushes_everything(const struct flush_request *r)
{
	return r->npages == 0 || r->npages > HAT_TLB_BATCH;
}

/* This CPU ran request r. Interrupts are off (a cross-call), so nothing else here touches its record. */
static void note_seen(const struct flush_request *r)
{
	struct flushes_seen *f = &seen[cpu_id()];

	if (flushes_everything(r) || f->n == SEEN_MAX) {
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

	note_seen(r);
	if (flushes_everything(r)) {
		mm_tlb_flush_all();
		__atomic_fetch_add(&counts.full, 1, __ATOMIC_RELAXED);
		return;
	}
	for (uint64_t i = 0; i < r->npages; i++)
		mm_tlb_flush_page(r->va + i * MM_PAGE_SIZE);
	__atomic_fetch_add(&counts.invlpg, r->npages, __ATOMIC_RELAXED);
}

static void shootdown(uint64_t cpus, uint64_t cr3, uint64_t va, uint64_t npages)
{
	struct flush_request r = { .va = va, .npages = npages };

	(void)cr3;
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

/* Interrupts off (a cross-call must not change the record half-read), and back as they were. */
static uint64_t irq_save(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static void irq_restore(uint64_t flags)
{
	__asm__ volatile("pushq %0; popfq" : : "r"(flags) : "memory", "cc");
}

void tlb_flushes_reset(void)
{
	uint64_t flags = irq_save();

	seen[cpu_id()] = (struct flushes_seen){ .all = false, .n = 0 };
	irq_restore(flags);
}

bool tlb_flushed(uint64_t va)
{
	uint64_t flags = irq_save();
	const struct flushes_seen *f = &seen[cpu_id()];
	bool hit = f->all;

	for (unsigned i = 0; i < f->n && !hit; i++)
		hit = va >= f->lo[i] && va < f->hi[i];
	irq_restore(flags);
	return hit;
}
