/* SPDX-License-Identifier: BSD-2-Clause */
/* One temporary folder per test program, and paths inside it. */
#define _XOPEN_SOURCE 700
#include "temp_dir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[4096];

const char *temp_dir_make(const char *prefix)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/%s-XXXXXX", base, prefix) >= (int)sizeof(dir) ||
	    mkdtemp(dir) == NULL) {
		perror(dir);
		exit(99);
	}
	return dir;
}

const char *temp_dir(void)
{
	return dir[0] ? dir : NULL;
}

const char *temp_path(const char *name)
{
	static char path[4][4096 + 256];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		perror(path);
	return 0;
}

void temp_dir_remove(void)
{
	if (dir[0] && nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}
