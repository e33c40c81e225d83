/* SPDX-License-Identifier: BSD-2-Clause */
/* The gdb stub's protocol core: one gdb connection served while the guest is stopped, KVM-free. */
#ifndef VMM_GDBSTUB_H
#define VMM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub_bp.h"
#include "gdbstub_packet.h"
#include "gdbstub_regs.h"
#include "guest_mem.h"

/* What the stub needs of the stopped VM (KVM's in vmm/gdbstub_kvm.c, a fake in the tests). */
struct gdb_target {
	const struct guest_mem *gm;
	unsigned ncpus;                       /* gdb threads 1..ncpus are vCPUs 0..ncpus-1 */
	int (*get_regs)(void *ctx, unsigned cpu, struct gdb_regs *regs);   /* 0 or -errno */
	int (*set_regs)(void *ctx, unsigned cpu, const struct gdb_regs *regs);
	void *ctx;
};

/* Why the guest stopped. */
struct gdb_stop {
	enum {
		GDB_STOP_ATTACH,      /* before the first instruction, or gdb (re)connecting */
		GDB_STOP_INTERRUPT,   /* Ctrl-C from gdb */
		GDB_STOP_SW_BREAK,    /* an INT3 the stub planted */
		GDB_STOP_DEBUG,       /* a #DB: single step, a hardware breakpoint or watchpoint (dr6) */
		GDB_STOP_VIOLATION,   /* the checker reported a violation (--stop-on-violation) */
	} kind;
	unsigned cpu;
	uint64_t dr6;             /* GDB_STOP_DEBUG */
	const char *message;      /* GDB_STOP_VIOLATION: one line for gdb's console, or NULL */
};

/* What gdb asked for; the guest stays stopped until the caller acts on it. */
enum gdb_action {
	GDB_ACT_CONTINUE,
	GDB_ACT_STEP,         /* one instruction on vCPU step_cpu; the others stay stopped */
	GDB_ACT_DETACH,       /* every breakpoint removed: run on without gdb */
	GDB_ACT_KILL,
	GDB_ACT_GONE,         /* the connection closed or failed */
};

/* The debug state each vCPU must run with (KVM_SET_GUEST_DEBUG). */
struct gdb_debug_state {
	bool enable;          /* anything below */
	bool single_step;
	bool sw_breakpoints;  /* INT3 exits to the VMM instead of reaching the guest's IDT */
	bool hw_breakpoints;
	uint64_t dr[4], dr7;
};

struct gdbstub {
	int fd;
	struct gdb_target target;
	struct gdb_parser parser;
	struct gdb_breakpoints bp;
	uint8_t in[512];
	size_t in_pos, in_len;
	bool no_ack;          /* QStartNoAckMode */
	bool resumed;         /* gdb waits for a stop reply */
	bool phys;            /* `monitor phys on`: m/M/X/Z0 take guest-physical addresses */
	bool stepping;
	int step_tid;         /* Hc: the vCPU `s` steps; -1: the one that stopped */
	unsigned step_cpu;    /* the vCPU stepping now (vCont's s:TID, else step_tid) */
	unsigned cur_cpu;     /* Hg: whose registers and address space */
	unsigned stop_cpu;
	char stop_reply[96];
	char why[256];        /* `monitor why`: the last stop, in words */
	char last[2 * GDB_PACKET_MAX + 8];   /* the last packet sent, framed, for a '-' */
	size_t last_len;
};

/* Starts a session on a connected socket; the target outlives it. */
void gdbstub_init(struct gdbstub *s, int fd, const struct gdb_target *target);

/*
 * Tells gdb the guest stopped (STOP; the stop reply goes out now if gdb
 * resumed it, else when gdb asks '?'), then serves gdb's requests until
 * it resumes, detaches or kills the guest, or the connection ends.
 */
enum gdb_action gdbstub_serve(struct gdbstub *s, const struct gdb_stop *stop);

/* The debug state vCPU cpu must run with after the last action. */
void gdbstub_debug_state(const struct gdbstub *s, unsigned cpu, struct gdb_debug_state *d);

/*
 * While the guest runs: reads what gdb sent (fd readable); true when it
 * was Ctrl-C or the connection ended (stop the guest and serve again).
 */
bool gdbstub_interrupted(struct gdbstub *s);

/* The guest ended with STATUS: tells a waiting gdb (W packet), removes every breakpoint. */
void gdbstub_exited(struct gdbstub *s, int status);

/* Removes every breakpoint from guest RAM (before the end of the run or a core dump). */
void gdbstub_release(struct gdbstub *s);

#endif
