/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest memory as gdb sees it: by virtual address through a vCPU's page tables, or physical. */
#ifndef VMM_GDBSTUB_MEM_H
#define VMM_GDBSTUB_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "gdbstub_bp.h"
#include "gdbstub_regs.h"
#include "guest_mem.h"

/* How an address is taken: through the tables at regs->cr3 (EFER.NXE from regs), or as a GPA. */
struct gdb_space {
	const struct guest_mem *gm;
	const struct gdb_regs *regs;
	bool phys;
};

/* The GPA of ADDR; false when it does not translate or lies outside RAM. */
bool gdb_mem_gpa(const struct gdb_space *sp, uint64_t addr, uint64_t *gpa);

/*
 * Reads up to LEN bytes at ADDR, page by page, stopping at the first
 * address that does not translate; planted INT3s read as the guest's
 * bytes. Returns the bytes read (0: nothing readable at ADDR).
 */
uint64_t gdb_mem_read(const struct gdb_space *sp, const struct gdb_breakpoints *bp, uint64_t addr,
		      uint8_t *buf, uint64_t len);

/*
 * Writes LEN bytes at ADDR (buf may be changed: planted INT3s stay).
 * All or nothing: false, and nothing written, when any page fails.
 */
bool gdb_mem_write(const struct gdb_space *sp, struct gdb_breakpoints *bp, uint64_t addr,
		   uint8_t *buf, uint64_t len);

#endif
