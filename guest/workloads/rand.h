/* SPDX-License-Identifier: BSD-2-Clause */
/* A seeded, deterministic pseudo-random generator for workloads (xorshift64*). */
#ifndef GUEST_RAND_H
#define GUEST_RAND_H

#include <stdint.h>

struct rand {
	uint64_t state;
};

static inline void rand_seed(struct rand *r, uint64_t seed)
{
	r->state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (r->state == 0)
		r->state = 1;
}

static inline uint64_t rand_next(struct rand *r)
{
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return r->state * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n); n > 0. The slight bias of % is irrelevant here. */
static inline uint64_t rand_below(struct rand *r, uint64_t n)
{
	return rand_next(r) % n;
}

#endif
