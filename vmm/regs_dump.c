/* SPDX-License-Identifier: BSD-2-Clause */
/* Formats a vCPU's registers for failure reports. */
#include "regs_dump.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

void regs_dump(int vcpu_fd, unsigned cpu, const char *reason, FILE *out)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	fprintf(out, "vmm: vCPU %u register dump (%s):\n", cpu, reason);
	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(out, "  registers unavailable: %s\n", strerror(errno));
		return;
	}
	fprintf(out,
		"  RIP    %016llx  RSP %016llx  RFLAGS %016llx\n"
		"  RAX    %016llx  RBX %016llx  RCX    %016llx  RDX %016llx\n"
		"  RSI    %016llx  RDI %016llx  RBP    %016llx\n"
		"  CR0    %016llx  CR2 %016llx  CR3    %016llx  CR4 %016llx\n"
		"  EFER   %016llx  CS  %04x\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.cs.selector);
	fflush(out);
}
