/* SPDX-License-Identifier: BSD-2-Clause */
/* Lists the regular *.trace files of a folder in name order, for the tests and benchmarks that play them all. */
#include "trace_list.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_trace(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 6 && strcmp(d->d_name + len - 6, ".trace") == 0;
}

int trace_list_find(struct trace_list *list, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_trace, alphasort);

	list->n = 0;
	for (int i = 0; i < n; i++) {
		char *path = list->path[list->n];
		struct stat st;
		if (list->n < TRACE_LIST_MAX &&
		    snprintf(path, TRACE_PATH_MAX, "%s/%s", dir, names[i]->d_name) < TRACE_PATH_MAX &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			list->n++;
		free(names[i]);
	}
	if (n < 0)
		return -1;
	free(names);
	return 0;
}

const char *trace_list_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}
