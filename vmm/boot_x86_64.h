/* SPDX-License-Identifier: BSD-2-Clause */
/* The boot contract on x86-64: boot page tables, GDT, boot info, entry registers. */
#ifndef VMM_BOOT_X86_64_H
#define VMM_BOOT_X86_64_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "elf_load.h"
#include "guest_mem.h"

struct boot_params {
	unsigned cpus;
	const char *cmdline;
	uint64_t tsc_khz;
};

/*
 * Writes the GDT, TSS, boot info, command line and boot page tables into
 * guest RAM below BOOT_RESERVED_END. The tables identity-map GPA 0..4 GiB
 * and map every segment at its p_vaddr. Returns 0, or -1 with err set.
 */
int boot_build(const struct guest_mem *gm, const struct elf_image *img,
	       const struct boot_params *params, char *err, size_t errlen);

/* Records the TSC rate in the boot info (known only once a vCPU exists). */
void boot_set_tsc_khz(const struct guest_mem *gm, uint64_t tsc_khz);

/* Special registers for 64-bit long mode at entry, paging on the boot tables. */
void boot_sregs(struct kvm_sregs *sregs);

/* General registers at entry: RIP = entry, RDI = boot info, RSI = cpu, RSP = its stack. */
void boot_regs(struct kvm_regs *regs, uint64_t entry, unsigned cpu);

#endif
