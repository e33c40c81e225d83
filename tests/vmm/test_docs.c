/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: README.md kept in step with the code — the invariant table and the option block. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "invariant_names.h"
#include "run_vmm.h"

static const char *vmm_path, *readme_path;
static char *readme;

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *mem = open_memstream(&text, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(f);
	return text;
}

/* The text after the line HEADING (which must appear once); fails the test otherwise. */
static const char *section(const char *heading)
{
	char line[128];

	snprintf(line, sizeof(line), "\n%s\n", heading);
	const char *at = strstr(readme, line);
	ck_assert_msg(at, "README %s has no line \"%s\"", readme_path, heading);
	ck_assert_msg(!strstr(at + 1, line), "README has \"%s\" twice", heading);
	return at + strlen(line);
}

/* Copies the trimmed cell starting at *p (after a '|') up to the next '|'; advances *p. */
static void next_cell(const char **p, char *cell, size_t size)
{
	const char *start = *p, *end = strchr(start, '|');
	const char *nl = strchr(start, '\n');

	ck_assert_msg(end && (!nl || end < nl), "table row without closing '|': %.80s", start);
	*p = end + 1;
	while (start < end && *start == ' ')
		start++;
	while (end > start && end[-1] == ' ')
		end--;
	ck_assert_uint_lt((size_t)(end - start), size);
	memcpy(cell, start, (size_t)(end - start));
	cell[end - start] = '\0';
}

/* Every `| ID | holds when |` row of the catalogue table, in the order of invariants.h. */
START_TEST(catalogue_table_is_the_catalogue)
{
	const char *p = strstr(section("### The invariant catalogue"), "\n| ID | holds when |\n");
	char id[64], text[512];
	unsigned row = 0;

	ck_assert_msg(p, "no \"| ID | holds when |\" table under the catalogue heading");
	p = strchr(p + 1, '\n') + 1;
	ck_assert_msg(strncmp(p, "|---|---|\n", 10) == 0, "table separator: %.20s", p);
	for (p = strchr(p, '\n') + 1; *p == '|'; p = strchr(p, '\n') + 1) {
		p++;
		next_cell(&p, id, sizeof(id));
		next_cell(&p, text, sizeof(text));
		ck_assert_msg(row < INV_COUNT, "README lists %s beyond the catalogue's %d IDs", id,
			      INV_COUNT);
		ck_assert_str_eq(id, invariant_name((enum invariant_id)row));
		ck_assert_str_eq(text, invariant_description((enum invariant_id)row));
		row++;
	}
	ck_assert_msg(row == INV_COUNT, "README lists %u IDs, the catalogue %d (next: %s)", row,
		      INV_COUNT, row < INV_COUNT ? invariant_name((enum invariant_id)row) : "-");
}
END_TEST

/* The first fenced block under "## Using vmm" is exactly `vmm --help`. */
START_TEST(option_block_is_the_help)
{
	const char *start = strstr(section("## Using vmm"), "```\n");

	ck_assert_msg(start, "no fenced block under \"## Using vmm\"");
	start += 4;
	const char *end = strstr(start, "\n```\n");
	ck_assert_msg(end, "unclosed fenced block under \"## Using vmm\"");
	char *block = strndup(start, (size_t)(end - start) + 1);

	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--help", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ck_assert_msg(strcmp(block, r.out) == 0,
		      "README's option block differs from `vmm --help`; paste this:\n%s", r.out);
	vmm_result_free(&r);
	free(block);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s VMM README.md\n", argv[0]);
		return 99;   /* meson's "hard error": not a vmm status */
	}
	vmm_path = argv[1];
	readme_path = argv[2];
	readme = read_file(readme_path);
	if (!readme) {
		perror(readme_path);
		return 99;
	}
	Suite *s = suite_create("docs");
	TCase *tc = tcase_create("readme");
	tcase_add_test(tc, catalogue_table_is_the_catalogue);
	tcase_add_test(tc, option_block_is_the_help);
	suite_add_tcase(s, tc);
	int status = run_suite(s);
	free(readme);
	return status;
}
