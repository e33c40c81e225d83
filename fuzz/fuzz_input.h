/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the libFuzzer harnesses: fuzz input as a file that the readers open by path. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Replaces the contents of one in-memory file (memfd, created on first use)
 * with data[0..size) and returns its /proc/self/fd path: the readers under
 * test take paths and insist on regular files, as they do for users.
 */
const char *fuzz_input_path(const uint8_t *data, size_t size);

#endif
