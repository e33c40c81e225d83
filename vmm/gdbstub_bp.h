/* SPDX-License-Identifier: BSD-2-Clause */
/* Breakpoint bookkeeping of the gdb stub: software breakpoints (INT3 in guest RAM) and the four debug registers. */
#ifndef VMM_GDBSTUB_BP_H
#define VMM_GDBSTUB_BP_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"

#define GDB_SW_BREAKPOINTS 64
#define GDB_HW_SLOTS       4      /* DR0..DR3 */

/* gdb's Z types. */
enum gdb_bp_type {
	GDB_BP_SW = 0, GDB_BP_HW = 1, GDB_WP_WRITE = 2, GDB_WP_READ = 3, GDB_WP_ACCESS = 4,
};

struct gdb_sw_bp {
	bool used;
	uint64_t va, gpa;
	uint8_t saved;   /* the guest's byte under the INT3 */
};

struct gdb_hw_slot {
	bool used;
	enum gdb_bp_type type;   /* GDB_BP_HW, GDB_WP_WRITE or GDB_WP_ACCESS */
	uint64_t va;
	unsigned len;            /* 1, 2, 4 or 8; 1 for an execution breakpoint */
};

struct gdb_breakpoints {
	struct gdb_sw_bp sw[GDB_SW_BREAKPOINTS];
	struct gdb_hw_slot hw[GDB_HW_SLOTS];
};

/* What a stop from the debug registers was (DR6 decoded). */
struct gdb_hw_hit {
	enum { GDB_HIT_NONE, GDB_HIT_STEP, GDB_HIT_HW_BREAK, GDB_HIT_WATCH } kind;
	enum gdb_bp_type type;   /* GDB_HIT_WATCH: GDB_WP_WRITE or GDB_WP_ACCESS */
	uint64_t va;             /* the breakpoint's or watchpoint's address */
};

/*
 * Plants INT3 at VA, which translates to GPA, saving the byte under it.
 * 0, or -ENOSPC (table full), -EFAULT (GPA outside RAM). Inserting an
 * address twice is one breakpoint.
 */
int gdb_sw_insert(struct gdb_breakpoints *b, const struct guest_mem *gm, uint64_t va, uint64_t gpa);

/* Restores the byte at VA; -ENOENT when no breakpoint is there. */
int gdb_sw_remove(struct gdb_breakpoints *b, const struct guest_mem *gm, uint64_t va);

/* Restores every planted byte (detach, kill, the end of the run). */
void gdb_sw_remove_all(struct gdb_breakpoints *b, const struct guest_mem *gm);

/* Whether a software breakpoint is planted at VA. */
bool gdb_sw_at(const struct gdb_breakpoints *b, uint64_t va);

/* Whether any software breakpoint is planted. */
bool gdb_sw_any(const struct gdb_breakpoints *b);

/* Replaces planted INT3s in buf (guest bytes read from [gpa, gpa + len)) by the saved bytes. */
void gdb_sw_hide(const struct gdb_breakpoints *b, uint64_t gpa, uint8_t *buf, uint64_t len);

/*
 * Before gdb writes buf to [gpa, gpa + len): each planted INT3 there
 * keeps its place, and the byte gdb wrote becomes the saved one.
 */
void gdb_sw_absorb(struct gdb_breakpoints *b, uint64_t gpa, uint8_t *buf, uint64_t len);

/*
 * Takes a debug register for TYPE at VA, LEN bytes. 0, or -ENOSPC (all
 * four taken), -EINVAL (a length other than 1/2/4/8, a misaligned
 * address, or GDB_WP_READ, which x86 cannot watch alone).
 */
int gdb_hw_insert(struct gdb_breakpoints *b, enum gdb_bp_type type, uint64_t va, unsigned len);

/* Frees the slot of exactly that breakpoint; -ENOENT when there is none. */
int gdb_hw_remove(struct gdb_breakpoints *b, enum gdb_bp_type type, uint64_t va, unsigned len);

/* DR0..DR3 and DR7 for the slots in use (global enables). */
void gdb_hw_debugregs(const struct gdb_breakpoints *b, uint64_t dr[4], uint64_t *dr7);

/* Decodes DR6 after a debug exit. */
struct gdb_hw_hit gdb_hw_decode(const struct gdb_breakpoints *b, uint64_t dr6);

#endif
