/* SPDX-License-Identifier: BSD-2-Clause */
/* Collects checker results and writes them as text lines and as JSON (jansson). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "invariant_names.h"
#include "out_file.h"
#include "report_replay.h"

struct violation {
	enum invariant_id id;
	uint64_t space, va, pfn;
	char *detail;
};

struct check {
	char *label;
	enum report_phase phase;
	struct check_stats stats;
	struct timespec started;
	double ms;
	struct violation *violations;   /* the stored ones */
	size_t stored, capacity;
	uint64_t total;                 /* stored + only counted */
};

struct report {
	FILE *text;
	bool quiet;                     /* text: violations only, no summaries */
	enum report_phase phase;        /* of the checks opened next */
	struct check *open;
	struct check **checks;          /* closed and stored */
	size_t nchecks, capacity;
	uint64_t checks_dropped;
	uint64_t violations_total;
	uint64_t violations_stored;
	bool interrupted;               /* a signal cut the run short */
	struct replay_result *replay;   /* a --replay run's figures (or NULL): JSON "replay" */
	char *replay_path;              /* the file of its longest mapping list (or NULL) */
};

struct report *report_new(FILE *text)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r)
		r->text = text;
	return r;
}

void report_set_quiet(struct report *r, bool quiet)
{
	r->quiet = quiet;
}

void report_set_interrupted(struct report *r)
{
	r->interrupted = true;
}

int report_set_replay(struct report *r, const struct replay_result *res, const char *path)
{
	struct replay_result *copy = malloc(sizeof(*copy));
	char *path_copy = path ? strdup(path) : NULL;

	if (!copy || (path && !path_copy)) {
		free(copy);
		free(path_copy);
		return -1;
	}
	*copy = *res;
	free(r->replay);
	free(r->replay_path);
	r->replay = copy;
	r->replay_path = path_copy;
	return 0;
}

void report_set_phase(struct report *r, enum report_phase phase)
{
	r->phase = phase <= REPORT_PHASE_STOPPED ? phase : REPORT_PHASE_CHECKPOINT;
}

/* Copy of S cut to MAX bytes; NULL when out of memory. */
static char *copy_cut(const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	char *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

/* Writes S with every byte that is not printable ASCII shown as '?', so it stays one line. */
static void put_printable(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', out);
}

static void check_free(struct check *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->stored; i++)
		free(c->violations[i].detail);
	free(c->violations);
	free(c->label);
	free(c);
}

