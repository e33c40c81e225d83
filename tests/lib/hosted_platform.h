/* SPDX-License-Identifier: BSD-2-Clause */
/* The MM platform seam compiled hosted: the controls tests use (RAM arena, recorded TLB/CR3 operations, CPU ids, catchable panics). */
#ifndef TESTS_LIB_HOSTED_PLATFORM_H
#define TESTS_LIB_HOSTED_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#define MM_TEST_FIRST_FREE 0x400000ull   /* as if VMM data and a 2 MiB image sat below */
/* The fake image [MM_HOSTED_IMAGE_BASE, MM_TEST_FIRST_FREE): mapped, never written by the MM. */
#define MM_HOSTED_IMAGE_BASE 0x200000ull

/* What the hosted seam recorded (hosted_platform.c). */
struct mm_hosted_log {
	uint64_t flush_page;     /* INVLPGs */
	uint64_t flush_all;      /* full flushes */
	uint64_t last_va;        /* last INVLPG address */
	uint64_t cr3_loads;
	uint64_t cr3;            /* what mm_read_cr3() returns */
	unsigned boot_pml4e_index;
	uint64_t boot_pml4e;     /* what hat_kernel_init installed into the "boot tables" */
};
extern struct mm_hosted_log mm_hosted_log;
extern char mm_hosted_panic_msg[1024];
extern unsigned mm_hosted_ncpus;

/* This thread's cpu_id(). */
void mm_hosted_set_cpu(unsigned cpu);

struct hat;

/* A shootdown hook's delivery: each CPU in cpus runs hat_tlb_run(h, gen, va, npages) as its IPI handler would. */
void mm_hosted_run_shootdown(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages);

/* Makes a RAM arena of ram_size bytes and runs hat_kernel_init() on it. */
void mm_hosted_boot(uint64_t ram_size);

/*
 * mm_hosted_boot() with the MM's first free page at first_free (at least
 * MM_TEST_FIRST_FREE, where the fake image ends; aborts below it): RAM
 * below it is left out, as a big kernel image would leave it, so every
 * page the MM hands out or keeps its metadata in lies above (the arena is
 * touched only where used).
 */
void mm_hosted_boot_from(uint64_t ram_size, uint64_t first_free);
void mm_hosted_shutdown(void);

/*
 * Called when the HAT operation log is nearly full (mm_oplog_full), to
 * show its records to a host model (a check); NULL: they are dropped
 * unseen, and a model attached later starts again.
 */
extern void (*mm_hosted_oplog_hook)(void);

/* The HAT operation log's lanes in a hosted boot (mm_oplog_lanes). */
#define MM_HOSTED_LOG_LANES 4u

/* The log's record number seq, in whichever lane's ring still holds it; NULL when none does. */
const struct hat_op *mm_hosted_log_record(uint64_t seq);

/* Runs fn(arg); true when it panicked (the message is in mm_hosted_panic_msg). */
bool mm_hosted_expect_panic(void (*fn)(void *), void *arg);

#endif
