/* SPDX-License-Identifier: BSD-2-Clause */
/* Benchmark: checker throughput in mappings per second on million-mapping images of several shapes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "image.h"

#define MAPPINGS (1u << 20)
#define RUNS     5

struct shape {
	const char *name;
	uint64_t ram;
	unsigned spaces;     /* each shared page is mapped once in every space */
	unsigned private_pages;
	unsigned shared_pages;
};

static const struct shape shapes[] = {
	{ "private (all embedded)", 5ull << 30, 8, MAPPINGS, 0 },
	{ "mixed (25% embedded, 75% on lists of 8)", 3ull << 30, 8, MAPPINGS / 4, 3 * MAPPINGS / 32 },
	{ "fork-like (lists of 8)", 3ull << 30, 8, 0, MAPPINGS / 8 },
};

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct image *build(const struct shape *sh)
{
	struct image *img = img_new(sh->ram, false);
	uint64_t sp[16], priv, shared;

	if (img == NULL)
		return NULL;
	for (unsigned i = 0; i < sh->spaces; i++)
		sp[i] = img_hat_create(img);
	priv = img_alloc_user(img, sh->private_pages);
	shared = img_alloc_user(img, sh->shared_pages);
	for (unsigned i = 0; i < sh->private_pages; i++)
		img_map(img, sp[i % sh->spaces], 0x10000000ull + (uint64_t)(i / sh->spaces) * MM_PAGE_SIZE,
			priv + i, false);
	for (unsigned s = 0; s < sh->spaces; s++)
		for (unsigned i = 0; i < sh->shared_pages; i++)
			img_map(img, sp[s], 0x400000000ull + (uint64_t)i * MM_PAGE_SIZE, shared + i, false);
	img_reserve_fill(img, 64);
	img_cache_add(img, 8);
	return img;
}

/* Best of RUNS checks (CPU time of this thread); returns violations. */
static unsigned measure(const struct shape *sh, struct image *img)
{
	double best = 1e9;
	struct check_stats st = { 0 };
	unsigned violations = 0;

	for (int r = 0; r < RUNS; r++) {
		double t0 = cpu_seconds();

		violations = checker_run(&img->mem, &img->sym, NULL, "bench", &st);
		if (cpu_seconds() - t0 < best)
			best = cpu_seconds() - t0;
	}
	printf("checker %-42s %8" PRIu64 " mappings %8" PRIu64
	       " hments %7.1f ms  %5.1f M mappings/s\n", sh->name,
	       st.mappings, st.hments, best * 1e3,
	       (double)st.mappings / best / 1e6);
	return violations;
}

int main(void)
{
	int status = 0;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct image *img = build(&shapes[i]);

		if (img == NULL) {
			fprintf(stderr, "bench_checker: cannot build '%s'\n", shapes[i].name);
			return 1;
		}
		if (measure(&shapes[i], img) != 0) {
			fprintf(stderr, "bench_checker: '%s' is not a healthy image\n", shapes[i].name);
			status = 1;
		}
		img_free(img);
	}
	return status;
}
