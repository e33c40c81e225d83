/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay engine on the hosted MM: synthetic event streams (fork/COW, shared file pages, mprotect, munmap, mremap, brk, reclaim, determinism), the checker with the host model at every checkpoint. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hat_model.h"
#include "hosted_assert.h"
#include "hosted_platform.h"
#include "replay_hosted_seam.h"
#include "replay_int.h"
#include "run_vmm.h"

#define RAM      (64ull << 20)
#define RW       (TR_PROT_READ | TR_PROT_WRITE)
#define RX       (TR_PROT_READ | TR_PROT_EXEC)
#define ANON     TR_MAP_ANON
#define A_BASE   0x0000555555554000ull
#define B_BASE   0x00007f0000000000ull
#define P(n)     ((uint64_t)(n) * 4096)

static struct hat_model *model;
static struct replay r;
static unsigned checks;

/* Every checkpoint and every full operation log: the checker, host model attached, must find nothing. */
static void check_clean(void)
{
	checks++;
	hmm_assert_clean();
}

static void on_checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
	check_clean();
}

static void boot(uint64_t check_every)
{
	if (model == NULL)
		model = hat_model_new();
	checker_use_model(model);
	mm_hosted_oplog_hook = check_clean;
	mm_hosted_boot(RAM);
	check_clean();
	struct replay_seam seam = replay_hosted_seam(on_checkpoint, NULL);
	struct replay_config cfg = { .check_every = check_every, .files = 16 };
	ck_assert(replay_init(&r, &seam, &cfg));
}

static void setup(void)
{
	checks = 0;
	boot(1);
}

static void teardown(void)
{
	replay_finish(&r);
	check_clean();
	ck_assert_uint_eq(r.st.internal_errors, 0);
	mm_hosted_shutdown();
}

static void play(struct trace_event ev)
{
	replay_event(&r, &ev);
}

static struct trace_event ev_mmap(uint32_t pid, uint64_t addr, uint64_t len, uint16_t prot,
				  uint8_t flags, uint32_t file, uint64_t off)
{
	return (struct trace_event){ .te_kind = TR_MMAP, .te_pid = pid, .te_addr = addr, .te_len = len,
				     .te_prot = prot, .te_flags = flags,
				     .te_file = (flags & ANON) ? TR_FILE_NONE : file, .te_offset = off };
}

static struct trace_event ev_range(uint32_t kind, uint32_t pid, uint64_t addr, uint64_t len)
{
	return (struct trace_event){ .te_kind = kind, .te_pid = pid, .te_addr = addr, .te_len = len,
				     .te_file = TR_FILE_NONE };
}

static struct trace_event ev_fault(uint32_t pid, uint64_t addr, uint8_t bits)
{
	return (struct trace_event){ .te_kind = TR_FAULT, .te_pid = pid, .te_addr = addr,
				     .te_fault = bits, .te_file = TR_FILE_NONE };
}

static struct trace_event ev_fork(uint32_t parent, uint32_t child)
{
	return (struct trace_event){ .te_kind = TR_FORK, .te_pid = parent, .te_arg = child,
				     .te_file = TR_FILE_NONE };
}

static struct trace_event ev_pid(uint32_t kind, uint32_t pid)
{
	return (struct trace_event){ .te_kind = kind, .te_pid = pid, .te_file = TR_FILE_NONE };
}

static struct trace_event ev_vfork(uint32_t parent, uint32_t child)
{
	struct trace_event ev = ev_fork(parent, child);

	ev.te_flags = TR_FORK_VM;
	return ev;
}

/* The address space pid's memory events act on (its lender's while it borrows one). */
static struct hat *hat_of(uint32_t pid)
{
	struct rproc *p = proc_find(&r, pid);

	ck_assert_ptr_nonnull(p);
	return proc_space(p)->hat;
}

static uint64_t pte_of(uint32_t pid, uint64_t va)
{
	return hat_getpte(hat_of(pid), va);
}

static uint64_t pfn_of(uint32_t pid, uint64_t va)
{
	return hat_getpfnum(hat_of(pid), va);
}

/* Process 0's anonymous region of `pages` pages at A_BASE, its first page written: that page's pfn. */
static uint64_t written_first_page(unsigned pages)
{
	play(ev_mmap(0, A_BASE, P(pages), RW, ANON, 0, 0));
	play(ev_fault(0, A_BASE, TR_FAULT_WRITE));
	return pfn_of(0, A_BASE);
}

