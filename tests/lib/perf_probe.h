/* SPDX-License-Identifier: BSD-2-Clause */
/* Whether `vmm record` can record on this machine (perf present, allowed, matching the kernel). */
#ifndef TESTS_LIB_PERF_PROBE_H
#define TESTS_LIB_PERF_PROBE_H

#include <stdbool.h>

/*
 * Runs `VMM record -q -o PROBE_TRACE -- true`. True when it recorded;
 * false when perf is missing, refused, does not match the kernel or lacks
 * a tracepoint (*why: vmm's message, to free). Any other failure is not
 * "perf is unusable": it is true, so the test that follows shows it.
 */
bool perf_can_record(const char *vmm, const char *probe_trace, char **why);

#endif
