/* SPDX-License-Identifier: BSD-2-Clause */
/* SIGINT, SIGTERM and SIGHUP while the guest runs: one thread waits for them, the first stops the run, a second exits at once. */
#ifndef VMM_RUN_SIGNALS_H
#define VMM_RUN_SIGNALS_H

/* Called once, on the signal thread, for the first signal: stop the run. */
typedef void (*run_signal_fn)(void *ctx, int sig);

/*
 * Blocks SIGINT, SIGTERM and SIGHUP (unless SIGHUP was ignored at
 * start-up, as under nohup) in the calling thread (threads it creates later inherit that) and starts
 * the thread that sigwait()s for them. Returns 0, or -1 with a message printed (signals then keep their
 * default action). Call once per process, before creating the vCPU threads.
 */
int run_signals_start(void);

/*
 * From now on the first signal calls FN(CTX, sig) on the signal thread
 * (at once, on the calling thread, if it already came); any later one,
 * or any after run_signals_disarm(), exits the process at once with
 * 128 + its number.
 */
void run_signals_arm(run_signal_fn fn, void *ctx);

/* No more FN calls (the run is over); waits for one in progress to return. */
void run_signals_disarm(void);

/* The first signal received, or 0. Any thread. */
int run_signals_first(void);

/* "SIGINT", "SIGTERM", "SIGHUP", or "signal". */
const char *run_signal_name(int sig);

#endif
