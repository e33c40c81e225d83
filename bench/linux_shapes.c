/* SPDX-License-Identifier: BSD-2-Clause */
/* Times Linux mapping a shared memfd (populate, second mapping, mprotect, munmap, fork) per page, in this thread's CPU time. */
#define _GNU_SOURCE
#include "linux_shapes.h"

#include <stddef.h>
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

/* The figures of struct linux_shapes, for what is done to each alike. */
static const size_t shape_fields[] = {
	offsetof(struct linux_shapes, populate_ns), offsetof(struct linux_shapes, share_ns),
	offsetof(struct linux_shapes, mprotect_ns), offsetof(struct linux_shapes, munmap_ns),
	offsetof(struct linux_shapes, fork_ns),
};

void linux_shapes_median(const struct linux_shapes *runs, int n, struct linux_shapes *out)
{
	double *v = calloc((size_t)n, sizeof(double));

	if (v == NULL) {
		perror("bench");
		exit(1);
	}
	for (size_t f = 0; f < sizeof(shape_fields) / sizeof(shape_fields[0]); f++) {
		size_t at = shape_fields[f];

		for (int r = 0; r < n; r++)
			v[r] = *(const double *)((const char *)&runs[r] + at);
		*(double *)((char *)out + at) = bench_median(v, (size_t)n);
	}
	free(v);
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
