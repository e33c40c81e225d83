/* Command-line options of vmm and their parser. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hatvm/layout.h"

struct vmm_options {
	const char *image;
	uint64_t mem_size;
	unsigned cpus;
	unsigned timeout_s;          /* 0: no watchdog */
	bool quiet;
	char cmdline[BOOT_CMDLINE_MAX + 1];
};

enum cli_result {
	CLI_RUN,        /* options valid: boot the guest */
	CLI_DONE,       /* --help or --version printed: exit 0 */
	CLI_USAGE,      /* a usage error was printed: exit 2 */
};

enum cli_result cli_parse(int argc, char **argv, struct vmm_options *opt,
			  FILE *out, FILE *err);

/* Parses "256M"-style sizes (K, M, G suffixes; bytes without). */
bool cli_parse_size(const char *text, uint64_t *bytes);

#endif
