/* SPDX-License-Identifier: BSD-2-Clause */
/* Times Linux mapping a shared memfd (populate, second mapping, mprotect, munmap, fork) per page, in this thread's CPU time. */
#define _GNU_SOURCE
#include "linux_shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench_util.h"

#define PAGE 4096ul

static void *map_populated(int fd, unsigned long pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	return p;
}

/*
 * fork() of a process holding `pages` populated private anonymous pages:
 * Linux skips shared file mappings at fork, so these are the pages whose
 * PTEs it really copies. The child exits at once. Like every shape here
 * it is timed in this thread's CPU time (the kernel's work for it
 * included), as the hosted MM is: a busy machine's other processes count
 * for neither side.
 */
static double time_fork(unsigned long pages)
{
	void *anon = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (anon == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	double start = bench_cpu_now();
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	double forked = bench_cpu_now();
	waitpid(pid, NULL, 0);
	munmap(anon, pages * PAGE);
	return forked - start;
}

int linux_shapes_memfd(unsigned long pages)
{
	int fd = memfd_create("hatvm-bench", 0);

	if (fd < 0 || ftruncate(fd, (off_t)(pages * PAGE)) < 0) {
		perror("bench: memfd");
		exit(1);
	}
	return fd;
}

void linux_shapes_run(int fd, unsigned long pages, struct linux_shapes *out)
{
	double per_page = 1e9 / (double)pages, start;
	void *a, *b;

	start = bench_cpu_now();
	a = map_populated(fd, pages);
	out->populate_ns = (bench_cpu_now() - start) * per_page;

	start = bench_cpu_now();
	b = map_populated(fd, pages);   /* the file's pages exist now: the share shape */
	out->share_ns = (bench_cpu_now() - start) * per_page;

	start = bench_cpu_now();
	if (mprotect(b, pages * PAGE, PROT_READ) != 0) {
		perror("bench: mprotect");
		exit(1);
	}
	out->mprotect_ns = (bench_cpu_now() - start) * per_page;

	start = bench_cpu_now();
	munmap(b, pages * PAGE);
	out->munmap_ns = (bench_cpu_now() - start) * per_page;
	munmap(a, pages * PAGE);
	out->fork_ns = time_fork(pages) * per_page;
}

void linux_shapes_median(const struct linux_shapes *runs, int n, struct linux_shapes *out)
{
	double *v[5];

	for (int k = 0; k < 5; k++)
		if ((v[k] = calloc((size_t)n, sizeof(double))) == NULL) {
			perror("bench");
			exit(1);
		}
	for (int r = 0; r < n; r++) {
		v[0][r] = runs[r].populate_ns;
		v[1][r] = runs[r].share_ns;
		v[2][r] = runs[r].mprotect_ns;
		v[3][r] = runs[r].munmap_ns;
		v[4][r] = runs[r].fork_ns;
	}
	out->populate_ns = bench_median(v[0], (size_t)n);
	out->share_ns = bench_median(v[1], (size_t)n);
	out->mprotect_ns = bench_median(v[2], (size_t)n);
	out->munmap_ns = bench_median(v[3], (size_t)n);
	out->fork_ns = bench_median(v[4], (size_t)n);
	for (int k = 0; k < 5; k++)
		free(v[k]);
}

void linux_shapes_measure(unsigned long pages, int runs, struct linux_shapes *out)
{
	struct linux_shapes *one = calloc((size_t)runs, sizeof(*one));
	int fd = linux_shapes_memfd(pages);

	if (one == NULL) {
		perror("bench");
		exit(1);
	}
	for (int r = 0; r < runs; r++)
		linux_shapes_run(fd, pages, &one[r]);
	linux_shapes_median(one, runs, out);
	free(one);
	close(fd);
}
