/* SPDX-License-Identifier: BSD-2-Clause */
/* The mutation table: one mutant per line, anchored by exact text that must still be found as often as the table says. */
#include "mutant_table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 7

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

char *mutant_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Undoes \n, \t and \\ in place; false on any other escape. */
static bool unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*d++ = *s;
			continue;
		}
		switch (*++s) {
		case 'n': *d++ = '\n'; break;
		case 't': *d++ = '\t'; break;
		case '\\': *d++ = '\\'; break;
		default: return false;
		}
	}
	*d = '\0';
	return true;
}

/* "-" or "K/N" with 1 <= K <= N. */
static bool parse_occurrence(const char *s, unsigned *occ, unsigned *of)
{
	char tail;

	if (strcmp(s, "-") == 0) {
		*occ = *of = 0;
		return true;
	}
	return sscanf(s, "%u/%u%c", occ, of, &tail) == 2 && *occ >= 1 && *occ <= *of;
}

/* Splits one table line into m (its strings point into the line). */
static bool parse_line(char *line, unsigned lineno, struct mutant *m, char *err, size_t errlen)
{
	char *f[FIELDS];
	unsigned n = 0;

	for (char *p = line; n < FIELDS; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (p == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n != FIELDS || strchr(f[FIELDS - 1], '\t') != NULL) {
		fail(err, errlen, "line %u: %u fields, want %d (id file occurrence original "
		     "replacement bug equivalent)", lineno, n, FIELDS);
		return false;
	}
	*m = (struct mutant){ .id = f[0], .file = f[1], .original = f[3], .replacement = f[4],
			      .bug = f[5], .line = lineno };
	if (!parse_occurrence(f[2], &m->occ, &m->of)) {
		fail(err, errlen, "line %u: occurrence '%s' is neither '-' nor 'K/N'", lineno, f[2]);
		return false;
	}
	if (!unescape(m->original) || !unescape(m->replacement) || m->original[0] == '\0') {
		fail(err, errlen, "line %u: bad escape or empty original text", lineno);
		return false;
	}
	if (strcmp(f[6], "-") != 0) {
		if (strncmp(f[6], "equivalent: ", 12) != 0 || f[6][12] == '\0') {
			fail(err, errlen, "line %u: last field is '-' or 'equivalent: reason'", lineno);
			return false;
		}
		m->equivalent = f[6] + 12;
	}
	if (strcmp(m->original, m->replacement) == 0 || m->id[0] == '\0' || m->bug[0] == '\0') {
		fail(err, errlen, "line %u: empty id or bug, or a replacement equal to the original",
		     lineno);
		return false;
	}
	return true;
}

bool mutant_table_load(const char *path, struct mutant_table *t, char *err, size_t errlen)
{
	char *text = mutant_read_file(path), *line, *next;
	unsigned lineno = 0;

	*t = (struct mutant_table){ 0 };
	if (text == NULL) {
		fail(err, errlen, "%s: cannot read", path);
		return false;
	}
	for (line = text; line != NULL && *line; line = next) {
		struct mutant m;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!parse_line(line, lineno, &m, err, errlen))
			goto bad;
		if (mutant_find(t, m.id) != NULL) {
			fail(err, errlen, "line %u: id %s appears twice", lineno, m.id);
			goto bad;
		}
		t->m = realloc(t->m, (t->n + 1) * sizeof(*t->m));
		if (t->m == NULL)
			abort();
		t->m[t->n++] = m;
	}
	if (t->n == 0) {
		fail(err, errlen, "%s: no mutants", path);
		goto bad;
	}
	t->text = text;   /* every string of every mutant points into it */
	return true;
bad:
	free(t->m);
	free(text);
	*t = (struct mutant_table){ 0 };
	return false;
}

void mutant_table_free(struct mutant_table *t)
{
	free(t->m);
	free(t->text);
	*t = (struct mutant_table){ 0 };
}

const struct mutant *mutant_find(const struct mutant_table *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->m[i].id, id) == 0)
			return &t->m[i];
	return NULL;
}

long mutant_locate(const struct mutant *m, const char *text, char *err, size_t errlen)
{
	unsigned want = m->of ? m->of : 1, pick = m->occ ? m->occ : 1, count = 0;
	const char *at = NULL;

	for (const char *p = strstr(text, m->original); p != NULL; p = strstr(p + 1, m->original))
		if (++count == pick)
			at = p;
	if (count != want || at == NULL) {
		fail(err, errlen, "stale mutant %s (table line %u): its original text occurs %u times "
		     "in %s, the table says %u", m->id, m->line, count, m->file, want);
		return -1;
	}
	return at - text;
}

bool mutant_apply_file(const struct mutant *m, const char *src_root, const char *out_path,
		       char *err, size_t errlen)
{
	char path[4096];
	char *text;
	long at;
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", src_root, m->file);
	text = mutant_read_file(path);
	if (text == NULL) {
		fail(err, errlen, "mutant %s: cannot read %s", m->id, path);
		return false;
	}
	at = mutant_locate(m, text, err, errlen);
	if (at < 0) {
		free(text);
		return false;
	}
	f = fopen(out_path, "wb");
	ok = f != NULL && fwrite(text, 1, (size_t)at, f) == (size_t)at &&
	     fputs(m->replacement, f) >= 0 && fputs(text + at + strlen(m->original), f) >= 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok)
		fail(err, errlen, "mutant %s: cannot write %s", m->id, out_path);
	free(text);
	return ok;
}
