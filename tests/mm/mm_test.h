/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared helpers of the hosted MM unit tests: the fixture and small assertions. */
#ifndef TESTS_MM_TEST_H
#define TESTS_MM_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "hat.h"
#include "hosted_platform.h"
#include "objcache.h"

#define MM_TEST_RAM        (64ull << 20)

/* Fixture for every test case: boot 64 MiB; check everything and free it at the end. */
void mm_setup(void);
void mm_teardown(void);
/* mm_setup() with ram_size of RAM whose first free page is at first_free (mm_hosted_boot_from). */
void mm_setup_from(uint64_t ram_size, uint64_t first_free);

/* Runs the checker library over the live MM; fails the test listing every violation. */
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

/* 0 in a -Dguest_asserts=false build: the MM's own MM_ASSERT/MM_PANIC do nothing, so tests of their panics do not run. */
#ifdef MM_NO_ASSERTS
#define MM_ASSERTS_ON 0
#else
#define MM_ASSERTS_ON 1
#endif

Suite *page_suite(void);
Suite *segtab_suite(void);
Suite *hment_suite(void);
Suite *hat_suite(void);
Suite *oracle_suite(void);
Suite *hat_limits_suite(void);
Suite *hat_range_suite(void);
Suite *smp_model_suite(void);

#endif
