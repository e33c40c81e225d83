/* SPDX-License-Identifier: BSD-2-Clause */
/* One run of the mutation matrix: the hosted MM under one shape and seed, checked every K operations; what caught it first. */
#ifndef TESTS_MUTATE_MUTATE_RUN_H
#define TESTS_MUTATE_MUTATE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "mutate_shapes.h"

/* What caught a mutant, best first: the order of the kill table's columns. */
enum column {
	COL_CHECKPOINT,   /* the host checker, at a checkpoint (or the end of a run that finished) */
	COL_AFTER,        /* the host checker, only in the check after the guest stopped */
	COL_GUEST,        /* the guest's own ASSERT (its ID), MM_REQUIRE ("API") or panic ("panic") */
	COL_CRASH,        /* the guest crashed (a signal) or hung */
	COL_MODEL,        /* the workload's model (driver), nothing else */
	COL_SURVIVED,
	COL_N
};

const char *column_name(enum column c);

struct run_result {
	bool done;              /* the run got as far as a verdict */
	enum column col;
	char ids[192];          /* comma-separated IDs (or kinds) of col; "-" when none */
	char detail[320];       /* where and what, for the log */
	unsigned checks;        /* checks run */
	char exercised[160];    /* what the run drove the MM through (steals, splits, ...) */
};

/*
 * Runs shape sh with seed in this process (call it in a child: a mutant
 * may crash or corrupt anything), the host checker every `every`
 * operations and at the end; fills *out as it goes.
 */
void run_one(const struct shape *sh, uint64_t seed, unsigned every, struct run_result *out);

#endif
