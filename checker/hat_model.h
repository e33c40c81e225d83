/* SPDX-License-Identifier: BSD-2-Clause */
/* The host's model of what should be mapped: per address space, VA -> (page, attributes, size), from the HAT's documented semantics. */
#ifndef CHECKER_HAT_MODEL_H
#define CHECKER_HAT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "hatvm/mm_structs.h"

/*
 * One mapping the HAT was asked for: `space` maps [va, va + size) to the
 * frames from pfn, size 2 MiB when attr has HAT_LARGE, else 4 KiB.
 */
struct model_map {
	uint64_t va;
	uint32_t space;
	uint32_t pfn;
	uint16_t attr;
	uint8_t ad;          /* PG_ATTR_REF / PG_ATTR_MOD: the leaf's A/D at the last check (MD_AD) */
	uint32_t seq;        /* o_seq of the load record that made it; 0: read from the tables */
};

struct hat_model;

/* An empty model; NULL when out of memory. */
struct hat_model *hat_model_new(void);
void hat_model_free(struct hat_model *m);

/* Forgets every mapping (a new start: the log could not be followed). */
void hat_model_clear(struct hat_model *m);

/*
 * Applies one logged operation (enum hat_op_kind) as the HAT documents
 * it; mappings of the kernel space (id 0) and of kernel-half VAs are not
 * modelled. A page-unload only reaches pages the MM tracks: `managed`
 * says which. *changed (when not NULL) counts the mappings it removed or
 * whose leaf bits it changed: translations a TLB may hold stale. False
 * when out of memory or past max_maps (the model is then incomplete:
 * clear it).
 */
bool hat_model_apply(struct hat_model *m, const struct hat_op *op,
		     bool (*managed)(void *ctx, uint64_t pfn), void *ctx, uint64_t max_maps,
		     uint64_t *changed);

/*
 * What the last hat_model_apply() cost: lookups and nodes visited. Never
 * more than the model holds or the operation's range covers, whichever is
 * less, per operation; the checker counts it as work.
 */
uint64_t hat_model_cost(const struct hat_model *m);

/* Adds the mapping (resync from the page tables); false when out of memory. */
bool hat_model_add(struct hat_model *m, const struct model_map *map);

/*
 * The mapping of `space` whose first VA is va, or NULL. Marks it seen in
 * the current round (see hat_model_round).
 */
struct model_map *hat_model_find(struct hat_model *m, uint32_t space, uint64_t va);

/*
 * The frame `space` maps at va (inside a 4 KiB or 2 MiB mapping), or
 * MODEL_PFN_NONE; marks nothing.
 */
uint64_t hat_model_pfn_at(const struct hat_model *m, uint32_t space, uint64_t va);
#define MODEL_PFN_NONE UINT64_MAX

/* Starts a round of hat_model_find() marks; returns how many mappings the model holds. */
uint64_t hat_model_round(struct hat_model *m);

/* Calls fn for every mapping not found in this round. */
void hat_model_each_unseen(struct hat_model *m, void (*fn)(void *ctx, const struct model_map *map),
			   void *ctx);

/*
 * The accessed/dirty bits (PG_ATTR_*) the mappings of pfn held at the
 * last check and still hold by the log: its 4 KiB ones and the 2 MiB ones
 * whose first page it is (a 2 MiB leaf's bits are its first page's).
 */
unsigned hat_model_frame_ad(const struct hat_model *m, uint32_t pfn);

/*
 * The mappings the model holds of page pfn: its 4 KiB ones and the 2 MiB
 * ones covering it (whose first page is pfn's 2 MiB group's first).
 * Counted in hat_model_cost().
 */
uint64_t hat_model_page_maps(struct hat_model *m, uint32_t pfn);

/*
 * The mappings of `space` overlapping [va, va + len) made before record
 * seq (o_seq, compared modulo 2^32) or read from the tables. Counted in
 * hat_model_cost().
 */
uint64_t hat_model_older_maps(struct hat_model *m, uint32_t space, uint64_t va, uint64_t len, uint32_t seq);

/*
 * The 2 MiB mappings covering page pfn (not its group's first page: 0
 * for that one) made before record seq or read from the tables. Counted
 * in hat_model_cost().
 */
uint64_t hat_model_older_large(struct hat_model *m, uint32_t pfn, uint32_t seq);

/* PG_ATTR_REF / PG_ATTR_MOD for a leaf's A / D bits. */
unsigned hat_model_ad_of_pte(uint64_t pte);

/* Mappings held; mappings found in this round. */
uint64_t hat_model_count(const struct hat_model *m);
uint64_t hat_model_seen(const struct hat_model *m);

/* The leaf bits (W, U, NX, PCD, PWT, PS) that attr asks for. */
uint64_t hat_model_pte_bits(unsigned attr);

/* Bits of a leaf the model compares. */
#define MODEL_PTE_MASK (PTE_W | PTE_U | PTE_NX | PTE_PCD | PTE_PWT | PTE_PS)

/* HAT_* attributes a present leaf's bits stand for (resync). */
unsigned hat_model_attr_of_pte(uint64_t pte, unsigned level);

#endif
