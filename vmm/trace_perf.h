/* SPDX-License-Identifier: BSD-2-Clause */
/* `perf script` text in, trace events out: the recorder's parser, robust to any line. */
#ifndef VMM_TRACE_PERF_H
#define VMM_TRACE_PERF_H

#include <stdbool.h>
#include <stdint.h>

#include "trace_write.h"

/*
 * The perf events `vmm record` asks for, and the `perf script` options
 * whose output perf_conv_line reads (fields "pid/tid event: payload").
 */
#define TRACE_PERF_EVENTS \
	"exceptions:page_fault_user," \
	"syscalls:sys_enter_munmap,syscalls:sys_exit_munmap," \
	"syscalls:sys_enter_mprotect,syscalls:sys_exit_mprotect," \
	"syscalls:sys_enter_mremap,syscalls:sys_exit_mremap," \
	"syscalls:sys_enter_brk,syscalls:sys_exit_brk," \
	"syscalls:sys_enter_madvise,syscalls:sys_exit_madvise," \
	"task:task_newtask"

struct perf_stats {
	uint64_t lines;          /* lines read */
	uint64_t ignored;        /* understood, of no use: kernel mmaps, renames, threads, other madvise */
	uint64_t skipped;        /* not understood */
	uint64_t dropped;        /* understood but unusable: unknown process, address past the limit,
				    a syscall exit without its entry, an event the writer refused */
	uint64_t failed;         /* syscalls that returned an error: nothing changed */
	uint64_t echoes;         /* MMAP2 records of an mprotect or brk (the syscall says it) */
	uint64_t stack_growth;   /* stack extensions inferred from faults below [stack] */
	uint64_t lost;           /* events perf said it lost */
	uint64_t vforks;         /* forks whose child shares its parent's memory (CLONE_VM) */
};

struct perf_conv;

/*
 * A parser writing into W. STACK_LIMIT: how far below its [stack]
 * mapping a fault still counts as the stack growing (the recorded
 * processes' RLIMIT_STACK). NULL when out of memory.
 */
struct perf_conv *perf_conv_new(struct trace_writer *w, uint64_t stack_limit);

/* One line of `perf script` output, without its newline. Never fails: what it cannot use is counted. */
void perf_conv_line(struct perf_conv *c, const char *line);

/* Writes what is still held back (an exec waiting for its program's mapping). */
void perf_conv_finish(struct perf_conv *c);

/* True once the recorded command's exec was seen: process 0 exists. */
bool perf_conv_started(const struct perf_conv *c);

const struct perf_stats *perf_conv_stats(const struct perf_conv *c);

void perf_conv_free(struct perf_conv *c);

#endif
