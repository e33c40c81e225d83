/* SPDX-License-Identifier: BSD-2-Clause */
/* Register dump of a vCPU, printed on every failure. */
#ifndef VMM_REGS_DUMP_H
#define VMM_REGS_DUMP_H

#include <stdio.h>

/* Prints RIP, RSP, RFLAGS, CR0/2/3/4, EFER and `reason`; call from the vCPU's thread. */
void regs_dump(int vcpu_fd, unsigned cpu, const char *reason, FILE *out);

#endif
