/* SPDX-License-Identifier: BSD-2-Clause */
/* The progress line of a run on a terminal: one updating stderr line with operations, checks, violations, elapsed time. */
#include "progress.h"

#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#define CLEAR_LINE "\r\033[K"   /* to the left margin, erase to the end of the line */

bool progress_wanted(int fd, bool quiet)
{
	return !quiet && isatty(fd);
}

/* "12.3s" under a minute, "4m05s" under an hour, then "2h03m". */
static void format_elapsed(char *buf, size_t size, uint64_t ns)
{
	uint64_t ds = ns / 100000000ull, s = ns / 1000000000ull;

	if (s < 60)
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "s", ds / 10, ds % 10);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

size_t progress_format(char *buf, size_t size, const struct progress_counts *c, uint64_t elapsed_ns)
{
	char ops[32], elapsed[32];
	int n;

	if (c->ops == PROGRESS_NO_OPS)
		snprintf(ops, sizeof(ops), "-");
	else
		snprintf(ops, sizeof(ops), "%" PRIu64, c->ops);
	format_elapsed(elapsed, sizeof(elapsed), elapsed_ns);
	n = snprintf(buf, size, "vmm: %s operations, %" PRIu64 " checks, %" PRIu64 " violations, %s",
		     ops, c->checks, c->violations, elapsed);
	if (n < 0 || size == 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

void progress_init(struct progress *p, FILE *out, bool enabled, uint64_t now_ns, uint64_t delay_ns)
{
	*p = (struct progress){ .out = out, .enabled = enabled, .start_ns = now_ns, .last_ns = now_ns,
				.delay_ns = delay_ns };
}

void progress_hide(struct progress *p)
{
	if (!p->shown)
		return;
	fputs(CLEAR_LINE, p->out);
	fflush(p->out);
	p->shown = false;
	p->hidden = true;
}

void progress_update(struct progress *p, const struct progress_counts *c, uint64_t now_ns)
{
	char line[160];

	if (!p->enabled || (p->drawn && !p->hidden && now_ns - p->last_ns < PROGRESS_INTERVAL_NS) ||
	    now_ns - p->start_ns < p->delay_ns)
		return;
	progress_format(line, sizeof(line), c, now_ns - p->start_ns);
	fprintf(p->out, CLEAR_LINE "%s", line);
	fflush(p->out);
	p->shown = p->drawn = true;
	p->hidden = false;
	p->last_ns = now_ns;
}

void progress_end(struct progress *p)
{
	progress_hide(p);
	p->hidden = false;
}

uint64_t progress_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