START_TEST(fork_shares_then_copies_on_write)
{
	play(ev_mmap(0, A_BASE, P(4), RW, ANON, 0, 0));
	for (unsigned i = 0; i < 4; i++)
		play(ev_fault(0, A_BASE + P(i) + 8, TR_FAULT_WRITE));
	ck_assert_uint_eq(r.st.zero_fill, 4);
	uint64_t before = pfn_of(0, A_BASE);
	play(ev_fork(0, 1));
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(pfn_of(1, A_BASE + P(i)), pfn_of(0, A_BASE + P(i)));
		ck_assert(!(pte_of(0, A_BASE + P(i)) & PTE_W));   /* read-only in both */
		ck_assert(!(pte_of(1, A_BASE + P(i)) & PTE_W));
		ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn_of(0, A_BASE + P(i)))), 2);
	}
	play(ev_fault(1, A_BASE, TR_FAULT_WRITE | TR_FAULT_PRESENT));
	ck_assert_uint_eq(r.st.cow_copies, 1);
	ck_assert_uint_ne(pfn_of(1, A_BASE), before);
	ck_assert_uint_eq(pfn_of(0, A_BASE), before);
	ck_assert(pte_of(1, A_BASE) & PTE_W);
	/* the parent is the page's only owner now: its write makes it writable, no copy */
	play(ev_fault(0, A_BASE, TR_FAULT_WRITE | TR_FAULT_PRESENT));
	ck_assert_uint_eq(r.st.cow_copies, 1);
	ck_assert_uint_eq(r.st.upgrades, 1);
	ck_assert_uint_eq(pfn_of(0, A_BASE), before);
	play(ev_pid(TR_EXIT, 1));
	ck_assert_ptr_null(proc_find(&r, 1));
	ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn_of(0, A_BASE + P(1)))), 1);
}
END_TEST

/*
 * Fork copies the tables of the private regions that have anonymous
 * pages (Linux: a VMA with an anon_vma), their file pages too, read-only
 * in both, one hat_dup each; a private file region only read, a
 * read-only one and a shared one fault in later in the child.
 */
START_TEST(fork_copies_tables_of_regions_with_anonymous_pages)
{
	const uint64_t data = B_BASE, text = B_BASE + P(16), shm = B_BASE + P(32);
	const uint64_t conf = B_BASE + P(48), relro = B_BASE + P(64);

	play(ev_mmap(0, data, P(2), RW, 0, 3, 0));
	play(ev_mmap(0, text, P(2), RX, 0, 4, 0));
	play(ev_mmap(0, shm, P(2), RW, TR_MAP_SHARED, 5, 0));
	play(ev_mmap(0, conf, P(2), RW, 0, 6, 0));
	play(ev_mmap(0, relro, P(2), RW, 0, 7, 0));
	play(ev_fault(0, data, 0));   /* the file's page, read-only */
	play(ev_fault(0, data + P(1), TR_FAULT_WRITE));   /* an anonymous copy */
	play(ev_fault(0, text, TR_FAULT_EXEC));
	play(ev_fault(0, shm, TR_FAULT_WRITE));
	play(ev_fault(0, conf, 0));   /* writable, but only read: no anonymous page */
	play(ev_fault(0, relro, TR_FAULT_WRITE));
	struct trace_event ro = ev_range(TR_MPROTECT, 0, relro, P(2));
	ro.te_prot = TR_PROT_READ;
	play(ro);   /* written, then read-only, as a loader's RELRO */
	play(ev_fault(0, relro, 0));
	play(ev_fork(0, 1));
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(pfn_of(1, data + P(i)), pfn_of(0, data + P(i)));
		ck_assert(!(pte_of(1, data + P(i)) & PTE_W));
		ck_assert(!(pte_of(0, data + P(i)) & PTE_W));
	}
	ck_assert_uint_eq(pfn_of(1, relro), pfn_of(0, relro));
	ck_assert_uint_eq(pte_of(1, text), 0);
	ck_assert_uint_eq(pte_of(1, shm), 0);
	ck_assert_uint_eq(pte_of(1, conf), 0);
	ck_assert(pte_of(0, shm) & PTE_W);
	uint64_t hits = r.st.file_hit;
	play(ev_fault(1, text, TR_FAULT_EXEC));
	play(ev_fault(1, shm, TR_FAULT_WRITE));
	play(ev_fault(1, conf, 0));
	ck_assert_uint_eq(r.st.file_hit, hits + 3);
	ck_assert_uint_eq(pfn_of(1, text), pfn_of(0, text));
	ck_assert_uint_eq(pfn_of(1, shm), pfn_of(0, shm));
	ck_assert_uint_eq(pfn_of(1, conf), pfn_of(0, conf));
	/* the child's write to the file's page copies it; the parent keeps the file's */
	ck_assert_uint_eq(r.st.cow_file, 2);
	play(ev_fault(1, data, TR_FAULT_WRITE | TR_FAULT_PRESENT));
	ck_assert_uint_eq(r.st.cow_file, 3);
	ck_assert_uint_ne(pfn_of(1, data), pfn_of(0, data));
}
END_TEST

