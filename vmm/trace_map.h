/* SPDX-License-Identifier: BSD-2-Clause */
/* A hash map from 64-bit keys to 32-bit values (pids, tids, page numbers) for the trace tools. */
#ifndef VMM_TRACE_MAP_H
#define VMM_TRACE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Open addressing with linear probing and backward-shift deletion, so
 * deletions leave no tombstones and lookups stay short however many keys
 * come and go. Zero-initialised is an empty map.
 */
struct trace_map {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap;      /* a power of two, or 0 */
	size_t count;
};

/* Inserts or replaces KEY; -1 when out of memory (the map is unchanged). */
int trace_map_put(struct trace_map *m, uint64_t key, uint32_t val);

/* True with *val set (val may be NULL) when KEY is present. */
bool trace_map_get(const struct trace_map *m, uint64_t key, uint32_t *val);

/* Removes KEY; true when it was present. */
bool trace_map_del(struct trace_map *m, uint64_t key);

/*
 * Iteration: *slot starts at 0; returns true with the next key and value
 * and advances *slot. The map must not change during the iteration.
 */
bool trace_map_next(const struct trace_map *m, size_t *slot, uint64_t *key, uint32_t *val);

void trace_map_clear(struct trace_map *m);
void trace_map_free(struct trace_map *m);

#endif
