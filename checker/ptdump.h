/* SPDX-License-Identifier: BSD-2-Clause */
/* A Linux-ptdump-like listing of one address space: runs of like leaf entries, one line each. */
#ifndef VMM_PTDUMP_H
#define VMM_PTDUMP_H

#include <stdint.h>
#include <stdio.h>

#include "guest_mem.h"
#include "pt_walk.h"

/* How many mappings the page at physical address PA has (the guest's mapping lists). */
typedef unsigned (*ptdump_mapcount_fn)(void *ctx, uint64_t pa);

/*
 * Prints the address space at CR3 to OUT: a header, then per run of leaves
 * with contiguous VAs, equal flags and equal page size (physical contiguity
 * not required) one line
 *
 *   0xSTART-0xEND  SIZE  USR RW NX PSE GLB  LEVEL  [SHARED]
 *
 * (END exclusive; flags "   " / "ro" / "x " when clear; LEVEL pte, pmd or
 * pud; SHARED, only when MAPCOUNT is not NULL, counts the run's pages whose
 * mapcount is above 1). Entries the hardware would fault on get a line of
 * their own; halves and truncation are marked. Reads guest RAM only through
 * gm; the guest must be paused. Returns how the walk ended.
 */
enum pt_walk_result ptdump_write(FILE *out, const struct guest_mem *gm, const struct pt_config *cfg,
				 uint64_t cr3, ptdump_mapcount_fn mapcount, void *ctx);

#endif
