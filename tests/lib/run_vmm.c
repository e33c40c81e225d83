/* SPDX-License-Identifier: BSD-2-Clause */
/* Child-process runner for tests that drive the vmm binary end to end. */
#define _GNU_SOURCE
#include "run_vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

struct capture {
	int fd;
	char *buf;
	size_t len, cap;
};

static void die(const char *what)
{
	perror(what);
	exit(99);   /* meson: hard error, not a test failure */
}

static bool capture_read(struct capture *c)
{
	if (c->cap - c->len < 4096) {
		c->cap = c->cap * 2 + 8192;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			die("realloc");
	}
	ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
	if (n > 0)
		c->len += (size_t)n;
	return n > 0 || (n < 0 && errno == EINTR);
}

/* Drains both pipes until the child closes them. */
static void capture_both(struct capture *out, struct capture *err)
{
	struct pollfd p[2] = { { out->fd, POLLIN, 0 }, { err->fd, POLLIN, 0 } };
	struct capture *c[2] = { out, err };
	int open = 2;

	while (open > 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!capture_read(c[i])) {
				close(p[i].fd);
				p[i].fd = -1;
				open--;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!c[i]->buf)
			c[i]->buf = calloc(1, 1);
		c[i]->buf[c[i]->len] = '\0';
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct vmm_result run_vmm(const char *const argv[])
{
	int po[2], pe[2], wstatus;
	double start = now();

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], (char *const *)argv);
		perror(argv[0]);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct capture out = { .fd = po[0] }, err = { .fd = pe[0] };
	capture_both(&out, &err);
	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	struct vmm_result r = {
		.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus),
		.seconds = now() - start, .out = out.buf, .err = err.buf,
	};
	return r;
}

void vmm_result_free(struct vmm_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void skip_without_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	/* absent (no node, no module): skip; present but unusable: a failure to fix */
	if (fd < 0 && (errno == ENOENT || errno == ENXIO || errno == ENODEV)) {
		fprintf(stderr, "SKIP: /dev/kvm is absent: %s\n", strerror(errno));
		exit(77);
	}
	if (fd < 0) {
		fprintf(stderr, "FAIL: /dev/kvm exists but cannot be opened: %s; add this user to the "
			"group that owns it (usually kvm) or give it access with a udev rule "
			"(README: Running hatvm in your CI)\n", strerror(errno));
		exit(1);
	}
	close(fd);
}

struct vmm_result run_guest(const char *vmm, const char *guest, const char *const opts[],
			    const char *const words[])
{
	const char *argv[64];
	int n = 0;
	bool timed = false;

	argv[n++] = vmm;
	for (int i = 0; opts && opts[i] && n < 30; i++) {
		timed |= strncmp(opts[i], "--timeout", 9) == 0;
		argv[n++] = opts[i];
	}
	/*
	 * vmm's own default (60 s) is for people; a test's guest may run far
	 * slower (ASan, a loaded machine, KVM nested in an emulator), and the
	 * test's own timeout bounds it anyway.
	 */
	if (!timed) {
		argv[n++] = "--timeout";
		argv[n++] = "900";
	}
	argv[n++] = guest;
	if (words && words[0]) {
		argv[n++] = "--";
		for (int i = 0; words[i] && n < 62; i++)
			argv[n++] = words[i];
	}
	argv[n] = NULL;
	return run_vmm(argv);
}

int run_suites(Suite *const suites[])
{
	SRunner *sr = srunner_create(suites[0]);

	for (unsigned i = 1; suites[i]; i++)
		srunner_add_suite(sr, suites[i]);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int run_suite(Suite *suite)
{
	return run_suites((Suite *const[]){ suite, NULL });
}

int kvm_test_main(int argc, char **argv, const char **vmm, const char **guest,
		  Suite *(*make)(void))
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s VMM GUEST.ELF\n", argv[0]);
		return 99;
	}
	*vmm = argv[1];
	*guest = argv[2];
	skip_without_kvm();
	return run_suite(make());
}

const char *text_tail(const char *text, size_t max)
{
	size_t len = strlen(text);

	return len > max ? text + (len - max) : text;
}
