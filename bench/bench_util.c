/* SPDX-License-Identifier: BSD-2-Clause */
/* Timing helpers: run a command and time it, medians. */
#include "bench_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_time_command(const char *const argv[])
{
	int status;
	double start = bench_now();
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench: %s failed\n", argv[0]);
		exit(1);
	}
	return bench_now() - start;
}

void bench_each_checkpoint(json_t *checks, void (*fn)(double ms, double items_per_s, void *arg), void *arg)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "phase")) ?: "", "checkpoint") == 0)
			fn(json_number_value(json_object_get(c, "ms")),
			   json_number_value(json_object_get(c, "items_per_s")), arg);
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

char *bench_run_capture(const char *const argv[])
{
	int fd[2], status;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	pid_t pid;

	if (buf == NULL || pipe(fd) < 0) {
		perror("bench");
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096 && (buf = realloc(buf, cap *= 2)) == NULL) {
			perror("bench");
			exit(1);
		}
		n = read(fd[0], buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd[0]);
	buf[len] = '\0';
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench: %s failed; its output:\n%s", argv[0], buf);
		exit(1);
	}
	return buf;
}
