/* SPDX-License-Identifier: BSD-2-Clause */
/* The mutation table (mutants/mutants.tsv): parsing, finding each mutant's anchor in its source file, applying it. */
#ifndef TESTS_MUTATE_MUTANT_TABLE_H
#define TESTS_MUTATE_MUTANT_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * One line of the table, tab-separated:
 *   id  file  occurrence  original  replacement  bug  equivalent
 * occurrence is "-" (original occurs exactly once in file) or "K/N" (the
 * K-th of exactly N occurrences). original and replacement take the
 * escapes \n, \t and \\. equivalent is "-" or "equivalent: reason".
 * Lines starting with '#' and empty lines are skipped.
 */
struct mutant {
	char *id;
	char *file;           /* relative to the source root */
	unsigned occ, of;     /* 0/0 for "-" */
	char *original;
	char *replacement;
	char *bug;
	char *equivalent;     /* NULL when not equivalent */
	unsigned line;        /* in the table, for messages */
};

struct mutant_table {
	struct mutant *m;
	size_t n;
	char *text;   /* the file, cut into the strings above */
};

/* Reads the table; false with a message naming the line in err. */
bool mutant_table_load(const char *path, struct mutant_table *t, char *err, size_t errlen);
void mutant_table_free(struct mutant_table *t);

/* The mutant with this id, or NULL. */
const struct mutant *mutant_find(const struct mutant_table *t, const char *id);

/*
 * Where m's original text lies in the file text: its byte offset, or -1
 * with the reason in err (missing, found more or fewer times than the
 * table says: the table went stale).
 */
long mutant_locate(const struct mutant *m, const char *text, char *err, size_t errlen);

/* Reads src_root/m->file, applies m and writes it to out_path; false with a reason in err. */
bool mutant_apply_file(const struct mutant *m, const char *src_root, const char *out_path,
		       char *err, size_t errlen);

/* Reads a whole file into a NUL-terminated heap buffer, or NULL. */
char *mutant_read_file(const char *path);

#endif
