/* SPDX-License-Identifier: BSD-2-Clause */
/* The same MM_ASSERT, MM_PANIC, MM_GUARD and MM_REQUIRE call sites compiled with guest assertions on (asserts_on.c) and off (asserts_off.c). */
#ifndef TESTS_MUTATE_ASSERTS_BOTH_H
#define TESTS_MUTATE_ASSERTS_BOTH_H

/* Each takes an int *: the check fails when it is non-zero, and counts its evaluations in it. */
void on_assert(void *arg);
void on_panic(void *arg);
void on_guard(void *arg);
void on_require(void *arg);
void off_assert(void *arg);
void off_panic(void *arg);
void off_guard(void *arg);
void off_require(void *arg);

#endif