/*
 * A fork whose hat_dup finds no hment even after reclaim (the hment cache
 * capped, no reserve, the only page pinned: nothing to steal or take
 * back) counts an oom and leaves the child's pages to its faults.
 */
START_TEST(fork_without_memory_leaves_pages_to_faults)
{
	uint64_t pfn = written_first_page(2);
	rp_pin(&r, pfn);
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	hment_set_limit(hment_cache_inuse());
	play(ev_fork(0, 1));
	ck_assert_uint_eq(r.st.oom, 1);
	ck_assert_uint_eq(pte_of(1, A_BASE), 0);
	ck_assert(!(pte_of(0, A_BASE) & PTE_W));
	hment_set_limit(OBJCACHE_LIMIT_NONE);
	hment_set_reserve_amount(HMENT_RESERVE_DEFAULT);
	rp_unpin(&r, pfn);
	play(ev_fault(1, A_BASE, 0));
	ck_assert_uint_eq(pfn_of(1, A_BASE), pfn);
	ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn)), 2);
}
END_TEST

/*
 * A vfork's child plays its events on its parent's memory, which stays
 * writable (nothing is copy-on-write), until its exec gives it its own;
 * its exit then leaves the parent's as it was.
 */
START_TEST(vfork_child_borrows_its_parents_memory)
{
	uint64_t pfn = written_first_page(4);
	play(ev_vfork(0, 1));
	ck_assert_uint_eq(r.st.vforks, 1);
	ck_assert_ptr_eq(hat_of(1), hat_of(0));
	ck_assert(pte_of(0, A_BASE) & PTE_W);
	play(ev_fault(1, A_BASE + P(1), TR_FAULT_WRITE));   /* the child's stack write */
	play(ev_fault(1, A_BASE, TR_FAULT_WRITE));
	ck_assert_uint_eq(r.st.cow_copies, 0);
	ck_assert_uint_eq(pfn_of(0, A_BASE), pfn);
	ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn)), 1);
	ck_assert(pte_of(0, A_BASE + P(1)) & PTE_W);   /* the parent sees the child's page */
	play(ev_mmap(1, B_BASE, P(1), RW, ANON, 0, 0));
	ck_assert_ptr_nonnull(vma_find(proc_find(&r, 0), B_BASE));
	play(ev_pid(TR_EXEC, 1));
	ck_assert_ptr_ne(hat_of(1), hat_of(0));
	ck_assert_uint_eq(pte_of(1, A_BASE), 0);
	play(ev_mmap(1, A_BASE, P(1), RW, ANON, 0, 0));
	play(ev_fault(1, A_BASE, TR_FAULT_WRITE));
	ck_assert_uint_ne(pfn_of(1, A_BASE), pfn);
	play(ev_pid(TR_EXIT, 1));
	ck_assert_ptr_null(proc_find(&r, 1));
	ck_assert_uint_eq(pfn_of(0, A_BASE), pfn);
	ck_assert(pte_of(0, A_BASE + P(1)) & PTE_W);
	ck_assert_ptr_nonnull(vma_find(proc_find(&r, 0), B_BASE));
	ck_assert_uint_eq(r.st.trace_errors, 0);
}
END_TEST

/*
 * CLONE_VM without CLONE_VFORK lets the parent go on: its exit or exec
 * leaves the memory to the children still using it, freed with the last.
 */
