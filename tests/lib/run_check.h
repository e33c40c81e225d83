/* SPDX-License-Identifier: BSD-2-Clause */
/* Test helper: runs the checker into a text report and parses the violations back. */
#ifndef TESTS_LIB_RUN_CHECK_H
#define TESTS_LIB_RUN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hatvm/invariants.h>

#include "check_mem.h"
#include "checker.h"
#include "report.h"

#define SEEN_KEEP 64

struct seen_violation {
	enum invariant_id id;
	uint64_t space, va, pfn;     /* REPORT_NONE when the report shows '-' */
	char detail[160];
};

/* What one check reported. */
struct seen {
	unsigned returned;           /* checker_run's result */
	unsigned parsed;             /* violation lines in the text report */
	unsigned per_id[INV_COUNT];
	unsigned kept;
	struct seen_violation v[SEEN_KEEP];
	struct check_stats stats;
	double ms;
};

/* Runs checker_run over mem/sym and fills *out from its text report. */
void run_check(const struct check_mem *mem, const struct mm_symbols *sym, struct seen *out);

/* True when a kept violation has this ID and location. */
bool seen_has(const struct seen *s, enum invariant_id id, uint64_t space, uint64_t va, uint64_t pfn);

/* Prints the kept violations (for failing tests). */
void seen_dump(const struct seen *s, const char *title);

/*
 * Writes the kept violations into buf (always terminated), one
 * "ID space=S va=V pfn=P: detail" line each, '-' for REPORT_NONE, and a
 * last line counting those not kept. For failure messages.
 */
void seen_format(const struct seen *s, char *buf, size_t len);

#endif
