/* SPDX-License-Identifier: BSD-2-Clause */
/* A test program: vforks a child that execs PROGRAM [ARGS...], and exits with the child's status. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	pid_t pid = vfork();
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("vfork_exec");
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
