/* SPDX-License-Identifier: BSD-2-Clause */
/* MM_ASSERT(ID, cond): invariant checks named by the catalogue in hatvm/invariants.h; off with -Dguest_asserts=false. */
#ifndef GUEST_MM_ASSERT_H
#define GUEST_MM_ASSERT_H

#include "hatvm/invariants.h"
#include "kernel.h"

/*
 * Reports a failed check and never returns. In the guest panic_at ends
 * the VM through the abort hypercall (exit status 3); in the hosted unit
 * tests it is tests/lib/hosted_platform.c's, which can hand control back to a test
 * that expects the panic.
 */
static inline __attribute__((noreturn)) void
mm_assert_fail(const char *id, const char *expr, const char *file, int line)
{
	panic_at(file, line, "ASSERT %s failed: %s", id, expr);
}

/*
 * MM_NO_ASSERTS (meson -Dguest_asserts=false) turns MM_ASSERT and
 * MM_PANIC into no-ops, so that the host checker's power can be measured
 * alone (scripts/mutate.sh). The condition and the arguments still
 * compile (no unused-variable warnings, no rot) but are never evaluated:
 * a check that dereferences does nothing either. MM_REQUIRE (API misuse)
 * and MM_GUARD stay on in every build.
 */
#ifdef MM_NO_ASSERTS

#define MM_ASSERT(ID, cond) do {                                              \
		(void)INV_##ID;                                               \
		if (0)                                                        \
			(void)(cond);                                         \
	} while (0)

#define MM_PANIC(ID, fmt, ...) do {                                           \
		(void)INV_##ID;                                               \
		if (0)                                                        \
			panic_at(__FILE__, __LINE__, "ASSERT " #ID " failed: " fmt, \
				 ##__VA_ARGS__);                              \
	} while (0)

#else

/* ID must be an invariant of the catalogue: INV_##ID makes a typo a compile error. */
#define MM_ASSERT(ID, cond) do {                                              \
		(void)INV_##ID;                                               \
		if (__builtin_expect(!(cond), 0))                             \
			mm_assert_fail(#ID, #cond, __FILE__, __LINE__);       \
	} while (0)

/* The same with a formatted explanation (the message still starts "ASSERT <ID> failed: "). */
#define MM_PANIC(ID, fmt, ...) do {                                           \
		(void)INV_##ID;                                               \
		panic_at(__FILE__, __LINE__, "ASSERT " #ID " failed: " fmt,   \
			 ##__VA_ARGS__);                                      \
	} while (0)

#endif /* MM_NO_ASSERTS */

/*
 * An invariant check that stays on without guest assertions: for a call
 * site where going on would dereference exactly what cond refuses (a NULL
 * page_t or hment). Reported like MM_ASSERT.
 */
#define MM_GUARD(ID, cond) do {                                               \
		(void)INV_##ID;                                               \
		if (__builtin_expect(!(cond), 0))                             \
			mm_assert_fail(#ID, #cond, __FILE__, __LINE__);       \
	} while (0)

/* A caller broke an API rule (not an invariant of the catalogue). */
#define MM_REQUIRE(cond) do {                                                 \
		if (__builtin_expect(!(cond), 0))                             \
			mm_assert_fail("API", #cond, __FILE__, __LINE__);     \
	} while (0)

#endif
