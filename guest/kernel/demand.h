/* SPDX-License-Identifier: BSD-2-Clause */
/* Demand paging: a user VA range of an address space whose pages appear on first touch. */
#ifndef GUEST_DEMAND_H
#define GUEST_DEMAND_H

#include <stdint.h>

struct hat;

/*
 * Makes [va, va + len) of h demand-paged: a #PF there, while h is loaded,
 * maps a fresh zeroed page with attr. One region at a time; len 0 turns
 * demand paging off. Boot CPU.
 */
void demand_region(struct hat *h, uint64_t va, uint64_t len, unsigned attr);

/* Installs the #PF handler; once, after mm_boot(). */
void demand_init(void);

/* Pages mapped by the handler so far. */
uint64_t demand_pages_mapped(void);

#endif
