/* SPDX-License-Identifier: BSD-2-Clause */
/* The CPUs' loaded address spaces and their TLBs: hat_switch, each change's flush here and by shootdown, and the generations that record both (ST_CPUS, TLB_STALE). */
#include "hat_tlb.h"

#include "hat_oplog.h"

void (*mm_tlb_shootdown_hook)(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages);
struct hat_tlb_counts hat_tlb_counts;
struct hat *hat_cpu[HAT_MAX_CPUS];   /* loaded on each CPU (the checker reads it: ST_CPUS) */
struct hat_tlb_flushed hat_tlb_flushed[HAT_MAX_CPUS];   /* the checker reads it: TLB_STALE */
bool hat_tlb_skip_local;
/* Pages each CPU asked the others to flush (a full flush: HOP_FLUSH_PAGES_ALL), for its log records (MD_FLUSH). */
static uint64_t remote_pages[HAT_MAX_CPUS];

/* CPUs that may cache h's translations: the kernel's are in every address space. */
static uint64_t hat_cpu_mask(const struct hat *h)
{
	unsigned n;

	if (!(h->h_flags & HAT_F_KERNEL))
		return __atomic_load_n(&h->h_cpus, __ATOMIC_SEQ_CST);
	n = cpu_count();
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/*
 * This CPU's flushed generation of h (TLB_STALE), or NULL when h is not
 * loaded here: its translations left with the CR3 load that replaced it.
 */
static uint64_t *flushed_here(const struct hat *h)
{
	unsigned cpu = cpu_id();

	if (h->h_flags & HAT_F_KERNEL)
		return &hat_tlb_flushed[cpu].tf_kernel;
	return __atomic_load_n(&hat_cpu[cpu], __ATOMIC_RELAXED) == h ? &hat_tlb_flushed[cpu].tf_space
								       : NULL;
}

/* Raises *done to gen; a shootdown handler interrupting us may have raised it further already. */
static void flushed_advance(uint64_t *done, uint64_t gen)
{
	uint64_t cur = __atomic_load_n(done, __ATOMIC_RELAXED);

	while (cur < gen && !__atomic_compare_exchange_n(done, &cur, gen, false, __ATOMIC_RELEASE,
							 __ATOMIC_RELAXED))
		;
}

/* INVLPGs cover generation gen alone: they are enough only when every older one was flushed here. */
static bool pages_cover(const uint64_t *done, uint64_t gen)
{
	return gen <= __atomic_load_n(done, __ATOMIC_ACQUIRE) + 1;
}

/* A full flush of this CPU's TLB: every generation of h up to the one read before it. */
static void flush_all_to(struct hat *h, uint64_t *done)
{
	uint64_t at = __atomic_load_n(&h->h_tlb_gen, __ATOMIC_SEQ_CST);

	mm_tlb_flush_all();
	if (done != NULL)
		flushed_advance(done, at);
}

bool hat_tlb_run(struct hat *h, uint64_t gen, uint64_t va, uint64_t npages)
{
	uint64_t *done = flushed_here(h);

	if (npages == 0 || npages > HAT_TLB_BATCH || (done != NULL && !pages_cover(done, gen))) {
		flush_all_to(h, done);
		return true;
	}
	for (uint64_t i = 0; i < npages; i++)
		mm_tlb_flush_page(va + i * MM_PAGE_SIZE);
	if (done != NULL)
		flushed_advance(done, gen);
	return false;
}

/*
 * The generation a flush of h's changes so far makes, and the CPUs it
 * goes to (*cpus); none when no CPU has h loaded (one loading it later
 * gets the changes with its CR3 load). The set is read again after the
 * bump: a CPU loading h meanwhile is in it or read the new generation
 * (hat_switch sets its bit, then reads the generation).
 */
static uint64_t tlb_gen_next(struct hat *h, uint64_t *cpus)
{
	uint64_t gen;

	if (hat_cpu_mask(h) == 0) {
		*cpus = 0;
		return 0;
	}
	gen = __atomic_add_fetch(&h->h_tlb_gen, 1, __ATOMIC_SEQ_CST);
	*cpus = hat_cpu_mask(h);
	return gen;
}

/* Once an operation's flush returned, this CPU's TLB holds nothing older than it (TLB_STALE). */
static void tlb_check_here(const struct hat *h, uint64_t gen)
{
	const uint64_t *done = flushed_here(h);

	if (done != NULL && __atomic_load_n(done, __ATOMIC_ACQUIRE) < gen)
		MM_PANIC(TLB_STALE, "CPU %u has flushed space %u to generation %" PRIu64
			 " after a flush of its generation %" PRIu64, cpu_id(), h->h_id,
			 __atomic_load_n(done, __ATOMIC_RELAXED), gen);
}

/*
 * Asks other CPUs to run the flush of h's generation gen (npages 0:
 * everything) and returns once they have. Without a hook the platform
 * has one CPU: nobody else to tell.
 */
static void tlb_remote(struct hat *h, uint64_t cpus, uint64_t gen, uint64_t va, uint64_t npages)
{
	if (cpus == 0)
		return;
	__atomic_fetch_add(&h->h_tlb_remote, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&hat_tlb_counts.shootdowns, 1, __ATOMIC_RELAXED);
	remote_pages[cpu_id()] += npages != 0 ? npages : HOP_FLUSH_PAGES_ALL;
	if (mm_tlb_shootdown_hook != NULL)
		mm_tlb_shootdown_hook(cpus, h, gen, va, npages);
}

/*
 * Flushes the n pages at va[] of h (n 0: everything) on this CPU, where
 * h is loaded. INVLPGs of pages that are not the next generation here
 * would leave an older one's behind: a full flush then.
 */
static void tlb_local(struct hat *h, uint64_t gen, const uint64_t *va, unsigned n)
{
	uint64_t *done = flushed_here(h);

	if (done == NULL || hat_tlb_skip_local)
		return;
	if (n == 0 || !pages_cover(done, gen)) {
		flush_all_to(h, done);
		__atomic_fetch_add(&h->h_tlb_all, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&hat_tlb_counts.full, 1, __ATOMIC_RELAXED);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		mm_tlb_flush_page(va[i]);
	flushed_advance(done, gen);
	__atomic_fetch_add(&h->h_tlb_page, n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&hat_tlb_counts.invlpg, n, __ATOMIC_RELAXED);
}

void tlb_flush_page(struct hat *h, uint64_t va)
{
	uint64_t cpus, gen = tlb_gen_next(h, &cpus);

	if (cpus == 0)
		return;
	tlb_local(h, gen, &va, 1);
	tlb_remote(h, cpus & ~(1ull << cpu_id()), gen, va, 1);
	tlb_check_here(h, gen);
}

void tlb_flush_all(struct hat *h)
{
	uint64_t cpus, gen = tlb_gen_next(h, &cpus);

	if (cpus == 0)
		return;
	tlb_local(h, gen, NULL, 0);
	tlb_remote(h, cpus & ~(1ull << cpu_id()), gen, 0, 0);
	tlb_check_here(h, gen);
}

uint64_t tlb_remote_pages(unsigned cpu)
{
	return remote_pages[cpu];
}

void tlb_batch_init(struct tlb_batch *b, struct hat *h)
{
	b->h = h;
	b->n = 0;
	b->all = false;
}

void tlb_batch_add(struct tlb_batch *b, uint64_t va)
{
	if (b->all)
		return;
	if (b->n == HAT_TLB_BATCH)
		b->all = true;
	else
		b->va[b->n++] = va;
}

/*
 * Other CPUs get one request: the pages from the batch's lowest to its
 * highest when that span is within HAT_TLB_BATCH pages (INVLPG of a page
 * that was not in the batch only costs time), else everything.
 */
static void batch_remote(struct tlb_batch *b, uint64_t cpus, uint64_t gen)
{
	uint64_t lo = b->va[0], hi = b->va[0], span;

	for (unsigned i = 1; i < b->n; i++) {
		lo = b->va[i] < lo ? b->va[i] : lo;
		hi = b->va[i] > hi ? b->va[i] : hi;
	}
	span = ((hi - lo) >> MM_PAGE_SHIFT) + 1;
	if (span <= HAT_TLB_BATCH)
		tlb_remote(b->h, cpus, gen, lo, span);
	else
		tlb_remote(b->h, cpus, gen, 0, 0);
}

void tlb_batch_flush(struct tlb_batch *b)
{
	uint64_t cpus, gen;

	if (b->all) {
		tlb_flush_all(b->h);
	} else if (b->n > 0 && (gen = tlb_gen_next(b->h, &cpus)) != 0) {
		tlb_local(b->h, gen, b->va, b->n);
		batch_remote(b, cpus & ~(1ull << cpu_id()), gen);
		tlb_check_here(b->h, gen);
	}
	b->n = 0;
	b->all = false;
}

/*
 * The CR3 load takes every translation with it: from here this CPU has
 * flushed h and the kernel up to the generations read after it joined
 * h's set (TLB_STALE). Interrupts are off meanwhile: a shootdown handler
 * must not see hat_cpu and hat_tlb_flushed disagree.
 */
void hat_switch(struct hat *h)
{
	unsigned cpu = cpu_id();
	uint64_t bit = 1ull << cpu, flags, gen, kgen;
	struct hat *old;

	MM_REQUIRE(cpu < HAT_MAX_CPUS && h != NULL && h->h_top != NULL);
	old = hat_cpu[cpu];
	if (old == h)
		return;
	flags = mm_irq_save();
	/* announce first: an unload from now on flushes this CPU too */
	__atomic_fetch_or(&h->h_cpus, bit, __ATOMIC_SEQ_CST);
	gen = __atomic_load_n(&h->h_tlb_gen, __ATOMIC_SEQ_CST);
	kgen = __atomic_load_n(&hat_kas.h_tlb_gen, __ATOMIC_SEQ_CST);
	mm_load_cr3(h->h_top_pa);
	if (old != NULL)
		__atomic_fetch_and(&old->h_cpus, ~bit, __ATOMIC_SEQ_CST);
	__atomic_store_n(&hat_tlb_flushed[cpu].tf_space, gen, __ATOMIC_RELEASE);
	flushed_advance(&hat_tlb_flushed[cpu].tf_kernel, kgen);
	__atomic_store_n(&hat_cpu[cpu], h, __ATOMIC_RELEASE);
	mm_irq_restore(flags);
	MM_ASSERT(ST_CPUS, (__atomic_load_n(&h->h_cpus, __ATOMIC_SEQ_CST) & bit) &&
			   (old == NULL || !(__atomic_load_n(&old->h_cpus, __ATOMIC_SEQ_CST) & bit)));
}

struct hat *hat_current(void)
{
	return hat_cpu[cpu_id()];
}

void tlb_reset(void)
{
	hat_tlb_counts = (struct hat_tlb_counts){ 0 };
	memset(hat_cpu, 0, sizeof(hat_cpu));
	memset(hat_tlb_flushed, 0, sizeof(hat_tlb_flushed));
	memset(remote_pages, 0, sizeof(remote_pages));
}
