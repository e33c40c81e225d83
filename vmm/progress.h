/* SPDX-License-Identifier: BSD-2-Clause */
/* The progress line of a run on a terminal: one updating stderr line with operations, checks, violations, elapsed time. */
#ifndef VMM_PROGRESS_H
#define VMM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_DELAY_NS    1000000000ull  /* runs shorter than this show no line */
#define PROGRESS_INTERVAL_NS 250000000ull   /* at most four refreshes a second */
#define PROGRESS_NO_OPS      UINT64_MAX     /* the guest keeps no operation log */

struct progress_counts {
	uint64_t ops;          /* HAT operations the guest logged, or PROGRESS_NO_OPS */
	uint64_t checks;
	uint64_t violations;
};

struct progress {
	FILE *out;
	bool enabled;
	bool shown;            /* the line is on the terminal now */
	bool hidden;           /* cleared for other output: put back at the next update */
	bool drawn;            /* at least once */
	uint64_t start_ns, last_ns, delay_ns;
};

/* Whether a run shows the line: stderr (FD) is a terminal and --quiet was not given. */
bool progress_wanted(int fd, bool quiet);

/*
 * The line's text, without control characters or newline, e.g.
 * "vmm: 1234 operations, 5 checks, 0 violations, 1m02s". Returns its
 * length (truncated to size - 1, like snprintf's output).
 */
size_t progress_format(char *buf, size_t size, const struct progress_counts *c, uint64_t elapsed_ns);

/* DELAY_NS: no line before the run is that old (PROGRESS_DELAY_NS; tests take 0). */
void progress_init(struct progress *p, FILE *out, bool enabled, uint64_t now_ns, uint64_t delay_ns);

/* Clears a shown line, so that other output starts at the left margin. */
void progress_hide(struct progress *p);

/*
 * Draws the line with C when the last refresh is PROGRESS_INTERVAL_NS
 * old (the first once the run is delay_ns old), or at once when
 * progress_hide() took it away for other output.
 */
void progress_update(struct progress *p, const struct progress_counts *c, uint64_t now_ns);

/* The run ended: clears the line for the summary. */
void progress_end(struct progress *p);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t progress_now_ns(void);

#endif
