/* SPDX-License-Identifier: BSD-2-Clause */
/* A hash map from 64-bit keys to 32-bit values (pids, tids, page numbers) for the trace tools. */
#include "trace_map.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static int grow(struct trace_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct trace_map bigger = {
		.keys = calloc(cap, sizeof(uint64_t)), .vals = calloc(cap, sizeof(uint32_t)),
		.used = calloc(cap, 1), .cap = cap,
	};

	if (!bigger.keys || !bigger.vals || !bigger.used) {
		trace_map_free(&bigger);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			trace_map_put(&bigger, m->keys[i], m->vals[i]);   /* cannot grow again */
	trace_map_free(m);
	*m = bigger;
	return 0;
}

int trace_map_put(struct trace_map *m, uint64_t key, uint32_t val)
{
	if ((m->count + 1) * 4 > m->cap * 3 && grow(m))
		return -1;
	size_t i = slot_of(key, m->cap);
	while (m->used[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->used[i]) {
		m->used[i] = 1;
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

/* The slot holding KEY, or cap when absent. */
static size_t find(const struct trace_map *m, uint64_t key)
{
	if (!m->cap)
		return 0;
	for (size_t i = slot_of(key, m->cap); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return i;
	return m->cap;
}

bool trace_map_get(const struct trace_map *m, uint64_t key, uint32_t *val)
{
	size_t i = find(m, key);

	if (i >= m->cap)
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}

/* True when slot j's home is cyclically outside (hole, j]: it may move into the hole. */
static bool may_fill(size_t hole, size_t j, size_t home)
{
	return hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
}

bool trace_map_del(struct trace_map *m, uint64_t key)
{
	size_t hole = find(m, key);

	if (hole >= m->cap)
		return false;
	m->used[hole] = 0;
	m->count--;
	for (size_t j = (hole + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)) {
		if (!may_fill(hole, j, slot_of(m->keys[j], m->cap)))
			continue;
		m->keys[hole] = m->keys[j];
		m->vals[hole] = m->vals[j];
		m->used[hole] = 1;
		m->used[j] = 0;
		hole = j;
	}
	return true;
}

bool trace_map_next(const struct trace_map *m, size_t *slot, uint64_t *key, uint32_t *val)
{
	for (; *slot < m->cap; (*slot)++) {
		if (!m->used[*slot])
			continue;
		*key = m->keys[*slot];
		*val = m->vals[*slot];
		(*slot)++;
		return true;
	}
	return false;
}

void trace_map_clear(struct trace_map *m)
{
	if (m->cap)
		memset(m->used, 0, m->cap);
	m->count = 0;
}

void trace_map_free(struct trace_map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = (struct trace_map){ 0 };
}
