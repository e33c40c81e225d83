/* SPDX-License-Identifier: BSD-2-Clause */
/* The shipped traces: every regular *.trace file of a folder, sorted by name. */
#ifndef TESTS_LIB_TRACE_LIST_H
#define TESTS_LIB_TRACE_LIST_H

#define TRACE_LIST_MAX  32
#define TRACE_PATH_MAX  4096

struct trace_list {
	unsigned n;
	char path[TRACE_LIST_MAX][TRACE_PATH_MAX];
};

/* Fills list from DIR (at most TRACE_LIST_MAX, the first by name); -1 when DIR cannot be read. */
int trace_list_find(struct trace_list *list, const char *dir);

/* The file name of PATH (after the last '/'). */
const char *trace_list_name(const char *path);

#endif
