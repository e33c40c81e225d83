/* SPDX-License-Identifier: BSD-2-Clause */
/* `vmm record`: run a command under perf and write the trace of its process tree's memory events. */
#ifndef VMM_TRACE_RECORD_H
#define VMM_TRACE_RECORD_H

/*
 * argv[0] is "record". Exit status: 0 the trace is written and the
 * command succeeded, 1 the trace is written but the command failed (its
 * status is printed), 2 no trace: a usage error, perf missing or
 * refused (the cause and the fix are printed), nothing recorded, or the
 * output could not be written.
 */
int record_main(int argc, char **argv);

#endif
