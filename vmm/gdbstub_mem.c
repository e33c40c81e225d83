/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest memory as gdb sees it: by virtual address through a vCPU's page tables, or physical. */
#include "gdbstub_mem.h"

#include "hatvm/x86.h"
#include "pt_walk.h"

#define PAGE 4096ull

bool gdb_mem_gpa(const struct gdb_space *sp, uint64_t addr, uint64_t *gpa)
{
	struct pt_config cfg = { .nxe_off = !(sp->regs->efer & EFER_NXE) };
	struct pt_translation t;

	if (sp->phys) {
		*gpa = addr;
		return guest_mem_contains(sp->gm, addr, 1);
	}
	if (pt_translate(sp->gm, &cfg, sp->regs->cr3, addr, &t) != PT_OK)
		return false;
	*gpa = t.pa;
	return guest_mem_contains(sp->gm, t.pa, 1);
}

/* Bytes from ADDR to the end of its 4 KiB page, at most LEN. */
static uint64_t chunk_len(uint64_t addr, uint64_t len)
{
	uint64_t room = PAGE - (addr & (PAGE - 1));

	return room < len ? room : len;
}

uint64_t gdb_mem_read(const struct gdb_space *sp, const struct gdb_breakpoints *bp, uint64_t addr,
		      uint8_t *buf, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = chunk_len(addr + done, len - done), gpa;
		if (!gdb_mem_gpa(sp, addr + done, &gpa) || !guest_mem_read(sp->gm, gpa, buf + done, n))
			break;
		gdb_sw_hide(bp, gpa, buf + done, n);
		done += n;
	}
	return done;
}

bool gdb_mem_write(const struct gdb_space *sp, struct gdb_breakpoints *bp, uint64_t addr,
		   uint8_t *buf, uint64_t len)
{
	uint64_t gpa;

	/* every page first, so a failing write leaves the guest untouched */
	for (uint64_t done = 0; done < len; done += chunk_len(addr + done, len - done))
		if (!gdb_mem_gpa(sp, addr + done, &gpa) ||
		    !guest_mem_contains(sp->gm, gpa, chunk_len(addr + done, len - done)))
			return false;
	for (uint64_t done = 0, n; done < len; done += n) {
		n = chunk_len(addr + done, len - done);
		gdb_mem_gpa(sp, addr + done, &gpa);
		gdb_sw_absorb(bp, gpa, buf + done, n);
		guest_mem_write(sp->gm, gpa, buf + done, n);
	}
	return true;
}
