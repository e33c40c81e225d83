/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading untrusted input files: the "PATH: message" error helper, whole-file reads that never block, libelf set-up. */
#ifndef HATVM_ELF_FILE_H
#define HATVM_ELF_FILE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>
#include <sys/stat.h>

/* Larger files are rejected before any parsing. */
#define ELF_MAX_FILE_SIZE (1ull << 30)

/* Writes "PATH: <message>" to err (when err is not NULL); always returns -1. */
int path_verrf(char *err, size_t errlen, const char *path, const char *fmt, va_list ap);
__attribute__((format(printf, 4, 5)))
int path_errf(char *err, size_t errlen, const char *path, const char *fmt, ...);

/*
 * Opens PATH for reading without ever blocking (O_NONBLOCK: a FIFO's
 * open would wait for a writer) and checks with fstat that it is a
 * regular file. Every input path goes through here. Returns the fd
 * (O_CLOEXEC) with *st filled, or -1 with err = "PATH: reason".
 */
int input_file_open(const char *path, struct stat *st, char *err, size_t errlen);

/*
 * Reads the whole regular file at PATH (at most ELF_MAX_FILE_SIZE bytes,
 * at least one byte) into a malloc'd buffer the caller frees. Shared by
 * the loader and the symbol reader. Returns 0, or -1 with err set.
 */
int elf_read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen);

/* Sets libelf to EV_CURRENT before any other libelf call. Returns 0, or -1 with err set. */
int elf_file_libelf_init(const char *path, char *err, size_t errlen);

/*
 * Opens the file's bytes (what elf_read_file read from PATH) with libelf,
 * without a copy: data must outlive the handle, which the caller ends
 * with elf_end(). Returns NULL with err set unless libelf takes it as ELF.
 */
Elf *elf_file_memory(const char *path, uint8_t *data, size_t size, char *err, size_t errlen);

#endif
