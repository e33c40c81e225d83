/* SPDX-License-Identifier: BSD-2-Clause */
/* x86-64 instructions the MM needs: INVLPG, CR2/CR3, PAUSE, RDTSC. Guest only. */
#ifndef GUEST_ARCH_X86_H
#define GUEST_ARCH_X86_H

#ifdef HATVM_HOSTED
#error "arch_x86.h is guest-only; the hosted seam stubs these in tests/lib/hosted_platform.c"
#endif

#include <stdbool.h>
#include <stdint.h>

/* Drops this CPU's TLB entry for va (and, on Intel, all paging-structure caches). */
static inline void x86_invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t x86_read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* Loads a new top-level table; flushes every non-global TLB entry. */
static inline void x86_write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t x86_read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* Stores count zero quadwords from p up: one string instruction. */
static inline void x86_zero_qwords(void *p, uint64_t count)
{
	__asm__ volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0ull) : "memory");
}

/* Index of the first non-zero quadword of p[0..count), or count: one string instruction. */
static inline uint64_t x86_find_nonzero_qword(const uint64_t *p, uint64_t count)
{
	const uint64_t *end = p;
	uint64_t left = count;

	if (count == 0)
		return 0;
	__asm__ volatile("repe scasq" : "+D"(end), "+c"(left) : "a"(0ull), "m"(*(const uint64_t (*)[count])p) : "cc");
	/* scasq stopped one past the mismatch, or ran out with every quadword zero */
	if (left == 0 && end[-1] == 0)
		return count;
	return (uint64_t)(end - p) - 1;
}

static inline void x86_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}

/* CPUID leaf 1 ECX bit 21: the LAPIC can run in x2APIC mode. */
static inline bool x86_cpuid_x2apic(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 21) & 1;
}

static inline uint64_t x86_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif
