/* SPDX-License-Identifier: BSD-2-Clause */
/* Moving from the host's boot tables onto the kernel's own address space. */
#ifndef GUEST_MM_BOOT_H
#define GUEST_MM_BOOT_H

#include "hatvm/abi.h"

/* Builds the memory manager and the kernel address space and loads it; boot CPU, once. */
void mm_boot(const struct boot_info *bi);

/* Loads the kernel address space on another CPU, after mm_boot(). */
void mm_boot_ap(void);

#endif
