/* SPDX-License-Identifier: BSD-2-Clause */
/* The benchmarks' one table: rows of figure, ours, baseline, ratio, target and met, printed and written as JSON. */
#include "bench_table.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "host_kvm.h"

void bench_table_init(struct bench_table *t, const char *benchmark)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->benchmark, sizeof(t->benchmark), "%s", benchmark);
}

void bench_table_free(struct bench_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}

static struct bench_row *append(struct bench_table *t)
{
	struct bench_row *r;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct bench_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (rows == NULL) {
			perror("bench_table");
			exit(1);
		}
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->benchmark, sizeof(r->benchmark), "%s", t->benchmark);
	r->value = r->baseline = r->ratio = r->target = NAN;
	return r;
}

struct bench_row *bench_add(struct bench_table *t, double value, const char *unit,
			    const char *figure_fmt, ...)
{
	struct bench_row *r = append(t);
	va_list ap;

	va_start(ap, figure_fmt);
	vsnprintf(r->figure, sizeof(r->figure), figure_fmt, ap);
	va_end(ap);
	r->value = value;
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	return r;
}

struct bench_row *bench_not_measured(struct bench_table *t, const char *figure, const char *why)
{
	struct bench_row *r = bench_add(t, NAN, "", "%s", figure);

	bench_set_note(r, "not measured: %s", why);
	return r;
}

void bench_set_baseline(struct bench_row *r, double baseline, const char *name)
{
	r->baseline = baseline;
	snprintf(r->baseline_name, sizeof(r->baseline_name), "%s", name);
}

void bench_set_ratio(struct bench_row *r, double ratio, const char *ratio_of)
{
	r->ratio = ratio;
	snprintf(r->ratio_of, sizeof(r->ratio_of), "%s", ratio_of);
}

void bench_set_target(struct bench_row *r, const char *op, double target)
{
	double x = r->ratio_of[0] ? r->ratio : r->value;
	bool le = strcmp(op, "<=") == 0;

	snprintf(r->target_op, sizeof(r->target_op), "%s", le ? "<=" : ">=");
	r->target = target;
	if (!isfinite(x))
		r->met = BENCH_MET_NA;
	else
		r->met = (le ? x <= target : x >= target) ? BENCH_MET_YES : BENCH_MET_NO;
}

void bench_set_note(struct bench_row *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

const char *bench_met_name(enum bench_met met)
{
	return met == BENCH_MET_YES ? "yes" : met == BENCH_MET_NO ? "no" : "n.a.";
}

void bench_target_text(const struct bench_row *r, char *buf, size_t len)
{
	if (r->target_op[0] == '\0')
		snprintf(buf, len, "%s", "");
	else if (r->ratio_of[0])
		snprintf(buf, len, "%s %s %g", r->ratio_of, r->target_op, r->target);
	else
		snprintf(buf, len, "%s %g %s", r->target_op, r->target, r->unit);
}

/* A figure in few characters: more decimals for smaller numbers; "-" for none. */
static void number(char *buf, size_t len, double v, const char *unit)
{
	double a = fabs(v);

	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, a >= 100 || a == 0 ? "%.0f %s" : a >= 10 ? "%.1f %s" : "%.3g %s",
			 v, unit);
}

void bench_table_print(const struct bench_table *t, FILE *f)
{
	static const char *const fmt = "%-10s %-58s %12s %12s  %-34s %7s  %-18s %-4s  %s\n";

	fprintf(f, fmt, "bench", "figure", "ours", "baseline", "baseline is", "ratio", "target",
		"met", "note");
	for (size_t i = 0; i < t->n; i++) {
		const struct bench_row *r = &t->rows[i];
		char ours[24], base[24], ratio[16], target[48];

		number(ours, sizeof(ours), r->value, r->unit);
		number(base, sizeof(base), r->baseline, r->unit);
		number(ratio, sizeof(ratio), r->ratio, "");
		bench_target_text(r, target, sizeof(target));
		fprintf(f, fmt, r->benchmark, r->figure, ours, base, r->baseline_name, ratio, target,
			bench_met_name(r->met), r->note);
	}
}