START_TEST(a_lenders_memory_outlives_it_for_its_borrowers)
{
	uint64_t pfn = written_first_page(2);
	play(ev_vfork(0, 1));
	play(ev_vfork(1, 2));   /* a borrower's vfork borrows the same memory */
	ck_assert_ptr_eq(hat_of(2), hat_of(0));
	play(ev_pid(TR_EXEC, 0));   /* the memory moves aside for 1 and 2 */
	ck_assert_uint_eq(pte_of(0, A_BASE), 0);
	ck_assert_uint_eq(pfn_of(1, A_BASE), pfn);
	play(ev_mmap(0, A_BASE, P(1), RW, ANON, 0, 0));
	play(ev_fault(0, A_BASE, TR_FAULT_WRITE));   /* keyed by 0's new id: no mix-up */
	ck_assert_uint_ne(pfn_of(0, A_BASE), pfn);
	play(ev_fault(2, A_BASE + P(1), TR_FAULT_WRITE));
	play(ev_fork(2, 3));   /* a borrower's fork copies the borrowed memory */
	ck_assert_uint_eq(pfn_of(3, A_BASE), pfn);
	ck_assert(!(pte_of(1, A_BASE) & PTE_W));
	play(ev_pid(TR_EXIT, 1));
	ck_assert_uint_eq(pfn_of(2, A_BASE + P(1)), pfn_of(3, A_BASE + P(1)));
	play(ev_pid(TR_EXIT, 2));   /* the last borrower: the memory goes, 3 keeps its copy */
	ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn)), 1);
	ck_assert_uint_eq(pfn_of(3, A_BASE), pfn);
	play(ev_vfork(3, 4));
	play(ev_vfork(0, 5));
	play(ev_pid(TR_EXIT, 0));   /* 5 keeps 0's memory; replay_finish ends 3, 4 and 5 */
	ck_assert_uint_ne(pfn_of(5, A_BASE), 0);
	struct trace_event bad = ev_vfork(3, 6);
	bad.te_flags = 2;
	play(bad);
	ck_assert_uint_eq(r.st.err_event, 1);
	ck_assert_ptr_null(proc_find(&r, 6));
	ck_assert_uint_eq(r.st.vforks, 4);
}
END_TEST

/*
 * An exec that finds no address space for the process leaves it with
 * none: its events count as oom, its EXIT still ends it, and the end of
 * the replay tears down only what there is (it once reached
 * hat_destroy(NULL)).
 */
START_TEST(an_exec_without_memory_leaves_no_space)
{
	(void)written_first_page(1);
	play(ev_fork(0, 1));
	/* each exec frees its process's space first: a limit one below keeps it from coming back */
	objcache_set_limit(&hat_cache, hat_cache.oc_inuse - 1);
	play(ev_pid(TR_EXEC, 1));
	ck_assert_ptr_null(proc_find(&r, 1)->hat);
	ck_assert_uint_eq(r.st.oom, 1);
	play(ev_fault(1, A_BASE, 0));
	ck_assert_uint_eq(r.st.oom, 2);
	play(ev_pid(TR_EXIT, 1));
	ck_assert_ptr_null(proc_find(&r, 1));
	objcache_set_limit(&hat_cache, hat_cache.oc_inuse - 1);
	play(ev_pid(TR_EXEC, 0));   /* left to replay_finish() without a space */
	ck_assert_ptr_null(proc_find(&r, 0)->hat);
	objcache_set_limit(&hat_cache, OBJCACHE_LIMIT_NONE);
	ck_assert_uint_eq(r.st.oom, 3);
}
END_TEST

START_TEST(file_pages_shared_by_every_process)
{
	for (uint32_t pid = 0; pid < 5; pid++) {
		if (pid)
			play(ev_pid(TR_EXEC, pid));   /* first event of pid: made, then exec'd */
		play(ev_mmap(pid, B_BASE + P(16 * pid), P(4), RX, 0, 3, P(8)));
		play(ev_fault(pid, B_BASE + P(16 * pid + 2), TR_FAULT_EXEC));
	}
	ck_assert_uint_eq(r.st.file_miss, 1);
	ck_assert_uint_eq(r.st.file_hit, 4);
	uint64_t pfn = pfn_of(0, B_BASE + P(2));
	for (uint32_t pid = 1; pid < 5; pid++)
		ck_assert_uint_eq(pfn_of(pid, B_BASE + P(16 * pid + 2)), pfn);
	ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn)), 5);
	ck_assert_uint_eq(r.st.longest_list, 5);
	ck_assert_uint_eq(r.st.longest_obj, 3);
	ck_assert_uint_eq(r.st.longest_pgoff, 10);
	ck_assert(!(pte_of(3, B_BASE + P(50)) & PTE_NX));
	/* a private write copies the file page for that process only */
	struct trace_event rw = ev_range(TR_MPROTECT, 2, B_BASE + P(32), P(4));
	rw.te_prot = RW | TR_PROT_EXEC;
	play(rw);
	play(ev_fault(2, B_BASE + P(34), TR_FAULT_WRITE | TR_FAULT_PRESENT));
	ck_assert_uint_eq(r.st.cow_file, 1);
	ck_assert_uint_ne(pfn_of(2, B_BASE + P(34)), pfn);
	ck_assert_uint_eq(hment_mapcnt(page_from_pfn(pfn)), 4);
}
END_TEST

