/* Shared helpers of the hosted MM unit tests: the hosted platform's controls, a fixture, a consistency checker. */
#ifndef TESTS_MM_TEST_H
#define TESTS_MM_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "hat.h"
#include "objcache.h"

#define MM_TEST_RAM        (64ull << 20)
#define MM_TEST_FIRST_FREE 0x400000ull   /* as if VMM data and a 2 MiB image sat below */

/* What the hosted seam recorded (platform_hosted.c). */
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

/* Makes a RAM arena of ram_size bytes and runs hat_kernel_init() on it. */
void mm_hosted_boot(uint64_t ram_size);
void mm_hosted_shutdown(void);

/* Runs fn(arg); true when it panicked (the message is in mm_hosted_panic_msg). */
bool mm_hosted_expect_panic(void (*fn)(void *), void *arg);

/* Fixture for every test case: boot 64 MiB; check everything and free it at the end. */
void mm_setup(void);
void mm_teardown(void);

/* Checks every invariant of the catalogue on the live MM structures (ck_assert). */
void mm_check_all(void);

/* A fresh PG_USER page (asserted). */
page_t *mm_test_page(void);

/* Pages of each kind. */
uint64_t mm_count_kind(unsigned kind);

/* The leaf PTE for va in h (NULL when no table). */
pte_t *mm_test_pte(struct hat *h, uint64_t va);

/* A cheap assertion for hot loops: Check logs every passing ck_assert (a write per call). */
#define MM_CHECK(cond, ...) do {                                                  \
		if (!(cond))                                                        \
			ck_abort_msg(__VA_ARGS__);                                  \
	} while (0)

/* Asserts fn(arg) panics with a message containing `needle`. */
#define ck_assert_panics(fn, arg, needle) do {                                   \
		ck_assert_msg(mm_hosted_expect_panic((fn), (arg)), "no panic");      \
		ck_assert_msg(strstr(mm_hosted_panic_msg, (needle)) != NULL,         \
			      "panic message '%s' lacks '%s'", mm_hosted_panic_msg,  \
			      (needle));                                              \
	} while (0)

Suite *page_suite(void);
Suite *segtab_suite(void);
Suite *hment_suite(void);
Suite *hat_suite(void);

#endif
