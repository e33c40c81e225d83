/* SPDX-License-Identifier: BSD-2-Clause */
/* The gdb stub on KVM: the 127.0.0.1 listener, vCPU registers and KVM_SET_GUEST_DEBUG, Ctrl-C while running. */
#ifndef VMM_GDBSTUB_KVM_H
#define VMM_GDBSTUB_KVM_H

#include "gdbstub.h"
#include "guest_mem.h"

struct gdb_kvm;

/* Called from the Ctrl-C watcher thread: stop every vCPU and call gdb_kvm_stop(). */
typedef void (*gdb_interrupt_fn)(void *ctx);

/*
 * --gdb-on-violation: false makes gdb_kvm_stop() let the guest run on
 * until a violation when gdb has not attached (process-wide, set before
 * vm_run(); the default, true, waits before the first instruction).
 */
void gdb_kvm_wait_at_start(bool wait);

/* A PORT that means any free port (the one taken is printed with the attach command). */
#define GDB_KVM_ANY_PORT 65536u

/*
 * Listens on 127.0.0.1:PORT (only there: the stub gives full control of
 * the guest). NULL after a message on stderr.
 */
struct gdb_kvm *gdb_kvm_open(unsigned port, const char *image, const struct guest_mem *gm,
			     unsigned ncpus, gdb_interrupt_fn interrupt, void *ctx);

/*
 * Every vCPU is stopped (fds[i] is vCPU i's): waits for gdb if none is
 * connected, printing how to attach (unless gdb_kvm_wait_at_start(false)
 * and STOP is no violation: then GDB_ACT_CONTINUE at once); tells it STOP and serves it; then
 * gives every vCPU the debug state gdb asked for. Returns gdb's action
 * (GDB_ACT_GONE: it went away; the guest runs on without breakpoints).
 * *interrupted: a signal ended the wait for gdb (GDB_ACT_GONE).
 */
enum gdb_action gdb_kvm_stop(struct gdb_kvm *g, const int fds[], const struct gdb_stop *stop,
			     bool *interrupted);

/* Whether gdb has a software breakpoint (a planted INT3) at guest virtual address VA. */
bool gdb_kvm_sw_break_at(const struct gdb_kvm *g, uint64_t va);

/* After GDB_ACT_STEP: the vCPU gdb steps (the only one that may run until it stops). */
unsigned gdb_kvm_step_cpu(const struct gdb_kvm *g);

/* The run ended: tells a waiting gdb (W packet with STATUS), removes breakpoints, closes. */
void gdb_kvm_close(struct gdb_kvm *g, int status);

#endif
