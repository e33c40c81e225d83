/* SPDX-License-Identifier: BSD-2-Clause */
/* Finding the default guest image beside the build tree's vmm or where meson installed it (also staged or moved). */
#include "default_guest.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Canonicalises CANDIDATE into path[size] when it is a readable regular file. */
static bool take_if_readable(const char *candidate, char *path, size_t size)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(candidate, &st) != 0 || !S_ISREG(st.st_mode) || access(candidate, R_OK) != 0 ||
	    !realpath(candidate, real))
		return false;
	if (strlen(real) >= size)
		return false;
	strcpy(path, real);
	return true;
}

/* EXE's folder + REL, when that is a readable file. */
static bool beside_exe(const char *exe, const char *rel, char *path, size_t size)
{
	char candidate[PATH_MAX];
	const char *slash = exe ? strrchr(exe, '/') : NULL;
	int n;

	if (slash == NULL)
		return false;
	n = snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)(slash - exe), exe, rel);
	return n > 0 && (size_t)n < sizeof(candidate) && take_if_readable(candidate, path, size);
}

bool default_guest_find(const char *exe, const char *installed, char *path, size_t size)
{
	/*
	 * A build tree keeps vmm in BUILD/vmm/ and guest.elf in BUILD/guest/;
	 * an install PREFIX/bin/vmm and PREFIX/share/hatvm/guest.elf, found so
	 * even when staged with --destdir or moved after installing.
	 */
	return beside_exe(exe, "../guest/guest.elf", path, size) ||
	       beside_exe(exe, "../share/hatvm/guest.elf", path, size) ||
	       take_if_readable(installed, path, size);
}

bool default_guest(char *path, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)   /* no /proc: only the installed guest can be found */
		return default_guest_find(NULL, HATVM_INSTALLED_GUEST, path, size);
	exe[n] = '\0';
	return default_guest_find(exe, HATVM_INSTALLED_GUEST, path, size);
}
