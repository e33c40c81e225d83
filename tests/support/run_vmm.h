/* Runs the vmm binary as a child process and captures what it says. */
#ifndef TESTS_RUN_VMM_H
#define TESTS_RUN_VMM_H

#include <stdbool.h>
#include <stddef.h>

struct vmm_result {
	int status;        /* exit status, or 128 + signal */
	double seconds;    /* wall time */
	char *out;         /* stdout, NUL-terminated */
	char *err;         /* stderr, NUL-terminated */
};

/* Runs argv (argv[0] is the program path); aborts the test on set-up errors. */
struct vmm_result run_vmm(const char *const argv[]);
void vmm_result_free(struct vmm_result *r);

/* Exits 77 (meson's "skipped") when /dev/kvm cannot be opened. */
void skip_without_kvm(void);

#endif
