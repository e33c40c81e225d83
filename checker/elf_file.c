/* SPDX-License-Identifier: BSD-2-Clause */
/* Reading untrusted input files: the "PATH: message" error helper, whole-file reads that never block, libelf set-up. */
#include "elf_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_verrf(char *err, size_t errlen, const char *path, const char *fmt, va_list ap)
{
	if (!err || errlen == 0)
		return -1;
	int n = snprintf(err, errlen, "%s: ", path);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -1;
}

/* Writes "PATH: <message>" to err; always returns -1. */
__attribute__((format(printf, 4, 5)))
int path_errf(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	path_verrf(err, errlen, path, fmt, ap);
	va_end(ap);
	return -1;
}

static int read_all(int fd, const char *path, size_t size, uint8_t **out, char *err,
		    size_t errlen)
{
	uint8_t *buf = malloc(size);
	if (!buf)
		return path_errf(err, errlen, path, "cannot allocate %zu bytes to read the file", size);
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			if (n < 0)
				return path_errf(err, errlen, path, "read: %s", strerror(errno));
			return path_errf(err, errlen, path, "truncated while being read");
		}
		got += (size_t)n;
	}
	*out = buf;
	return 0;
}

int input_file_open(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return path_errf(err, errlen, path, "%s", strerror(errno));
	if (fstat(fd, st) < 0)
		path_errf(err, errlen, path, "fstat: %s", strerror(errno));
	else if (S_ISDIR(st->st_mode))
		path_errf(err, errlen, path, "is a directory, not a file");
	else if (!S_ISREG(st->st_mode))
		path_errf(err, errlen, path, "not a regular file");
	else
		return fd;
	close(fd);
	return -1;
}

int elf_read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen)
{
	struct stat st;
	int rc = -1;
	int fd = input_file_open(path, &st, err, errlen);

	if (fd < 0)
		return -1;
	if (st.st_size == 0)
		path_errf(err, errlen, path, "empty file (0 bytes)");
	else if ((uint64_t)st.st_size > ELF_MAX_FILE_SIZE)
		path_errf(err, errlen, path, "file is %jd bytes, larger than the 1 GiB limit",
		     (intmax_t)st.st_size);
	else
		rc = read_all(fd, path, (size_t)st.st_size, data, err, errlen);
	close(fd);
	if (rc == 0)
		*size = (size_t)st.st_size;
	return rc;
}

int elf_file_libelf_init(const char *path, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return path_errf(err, errlen, path, "libelf: %s", elf_errmsg(-1));
	return 0;
}

Elf *elf_file_memory(const char *path, uint8_t *data, size_t size, char *err, size_t errlen)
{
	if (elf_file_libelf_init(path, err, errlen))
		return NULL;
	Elf *e = elf_memory((char *)data, size);
	if (!e) {
		path_errf(err, errlen, path, "libelf cannot parse the file: %s", elf_errmsg(-1));
		return NULL;
	}
	if (elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		path_errf(err, errlen, path, "libelf does not recognise the file as ELF");
		return NULL;
	}
	return e;
}
