/* SPDX-License-Identifier: BSD-2-Clause */
/* Output files that lose nothing: written beside the target and renamed into place only when complete. */
#ifndef HATVM_OUT_FILE_H
#define HATVM_OUT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * One output in progress. The bytes go to a temporary file in the
 * target's directory; out_file_commit renames it over the target, so a
 * reader sees the old file or the whole new one, never half of it, and a
 * failure leaves any previous file untouched. Nothing vmm did not create
 * is ever removed.
 */
struct out_file {
	char *target;     /* where the file ends up (symlinks resolved) */
	char *temp;       /* the temporary file, NULL once renamed or removed */
	int fd;
};

/*
 * Checks, before any work is done, that PATH can be an output: its
 * directory exists, and PATH is absent or a regular file (a FIFO, device,
 * socket or directory is refused: writing there could block or destroy
 * something). Returns 0, or -1 with err = "PATH: reason".
 */
int out_file_check(const char *path, char *err, size_t errlen);

/* Checks PATH as out_file_check does and creates the temporary file. 0, or -1 with err set. */
int out_file_open(struct out_file *f, const char *path, char *err, size_t errlen);

/*
 * A stdio stream over f's file (closed by commit/abort through f, do not
 * fclose it). NULL with err set when out of memory.
 */
FILE *out_file_stream(struct out_file *f, char *err, size_t errlen);

/*
 * Flushes STREAM (may be NULL when the fd was written directly), makes the
 * data durable and renames the file into place with the permissions a
 * new file would get (0666 less the umask). On any error (a full disk
 * included) removes the temporary file and returns -1 with err set.
 */
int out_file_commit(struct out_file *f, FILE *stream, char *err, size_t errlen);

/* Gives up: removes the temporary file. Safe to call after commit. */
void out_file_abort(struct out_file *f, FILE *stream);

#endif
