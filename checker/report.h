/* SPDX-License-Identifier: BSD-2-Clause */
/* The checker's report: a summary per check, one record per violation; text for people, JSON for tools. */
#ifndef VMM_REPORT_H
#define VMM_REPORT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <hatvm/invariants.h>
#include <hatvm/replay_stats.h>

/* For space, va or pfn of a violation that has none: text "-", JSON null. */
#define REPORT_NONE                UINT64_MAX

/* Caps that keep a garbage guest from exhausting host memory; the rest is only counted. */
#define REPORT_MAX_VIOLATIONS      10000u     /* stored per check */
#define REPORT_MAX_STORED          200000u    /* stored over the whole report */
#define REPORT_MAX_CHECKS          100000u    /* checks stored */
#define REPORT_MAX_LABEL           256u       /* bytes of a label kept */
#define REPORT_MAX_DETAIL          256u       /* bytes of a detail kept */

/* What one check looked at; the report measures its time itself. */
struct check_stats {
	uint64_t pages;         /* page_t examined */
	uint64_t spaces;        /* address spaces checked */
	uint64_t ptes;          /* page-table entries walked */
	uint64_t mappings;      /* present leaf mappings seen */
	uint64_t hments;        /* mapping-list entries seen */
	uint64_t work;          /* units of work done (entries, nodes, page_t, buckets); not reported */
	bool stopped;           /* ended early (stop request or a work bound): JSON "complete": false */
};

/* Items a check examined, the unit of its throughput (items/s): page_t, table entries, hments. */
static inline uint64_t check_stats_items(const struct check_stats *s)
{
	return s->pages + s->ptes + s->hments;
}

/* When a check ran; the JSON's "phase": "checkpoint", "exit", "offline" or "stopped". */
enum report_phase {
	REPORT_PHASE_CHECKPOINT,   /* the guest paused at a checkpoint (the default) */
	REPORT_PHASE_EXIT,         /* after the guest stopped */
	REPORT_PHASE_OFFLINE,      /* over a core file (check-core) */
	/*
	 * After the watchdog stopped the guest where it stood, perhaps inside
	 * an operation (its locks held, its counts half updated): what this
	 * check finds is printed as "finding", stored, and not counted in
	 * report_violations_total().
	 */
	REPORT_PHASE_STOPPED,
};

struct report;

/*
 * A new, empty report. TEXT (may be NULL) receives one line per violation
 * as it is reported and one summary line per check. Returns NULL when out
 * of memory. A report is used by one thread at a time.
 */
struct report *report_new(FILE *text);

/* Quiet: the text output shows violations and the summaries of failed checks only. */
void report_set_quiet(struct report *r, bool quiet);

/* Marks the whole report as cut short by a signal: JSON "interrupted": true (else false). */
void report_set_interrupted(struct report *r);

/*
 * A --replay run's figures, read from the guest at its end: the JSON
 * report carries them as "replay" (checker/report_replay.c); PATH, the
 * file of the longest mapping list, may be NULL. Copied; a second call
 * replaces the first. -1 when out of memory (the report goes on without).
 */
int report_set_replay(struct report *r, const struct replay_result *res, const char *path);

/* The phase recorded for every check opened from now on. */
void report_set_phase(struct report *r, enum report_phase phase);

/*
 * Opens a check named LABEL (any bytes; unprintable ones are shown as '?'
 * in text, escaped in JSON) and starts its clock. A check still open is
 * closed first with empty stats.
 */
void report_begin_check(struct report *r, const char *label);

/*
 * Records one violation of invariant ID in the open check (one is opened,
 * labelled "unlabelled", if none is). SPACE, VA, PFN may be REPORT_NONE.
 * The detail (printf FMT) is cut to one line. Past the caps it is only counted.
 */
__attribute__((format(printf, 6, 7)))
void report_violation(struct report *r, enum invariant_id id, uint64_t space, uint64_t va,
		      uint64_t pfn, const char *fmt, ...);

/*
 * Closes the open check with STATS (NULL: all zero), prints its summary
 * line and returns how many violations (or findings) it had, stored or
 * only counted.
 * Without an open check it does nothing and returns 0.
 */
uint64_t report_end_check(struct report *r, const struct check_stats *stats);

/* Violations over every check so far, stored or only counted; a stopped check's findings are not. */
uint64_t report_violations_total(const struct report *r);

/*
 * True when the open check, or else the last closed one, stored a
 * violation of ID at SPACE, VA and PFN; REPORT_NONE in an argument
 * matches anything there. (Only stored violations are searched.)
 */
bool report_last_check_has(const struct report *r, enum invariant_id id, uint64_t space,
			   uint64_t va, uint64_t pfn);

/*
 * Writes the report as JSON to PATH through out_file: PATH (absent or a
 * regular file; a FIFO, device or directory is refused) gets the whole
 * report or, on any failure, keeps what it had. Returns 0, or -1 with err
 * set to "PATH: reason". An open check is written as it stands.
 */
int report_write_json(const struct report *r, const char *path, char *err, size_t errlen);

void report_free(struct report *r);

#endif
