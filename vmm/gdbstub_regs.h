/* SPDX-License-Identifier: BSD-2-Clause */
/* The x86-64 register file gdb sees: its target description and the 'g'/'p' encoding. */
#ifndef VMM_GDBSTUB_REGS_H
#define VMM_GDBSTUB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One vCPU's registers, as the target reads them (KVM: GET_REGS, GET_SREGS, GET_FPU). */
struct gdb_regs {
	uint64_t gpr[16];        /* rax rbx rcx rdx rsi rdi rbp rsp r8..r15: gdb's order */
	uint64_t rip, rflags;
	uint16_t seg[6];         /* selectors: cs ss ds es fs gs */
	uint8_t st[8][10];       /* x87 stack, 80-bit */
	uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];
	uint32_t mxcsr;
	uint64_t fs_base, gs_base, k_gs_base;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

/* Register numbers of the target description (the 'p'/'P' numbers). */
enum gdb_regno {
	GDB_REG_RAX = 0, GDB_REG_RSP = 7, GDB_REG_RIP = 16, GDB_REG_EFLAGS = 17,
	GDB_REG_CS = 18, GDB_REG_ST0 = 24, GDB_REG_FCTRL = 32, GDB_REG_XMM0 = 40,
	GDB_REG_MXCSR = 56, GDB_REG_FS_BASE = 57, GDB_REG_K_GS_BASE = 59,
	GDB_REG_CR0 = 60, GDB_REG_CR2, GDB_REG_CR3, GDB_REG_CR4, GDB_REG_CR8, GDB_REG_EFER,
	GDB_REG_COUNT,
};

/* Bytes of the 'g' packet's register file (twice that in hex). */
#define GDB_REGS_BYTES 608

/* The target description, target.xml, served through qXfer:features:read. */
extern const char gdb_target_xml[];

/* Size in bytes of register REGNO, or 0 when there is no such register. */
size_t gdb_reg_size(unsigned regno);

/* Little-endian bytes of register REGNO into out (gdb_reg_size bytes); false if none. */
bool gdb_reg_get(const struct gdb_regs *r, unsigned regno, uint8_t *out);

/* Sets register REGNO from its little-endian bytes; false if none. */
bool gdb_reg_set(struct gdb_regs *r, unsigned regno, const uint8_t *in);

/* The whole file, register 0 first, into out (GDB_REGS_BYTES bytes). */
void gdb_regs_pack(const struct gdb_regs *r, uint8_t *out);

/* The inverse of gdb_regs_pack. */
void gdb_regs_unpack(struct gdb_regs *r, const uint8_t *in);

#endif
