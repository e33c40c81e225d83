/* SPDX-License-Identifier: BSD-2-Clause */
/* What every guest file may use: console output, panic, string helpers, CPU identity. */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "hatvm/layout.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * printf conversions of 64-bit values. kprintf reads them with `l`
 * (uint64_t is unsigned long on x86-64); hosted builds take <inttypes.h>.
 */
#if __STDC_HOSTED__
#include <inttypes.h>
#else
#ifndef PRIx64
#define PRId64 "ld"
#define PRIu64 "lu"
#define PRIx64 "lx"
#define PRIX64 "lX"
#endif
#endif

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Ends the whole VM with status 3 through the abort hypercall. */
void panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Guest-physical address of a kernel-image, direct-map or (boot tables) identity address. */
static inline uint64_t kva_to_pa(const void *va)
{
	uint64_t v = (uint64_t)(uintptr_t)va;

	if (v >= KERNEL_BASE)
		return v - KERNEL_BASE;
	if (v >= DIRECT_MAP_BASE)
		return v - DIRECT_MAP_BASE;
	return v;
}

/*
 * This CPU's index (0 = boot CPU) and how many there are. cpu_id() is
 * inline: every MM lock's enter and exit asks it (the lock's owner).
 */
#ifdef HATVM_HOSTED
extern _Thread_local unsigned mm_hosted_cpu;   /* tests/lib/hosted_platform.c */

static inline unsigned cpu_id(void)
{
	return mm_hosted_cpu;
}
#else
#define PERCPU_INDEX_OFFSET 8   /* of struct percpu's index (cpu.c), %gs-relative */

static inline unsigned cpu_id(void)
{
	unsigned index;

	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(index) : "i"(PERCPU_INDEX_OFFSET));
	return index;
}
#endif
unsigned cpu_count(void);

#endif
