/* SPDX-License-Identifier: BSD-2-Clause */
/* The real guest MM compiled hosted (HATVM_HOSTED), driven by seeded workloads and exposed to the checker; plain types only, so HATVM_HOST code can use it. */
#ifndef TESTS_LIB_HOSTED_MM_H
#define TESTS_LIB_HOSTED_MM_H

#include <stdint.h>

#include "check_mem.h"
#include "checker.h"

/* Boots the hosted MM on a fresh arena of ram_size bytes. */
void hmm_boot(uint64_t ram_size);

/* Frees the arena and every address space with it. */
void hmm_shutdown(void);

/*
 * Runs `ops` seeded random operations over `nspaces` address spaces:
 * 4 KiB and 2 MiB memloads of shared pages, unloads, pageunloads,
 * chgprot, destroy and re-create, reserve and cache changes.
 */
void hmm_workload(uint64_t seed, unsigned nspaces, unsigned ops);

/* Creates, uses and destroys one address space, so freed table pages sit on the cache. */
void hmm_churn_tables(void);

/*
 * A fresh operation of a loaded space, for MD_FLUSH's injector: _map maps
 * a page in the first space; _unload loads that space on this CPU, unloads
 * the page (the HAT flushes and logs it) and loads the kernel's again.
 */
void hmm_flush_target_map(void);
void hmm_flush_target_unload(void);

/*
 * Fills *mem and *sym so the checker sees the MM, however it was booted
 * (hmm_boot, or mm_hosted_boot as the MM unit tests do): RAM is the arena; the
 * MM's variables (process globals) are copied into the arena's unused
 * image gap and their addresses translated there by mem->virt_to_phys.
 * Call again after running the MM further.
 */
void hmm_view(struct check_mem *mem, struct mm_symbols *sym);

#endif