/* A number, or null for none (JSON has no NaN). */
static json_t *json_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *row_to_json(const struct bench_row *r)
{
	char target[48];

	bench_target_text(r, target, sizeof(target));
	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:s}",
			 "benchmark", r->benchmark, "figure", r->figure,
			 "value", json_number(r->value), "unit", r->unit,
			 "baseline", json_number(r->baseline), "baseline_name", r->baseline_name,
			 "ratio", json_number(r->ratio), "ratio_of", r->ratio_of,
			 "target", target, "target_op", r->target_op,
			 "target_value", json_number(r->target),
			 "met", bench_met_name(r->met), "note", r->note);
}

int bench_table_write_json(const struct bench_table *t, const char *path, const char *kvm)
{
	json_t *rows = json_array();
	json_t *doc = json_pack("{s:s, s:s, s:o}", "format", BENCH_JSON_FORMAT, "kvm", kvm,
				"rows", rows);
	int rc = -1;

	for (size_t i = 0; doc != NULL && i < t->n; i++)
		if (json_array_append_new(rows, row_to_json(&t->rows[i])) != 0)
			goto out;
	if (doc != NULL && json_dump_file(doc, path, JSON_INDENT(1) | JSON_ENSURE_ASCII) == 0)
		rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench: %s: cannot write the JSON\n", path);
	json_decref(doc);
	return rc;
}

/* A string field into buf ("" when absent or not a string). */
static void get_string(json_t *obj, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(buf, len, "%s", s ? s : "");
}

/* A number field, NAN when absent or null. */
static double get_number(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static enum bench_met met_from_name(const char *name)
{
	return strcmp(name, "yes") == 0 ? BENCH_MET_YES :
	       strcmp(name, "no") == 0 ? BENCH_MET_NO : BENCH_MET_NA;
}

static void row_from_json(struct bench_row *r, json_t *obj)
{
	char met[8];

	get_string(obj, "benchmark", r->benchmark, sizeof(r->benchmark));
	get_string(obj, "figure", r->figure, sizeof(r->figure));
	r->value = get_number(obj, "value");
	get_string(obj, "unit", r->unit, sizeof(r->unit));
	r->baseline = get_number(obj, "baseline");
	get_string(obj, "baseline_name", r->baseline_name, sizeof(r->baseline_name));
	r->ratio = get_number(obj, "ratio");
	get_string(obj, "ratio_of", r->ratio_of, sizeof(r->ratio_of));
	get_string(obj, "target_op", r->target_op, sizeof(r->target_op));
	r->target = get_number(obj, "target_value");
	get_string(obj, "met", met, sizeof(met));
	r->met = met_from_name(met);
	get_string(obj, "note", r->note, sizeof(r->note));
}

int bench_table_read_json(struct bench_table *t, const char *path)
{
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);
	json_t *rows = json_object_get(doc, "rows");
	const char *format = json_string_value(json_object_get(doc, "format"));
	size_t i;
	json_t *obj;

	if (doc == NULL || format == NULL || strcmp(format, BENCH_JSON_FORMAT) != 0 ||
	    !json_is_array(rows)) {
		fprintf(stderr, "bench: %s: not a %s file%s%s\n", path, BENCH_JSON_FORMAT,
			doc == NULL ? ": " : "", doc == NULL ? err.text : "");
		json_decref(doc);
		return -1;
	}
	json_array_foreach(rows, i, obj)
		if (json_is_object(obj))
			row_from_json(append(t), obj);
	/* a benchmark run in nested-kvm.sh's VM names a KVM the joining host lacks */
	const char *kvm = json_string_value(json_object_get(doc, "kvm"));
	if (kvm != NULL && strcmp(kvm, "absent") != 0)
		snprintf(t->kvm, sizeof(t->kvm), "%s", kvm);
	json_decref(doc);
	return 0;
}

const char *bench_json_option(int *argc, char **argv)
{
	const char *path = NULL;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--json") != 0) {
			argv[out++] = argv[i];
			continue;
		}
		if (i + 1 == *argc) {
			fprintf(stderr, "%s: --json needs a FILE\n", argv[0]);
			exit(2);
		}
		path = argv[++i];
	}
	argv[out] = NULL;
	*argc = out;
	return path;
}

int bench_table_finish(struct bench_table *t, const char *json_path)
{
	int rc = 0;

	printf("\n");
	bench_table_print(t, stdout);
	if (json_path != NULL && bench_table_write_json(t, json_path, bench_kvm_module()) != 0)
		rc = 1;
	bench_table_free(t);
	return rc;
}
