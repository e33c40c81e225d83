/* SPDX-License-Identifier: BSD-2-Clause */
/* Sparse three-level arrays of words over PG_KERNEL pages (the replay's tables: processes, hash buckets, page owners). */
#include "parray.h"

#include "page.h"

#define PARRAY_MASK ((1ull << PARRAY_BITS) - 1)

static uint64_t *new_table(struct parray *a)
{
	page_t *pp = page_alloc(PG_KERNEL);

	if (pp == NULL)
		return NULL;
	a->pages++;
	return page_kva(pp);
}

/* The next level's table named by *slot, made when create allows. */
static uint64_t *descend(struct parray *a, uint64_t *slot, bool create)
{
	if (*slot == 0 && create) {
		uint64_t *t = new_table(a);
		*slot = (uint64_t)(uintptr_t)t;
	}
	return (uint64_t *)(uintptr_t)*slot;
}

uint64_t *parray_at(struct parray *a, uint64_t index, bool create)
{
	if (index >= PARRAY_MAX)
		return NULL;
	if (a->root == NULL) {
		if (!create)
			return NULL;
		a->root = new_table(a);
		if (a->root == NULL)
			return NULL;
	}
	uint64_t *mid = descend(a, &a->root[index >> (2 * PARRAY_BITS)], create);
	if (mid == NULL)
		return NULL;
	uint64_t *leaf = descend(a, &mid[(index >> PARRAY_BITS) & PARRAY_MASK], create);
	if (leaf == NULL)
		return NULL;
	return &leaf[index & PARRAY_MASK];
}

uint64_t parray_get(const struct parray *a, uint64_t index)
{
	uint64_t *w = parray_at((struct parray *)a, index, false);

	return w ? *w : 0;
}

/* The table page a slot names, or NULL. */
static const uint64_t *table_at(const uint64_t *t, uint64_t slot)
{
	return (const uint64_t *)(uintptr_t)t[slot & PARRAY_MASK];
}

uint64_t parray_next(const struct parray *a, uint64_t index, uint64_t *word)
{
	while (a->root != NULL && index < PARRAY_MAX) {
		const uint64_t *mid = table_at(a->root, index >> (2 * PARRAY_BITS)), *leaf;

		if (mid == NULL) {
			index = (index | ((1ull << (2 * PARRAY_BITS)) - 1)) + 1;
			continue;
		}
		leaf = table_at(mid, index >> PARRAY_BITS);
		if (leaf != NULL)
			for (uint64_t i = index & PARRAY_MASK; i <= PARRAY_MASK; i++)
				if (leaf[i] != 0) {
					*word = leaf[i];
					return (index & ~PARRAY_MASK) | i;
				}
		index = (index | PARRAY_MASK) + 1;
	}
	return PARRAY_MAX;
}
