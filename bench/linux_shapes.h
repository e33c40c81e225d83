/* SPDX-License-Identifier: BSD-2-Clause */
/* The host Linux kernel doing the HAT benchmarks' shapes, as a same-run baseline. */
#ifndef BENCH_LINUX_SHAPES_H
#define BENCH_LINUX_SHAPES_H

struct linux_shapes {
	double populate_ns;   /* per page: mmap(MAP_SHARED|MAP_POPULATE) of a memfd */
	double share_ns;      /* per page: the same pages mapped again at a second address */
	double mprotect_ns;   /* per page: mprotect read-only of a populated shared mapping */
	double munmap_ns;     /* per page: munmap of a populated mapping */
	double fork_ns;       /* per page: fork of a process holding populated private pages */
};

/* A memfd of `pages` 4 KiB pages for the runs (closing it is the caller's). */
int linux_shapes_memfd(unsigned long pages);

/*
 * One run of each shape over the memfd's pages. Its pages persist from
 * run to run, as a file's page cache does: after the first run populate
 * maps pages that exist too.
 */
void linux_shapes_run(int fd, unsigned long pages, struct linux_shapes *out);

/* Each shape's median over n runs. */
void linux_shapes_median(const struct linux_shapes *runs, int n, struct linux_shapes *out);

/* Measures each shape over `pages` 4 KiB pages, median of `runs`. */
void linux_shapes_measure(unsigned long pages, int runs, struct linux_shapes *out);

#endif