static double elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) * 1e3 + (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

void report_begin_check(struct report *r, const char *label)
{
	struct check *c;

	if (r->open)
		report_end_check(r, NULL);
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->label = copy_cut(label ? label : "", REPORT_MAX_LABEL);
	if (!c->label) {
		free(c);
		return;
	}
	c->phase = r->phase;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	r->open = c;
}

/* Room for one more stored violation in C; false when a cap or memory says no. */
static bool make_room(struct report *r, struct check *c)
{
	size_t capacity;
	struct violation *grown;

	if (c->stored >= REPORT_MAX_VIOLATIONS || r->violations_stored >= REPORT_MAX_STORED)
		return false;
	if (c->stored < c->capacity)
		return true;
	capacity = c->capacity ? c->capacity * 2 : 16;
	grown = realloc(c->violations, capacity * sizeof(*grown));
	if (!grown)
		return false;
	c->violations = grown;
	c->capacity = capacity;
	return true;
}

static void print_hex_or_none(FILE *out, const char *key, uint64_t value, int width)
{
	if (value == REPORT_NONE)
		fprintf(out, " %s=-", key);
	else
		fprintf(out, " %s=0x%0*" PRIx64, key, width, value);
}

/* What a check's records are called: a check of a guest stopped mid-run has findings. */
static const char *record_word(const struct check *c)
{
	return c->phase == REPORT_PHASE_STOPPED ? "finding" : "violation";
}

static void print_violation(FILE *out, const struct check *c, const struct violation *v)
{
	fprintf(out, "%s %s", record_word(c), invariant_name(v->id));
	if (v->space == REPORT_NONE)
		fputs(" space=-", out);
	else
		fprintf(out, " space=%" PRIu64, v->space);
	print_hex_or_none(out, "va", v->va, 16);
	print_hex_or_none(out, "pfn", v->pfn, 1);
	fputs(": ", out);
	put_printable(out, v->detail);
	fputc('\n', out);
}

void report_violation(struct report *r, enum invariant_id id, uint64_t space, uint64_t va,
		      uint64_t pfn, const char *fmt, ...)
{
	char detail[REPORT_MAX_DETAIL + 1];
	struct violation *v;
	struct check *c;
	va_list ap;

	if (!r->open)
		report_begin_check(r, "unlabelled");
	c = r->open;
	if (r->phase != REPORT_PHASE_STOPPED)   /* the phase checks open in: right even when c could not be stored */
		r->violations_total++;
	if (!c)
		return;
	c->total++;
	if (!make_room(r, c))
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	v = &c->violations[c->stored];
	*v = (struct violation){ .id = id, .space = space, .va = va, .pfn = pfn,
				 .detail = copy_cut(detail, REPORT_MAX_DETAIL) };
	if (!v->detail)
		return;
	c->stored++;
	r->violations_stored++;
	if (r->text)
		print_violation(r->text, c, v);
}

/* The check's throughput: items examined per second of its wall time (0 when none elapsed). */
static double items_per_s(const struct check *c)
{
	return c->ms > 0 ? (double)check_stats_items(&c->stats) / (c->ms / 1e3) : 0;
}

static void print_summary(FILE *out, const struct check *c)
{
	fputs("check \"", out);
	put_printable(out, c->label);
	fprintf(out, "\": spaces=%" PRIu64 " ptes=%" PRIu64 " mappings=%" PRIu64 " hments=%" PRIu64
		" %ss=%" PRIu64 " ms=%.3f pages=%" PRIu64 " items/s=%.1fM", c->stats.spaces,
		c->stats.ptes, c->stats.mappings, c->stats.hments, record_word(c), c->total, c->ms,
		c->stats.pages, items_per_s(c) / 1e6);
	if (c->total > c->stored)
		fprintf(out, " (%" PRIu64 " not stored)", c->total - (uint64_t)c->stored);
	if (c->stats.stopped)
		fputs(" INCOMPLETE (stopped early)", out);
	if (c->phase == REPORT_PHASE_STOPPED)
		fputs(" (the watchdog stopped the guest where it stood, perhaps inside an operation:"
		      " findings, not counted as violations)", out);
	fputc('\n', out);
}

/* Moves the closed check C into the list, or drops it past the cap. */
static void store_check(struct report *r, struct check *c)
{
	if (r->nchecks == r->capacity && r->nchecks < REPORT_MAX_CHECKS) {
		size_t capacity = r->capacity ? r->capacity * 2 : 16;
		struct check **grown = realloc(r->checks, capacity * sizeof(*grown));
		if (grown) {
			r->checks = grown;
			r->capacity = capacity;
		}
	}
	if (r->nchecks < r->capacity && r->nchecks < REPORT_MAX_CHECKS) {
		r->checks[r->nchecks++] = c;
		return;
	}
	r->checks_dropped++;
	r->violations_stored -= c->stored;
	check_free(c);
}

uint64_t report_end_check(struct report *r, const struct check_stats *stats)
{
	struct check *c = r->open;
	uint64_t total;

	if (!c)
		return 0;
	r->open = NULL;
	if (stats)
		c->stats = *stats;
	c->ms = elapsed_ms(&c->started);
	if (r->text && (!r->quiet || c->total)) {
		print_summary(r->text, c);
		fflush(r->text);
	}
	total = c->total;
	store_check(r, c);
	return total;
}

uint64_t report_violations_total(const struct report *r)
{
	return r->violations_total;
}

static bool field_matches(uint64_t want, uint64_t have)
{
	return want == REPORT_NONE || want == have;
}

bool report_last_check_has(const struct report *r, enum invariant_id id, uint64_t space,
			   uint64_t va, uint64_t pfn)
{
	const struct check *c = r->open ? r->open : r->nchecks ? r->checks[r->nchecks - 1] : NULL;

	for (size_t i = 0; c && i < c->stored; i++) {
		const struct violation *v = &c->violations[i];

		if (v->id == id && field_matches(space, v->space) && field_matches(va, v->va) &&
		    field_matches(pfn, v->pfn))
			return true;
	}
	return false;
}

/*
 * A JSON string of S. jansson refuses invalid UTF-8 (guest bytes may be
 * anything), so then every byte above 0x7f becomes '?'.
 */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	char *ascii;

	if (j)
		return j;
	ascii = strdup(s);
	if (!ascii)
		return NULL;
	for (char *p = ascii; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(ascii);
	free(ascii);
	return j;
}

static json_t *json_count(uint64_t n)
{
	return json_integer(n > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)n);
}

