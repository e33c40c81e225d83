/* SPDX-License-Identifier: BSD-2-Clause */
/* Hang guard for tests that hand a FIFO to code that must refuse it without blocking. */
#ifndef TESTS_FIFO_GUARD_H
#define TESTS_FIFO_GUARD_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

/*
 * Header-only: each test file gets its own copy of this state. If the
 * code under test (in this process or a child) blocks opening the FIFO,
 * the alarm opens it for reading and writing at once, which lets any
 * open() on it go on; the test then fails on fifo_guard_disarm() instead
 * of hanging until the test timeout and leaving a blocked child behind.
 */
static const char *fifo_guard_path;
static volatile sig_atomic_t fifo_guard_fired;

static void fifo_guard_alarm(int sig)
{
	(void)sig;
	fifo_guard_fired = 1;
	open(fifo_guard_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);   /* left open: the test ends soon */
}

/* Arms the guard for PATH: after SECONDS (generous: a hang guard, not a timing check). */
static inline void fifo_guard_arm(const char *path, unsigned seconds)
{
	fifo_guard_path = path;
	fifo_guard_fired = 0;
	signal(SIGALRM, fifo_guard_alarm);
	alarm(seconds);
}

/* Disarms; true when the guard had to fire, i.e. something blocked on the FIFO. */
static inline bool fifo_guard_disarm(void)
{
	alarm(0);
	return fifo_guard_fired;
}

#endif
