/* SPDX-License-Identifier: BSD-2-Clause */
/* vmm --replay: the trace reader behind the guest's trace hypercall. */
#ifndef VMM_REPLAY_SOURCE_H
#define VMM_REPLAY_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Opens PATH (validated whole by the reader) and serves the trace
 * hypercall from it until replay_source_close(). false after one line
 * on err naming the file and what is wrong with it.
 */
bool replay_source_open(const char *path, FILE *err);
void replay_source_close(void);

/* Events in the open trace (0 without one). */
uint64_t replay_source_events(void);

/* The path of the open trace's file INDEX, or NULL (no trace, or no such file). */
const char *replay_source_file_path(uint64_t index);

#endif
