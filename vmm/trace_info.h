/* SPDX-License-Identifier: BSD-2-Clause */
/* `vmm trace-info TRACE`: what a recorded trace holds, and how much memory it touched. */
#ifndef VMM_TRACE_INFO_H
#define VMM_TRACE_INFO_H

#include <stdio.h>

/* argv[0] is "trace-info". 0, or 2 after a usage error or a trace the reader refused. */
int trace_info_main(int argc, char **argv);

/* The summary of the trace at PATH on OUT; 0, or -1 after a message on ERR. */
int trace_info_print(const char *path, FILE *out, FILE *err);

#endif
