/* SPDX-License-Identifier: BSD-2-Clause */
/* `vmm check-core CORE GUEST.ELF`: the checker run offline over a core file. */
#ifndef VMM_CHECK_CORE_H
#define VMM_CHECK_CORE_H

/* argv[0] is "check-core". Returns the exit status (0 clean, 1 violations, 2 errors). */
int check_core_main(int argc, char **argv);

#endif
