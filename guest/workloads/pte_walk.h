/* SPDX-License-Identifier: BSD-2-Clause */
/* The leaf PTE of a VA in the tables the CPU has loaded, walked from CR3 without the HAT: a second opinion when an access surprises. */
#ifndef GUEST_PTE_WALK_H
#define GUEST_PTE_WALK_H

#include <stdint.h>

/* Where the present leaf (4 KiB, 2 MiB or 1 GiB) that maps va in the tables CR3 names lies, or NULL. */
volatile uint64_t *wl_walk_pte_slot(uint64_t va);

/* That leaf's value, or 0. */
uint64_t wl_walk_pte(uint64_t va);

/*
 * Why an access that should have faulted went through: "the PTE was never
 * cleared" / "the PTE still allows writes" when the tables still allow it,
 * else "a stale TLB entry" (the tables say fault, the CPU used an old
 * translation). `need` is the PTE bits the access needed (PTE_P, or
 * PTE_P | PTE_W for a write).
 */
const char *wl_access_cause(uint64_t va, uint64_t need);

#endif
