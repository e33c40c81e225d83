/* Reading untrusted input files: the "PATH: message" error helper and whole-file reads that never block. */
#ifndef HATVM_ELF_FILE_H
#define HATVM_ELF_FILE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Larger files are rejected before any parsing. */
#define ELF_MAX_FILE_SIZE (1ull << 30)

/* Writes "PATH: <message>" to err (when err is not NULL); always returns -1. */
int path_verrf(char *err, size_t errlen, const char *path, const char *fmt, va_list ap);
__attribute__((format(printf, 4, 5)))
int path_errf(char *err, size_t errlen, const char *path, const char *fmt, ...);

/*
 * Reads the whole regular file at PATH (at most ELF_MAX_FILE_SIZE bytes,
 * at least one byte) into a malloc'd buffer the caller frees. Shared by
 * the loader and the symbol reader. Returns 0, or -1 with err set.
 */
int elf_read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen);

#endif
