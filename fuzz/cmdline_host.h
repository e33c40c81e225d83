/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest command-line parser hosted for fuzzing: its usage hypercall becomes a longjmp. */
#ifndef FUZZ_CMDLINE_HOST_H
#define FUZZ_CMDLINE_HOST_H

#include <setjmp.h>

/*
 * Where hc_usage (cmdline_usage's end in the guest) jumps to on the host:
 * the harness sets it with setjmp before each call that may refuse the line.
 */
extern jmp_buf cmdline_usage_jump;
/* The message the last refusal would have sent to the host. */
extern const char *cmdline_usage_message;

#endif
