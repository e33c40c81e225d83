/* SPDX-License-Identifier: BSD-2-Clause */
/* The VM: KVM set-up, one thread per vCPU, exits, pausing at checkpoints, the watchdog. */
#ifndef VMM_KVM_RUN_H
#define VMM_KVM_RUN_H

#include <stdint.h>

#include "cli.h"
#include "elf_load.h"
#include "guest_mem.h"
#include "hatvm/exit_status.h"

#include <linux/kvm.h>

/* When a check runs. */
enum vm_phase {
	VM_PHASE_CHECKPOINT,   /* every vCPU paused at a checkpoint hypercall */
	VM_PHASE_EXIT,         /* once, after every vCPU stopped */
	VM_PHASE_OFFLINE,      /* over a core file, no VM at all (check-core) */
	VM_PHASE_ASYNC,        /* --check=async: every vCPU stopped wherever it was, perhaps inside an operation */
};

/* Where a check runs. */
struct vm_checkpoint {
	const char *label;    /* the guest's label, or "exit" / "core" */
	enum vm_phase phase;
	int cpu;              /* VM_PHASE_CHECKPOINT: the vCPU that called it; else -1 */
	int vcpu_fd;          /* its fd (usable: the hook runs on its thread); else -1 */
	bool mid_run;         /* the watchdog stopped the guest where it stood (EXIT; OFFLINE: the core says so) */
};

/* A vCPU's registers when it stopped. */
struct vcpu_state {
	bool valid;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/*
 * Called with every vCPU paused at each checkpoint and once after the
 * guest stopped (then `vcpus` holds each vCPU's final registers, else
 * NULL). May read and write guest memory. Keeps its findings itself:
 * the VM's outcome does not depend on them.
 */
typedef void (*vm_check_fn)(void *ctx, const struct vm_checkpoint *where,
			    const struct vcpu_state *vcpus, unsigned ncpus);

/*
 * Called right after each checkpoint's check, every vCPU still paused:
 * true freezes the guest there. No vCPU runs guest code again; the run
 * then ends as after any stop, with the exit check (the findings, a
 * violation, decide the exit status).
 */
typedef bool (*vm_freeze_fn)(void *ctx, const struct vm_checkpoint *where);

struct vm_hooks {
	vm_check_fn check;
	vm_freeze_fn freeze;   /* may be NULL: never freeze */
	void *ctx;
};

/*
 * Boots the loaded image on KVM and runs it to the end, the exit check
 * included: returns how the run ended. Messages go to stderr.
 */
enum run_outcome vm_run(const struct vmm_options *opt, const struct guest_mem *gm,
	   const struct elf_image *img, const struct vm_hooks *hooks);

/*
 * The signal (SIGINT, SIGTERM, SIGHUP) that interrupted vm_run(), or 0.
 * From the moment the vCPUs start, the first such signal stops every
 * vCPU and any check in progress (vm_run() then returns RUN_INTERRUPTED
 * unless the run had already ended otherwise) and a second one exits
 * the process at once with status 128 + its number.
 */
int vm_interrupt_signal(void);

#endif
