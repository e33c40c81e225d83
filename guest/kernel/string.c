/* SPDX-License-Identifier: BSD-2-Clause */
/* The freestanding string and memory functions the compiler and the kernel need. */
#include "kernel.h"

/*
 * rep stosq for the aligned bulk: under emulating hypervisors (kvm-pvm)
 * every instruction traps, and a byte loop made zeroing one page cost
 * ~15 ms; one string instruction costs ~0.3 ms.
 */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint64_t word = 0x0101010101010101ull * (unsigned char)c;
	size_t words = ((uintptr_t)dst & 7) == 0 ? n / 8 : 0;

	n -= words * 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(word) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(word) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}