START_TEST(mprotect_makes_a_write_fault)
{
	play(ev_mmap(0, A_BASE, P(2), TR_PROT_READ, ANON, 0, 0));
	play(ev_fault(0, A_BASE, 0));
	ck_assert(!(pte_of(0, A_BASE) & PTE_W));
	play(ev_fault(0, A_BASE, TR_FAULT_WRITE | TR_FAULT_PRESENT));   /* Linux: SIGSEGV */
	ck_assert_uint_eq(r.st.err_prot, 1);
	struct trace_event rw = ev_range(TR_MPROTECT, 0, A_BASE, P(2));
	rw.te_prot = RW;
	play(rw);
	ck_assert(!(pte_of(0, A_BASE) & PTE_W));   /* the first write still faults */
	uint64_t faults = replay_hosted_faults;
	play(ev_fault(0, A_BASE, TR_FAULT_WRITE | TR_FAULT_PRESENT));
	ck_assert_uint_eq(replay_hosted_faults, faults + 1);
	ck_assert_uint_eq(r.st.upgrades, 1);
	ck_assert(pte_of(0, A_BASE) & PTE_W);
	ck_assert(pte_of(0, A_BASE) & PTE_D);
	struct trace_event none = ev_range(TR_MPROTECT, 0, A_BASE + P(1), P(1));
	play(none);   /* PROT_NONE */
	play(ev_fault(0, A_BASE + P(1), 0));
	ck_assert_uint_eq(r.st.err_prot, 2);
	ck_assert_uint_eq(pte_of(0, A_BASE + P(1)), 0);
}
END_TEST

/* Pages handed out to be mapped: the replay's anonymous and page-cache pages. */
static uint64_t user_pages(void)
{
	uint64_t n = 0;

	for (uint64_t pfn = 0; pfn < page_count; pfn++)
		n += page_array[pfn].p_kind == PG_USER;
	return n;
}

START_TEST(munmap_then_fault_is_a_trace_error)
{
	uint64_t in_use = user_pages();

	play(ev_mmap(0, A_BASE, P(8), RW, ANON, 0, 0));
	for (unsigned i = 0; i < 8; i++)
		play(ev_fault(0, A_BASE + P(i), TR_FAULT_WRITE));
	play(ev_range(TR_MUNMAP, 0, A_BASE + P(2), P(3)));
	play(ev_fault(0, A_BASE + P(3), 0));
	ck_assert_uint_eq(r.st.err_noregion, 1);
	ck_assert_uint_eq(r.st.trace_errors, 1);
	ck_assert_uint_eq(pte_of(0, A_BASE + P(3)), 0);
	ck_assert(pte_of(0, A_BASE + P(5)) & PTE_P);
	play(ev_fault(0, A_BASE + P(5), 0));
	ck_assert_uint_eq(r.st.no_fault, 1);
	play(ev_range(TR_MUNMAP, 0, A_BASE, P(8)));
	play(ev_pid(TR_EXIT, 0));
	ck_assert_uint_eq(user_pages(), in_use);   /* every anonymous page went back */
}
END_TEST

