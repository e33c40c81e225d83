/* SPDX-License-Identifier: BSD-2-Clause */
/* Breakpoint bookkeeping of the gdb stub: software breakpoints (INT3 in guest RAM) and the four debug registers. */
#include "gdbstub_bp.h"

#include <errno.h>

#define INT3 0xcc

#define DR6_BS       (1ull << 14)   /* single step */
#define DR7_GE(i)    (2ull << (2 * (i)))
#define DR7_RW(i, v) ((uint64_t)(v) << (16 + 4 * (i)))
#define DR7_LEN(i, v) ((uint64_t)(v) << (18 + 4 * (i)))
#define DR7_GE_BIT   (1ull << 9)    /* "exact" global breakpoints, as recommended */
#define DR7_FIXED_1  (1ull << 10)   /* reserved, reads as 1 */

static struct gdb_sw_bp *sw_find(struct gdb_breakpoints *b, uint64_t va)
{
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++)
		if (b->sw[i].used && b->sw[i].va == va)
			return &b->sw[i];
	return NULL;
}

int gdb_sw_insert(struct gdb_breakpoints *b, const struct guest_mem *gm, uint64_t va, uint64_t gpa)
{
	uint8_t int3 = INT3, saved;

	if (sw_find(b, va))
		return 0;
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		if (b->sw[i].used)
			continue;
		if (!guest_mem_read(gm, gpa, &saved, 1) || !guest_mem_write(gm, gpa, &int3, 1))
			return -EFAULT;
		b->sw[i] = (struct gdb_sw_bp){ .used = true, .va = va, .gpa = gpa, .saved = saved };
		return 0;
	}
	return -ENOSPC;
}

int gdb_sw_remove(struct gdb_breakpoints *b, const struct guest_mem *gm, uint64_t va)
{
	struct gdb_sw_bp *bp = sw_find(b, va);

	if (!bp)
		return -ENOENT;
	guest_mem_write(gm, bp->gpa, &bp->saved, 1);   /* inside RAM: it was when planted */
	bp->used = false;
	return 0;
}

void gdb_sw_remove_all(struct gdb_breakpoints *b, const struct guest_mem *gm)
{
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++)
		if (b->sw[i].used)
			gdb_sw_remove(b, gm, b->sw[i].va);
}

bool gdb_sw_at(const struct gdb_breakpoints *b, uint64_t va)
{
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++)
		if (b->sw[i].used && b->sw[i].va == va)
			return true;
	return false;
}

bool gdb_sw_any(const struct gdb_breakpoints *b)
{
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++)
		if (b->sw[i].used)
			return true;
	return false;
}

void gdb_sw_hide(const struct gdb_breakpoints *b, uint64_t gpa, uint8_t *buf, uint64_t len)
{
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		const struct gdb_sw_bp *bp = &b->sw[i];
		if (bp->used && bp->gpa >= gpa && bp->gpa - gpa < len)
			buf[bp->gpa - gpa] = bp->saved;
	}
}

void gdb_sw_absorb(struct gdb_breakpoints *b, uint64_t gpa, uint8_t *buf, uint64_t len)
{
	for (unsigned i = 0; i < GDB_SW_BREAKPOINTS; i++) {
		struct gdb_sw_bp *bp = &b->sw[i];
		if (bp->used && bp->gpa >= gpa && bp->gpa - gpa < len) {
			bp->saved = buf[bp->gpa - gpa];
			buf[bp->gpa - gpa] = INT3;
		}
	}
}

static bool hw_valid(enum gdb_bp_type type, uint64_t va, unsigned len)
{
	if (type == GDB_BP_HW)
		return true;   /* gdb's kind is the instruction length; DR7 LEN must be 0 */
	if (type != GDB_WP_WRITE && type != GDB_WP_ACCESS)
		return false;
	return (len == 1 || len == 2 || len == 4 || len == 8) && va % len == 0;
}

int gdb_hw_insert(struct gdb_breakpoints *b, enum gdb_bp_type type, uint64_t va, unsigned len)
{
	if (!hw_valid(type, va, len))
		return -EINVAL;
	if (type == GDB_BP_HW)
		len = 1;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		if (!b->hw[i].used) {
			b->hw[i] = (struct gdb_hw_slot){ .used = true, .type = type, .va = va, .len = len };
			return 0;
		}
	}
	return -ENOSPC;
}

int gdb_hw_remove(struct gdb_breakpoints *b, enum gdb_bp_type type, uint64_t va, unsigned len)
{
	if (type == GDB_BP_HW)
		len = 1;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		struct gdb_hw_slot *s = &b->hw[i];
		if (s->used && s->type == type && s->va == va && s->len == len) {
			s->used = false;
			return 0;
		}
	}
	return -ENOENT;
}

/* DR7's LEN encoding: 1 -> 0, 2 -> 1, 8 -> 2, 4 -> 3. */
static unsigned dr7_len(unsigned len)
{
	switch (len) {
	case 2:  return 1;
	case 8:  return 2;
	case 4:  return 3;
	default: return 0;
	}
}

/* DR7's RW encoding: execute 0, write 1, read or write 3. */
static unsigned dr7_rw(enum gdb_bp_type type)
{
	return type == GDB_WP_WRITE ? 1 : type == GDB_WP_ACCESS ? 3 : 0;
}

void gdb_hw_debugregs(const struct gdb_breakpoints *b, uint64_t dr[4], uint64_t *dr7)
{
	*dr7 = 0;
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		const struct gdb_hw_slot *s = &b->hw[i];
		dr[i] = s->used ? s->va : 0;
		if (s->used)
			*dr7 |= DR7_GE(i) | DR7_RW(i, dr7_rw(s->type)) | DR7_LEN(i, dr7_len(s->len));
	}
	if (*dr7)
		*dr7 |= DR7_GE_BIT | DR7_FIXED_1;
}

struct gdb_hw_hit gdb_hw_decode(const struct gdb_breakpoints *b, uint64_t dr6)
{
	for (unsigned i = 0; i < GDB_HW_SLOTS; i++) {
		const struct gdb_hw_slot *s = &b->hw[i];
		if (!(dr6 & (1ull << i)) || !s->used)
			continue;
		if (s->type == GDB_BP_HW)
			return (struct gdb_hw_hit){ .kind = GDB_HIT_HW_BREAK, .type = s->type, .va = s->va };
		return (struct gdb_hw_hit){ .kind = GDB_HIT_WATCH, .type = s->type, .va = s->va };
	}
	if (dr6 & DR6_BS)
		return (struct gdb_hw_hit){ .kind = GDB_HIT_STEP };
	return (struct gdb_hw_hit){ .kind = GDB_HIT_NONE };
}
