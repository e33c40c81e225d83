/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay's figures (hatvm/replay_stats.h) as the JSON report's "replay" object. */
#ifndef HATVM_REPORT_REPLAY_H
#define HATVM_REPORT_REPLAY_H

#include <jansson.h>

#include "hatvm/replay_stats.h"

/*
 * The "replay" object of RES: the `replay:` line's figures, grouped
 * (faults, trace_errors, reclaimed, longest_list with its file index,
 * PATH (may be NULL: unknown) and byte offset), events by kind, and the
 * guest's replay time when its TSC rate is known. NULL when out of memory.
 */
json_t *report_replay_json(const struct replay_result *res, const char *path);

#endif
