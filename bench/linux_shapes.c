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

enum shape { SH_POPULATE, SH_SHARE, SH_MPROTECT, SH_MUNMAP, SH_FORK, NSHAPES };

static void one_run(int fd, unsigned long pages, double t[NSHAPES])
{
	double start = bench_cpu_now();
	void *a = map_populated(fd, pages);
	t[SH_POPULATE] = bench_cpu_now() - start;

	start = bench_cpu_now();
	void *b = map_populated(fd, pages);   /* the file's pages exist now: the share shape */
	t[SH_SHARE] = bench_cpu_now() - start;

	start = bench_cpu_now();
	if (mprotect(b, pages * PAGE, PROT_READ) != 0) {
		perror("bench: mprotect");
		exit(1);
	}
	t[SH_MPROTECT] = bench_cpu_now() - start;

	start = bench_cpu_now();
	munmap(b, pages * PAGE);
	t[SH_MUNMAP] = bench_cpu_now() - start;
	munmap(a, pages * PAGE);
	t[SH_FORK] = time_fork(pages);
}

void linux_shapes_measure(unsigned long pages, int runs, struct linux_shapes *out)
{
	double *t[NSHAPES];
	int fd = memfd_create("hatvm-bench", 0);

	if (fd < 0 || ftruncate(fd, (off_t)(pages * PAGE)) < 0) {
		perror("bench: memfd");
		exit(1);
	}
	for (int k = 0; k < NSHAPES; k++)
		if ((t[k] = calloc((size_t)runs, sizeof(double))) == NULL) {
			perror("bench");
			exit(1);
		}
	for (int r = 0; r < runs; r++) {
		double one[NSHAPES];
		one_run(fd, pages, one);
		for (int k = 0; k < NSHAPES; k++)
			t[k][r] = one[k];
	}
	double per_page = 1e9 / (double)pages;
	out->populate_ns = bench_median(t[SH_POPULATE], (size_t)runs) * per_page;
	out->share_ns = bench_median(t[SH_SHARE], (size_t)runs) * per_page;
	out->mprotect_ns = bench_median(t[SH_MPROTECT], (size_t)runs) * per_page;
	out->munmap_ns = bench_median(t[SH_MUNMAP], (size_t)runs) * per_page;
	out->fork_ns = bench_median(t[SH_FORK], (size_t)runs) * per_page;
	for (int k = 0; k < NSHAPES; k++)
		free(t[k]);
	close(fd);
}
