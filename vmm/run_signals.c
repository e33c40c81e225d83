/* SPDX-License-Identifier: BSD-2-Clause */
/* The signal thread: sigwait() for SIGINT/SIGTERM/SIGHUP, so no handler runs async-signal-unsafe code. */
#include "run_signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hatvm/exit_status.h"

static sigset_t waited;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* guards the three below */
static run_signal_fn on_first;
static void *on_first_ctx;
static bool over;                 /* disarmed: the run has ended */
static atomic_int first;

const char *run_signal_name(int sig)
{
	switch (sig) {
	case SIGINT:  return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP:  return "SIGHUP";
	default:      return "signal";
	}
}

/* A second signal, or one after the run: the user does not want to wait for a clean stop. */
static void __attribute__((noreturn)) exit_now(int sig)
{
	struct run_findings f = { .interrupt_signal = sig };
	char line[80];
	int n = snprintf(line, sizeof(line), "vmm: %s while stopping; exiting at once\n",
			 run_signal_name(sig));

	if (n > 0) {
		ssize_t written = write(STDERR_FILENO, line, (size_t)n);
		(void)written;   /* we are leaving either way */
	}
	_exit(exit_status_decide(RUN_INTERRUPTED, &f));
}

/*
 * Returns true when SIG is the first of the run: handed to ON_FIRST, or
 * kept for run_signals_arm() when it came before the vCPUs started.
 */
static bool take_first(int sig)
{
	bool taken = false;

	pthread_mutex_lock(&lock);
	if (!over && atomic_load(&first) == 0) {
		atomic_store(&first, sig);
		if (on_first)
			on_first(on_first_ctx, sig);
		taken = true;
	}
	pthread_mutex_unlock(&lock);
	return taken;
}

static void *signal_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int sig;

		if (sigwait(&waited, &sig) != 0)
			continue;
		if (!take_first(sig))
			exit_now(sig);
	}
	return NULL;
}

/*
 * SIGHUP ignored when vmm started (nohup) stays ignored. SIGINT and
 * SIGTERM are taken even then: a shell without job control starts
 * `vmm ... &` with SIGINT ignored, and `kill -INT` must still stop it.
 */
static void wait_for(int sig)
{
	struct sigaction old;

	if (sig == SIGHUP && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigaddset(&waited, sig);
}

int run_signals_start(void)
{
	pthread_t thread;
	int rc;

	sigemptyset(&waited);
	wait_for(SIGINT);
	wait_for(SIGTERM);
	wait_for(SIGHUP);
	rc = pthread_sigmask(SIG_BLOCK, &waited, NULL);
	if (rc == 0)
		rc = pthread_create(&thread, NULL, signal_thread, NULL);
	if (rc != 0) {
		pthread_sigmask(SIG_UNBLOCK, &waited, NULL);
		fprintf(stderr, "vmm: cannot start the signal thread: %s\n", strerror(rc));
		return -1;
	}
	/* it lives as long as the process: a signal while the report is written still exits */
	pthread_detach(thread);
	return 0;
}

void run_signals_arm(run_signal_fn fn, void *ctx)
{
	int sig;

	pthread_mutex_lock(&lock);
	on_first = fn;
	on_first_ctx = ctx;
	sig = atomic_load(&first);
	if (sig)
		fn(ctx, sig);   /* it came while the vCPUs were starting */
	pthread_mutex_unlock(&lock);
}

void run_signals_disarm(void)
{
	pthread_mutex_lock(&lock);
	on_first = NULL;
	on_first_ctx = NULL;
	over = true;
	pthread_mutex_unlock(&lock);
}

int run_signals_first(void)
{
	return atomic_load(&first);
}
