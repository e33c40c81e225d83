/* SPDX-License-Identifier: BSD-2-Clause */
/* Output files that lose nothing: a temporary file beside the target, renamed into place only when complete. */
#define _GNU_SOURCE
#include "out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_file.h"

/* The directory part of PATH, malloc'd ("." for a bare name). */
static char *dir_of(const char *path)
{
	char *copy = strdup(path);
	char *dir = copy ? strdup(dirname(copy)) : NULL;

	free(copy);
	return dir;
}

/* The final target: PATH with symlinks resolved when it exists, else PATH itself. */
static char *resolve_target(const char *path)
{
	char *real = realpath(path, NULL);

	return real ? real : strdup(path);
}

/*
 * 0 when a file can be created in DIR, tried for real: access(2) says
 * yes to root on a read-only file system or in /proc.
 */
static int probe_dir(const char *dir)
{
	char *probe;
	int fd;

	if (asprintf(&probe, "%s/.hatvm-probe.XXXXXX", dir) < 0)
		return ENOMEM;
	fd = mkostemp(probe, O_CLOEXEC);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0) {
		close(fd);
		unlink(probe);
	}
	free(probe);
	return e;
}

int out_file_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *target, *dir;
	int rc = 0, e;

	if (!path || !*path)
		return path_errf(err, errlen, "(output)", "empty file name");
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return path_errf(err, errlen, path, "is a directory");
		if (!S_ISREG(st.st_mode))
			return path_errf(err, errlen, path, "not a regular file (a FIFO, device or "
					 "socket); give the name of a file to create or replace");
	} else if (errno != ENOENT) {
		return path_errf(err, errlen, path, "%s", strerror(errno));
	}
	target = resolve_target(path);
	dir = target ? dir_of(target) : NULL;
	free(target);
	if (!dir)
		return path_errf(err, errlen, path, "out of memory");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		rc = path_errf(err, errlen, path, "directory %s does not exist", dir);
	else if ((e = probe_dir(dir)) != 0)
		rc = path_errf(err, errlen, path, "cannot create files in %s: %s", dir, strerror(e));
	free(dir);
	return rc;
}

int out_file_open(struct out_file *f, const char *path, char *err, size_t errlen)
{
	*f = (struct out_file){ .fd = -1 };
	if (out_file_check(path, err, errlen))
		return -1;
	f->target = resolve_target(path);
	char *dir = f->target ? dir_of(f->target) : NULL;
	if (dir && asprintf(&f->temp, "%s/.hatvm-out.XXXXXX", dir) < 0)
		f->temp = NULL;
	free(dir);
	if (!f->temp) {
		out_file_abort(f, NULL);
		return path_errf(err, errlen, path, "out of memory");
	}
	f->fd = mkostemp(f->temp, O_CLOEXEC);
	if (f->fd < 0) {
		int e = errno;
		free(f->temp);
		f->temp = NULL;
		out_file_abort(f, NULL);
		return path_errf(err, errlen, path, "cannot create a temporary file beside it: %s",
				 strerror(e));
	}
	return 0;
}

FILE *out_file_stream(struct out_file *f, char *err, size_t errlen)
{
	int fd = dup(f->fd);
	FILE *s = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!s) {
		if (fd >= 0)
			close(fd);
		path_errf(err, errlen, f->target, "%s", strerror(errno));
	}
	return s;
}

/* 0666 less the process's umask: what open(O_CREAT, 0666) would have given. */
static mode_t new_file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

int out_file_commit(struct out_file *f, FILE *stream, char *err, size_t errlen)
{
	int rc = 0;

	if (stream && (fflush(stream) != 0 || ferror(stream)))
		rc = path_errf(err, errlen, f->target, "write failed: %s", strerror(errno));
	if (stream && fclose(stream) != 0 && rc == 0)
		rc = path_errf(err, errlen, f->target, "write failed: %s", strerror(errno));
	if (rc == 0 && fsync(f->fd) != 0 && errno != EINVAL)
		rc = path_errf(err, errlen, f->target, "write failed: %s", strerror(errno));
	if (rc == 0 && fchmod(f->fd, new_file_mode()) != 0)
		rc = path_errf(err, errlen, f->target, "chmod: %s", strerror(errno));
	if (close(f->fd) != 0 && rc == 0)
		rc = path_errf(err, errlen, f->target, "write failed: %s", strerror(errno));
	f->fd = -1;
	if (rc == 0 && rename(f->temp, f->target) != 0)
		rc = path_errf(err, errlen, f->target, "rename: %s", strerror(errno));
	if (rc == 0) {
		free(f->temp);
		f->temp = NULL;
	}
	out_file_abort(f, NULL);
	return rc;
}

void out_file_abort(struct out_file *f, FILE *stream)
{
	if (stream)
		fclose(stream);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->temp)
		unlink(f->temp);   /* only ever the file mkostemp created */
	free(f->temp);
	free(f->target);
	f->temp = f->target = NULL;
}
