/* SPDX-License-Identifier: BSD-2-Clause */
/* mutant_apply: lists, checks and applies the mutants of the table for scripts/mutate.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutant_table.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: mutant_apply TABLE SRC list\n"
		"       mutant_apply TABLE SRC check\n"
		"       mutant_apply TABLE SRC apply ID OUT\n"
		"list: one 'ID<TAB>FILE<TAB>EQUIVALENT-or-<TAB>BUG' line per mutant; check: every\n"
		"anchor found as often as the table says in SRC (status 1 naming each stale one);\n"
		"apply: writes OUT/FILE, SRC/FILE with mutant ID applied.\n");
	return 2;
}

static void list(const struct mutant_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		printf("%s\t%s\t%s\t%s\n", t->m[i].id, t->m[i].file,
		       t->m[i].equivalent ? t->m[i].equivalent : "-", t->m[i].bug);
}

static int check(const struct mutant_table *t, const char *src)
{
	int stale = 0;

	for (size_t i = 0; i < t->n; i++) {
		char path[4096], err[512];
		char *text;

		snprintf(path, sizeof(path), "%s/%s", src, t->m[i].file);
		text = mutant_read_file(path);
		if (text == NULL) {
			fprintf(stderr, "mutant %s: cannot read %s\n", t->m[i].id, path);
			stale++;
			continue;
		}
		if (mutant_locate(&t->m[i], text, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			stale++;
		}
		free(text);
	}
	return stale ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct mutant_table t;
	char err[512];
	int rc = 0;

	if (argc < 4)
		return usage();
	if (!mutant_table_load(argv[1], &t, err, sizeof(err))) {
		fprintf(stderr, "mutant_apply: %s: %s\n", argv[1], err);
		return 2;
	}
	if (strcmp(argv[3], "list") == 0 && argc == 4) {
		list(&t);
	} else if (strcmp(argv[3], "check") == 0 && argc == 4) {
		rc = check(&t, argv[2]);
	} else if (strcmp(argv[3], "apply") == 0 && argc == 6) {
		const struct mutant *m = mutant_find(&t, argv[4]);
		char out[4096];

		snprintf(out, sizeof(out), "%s/%s", argv[5], m ? m->file : "");
		if (m == NULL) {
			fprintf(stderr, "mutant_apply: no mutant %s in %s\n", argv[4], argv[1]);
			rc = 2;
		} else if (!mutant_apply_file(m, argv[2], out, err, sizeof(err))) {
			fprintf(stderr, "mutant_apply: %s\n", err);
			rc = 1;
		}
	} else {
		rc = usage();
	}
	mutant_table_free(&t);
	return rc;
}
