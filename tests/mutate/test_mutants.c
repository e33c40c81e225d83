/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: the mutation table (mutants/mutants.tsv) is well formed and every mutant still applies exactly where it says. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mutant_table.h"
#include "run_vmm.h"

#define MIN_MUTANTS 40

static const char *table_path, *src_root;
/* The MM's sources, then the headers that hold some of its inline code (fewer mutants there). */
static const char *const mm_files[] = { "guest/hat.c", "guest/hat_tlb.c", "guest/hment.c",
					"guest/segtab.c", "guest/page.c", "guest/objcache.c",
					"guest/hat_oplog.c", "guest/hment.h" };
#define MM_SOURCES 7u
#define MM_FILES (sizeof(mm_files) / sizeof(mm_files[0]))

static void load(struct mutant_table *t)
{
	char err[512];

	ck_assert_msg(mutant_table_load(table_path, t, err, sizeof(err)), "%s", err);
}

START_TEST(test_table_is_well_formed)
{
	struct mutant_table t;
	unsigned per_file[MM_FILES] = { 0 }, live = 0;

	load(&t);
	for (size_t i = 0; i < t.n; i++) {
		unsigned f = 0;

		while (f < MM_FILES && strcmp(t.m[i].file, mm_files[f]) != 0)
			f++;
		ck_assert_msg(f < MM_FILES, "mutant %s mutates %s, not one of the MM's files",
			      t.m[i].id, t.m[i].file);
		per_file[f]++;
		live += t.m[i].equivalent == NULL;
	}
	ck_assert_uint_ge(live, MIN_MUTANTS);
	for (unsigned f = 0; f < MM_SOURCES; f++)
		ck_assert_msg(per_file[f] >= 4, "only %u mutants of %s", per_file[f], mm_files[f]);
	mutant_table_free(&t);
}
END_TEST

/* The test that keeps the table from rotting: every anchor found as often as the table says. */
START_TEST(test_every_anchor_applies)
{
	struct mutant_table t;
	char msgs[8192] = "";
	unsigned stale = 0;

	load(&t);
	for (size_t i = 0; i < t.n; i++) {
		char path[4096], err[512];
		char *text;

		snprintf(path, sizeof(path), "%s/%s", src_root, t.m[i].file);
		text = mutant_read_file(path);
		ck_assert_msg(text != NULL, "cannot read %s", path);
		if (mutant_locate(&t.m[i], text, err, sizeof(err)) < 0) {
			stale++;
			strncat(msgs, "\n  ", sizeof(msgs) - strlen(msgs) - 1);
			strncat(msgs, err, sizeof(msgs) - strlen(msgs) - 1);
		}
		free(text);
	}
	ck_assert_msg(stale == 0, "%u stale mutants (fix their original text in %s):%s", stale,
		      table_path, msgs);
	mutant_table_free(&t);
}
END_TEST

/* Applying writes the file with exactly the original text replaced. */
START_TEST(test_apply_replaces_the_anchor)
{
	struct mutant_table t;
	char dir[] = "/tmp/mut-test-XXXXXX", out[4096], cmd[4200], err[512];
	char *before, *after, path[4096];
	const struct mutant *m;

	load(&t);
	m = &t.m[0];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/guest", dir);
	ck_assert_int_eq(mkdir(out, 0700), 0);
	snprintf(out, sizeof(out), "%s/%s", dir, m->file);
	ck_assert_msg(mutant_apply_file(m, src_root, out, err, sizeof(err)), "%s", err);
	snprintf(path, sizeof(path), "%s/%s", src_root, m->file);
	before = mutant_read_file(path);
	after = mutant_read_file(out);
	ck_assert_ptr_nonnull(after);
	ck_assert_uint_eq(strlen(after), strlen(before) - strlen(m->original) + strlen(m->replacement));
	ck_assert_ptr_nonnull(strstr(after, m->replacement));
	free(before);
	free(after);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	mutant_table_free(&t);
}
END_TEST

/* Writes text as a table file and loads it; returns whether it loaded, err filled. */
static bool load_text(const char *text, struct mutant_table *t, char *err, size_t len)
{
	char path[] = "/tmp/mut-table-XXXXXX";
	int fd = mkstemp(path);
	bool ok;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ok = mutant_table_load(path, t, err, len);
	unlink(path);
	return ok;
}

START_TEST(test_bad_tables_are_refused)
{
	static const char *const bad[] = {
		"m1\tguest/hat.c\t-\tfoo\tbar\tbug\n",                     /* six fields */
		"m1\tguest/hat.c\t3/2\tfoo\tbar\tbug\t-\n",                /* K > N */
		"m1\tguest/hat.c\t-\tfoo\tfoo\tbug\t-\n",                  /* no change */
		"m1\tguest/hat.c\t-\tfo\\qo\tbar\tbug\t-\n",               /* unknown escape */
		"m1\tguest/hat.c\t-\tfoo\tbar\tbug\tsame\n",               /* not "equivalent: " */
		"m1\tguest/hat.c\t-\tfoo\tbar\tbug\t-\nm1\tguest/hat.c\t-\tx\ty\tbug\t-\n",
	};
	struct mutant_table t;
	char err[512];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!load_text(bad[i], &t, err, sizeof(err)), "table %u loaded", i);
	ck_assert_msg(load_text("# c\nm1\tguest/hat.c\t2/3\ta\\tb\\nc\td\tbug\tequivalent: why\n",
				&t, err, sizeof(err)), "%s", err);
	ck_assert_str_eq(t.m[0].original, "a\tb\nc");
	ck_assert_str_eq(t.m[0].equivalent, "why");
	ck_assert_uint_eq(t.m[0].occ, 2);
	ck_assert_uint_eq(t.m[0].of, 3);
	mutant_table_free(&t);
}
END_TEST

/* A stale anchor (found too often, or not at all) is reported by name, never applied. */
START_TEST(test_stale_anchor_is_reported)
{
	struct mutant m = { .id = "m1", .file = "f.c", .original = "ab", .replacement = "x" };
	char err[512];

	ck_assert_int_eq(mutant_locate(&m, "xxabyy", err, sizeof(err)), 2);
	ck_assert_int_eq(mutant_locate(&m, "abab", err, sizeof(err)), -1);
	ASSERT_HAS(err, "stale mutant m1");
	ck_assert_int_eq(mutant_locate(&m, "xx", err, sizeof(err)), -1);
	m.occ = 2;
	m.of = 2;
	ck_assert_int_eq(mutant_locate(&m, "abab", err, sizeof(err)), 2);
}
END_TEST

static Suite *mutants_suite(void)
{
	Suite *s = suite_create("mutants");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_table_is_well_formed);
	tcase_add_test(tc, test_every_anchor_applies);
	tcase_add_test(tc, test_apply_replaces_the_anchor);
	tcase_add_test(tc, test_bad_tables_are_refused);
	tcase_add_test(tc, test_stale_anchor_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s MUTANTS.TSV SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	table_path = argv[1];
	src_root = argv[2];
	return run_suite(mutants_suite());
}
