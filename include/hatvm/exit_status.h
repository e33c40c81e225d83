/* vmm's exit statuses, as documented in --help and the README. */
#ifndef VMM_EXIT_STATUS_H
#define VMM_EXIT_STATUS_H

enum vmm_exit_status {
	VMM_EXIT_OK = 0,         /* guest finished, every check passed */
	VMM_EXIT_VIOLATION = 1,  /* the checker found an invariant violated */
	VMM_EXIT_USAGE = 2,      /* usage or image error */
	VMM_EXIT_CRASH = 3,      /* exception, triple fault, abort, bad hypercall, hole */
	VMM_EXIT_TIMEOUT = 4,    /* the watchdog fired */
};

#endif
