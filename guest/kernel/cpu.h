/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-CPU state: GDT, TSS with emergency stacks, identity through GS. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

#include "hatvm/abi.h"

#define MAX_CPUS 64

/* Sets up this CPU's GDT, TSS and GS base; call first thing on every CPU. */
void cpu_init(unsigned index, const struct boot_info *bi);

/* The boot info every CPU was handed (kernel-virtual copy). */
const struct boot_info *cpu_boot_info(void);

#endif
