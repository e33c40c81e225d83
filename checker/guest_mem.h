/* SPDX-License-Identifier: BSD-2-Clause */
/* The only way host code touches guest RAM: checked (GPA, length) access. */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest RAM: one range of `size` bytes starting at GPA 0. */
struct guest_mem {
	uint8_t *base;
	uint64_t size;
};

/* Maps `size` bytes of anonymous memory (MAP_NORESERVE); 0 or -errno. */
int guest_mem_map(struct guest_mem *gm, uint64_t size);
void guest_mem_unmap(struct guest_mem *gm);
/*
 * [gpa, gpa+len), 2 MiB-aligned, in small host pages (best effort): for
 * RAM of which little will be touched, where a huge page's first touch
 * would zero 2 MiB.
 */
void guest_mem_small_pages(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* True when [gpa, gpa+len) lies inside RAM, with no arithmetic overflow. */
bool guest_mem_contains(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Host pointer to [gpa, gpa+len), or NULL when any byte is outside RAM. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies between guest RAM and host memory; false (nothing copied) when out of range. */
bool guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);
bool guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);

#endif
