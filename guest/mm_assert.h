/* SPDX-License-Identifier: BSD-2-Clause */
/* MM_ASSERT(ID, cond): invariant checks named by the catalogue in hatvm/invariants.h; on in every build. */
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

/* A caller broke an API rule (not an invariant of the catalogue). */
#define MM_REQUIRE(cond) do {                                                 \
		if (__builtin_expect(!(cond), 0))                             \
			mm_assert_fail("API", #cond, __FILE__, __LINE__);     \
	} while (0)

#endif
