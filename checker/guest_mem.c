/* SPDX-License-Identifier: BSD-2-Clause */
/* Checked access to guest RAM: every GPA range is validated before use. */
#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int guest_mem_map(struct guest_mem *gm, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* fewer, larger host and EPT faults when the guest first touches RAM */
	madvise(p, size, MADV_HUGEPAGE);
	gm->base = p;
	gm->size = size;
	return 0;
}

void guest_mem_small_pages(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (guest_mem_contains(gm, gpa, len))
		madvise((uint8_t *)gm->base + gpa, len, MADV_NOHUGEPAGE);
}

void guest_mem_unmap(struct guest_mem *gm)
{
	if (gm->base)
		munmap(gm->base, gm->size);
	gm->base = NULL;
	gm->size = 0;
}

bool guest_mem_contains(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return false;
	return end <= gm->size;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (!guest_mem_contains(gm, gpa, len))
		return NULL;
	return gm->base + gpa;
}

bool guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = guest_mem_ptr(gm, gpa, len);

	if (!src)
		return false;
	memcpy(dst, src, len);
	return true;
}

bool guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = guest_mem_ptr(gm, gpa, len);

	if (!dst)
		return false;
	memcpy(dst, src, len);
	return true;
}