START_TEST(mremap_moves_pages)
{
	play(ev_mmap(0, A_BASE, P(4), RW, ANON, 0, 0));
	for (unsigned i = 0; i < 4; i++)
		play(ev_fault(0, A_BASE + P(i), TR_FAULT_WRITE));
	uint64_t pfn0 = pfn_of(0, A_BASE);
	struct trace_event mv = ev_range(TR_MREMAP, 0, A_BASE, P(4));
	mv.te_arg = B_BASE;
	mv.te_len2 = P(8);
	play(mv);
	ck_assert_uint_eq(pte_of(0, A_BASE), 0);
	play(ev_fault(0, A_BASE, 0));
	ck_assert_uint_eq(r.st.err_noregion, 1);
	play(ev_fault(0, B_BASE, 0));
	ck_assert_uint_eq(pfn_of(0, B_BASE), pfn0);   /* the same page, found again */
	ck_assert_uint_eq(r.st.zero_fill, 4);
	play(ev_fault(0, B_BASE + P(6), TR_FAULT_WRITE));   /* the grown part */
	ck_assert_uint_eq(r.st.zero_fill, 5);
	/* shrink in place */
	struct trace_event sh = ev_range(TR_MREMAP, 0, B_BASE, P(8));
	sh.te_arg = B_BASE;
	sh.te_len2 = P(2);
	play(sh);
	play(ev_fault(0, B_BASE + P(6), 0));
	ck_assert_uint_eq(r.st.err_noregion, 2);
	ck_assert_uint_eq(r.st.err_event, 0);
}
END_TEST

START_TEST(brk_grows_and_shrinks_the_heap)
{
	struct trace_event b = ev_pid(TR_BRK, 0);

	b.te_addr = A_BASE + 0x123;   /* the first brk: where the heap starts */
	play(b);
	b.te_addr = A_BASE + P(3) + 0x10;
	play(b);
	play(ev_fault(0, A_BASE + P(2), TR_FAULT_WRITE));
	play(ev_fault(0, A_BASE + P(4), TR_FAULT_WRITE));
	ck_assert_uint_eq(r.st.zero_fill, 1);
	b.te_addr = A_BASE + P(6);
	play(b);
	play(ev_fault(0, A_BASE + P(4), TR_FAULT_WRITE));
	ck_assert_uint_eq(r.st.zero_fill, 2);
	ck_assert_ptr_eq(proc_find(&r, 0)->vmas->next, NULL);   /* one region grown in place */
	b.te_addr = A_BASE + P(2);
	play(b);
	play(ev_fault(0, A_BASE + P(2), 0));
	ck_assert_uint_eq(r.st.err_noregion, 2);
	ck_assert_uint_eq(r.st.err_event, 0);
}
END_TEST

START_TEST(shared_anon_survives_fork)
{
	play(ev_mmap(0, A_BASE, P(2), RW, ANON | TR_MAP_SHARED, 0, 0));
	play(ev_fault(0, A_BASE, TR_FAULT_WRITE));
	play(ev_fork(0, 7));
	play(ev_fault(7, A_BASE, TR_FAULT_WRITE));
	ck_assert_uint_eq(pfn_of(7, A_BASE), pfn_of(0, A_BASE));
	ck_assert_uint_eq(r.st.cow_copies, 0);
	ck_assert(pte_of(7, A_BASE) & PTE_W);
	play(ev_pid(TR_EXEC, 7));
	ck_assert_uint_eq(pte_of(7, A_BASE), 0);
	ck_assert_uint_eq(r.st.execs, 1);
}
END_TEST

