/* SPDX-License-Identifier: BSD-2-Clause */
/* A sparse array of 64-bit words in kernel pages, three levels deep, pages allocated on first write. */
#ifndef GUEST_REPLAY_PARRAY_H
#define GUEST_REPLAY_PARRAY_H

#include <stdbool.h>
#include <stdint.h>

#define PARRAY_BITS 9u                               /* 512 words per page */
#define PARRAY_MAX  (1ull << (3 * PARRAY_BITS))      /* 134 M words */

struct parray {
	uint64_t *root;      /* NULL until the first write */
	uint64_t pages;      /* pages taken so far (never returned) */
};

/*
 * The word at index (< PARRAY_MAX), or NULL when its page does not
 * exist: with create, NULL means no page was left for it.
 */
uint64_t *parray_at(struct parray *a, uint64_t index, bool create);

/* The word at index, 0 when never written. */
uint64_t parray_get(const struct parray *a, uint64_t index);

/*
 * The first index >= index whose word is not 0, that word in *word;
 * PARRAY_MAX when none (*word untouched). Absent pages are skipped whole.
 */
uint64_t parray_next(const struct parray *a, uint64_t index, uint64_t *word);

#endif