/* "0x..." (addresses exceed what JSON numbers carry exactly), or null for REPORT_NONE. */
static json_t *json_hex(uint64_t value, int width)
{
	char buf[24];

	if (value == REPORT_NONE)
		return json_null();
	snprintf(buf, sizeof(buf), "0x%0*" PRIx64, width, value);
	return json_string(buf);
}

static json_t *violation_json(const struct violation *v)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o}",
			 "id", invariant_name(v->id),
			 "space", v->space == REPORT_NONE ? json_null() : json_count(v->space),
			 "va", json_hex(v->va, 16),
			 "pfn", json_hex(v->pfn, 1),
			 "detail", json_text(v->detail));
}

static const char *const phase_names[] = {
	[REPORT_PHASE_CHECKPOINT] = "checkpoint",
	[REPORT_PHASE_EXIT] = "exit",
	[REPORT_PHASE_OFFLINE] = "offline",
	[REPORT_PHASE_STOPPED] = "stopped",
};

static json_t *check_json(const struct check *c)
{
	json_t *violations = json_array();
	json_t *j;

	for (size_t i = 0; violations && i < c->stored; i++) {
		if (json_array_append_new(violations, violation_json(&c->violations[i]))) {
			json_decref(violations);
			violations = NULL;
		}
	}
	j = json_pack("{s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:f, s:f, s:o, s:o, s:o}",
		      "label", json_text(c->label),
		      "phase", phase_names[c->phase],
		      "complete", !c->stats.stopped,
		      "spaces", json_count(c->stats.spaces),
		      "ptes", json_count(c->stats.ptes),
		      "mappings", json_count(c->stats.mappings),
		      "hments", json_count(c->stats.hments),
		      "pages", json_count(c->stats.pages),
		      "ms", c->ms,
		      "items_per_s", items_per_s(c),
		      "violations_total", json_count(c->total),
		      "violations_dropped", json_count(c->total - c->stored),
		      "violations", violations);
	return j;
}

static json_t *report_json(const struct report *r)
{
	json_t *checks = json_array();
	json_t *doc;

	for (size_t i = 0; checks && i < r->nchecks; i++) {
		if (json_array_append_new(checks, check_json(r->checks[i]))) {
			json_decref(checks);
			checks = NULL;
		}
	}
	if (checks && r->open && json_array_append_new(checks, check_json(r->open))) {
		json_decref(checks);
		checks = NULL;
	}
	doc = json_pack("{s:b, s:o, s:o, s:o}",
			"interrupted", r->interrupted,
			"violations_total", json_count(r->violations_total),
			"checks_dropped", json_count(r->checks_dropped),
			"checks", checks);
	if (doc && r->replay &&
	    json_object_set_new(doc, "replay", report_replay_json(r->replay, r->replay_path))) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

/* DOC into OUT's temporary file, then renamed into place; nothing is left on failure. */
static int write_json_out(json_t *doc, struct out_file *out, const char *path, char *err,
			  size_t errlen)
{
	FILE *s = out_file_stream(out, err, errlen);

	if (!s) {
		out_file_abort(out, NULL);
		return -1;
	}
	errno = 0;
	if (json_dumpf(doc, s, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0) {
		int e = errno;

		out_file_abort(out, s);
		snprintf(err, errlen, "%s: cannot write the report: %s", path,
			 e ? strerror(e) : "write error");
		return -1;
	}
	return out_file_commit(out, s, err, errlen);
}

int report_write_json(const struct report *r, const char *path, char *err, size_t errlen)
{
	struct out_file out;
	json_t *doc = report_json(r);
	int rc = -1;

	if (!doc)
		snprintf(err, errlen, "%s: out of memory building the report", path);
	else if (out_file_open(&out, path, err, errlen) == 0)
		rc = write_json_out(doc, &out, path, err, errlen);
	json_decref(doc);
	return rc;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	check_free(r->open);
	for (size_t i = 0; i < r->nchecks; i++)
		check_free(r->checks[i]);
	free(r->checks);
	free(r->replay);
	free(r->replay_path);
	free(r);
}
