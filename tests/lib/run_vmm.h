/* SPDX-License-Identifier: BSD-2-Clause */
/* Runs the vmm binary as a child process and captures what it says. */
#ifndef TESTS_RUN_VMM_H
#define TESTS_RUN_VMM_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct vmm_result {
	int status;        /* exit status, or 128 + signal */
	double seconds;    /* wall time */
	char *out;         /* stdout, NUL-terminated */
	char *err;         /* stderr, NUL-terminated */
};

/* Runs argv (argv[0] is the program path); aborts the test on set-up errors. */
struct vmm_result run_vmm(const char *const argv[]);
void vmm_result_free(struct vmm_result *r);

/* Runs `vmm [opts...] guest [-- words...]`; opts and words are NULL-terminated, may be NULL. */
struct vmm_result run_guest(const char *vmm, const char *guest, const char *const opts[],
			    const char *const words[]);

/* Exits 77 (meson's "skipped") when /dev/kvm is absent; 1, naming the fix, when it cannot be opened. */
void skip_without_kvm(void);

/* Runs the NULL-terminated suites in Check's usual fork mode; returns main's exit status. */
int run_suites(Suite *const suites[]);

/* run_suites() of one suite: every test's main() ends here. */
int run_suite(Suite *suite);

/*
 * main() of a kvm test taking VMM and GUEST.ELF: stores them, skips
 * without /dev/kvm, runs the suite make() builds.
 */
int kvm_test_main(int argc, char **argv, const char **vmm, const char **guest,
		  Suite *(*make)(void));

/* The last MAX bytes of TEXT: Check refuses a failure message over 8 KiB. */
const char *text_tail(const char *text, size_t max);

#define ASSERT_HAS(text, needle) \
	ck_assert_msg(strstr((text), (needle)), "expected \"%s\" in (its last 4000 bytes):\n%s", \
		      (needle), text_tail((text), 4000))

#endif
