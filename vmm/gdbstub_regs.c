/* SPDX-License-Identifier: BSD-2-Clause */
/* The x86-64 register file gdb sees: its target description and the 'g'/'p' encoding. */
#include "gdbstub_regs.h"

#include <string.h>

/*
 * gdb's amd64 support needs the core feature's registers (x87 ones
 * included) and SSE under their gdb names; control registers and EFER
 * come as a feature of our own, which gdb shows by name ($cr3, $efer).
 */
const char gdb_target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>\n"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
	"<vector id=\"v2l\" type=\"int64\" count=\"2\"/>\n"
	"<vector id=\"v4i\" type=\"int32\" count=\"4\"/>\n"
	"<vector id=\"v16b\" type=\"int8\" count=\"16\"/>\n"
	"<union id=\"vec128\">\n"
	"<field name=\"v2_double\" type=\"v2d\"/>\n"
	"<field name=\"v4_float\" type=\"v4f\"/>\n"
	"<field name=\"v2_int64\" type=\"v2l\"/>\n"
	"<field name=\"v4_int32\" type=\"v4i\"/>\n"
	"<field name=\"v16_int8\" type=\"v16b\"/>\n"
	"<field name=\"uint128\" type=\"uint128\"/>\n"
	"</union>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>\n"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.segments\">\n"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>\n"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature>\n"
	"<feature name=\"org.hatvm.x86.system\">\n"
	"<reg name=\"k_gs_base\" bitsize=\"64\" type=\"int\" regnum=\"59\" group=\"system\"/>\n"
	"<reg name=\"cr0\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr2\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr3\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr4\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"cr8\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"<reg name=\"efer\" bitsize=\"64\" type=\"int\" group=\"system\"/>\n"
	"</feature>\n"
	"</target>\n";

/* Where register REGNO lives in struct gdb_regs, and its size there and on the wire. */
struct reg_slot {
	size_t offset;
	size_t host_size;   /* bytes in struct gdb_regs */
	size_t wire_size;   /* bytes in the packet (a 16-bit selector goes as 32) */
};

#define SLOT(field, wire) { offsetof(struct gdb_regs, field), sizeof(((struct gdb_regs *)0)->field), wire }

static bool slot_of(unsigned regno, struct reg_slot *s)
{
	static const struct reg_slot x87_control[8] = {
		SLOT(fctrl, 4), SLOT(fstat, 4), SLOT(ftag, 4), SLOT(fiseg, 4),
		SLOT(fioff, 4), SLOT(foseg, 4), SLOT(fooff, 4), SLOT(fop, 4),
	};
	static const struct reg_slot system[GDB_REG_COUNT - GDB_REG_FS_BASE] = {
		SLOT(fs_base, 8), SLOT(gs_base, 8), SLOT(k_gs_base, 8), SLOT(cr0, 8),
		SLOT(cr2, 8), SLOT(cr3, 8), SLOT(cr4, 8), SLOT(cr8, 8), SLOT(efer, 8),
	};

	if (regno < GDB_REG_RIP)
		*s = (struct reg_slot){ offsetof(struct gdb_regs, gpr[regno]), 8, 8 };
	else if (regno == GDB_REG_RIP)
		*s = (struct reg_slot)SLOT(rip, 8);
	else if (regno == GDB_REG_EFLAGS)
		*s = (struct reg_slot){ offsetof(struct gdb_regs, rflags), 4, 4 };
	else if (regno < GDB_REG_ST0)
		*s = (struct reg_slot){ offsetof(struct gdb_regs, seg[regno - GDB_REG_CS]), 2, 4 };
	else if (regno < GDB_REG_FCTRL)
		*s = (struct reg_slot){ offsetof(struct gdb_regs, st[regno - GDB_REG_ST0]), 10, 10 };
	else if (regno < GDB_REG_XMM0)
		*s = x87_control[regno - GDB_REG_FCTRL];
	else if (regno < GDB_REG_MXCSR)
		*s = (struct reg_slot){ offsetof(struct gdb_regs, xmm[regno - GDB_REG_XMM0]), 16, 16 };
	else if (regno == GDB_REG_MXCSR)
		*s = (struct reg_slot)SLOT(mxcsr, 4);
	else if (regno < GDB_REG_COUNT)
		*s = system[regno - GDB_REG_FS_BASE];
	else
		return false;
	return true;
}

size_t gdb_reg_size(unsigned regno)
{
	struct reg_slot s;

	return slot_of(regno, &s) ? s.wire_size : 0;
}

/* The host is little-endian x86-64 like the target: bytes copy as they are. */
bool gdb_reg_get(const struct gdb_regs *r, unsigned regno, uint8_t *out)
{
	struct reg_slot s;

	if (!slot_of(regno, &s))
		return false;
	memset(out, 0, s.wire_size);
	memcpy(out, (const uint8_t *)r + s.offset, s.host_size < s.wire_size ? s.host_size : s.wire_size);
	return true;
}

bool gdb_reg_set(struct gdb_regs *r, unsigned regno, const uint8_t *in)
{
	struct reg_slot s;
	uint8_t *field = (uint8_t *)r;

	if (!slot_of(regno, &s))
		return false;
	field += s.offset;
	if (regno == GDB_REG_EFLAGS)   /* the upper half of RFLAGS is reserved (zero) */
		memset(field, 0, s.host_size + 4);
	memcpy(field, in, s.host_size < s.wire_size ? s.host_size : s.wire_size);
	return true;
}

void gdb_regs_pack(const struct gdb_regs *r, uint8_t *out)
{
	for (unsigned i = 0; i < GDB_REG_COUNT; i++) {
		gdb_reg_get(r, i, out);
		out += gdb_reg_size(i);
	}
}

void gdb_regs_unpack(struct gdb_regs *r, const uint8_t *in)
{
	for (unsigned i = 0; i < GDB_REG_COUNT; i++) {
		gdb_reg_set(r, i, in);
		in += gdb_reg_size(i);
	}
}
