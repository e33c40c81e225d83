/* SPDX-License-Identifier: BSD-2-Clause */
/* Command-line options of vmm and their parser. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hatvm/layout.h"

enum check_mode {
	CHECK_OFF,          /* never run the checker */
	CHECK_EXIT,         /* once, after the guest stopped */
	CHECK_CHECKPOINTS,  /* at every checkpoint and after the guest stopped */
};

struct vmm_options {
	const char *image;           /* argv's GUEST.ELF, or default_image */
	char default_image[PATH_MAX];
	uint64_t mem_size;
	unsigned cpus;
	unsigned timeout_s;          /* 0: no watchdog */
	bool timeout_given;          /* -t given: a replay's trace does not scale it */
	bool quiet;
	enum check_mode check;
	unsigned async_ms;           /* --check=async:MS: also an instant check every MS ms; 0: none */
	const char *report_path;     /* --report: JSON file, or NULL */
	uint64_t inject_mask;        /* --inject: bit i = invariant i */
	bool ptdump;                 /* --ptdump: print page tables */
	const char *ptdump_label;    /* ... at this checkpoint; NULL: at exit */
	const char *core_path;       /* --dump-core: ELF core written at the end */
	bool verify_walker;          /* --verify-walker: compare with KVM_TRANSLATE */
	bool stop_on_violation;      /* --stop-on-violation: freeze at the first violating checkpoint */
	unsigned gdb_port;           /* --gdb: serve gdb on 127.0.0.1:PORT; 0: off */
	bool gdb_on_violation;       /* --gdb-on-violation: serve gdb only once a violation froze the guest */
	const char *replay_path;     /* --replay: the trace workload=replay plays; NULL: none */
	char cmdline[BOOT_CMDLINE_MAX + 1];
};

enum cli_result {
	CLI_RUN,        /* options valid: boot the guest */
	CLI_DONE,       /* --help, --version, --print-guest or --list-invariants printed: exit 0 */
	CLI_USAGE,      /* a usage error was printed: exit 2 */
};

/*
 * Parses argv into *opt. Also refuses, as usage errors, --report and
 * --dump-core paths that could not be written safely (a FIFO, device,
 * socket or directory, or a missing directory), so a run never starts
 * only to fail or block at its end.
 */
enum cli_result cli_parse(int argc, char **argv, struct vmm_options *opt,
			  FILE *out, FILE *err);

/* Parses "256M"-style sizes (K, M, G suffixes; bytes without). */
bool cli_parse_size(const char *text, uint64_t *bytes);

/*
 * Without -t, a replay's watchdog: the default plus a second per
 * REPLAY_EVENTS_PER_S of the trace's events (at most the largest
 * --timeout), so a long healthy replay is not stopped as a hung guest.
 */
void cli_scale_timeout(struct vmm_options *opt, uint64_t events);

#endif
