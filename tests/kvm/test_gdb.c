/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: vmm --gdb driven by a real gdb in batch mode, and vmm as a user without /dev/kvm access. */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"

extern char **environ;

static const char *vmm_path, *guest_path;

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Starts `vmm --gdb=PORT [extra] guest -- words`; its output goes to our stderr. */
static pid_t start_vmm(unsigned port, const char *extra, const char *words)
{
	char opt[32], cmd[1024];
	pid_t pid;

	snprintf(opt, sizeof(opt), "--gdb=%u", port);
	snprintf(cmd, sizeof(cmd), "exec '%s' %s %s '%s' -- %s", vmm_path, opt, extra, guest_path, words);
	char *argv[] = { "sh", "-c", cmd, NULL };
	ck_assert_int_eq(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ), 0);
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* gdb -batch with one -ex per command, after connecting to PORT. */
static struct vmm_result run_gdb(unsigned port, const char *const cmds[])
{
	const char *argv[64];
	char target[64];
	int n = 0;

	snprintf(target, sizeof(target), "target remote 127.0.0.1:%u", port);
	argv[n++] = "gdb";
	argv[n++] = "-nx";
	argv[n++] = "-batch";
	argv[n++] = "-ex";
	argv[n++] = "set tcp connect-timeout 60";
	argv[n++] = "-ex";
	argv[n++] = target;
	for (int i = 0; cmds[i] && n < 60; i++) {
		argv[n++] = "-ex";
		argv[n++] = cmds[i];
	}
	argv[n++] = guest_path;
	argv[n] = NULL;
	return run_vmm(argv);
}

START_TEST(gdb_breaks_steps_and_continues_to_exit)
{
	unsigned port = free_port();
	pid_t vmm = start_vmm(port, "", "workload=smoke");
	const char *cmds[] = { "info registers rip cr3 efer", "break hat_memload", "continue", "bt",
			       "info registers rip", "stepi", "x/2gx $rsp", "info threads",
			       "delete", "continue", NULL };
	struct vmm_result g = run_gdb(port, cmds);

	ASSERT_HAS(g.out, "cr3");
	ASSERT_HAS(g.out, "Breakpoint 1");
	ASSERT_HAS(g.out, "hat_memload");
	ASSERT_HAS(g.out, "#1 ");              /* bt shows hat_memload's caller */
	ASSERT_HAS(g.out, "exited normally");
	ck_assert_int_eq(wait_status(vmm), VMM_EXIT_OK);
	vmm_result_free(&g);
}
END_TEST

START_TEST(gdb_stops_on_violation)
{
	unsigned port = free_port();
	pid_t vmm = start_vmm(port, "--stop-on-violation", "workload=corrupt");
	const char *cmds[] = { "continue", "monitor why", "info registers cr3", "kill", NULL };
	struct vmm_result g = run_gdb(port, cmds);

	ASSERT_HAS(g.out, "violation at checkpoint");
	ck_assert_int_eq(wait_status(vmm), VMM_EXIT_VIOLATION);
	vmm_result_free(&g);
}
END_TEST

/* /dev/kvm present but not open to the user: status 2 and the fix, never a skip. */
START_TEST(user_without_kvm_access_is_told_the_fix)
{
	struct stat st;

	if (getuid() != 0 || stat("/dev/kvm", &st) != 0 || (st.st_mode & S_IROTH && st.st_mode & S_IWOTH)) {
		fprintf(stderr, "note: needs root to become a user without /dev/kvm access; not tested\n");
		return;
	}
	struct vmm_result r = run_vmm((const char *[]){ "setpriv", "--reuid=nobody", "--regid=nogroup",
		"--clear-groups", vmm_path, guest_path, "--", "workload=hello", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "/dev/kvm");
	ASSERT_HAS(r.err, "usermod -aG kvm");
	vmm_result_free(&r);
}
END_TEST

static Suite *make(void)
{
	Suite *s = suite_create("gdb");
	TCase *tc = tcase_create("gdb");

	tcase_add_test(tc, gdb_breaks_steps_and_continues_to_exit);
	tcase_add_test(tc, gdb_stops_on_violation);
	tcase_add_test(tc, user_without_kvm_access_is_told_the_fix);
	tcase_set_timeout(tc, 600);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return kvm_test_main(argc, argv, &vmm_path, &guest_path, make);
}