START_TEST(malformed_events_are_counted)
{
	static const struct trace_event bad[] = {
		{ .te_kind = 0 },
		{ .te_kind = TR_KIND_MAX + 1 },
		{ .te_kind = TR_FAULT, .te_pid = PARRAY_MAX },
		{ .te_kind = TR_MMAP, .te_addr = 0x1001, .te_len = 4096, .te_flags = ANON },
		{ .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 0, .te_flags = ANON },
		{ .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = UINT64_MAX, .te_flags = ANON },
		{ .te_kind = TR_MMAP, .te_addr = REPLAY_TASK_TOP - 4096, .te_len = 8192, .te_flags = ANON },
		{ .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 4096, .te_file = TR_FILE_NONE },
		{ .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 4096, .te_file = 16 },
		{ .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 4096, .te_file = 1, .te_offset = 12 },
		{ .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 4096, .te_flags = 0x80 },
		{ .te_kind = TR_MPROTECT, .te_addr = 0x1000, .te_len = 4096, .te_prot = 0x100 },
		{ .te_kind = TR_MREMAP, .te_addr = 0x1000, .te_len = 4096, .te_arg = 0x3000, .te_len2 = 4096 },
		{ .te_kind = TR_FORK, .te_arg = 0 },
		{ .te_kind = TR_FORK, .te_arg = PARRAY_MAX },
		{ .te_kind = TR_FAULT, .te_addr = UINT64_MAX },
		{ .te_kind = TR_BRK, .te_addr = UINT64_MAX },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		replay_event(&r, &bad[i]);
	ck_assert_uint_eq(r.st.err_event, sizeof(bad) / sizeof(bad[0]));
	ck_assert_uint_eq(r.st.trace_errors, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

static uint64_t rnd_state;

static uint64_t rnd(uint64_t n)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (rnd_state >> 33) % n;
}

/* A region of some kind at base: anonymous or a file, private or shared. */
static void random_mmap(uint32_t pid, uint64_t base)
{
	uint8_t flags = rnd(3) == 0 ? 0 : ANON;
	uint16_t prot = rnd(4) ? RW : RX;
	uint32_t file = (uint32_t)rnd(4);
	uint64_t off = P(rnd(16));

	flags |= rnd(5) == 0 ? TR_MAP_SHARED : 0;
	play(ev_mmap(pid, base, P(64), prot, flags, file, off));
}

/* One event on an existing region's neighbourhood: unmap, protect, forget, move or touch. */
static void random_region_event(uint32_t pid, uint64_t base, uint64_t page, unsigned what)
{
	struct trace_event e = ev_range(TR_MUNMAP, pid, base + page, P(1 + rnd(8)));

	if (what < 16) {
		play(e);
	} else if (what < 18) {
		e.te_kind = TR_MPROTECT;
		e.te_prot = rnd(2) ? RW : TR_PROT_READ;
		play(e);
	} else if (what < 19) {
		e.te_kind = TR_DONTNEED;
		play(e);
	} else if (what < 20) {
		e = ev_range(TR_MREMAP, pid, base, P(8));
		e.te_arg = A_BASE + P(64 * (8 + rnd(4)));
		e.te_len2 = P(4 + rnd(8));
		play(e);
	} else {
		uint64_t off = rnd(4096);
		uint8_t bits = rnd(3) == 0 ? TR_FAULT_WRITE : rnd(5) == 0 ? TR_FAULT_EXEC : 0;
		play(ev_fault(pid, base + page + off, bits));
	}
}

/* A seeded process tree: forks, execs, exits, regions of every kind and faults all over them. */
static void synthetic_tree(uint64_t seed, unsigned nevents)
{
	uint32_t live[32] = { 0 }, nlive = 1, next_pid = 1;

	rnd_state = seed * 0x9e3779b97f4a7c15ull + 1;
	for (unsigned i = 0; i < nevents; i++) {
		uint32_t pid = live[rnd(nlive)];
		uint64_t base = A_BASE + P(64 * rnd(8));
		uint64_t page = P(rnd(64));
		unsigned what = (unsigned)rnd(100);
		if (what < 3 && nlive < 32) {
			play(ev_fork(pid, next_pid));
			live[nlive++] = next_pid++;
		} else if (what < 5 && nlive > 1) {
			unsigned k = (unsigned)rnd(nlive);
			play(ev_pid(TR_EXIT, live[k]));
			live[k] = live[--nlive];
		} else if (what < 6) {
			play(ev_pid(TR_EXEC, pid));
		} else if (what < 14) {
			random_mmap(pid, base);
		} else {
			random_region_event(pid, base, page, what);
		}
	}
}

START_TEST(synthetic_tree_is_clean)
{
	synthetic_tree(1, 3000);
	ck_assert_uint_gt(r.st.cow_copies, 0);
	ck_assert_uint_gt(r.st.file_hit, 0);
	ck_assert_uint_gt(r.st.processes, 5);
	ck_assert_uint_eq(r.st.oom, 0);
	ck_assert_uint_gt(checks, 3000);
}
END_TEST

/* The same tree under a page limit: the clock takes pages back, and they come back on touch. */
START_TEST(reclaim_under_a_page_limit)
{
	page_set_limit(page_ninuse() + 96);
	play(ev_mmap(0, A_BASE, P(256), RW, ANON, 0, 0));
	play(ev_mmap(0, B_BASE, P(256), RX, 0, 5, 0));
	for (unsigned round = 0; round < 2; round++)
		for (unsigned i = 0; i < 256; i++) {
			play(ev_fault(0, A_BASE + P(i), TR_FAULT_WRITE));
			play(ev_fault(0, B_BASE + P(i), 0));
		}
	play(ev_fork(0, 1));
	for (unsigned i = 0; i < 256; i += 3)
		play(ev_fault(1, A_BASE + P(i), TR_FAULT_WRITE));
	synthetic_tree(2, 1500);
	ck_assert_uint_gt(r.st.reclaimed, 200);
	ck_assert_uint_gt(r.st.swapped_out, 0);
	ck_assert_uint_gt(r.st.dropped_clean, 0);
	ck_assert_uint_gt(r.st.swap_in, 0);
	ck_assert_uint_eq(r.st.oom, 0);
}
END_TEST

/* One fresh boot, one replay, its line. */
static void replay_line(uint64_t seed, uint64_t limit, char *line, size_t size)
{
	boot(7);
	if (limit)
		page_set_limit(page_ninuse() + limit);
	synthetic_tree(seed, 2000);
	replay_finish(&r);
	replay_format(&r, line, size);
	ck_assert_uint_eq(r.st.internal_errors, 0);
	mm_hosted_shutdown();
}

START_TEST(replay_is_deterministic)
{
	char a[1024], b[1024];

	replay_line(3, _i ? 120 : 0, a, sizeof(a));
	replay_line(3, _i ? 120 : 0, b, sizeof(b));
	ck_assert_str_eq(a, b);
	ck_assert(strstr(a, "replay: events=2000 ") == a);
	if (_i)
		ck_assert(strstr(a, " reclaimed=0 ") == NULL);
}
END_TEST

/* parray_next visits exactly the words written, across absent leaf and middle pages. */
START_TEST(parray_next_finds_every_written_word)
{
	static const uint64_t at[] = { 0, 1, 511, 512, 70000, 262143, 262144, 5000000, PARRAY_MAX - 1 };
	struct parray a = { 0 };
	uint64_t i = 0, word = 7;

	ck_assert_uint_eq(parray_next(&a, 0, &word), PARRAY_MAX);   /* nothing yet */
	ck_assert_uint_eq(word, 7);
	for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++)
		*parray_at(&a, at[k], true) = at[k] + 1;
	for (uint64_t x = parray_next(&a, 0, &word); x < PARRAY_MAX; x = parray_next(&a, x + 1, &word)) {
		ck_assert_uint_eq(x, at[i++]);
		ck_assert_uint_eq(word, x + 1);
	}
	ck_assert_uint_eq(i, sizeof(at) / sizeof(at[0]));
	ck_assert_uint_eq(parray_next(&a, 513, &word), 70000);
	ck_assert_uint_eq(parray_next(&a, PARRAY_MAX, &word), PARRAY_MAX);
	*parray_at(&a, 70000, false) = 0;   /* a zero word is not "written" */
	ck_assert_uint_eq(parray_next(&a, 513, &word), 262143);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *t = tcase_create("events");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, fork_shares_then_copies_on_write);
	tcase_add_test(t, fork_copies_tables_of_regions_with_anonymous_pages);
	tcase_add_test(t, fork_without_memory_leaves_pages_to_faults);
	tcase_add_test(t, vfork_child_borrows_its_parents_memory);
	tcase_add_test(t, a_lenders_memory_outlives_it_for_its_borrowers);
	tcase_add_test(t, an_exec_without_memory_leaves_no_space);
	tcase_add_test(t, file_pages_shared_by_every_process);
	tcase_add_test(t, mprotect_makes_a_write_fault);
	tcase_add_test(t, munmap_then_fault_is_a_trace_error);
	tcase_add_test(t, mremap_moves_pages);
	tcase_add_test(t, brk_grows_and_shrinks_the_heap);
	tcase_add_test(t, shared_anon_survives_fork);
	tcase_add_test(t, malformed_events_are_counted);
	tcase_add_test(t, synthetic_tree_is_clean);
	tcase_add_test(t, reclaim_under_a_page_limit);
	tcase_add_test(t, parray_next_finds_every_written_word);
	suite_add_tcase(s, t);
	TCase *d = tcase_create("determinism");
	tcase_set_timeout(d, 120);
	tcase_add_loop_test(d, replay_is_deterministic, 0, 2);
	suite_add_tcase(s, d);
	return s;
}

int main(void)
{
	return run_suite(replay_suite());
}
