/* SPDX-License-Identifier: BSD-2-Clause */
/* vmm --replay: the guest's replay figures, read from its memory at exit, into the JSON report. */
#ifndef VMM_REPLAY_REPORT_H
#define VMM_REPLAY_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "check_mem.h"
#include "report.h"
#include "hatvm/replay_stats.h"

/*
 * Reads the guest's `replay_result` (hatvm/replay_stats.h) through IMAGE's
 * symbol table: true with *out filled when the guest finished its replay
 * (magic, version and size as this vmm knows them). Guest memory is
 * untrusted: only the header is checked, the figures are just numbers.
 */
bool replay_report_read(const char *image, const struct check_mem *mem, struct replay_result *out);

/*
 * The run's replay figures into REPORT (JSON "replay"), with the path of
 * the longest mapping list's file from the --replay trace; says on DIAG
 * when the guest left none (it did not finish the replay).
 */
void replay_report_collect(const char *image, const struct check_mem *mem, struct report *report,
			   FILE *diag);

#endif
