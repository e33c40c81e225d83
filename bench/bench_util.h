/* SPDX-License-Identifier: BSD-2-Clause */
/* Timing helpers shared by the benchmarks. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <jansson.h>
#include <stddef.h>

/* Seconds of wall time to run argv to completion (output discarded); exits on failure. */
double bench_time_command(const char *const argv[]);
/* Runs argv, returns its standard output (NUL-terminated, malloc'd); exits unless it succeeds. */
char *bench_run_capture(const char *const argv[]);
/*
 * Calls fn with each checkpoint check's ms and items per second from the
 * `checks` array of vmm's JSON report (exit and stopped checks left out).
 */
void bench_each_checkpoint(json_t *checks, void (*fn)(double ms, double items_per_s, void *arg), void *arg);
/* Median of n values (sorts them in place). */
double bench_median(double *v, size_t n);
double bench_now(void);
/* CPU seconds of this thread: time the other processes of a busy machine take is not counted. */
double bench_cpu_now(void);

#endif
