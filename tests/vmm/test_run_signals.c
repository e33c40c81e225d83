/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: vmm's signal thread (no KVM): the first SIGINT/SIGTERM/SIGHUP stops the run, a second exits at once. */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "hatvm/exit_status.h"
#include "run_signals.h"
#include "run_vmm.h"

static int report_fd;   /* the child tells the parent which signal it was handed */

static void on_first(void *ctx, int sig)
{
	unsigned char b = (unsigned char)sig;

	(void)ctx;
	if (write(report_fd, &b, 1) != 1)
		_exit(98);
}

enum when { ARM_FIRST, SIGNAL_FIRST, DISARMED, HUP_IGNORED, INT_IGNORED };

/* The child: the signal thread set up as vm_run() does it, then waiting forever. */
static void __attribute__((noreturn)) child(int fd, int ready_fd, enum when when)
{
	report_fd = fd;
	if (when == HUP_IGNORED)
		signal(SIGHUP, SIG_IGN);   /* as nohup does */
	if (when == INT_IGNORED)
		signal(SIGINT, SIG_IGN);   /* as sh does for `vmm &` */
	if (run_signals_start() != 0)
		_exit(97);
	if (when == ARM_FIRST || when == HUP_IGNORED || when == INT_IGNORED)
		run_signals_arm(on_first, NULL);
	if (when == DISARMED) {
		run_signals_arm(on_first, NULL);
		run_signals_disarm();
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(98);
	if (when == SIGNAL_FIRST) {
		while (run_signals_first() == 0)
			usleep(1000);
		run_signals_arm(on_first, NULL);   /* hands it over at once */
	}
	for (;;)
		pause();
}

/* Waits (hang guard: 10 s) for one byte on FD; -1 when none came. */
static int read_byte(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	unsigned char b;

	if (poll(&p, 1, 10000) != 1 || read(fd, &b, 1) != 1)
		return -1;
	return b;
}

struct child_run {
	pid_t pid;
	int report, ready;
};

static struct child_run start(enum when when)
{
	int rep[2], ready[2];

	ck_assert_int_eq(pipe(rep), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(rep[0]);
		close(ready[0]);
		child(rep[1], ready[1], when);
	}
	close(rep[1]);
	close(ready[1]);
	ck_assert_int_eq(read_byte(ready[0]), 'r');
	return (struct child_run){ pid, rep[0], ready[0] };
}

/* Waits for the child's exit status (128 + signal when a signal killed it). */
static int finish(struct child_run *c)
{
	int wstatus;

	ck_assert_int_eq(waitpid(c->pid, &wstatus, 0), c->pid);
	close(c->report);
	close(c->ready);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1000 + WTERMSIG(wstatus);
}

START_TEST(first_stops_second_exits_at_once)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	int sig = sigs[_i];
	struct child_run c = start(ARM_FIRST);

	ck_assert_int_eq(kill(c.pid, sig), 0);
	ck_assert_int_eq(read_byte(c.report), sig);   /* handed over, process still alive */
	ck_assert_int_eq(kill(c.pid, SIGINT), 0);
	ck_assert_int_eq(finish(&c), VMM_EXIT_SIGNAL_BASE + SIGINT);
}
END_TEST

START_TEST(a_signal_before_arming_is_handed_over)
{
	struct child_run c = start(SIGNAL_FIRST);

	ck_assert_int_eq(kill(c.pid, SIGTERM), 0);
	ck_assert_int_eq(read_byte(c.report), SIGTERM);
	ck_assert_int_eq(kill(c.pid, SIGHUP), 0);
	ck_assert_int_eq(finish(&c), VMM_EXIT_SIGNAL_BASE + SIGHUP);
}
END_TEST

START_TEST(after_the_run_a_signal_exits_at_once)
{
	struct child_run c = start(DISARMED);

	ck_assert_int_eq(kill(c.pid, SIGINT), 0);
	ck_assert_int_eq(finish(&c), VMM_EXIT_SIGNAL_BASE + SIGINT);
}
END_TEST

/* A signal ignored when vmm started stays ignored: nohup keeps working. */
START_TEST(an_ignored_signal_stays_ignored)
{
	struct child_run c = start(HUP_IGNORED);

	ck_assert_int_eq(kill(c.pid, SIGHUP), 0);
	ck_assert_int_eq(kill(c.pid, SIGINT), 0);
	ck_assert_int_eq(read_byte(c.report), SIGINT);
	ck_assert_int_eq(kill(c.pid, SIGTERM), 0);
	ck_assert_int_eq(finish(&c), VMM_EXIT_SIGNAL_BASE + SIGTERM);
}
END_TEST

/* Defect 7: a run started in the background by sh inherits SIGINT ignored; kill -INT still stops it. */
START_TEST(sigint_is_taken_even_if_inherited_ignored)
{
	struct child_run c = start(INT_IGNORED);

	ck_assert_int_eq(kill(c.pid, SIGINT), 0);
	ck_assert_int_eq(read_byte(c.report), SIGINT);
	ck_assert_int_eq(kill(c.pid, SIGINT), 0);
	ck_assert_int_eq(finish(&c), VMM_EXIT_SIGNAL_BASE + SIGINT);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(run_signal_name(SIGINT), "SIGINT");
	ck_assert_str_eq(run_signal_name(SIGTERM), "SIGTERM");
	ck_assert_str_eq(run_signal_name(SIGHUP), "SIGHUP");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run_signals");
	TCase *tc = tcase_create("run_signals");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, first_stops_second_exits_at_once, 0, 3);
	tcase_add_test(tc, a_signal_before_arming_is_handed_over);
	tcase_add_test(tc, after_the_run_a_signal_exits_at_once);
	tcase_add_test(tc, an_ignored_signal_stays_ignored);
	tcase_add_test(tc, sigint_is_taken_even_if_inherited_ignored);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
