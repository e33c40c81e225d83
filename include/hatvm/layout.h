/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest-physical layout the VMM sets up before entry (the boot contract). */
#ifndef HATVM_LAYOUT_H
#define HATVM_LAYOUT_H

/*
 * GPA 0 .. BOOT_RESERVED_END belongs to the VMM: page tables, GDT, boot
 * info and the entry stacks live there. Images load above it.
 */
#define BOOT_GDT_GPA        0x1000ull
#define BOOT_INFO_GPA       0x2000ull
#define BOOT_CMDLINE_GPA    0x3000ull
#define BOOT_CMDLINE_MAX    4095ull
#define BOOT_TSS_GPA        0x4000ull
#define BOOT_PT_GPA         0x10000ull   /* boot page-table pages from here */
#define BOOT_PT_END         0x100000ull
#define BOOT_STACK_GPA      0x100000ull  /* vCPU i: top at + (i+1)*STACK_SIZE */
#define BOOT_STACK_SIZE     0x4000ull
#define BOOT_MAX_CPUS       64
#define BOOT_RESERVED_END   0x200000ull

/* The host identity-maps GPA 0..4 GiB (2 MiB pages), so holes fault as MMIO. */
#define BOOT_IDENTITY_END   0x100000000ull

/* RAM is one range from GPA 0; it stays below the 32-bit hole. */
#define GUEST_RAM_MAX       0xC0000000ull
#define GUEST_RAM_MIN       0x400000ull

/* GDT selectors at entry */
#define BOOT_SEL_CODE       0x08
#define BOOT_SEL_DATA       0x10
#define BOOT_SEL_TSS        0x18

/*
 * The guest kernel's virtual layout (our guest; other images may differ):
 * its image is linked at KERNEL_BASE + its GPA, and once its own tables are
 * live all RAM is mapped at DIRECT_MAP_BASE + GPA.
 */
#define KERNEL_BASE         0xffffffff80000000ull
#define DIRECT_MAP_BASE     0xffff800000000000ull

#endif
