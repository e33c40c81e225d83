/* SPDX-License-Identifier: BSD-2-Clause */
/* One CPU, then two at once, on memory work that shares nothing: the speed-up this machine gives right now, the parallel rows' ceiling. */
#include "cpu_ceiling.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"

#define BUF_BYTES (8u << 20)   /* per CPU: past L2, as the MM runs' pages and tables are */
#define PASSES    24u

struct worker {
	pthread_barrier_t *start;
	uint64_t sum;
};

/*
 * Stores and dependent loads over a buffer of the thread's own: a loop
 * with the MM's mix of cache misses and arithmetic, nothing shared.
 */
static void *work(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(BUF_BYTES);
	uint64_t x = 1;

	if (buf == NULL) {
		fprintf(stderr, "bench: cpu_ceiling: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < BUF_BYTES; i += 64)
		buf[i] = (uint8_t)i;
	pthread_barrier_wait(w->start);
	for (unsigned p = 0; p < PASSES; p++)
		for (uint32_t i = 0; i < BUF_BYTES; i += 64) {
			buf[i] = (uint8_t)x;
			x = x * 6364136223846793005ull + buf[(i * 7u) & (BUF_BYTES - 1)];
		}
	w->sum = x;
	free(buf);
	return NULL;
}

double cpu_ceiling_run(unsigned threads)
{
	struct worker w[2] = { { 0 }, { 0 } };
	pthread_t tid[2];
	pthread_barrier_t start;
	double t0;

	if (threads == 0 || threads > 2) {
		fprintf(stderr, "bench: cpu_ceiling_run: 1 or 2 threads\n");
		exit(1);
	}
	pthread_barrier_init(&start, NULL, threads + 1);
	for (unsigned i = 0; i < threads; i++) {
		w[i].start = &start;
		if (pthread_create(&tid[i], NULL, work, &w[i]) != 0) {
			fprintf(stderr, "bench: cpu_ceiling: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	t0 = bench_now();
	for (unsigned i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	t0 = bench_now() - t0;
	pthread_barrier_destroy(&start);
	return t0 * 1e9 / ((double)threads * PASSES * (BUF_BYTES / 64));
}
