/* SPDX-License-Identifier: BSD-2-Clause */
/* The benchmarks' one table: rows of figure, ours, baseline, ratio, target and met, printed and written as JSON. */
#ifndef BENCH_TABLE_H
#define BENCH_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* JSON files carry this in "format"; a reader refuses any other. */
#define BENCH_JSON_FORMAT "hatvm-bench-1"

enum bench_met { BENCH_MET_NA, BENCH_MET_YES, BENCH_MET_NO };

/*
 * One figure. NAN stands for "none": value (not measured), baseline,
 * ratio. A target compares the ratio when ratio_of names one, else the
 * value; without a target (target_op "") met is n.a.
 */
struct bench_row {
	char benchmark[16];       /* the program: boot, hat, mm_hosted, checker */
	char figure[72];
	double value;
	char unit[8];
	double baseline;
	char baseline_name[40];
	double ratio;
	char ratio_of[16];        /* what the ratio divides, e.g. "Linux/ours" */
	char target_op[3];        /* "<=", ">=" or "" */
	double target;
	enum bench_met met;
	char note[96];
};

struct bench_table {
	char benchmark[16];       /* stamped on every row added */
	char kvm[48];             /* the KVM the rows were measured on (read back from JSON inputs) */
	struct bench_row *rows;
	size_t n, cap;
};

void bench_table_init(struct bench_table *t, const char *benchmark);
void bench_table_free(struct bench_table *t);

/* Appends a row with only its figure (printf-style), value and unit; exits when out of memory. */
struct bench_row *bench_add(struct bench_table *t, double value, const char *unit,
			    const char *figure_fmt, ...) __attribute__((format(printf, 4, 5)));
/* Appends a row for a figure that could not be measured here; why goes into the note. */
struct bench_row *bench_not_measured(struct bench_table *t, const char *figure, const char *why);

void bench_set_baseline(struct bench_row *r, double baseline, const char *name);
void bench_set_ratio(struct bench_row *r, double ratio, const char *ratio_of);
/* Sets the target (op "<=" or ">=") and decides met from the ratio or, without one, the value. */
void bench_set_target(struct bench_row *r, const char *op, double target);
void bench_set_note(struct bench_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "yes", "no" or "n.a." */
const char *bench_met_name(enum bench_met met);
/* The target as text ("Linux/ours >= 3", "<= 32 B"), "" without one. */
void bench_target_text(const struct bench_row *r, char *buf, size_t len);

/* Prints the header and every row, one line each. */
void bench_table_print(const struct bench_table *t, FILE *f);

/* Writes every row to PATH as {"format", "kvm", "rows": [...]}; 0, or -1 with a message on stderr. */
int bench_table_write_json(const struct bench_table *t, const char *path, const char *kvm);
/* Appends the rows of a file bench_table_write_json wrote; 0, or -1 with a message on stderr. */
int bench_table_read_json(struct bench_table *t, const char *path);

/*
 * Removes "--json FILE" from argv (argc follows) and returns FILE, or
 * NULL when absent; exits with a usage message when FILE is missing.
 */
const char *bench_json_option(int *argc, char **argv);

/* The benchmark's ending: prints the table, writes PATH when not NULL; returns the exit status. */
int bench_table_finish(struct bench_table *t, const char *json_path);

#endif
