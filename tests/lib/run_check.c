/* Test helper: runs the checker with a text report in memory and parses each violation line back. */
#include "run_check.h"

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

void seen_dump(const struct seen *s, const char *title)
{
	fprintf(stderr, "%s: %u violations (%u parsed)\n", title, s->returned, s->parsed);
	for (unsigned i = 0; i < s->kept; i++)
		fprintf(stderr, "  %s space=%lld va=0x%llx pfn=0x%llx: %s\n", invariant_name(s->v[i].id),
			(long long)s->v[i].space, (unsigned long long)s->v[i].va,
			(unsigned long long)s->v[i].pfn, s->v[i].detail);
}
