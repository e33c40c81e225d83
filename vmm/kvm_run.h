/* The VM: KVM set-up, one thread per vCPU, exits, pausing at checkpoints, the watchdog. */
#ifndef VMM_KVM_RUN_H
#define VMM_KVM_RUN_H

#include <stdint.h>

#include "cli.h"
#include "elf_load.h"
#include "guest_mem.h"

#include <linux/kvm.h>

/* Where a check runs: a checkpoint (cpu >= 0) or after the guest stopped (cpu < 0). */
struct vm_checkpoint {
	const char *label;    /* the guest's label, or "exit" */
	int cpu;              /* the vCPU that called the checkpoint, -1 at exit */
	int vcpu_fd;          /* its fd (usable: the hook runs on its thread), -1 at exit */
	uint64_t arg_gpa;     /* GPA of its struct hc_checkpoint, 0 at exit */
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
 * NULL). May read and write guest memory. Returns the violations found.
 */
typedef unsigned (*vm_check_fn)(void *ctx, const struct vm_checkpoint *where,
				const struct vcpu_state *vcpus, unsigned ncpus);

struct vm_hooks {
	vm_check_fn check;
	void *ctx;
};

/*
 * Boots the loaded image on KVM and runs it to the end: returns the
 * vmm exit status (see exit_status.h). Messages go to stderr.
 */
int vm_run(const struct vmm_options *opt, const struct guest_mem *gm,
	   const struct elf_image *img, const struct vm_hooks *hooks);

#endif
