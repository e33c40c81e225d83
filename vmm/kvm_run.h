/* The VM: KVM set-up, one thread per vCPU, exits, pausing at checkpoints, the watchdog. */
#ifndef VMM_KVM_RUN_H
#define VMM_KVM_RUN_H

#include <stdint.h>

#include "cli.h"
#include "elf_load.h"
#include "guest_mem.h"

struct vm;

/*
 * Called with every vCPU paused at a checkpoint (cpu >= 0, `label` set) and
 * once after the guest has stopped (cpu < 0, label "exit"). May read and
 * write guest memory. Returns how many invariant violations it found.
 */
typedef unsigned (*vm_check_fn)(void *ctx, const char *label, int cpu, uint64_t arg_gpa);

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
