/* SPDX-License-Identifier: BSD-2-Clause */
/* Test helper: runs the checker with a text report in memory and parses each violation line back. */
#include "run_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "invariant_names.h"

/* "space=12" / "va=0x..." / "pfn=-": the value after key=, REPORT_NONE for '-'. */
static uint64_t field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	if (p == NULL)
		return 0;
	p += strlen(key);
	if (*p == '-')
		return REPORT_NONE;
	return strtoull(p, NULL, 0);
}

/* One "violation ID space=S va=V pfn=P: detail" line. */
static void parse_violation(struct seen *s, const char *line)
{
	char name[64];
	const char *colon = strstr(line, ": ");
	struct seen_violation *v;
	enum invariant_id id;

	if (sscanf(line, "violation %63s", name) != 1 || !invariant_parse(name, &id))
		return;
	s->parsed++;
	s->per_id[id]++;
	if (s->kept == SEEN_KEEP)
		return;
	v = &s->v[s->kept++];
	v->id = id;
	v->space = field(line, " space=");
	v->va = field(line, " va=");
	v->pfn = field(line, " pfn=");
	snprintf(v->detail, sizeof(v->detail), "%s", colon ? colon + 2 : "");
	v->detail[strcspn(v->detail, "\n")] = '\0';
}

void run_check(const struct check_mem *mem, const struct mm_symbols *sym, struct seen *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct report *r = report_new(f);
	struct timespec t0, t1;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out->returned = checker_run(mem, sym, r, "test", &out->stats);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	report_free(r);
	fclose(f);
	for (char *line = text; line && *line;) {
		char *end = strchr(line, '\n');

		if (end)
			*end = '\0';
		if (strncmp(line, "violation ", 10) == 0)
			parse_violation(out, line);
		line = end ? end + 1 : NULL;
	}
	free(text);
}

bool seen_has(const struct seen *s, enum invariant_id id, uint64_t space, uint64_t va, uint64_t pfn)
{
	for (unsigned i = 0; i < s->kept; i++)
		if (s->v[i].id == id && s->v[i].space == space && s->v[i].va == va && s->v[i].pfn == pfn)
			return true;
	return false;
}

/* "0x..." or "-" for REPORT_NONE; returns out. */
static const char *hex_or_none(uint64_t value, char out[20])
{
	if (value == REPORT_NONE)
		return "-";
	snprintf(out, 20, "0x%" PRIx64, value);
	return out;
}

/* One kept violation as "ID space=S va=V pfn=P: detail". */
static void violation_line(const struct seen_violation *v, char *buf, size_t len)
{
	char space[24] = "-", va[20], pfn[20];

	if (v->space != REPORT_NONE)
		snprintf(space, sizeof(space), "%" PRIu64, v->space);
	snprintf(buf, len, "%s space=%s va=%s pfn=%s: %s", invariant_name(v->id), space,
		 hex_or_none(v->va, va), hex_or_none(v->pfn, pfn), v->detail);
}

void seen_dump(const struct seen *s, const char *title)
{
	char line[256];

	fprintf(stderr, "%s: %u violations (%u parsed)\n", title, s->returned, s->parsed);
	for (unsigned i = 0; i < s->kept; i++) {
		violation_line(&s->v[i], line, sizeof(line));
		fprintf(stderr, "  %s\n", line);
	}
}

void seen_format(const struct seen *s, char *buf, size_t len)
{
	size_t used = 0;
	char line[256];

	if (len == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < s->kept && used < len; i++) {
		violation_line(&s->v[i], line, sizeof(line));
		used += (size_t)snprintf(buf + used, len - used, "\n  %s", line);
	}
	if (s->parsed > s->kept && used < len)
		snprintf(buf + used, len - used, "\n  ... and %u more", s->parsed - s->kept);
}
