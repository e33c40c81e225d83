/* SPDX-License-Identifier: BSD-2-Clause */
/* Finding the default guest image beside the build tree's vmm or where meson installed it. */
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

bool default_guest_find(const char *exe, const char *installed, char *path, size_t size)
{
	char candidate[PATH_MAX];
	const char *slash = exe ? strrchr(exe, '/') : NULL;

	/* a build tree keeps vmm in BUILD/vmm/ and guest.elf in BUILD/guest/ */
	if (slash) {
		int n = snprintf(candidate, sizeof(candidate), "%.*s/../guest/guest.elf",
				 (int)(slash - exe), exe);
		if (n > 0 && (size_t)n < sizeof(candidate) && take_if_readable(candidate, path, size))
			return true;
	}
	return take_if_readable(installed, path, size);
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
