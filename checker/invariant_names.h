/* SPDX-License-Identifier: BSD-2-Clause */
/* Names and descriptions of the invariant catalogue, drawn from include/hatvm/invariants.h. */
#ifndef VMM_INVARIANT_NAMES_H
#define VMM_INVARIANT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hatvm/invariants.h>

/* The ID as written in the catalogue ("RM_MISSING"); "UNKNOWN" for a value outside it. Any thread. */
const char *invariant_name(enum invariant_id id);

/* The catalogue's "holds when ..." text; "unknown invariant" outside it. Any thread. */
const char *invariant_description(enum invariant_id id);

/* True and *id set when NAME (any case) is a catalogue ID; false otherwise. Any thread. */
bool invariant_parse(const char *name, enum invariant_id *id);

/*
 * Parses a comma-separated list of IDs ("RM_MISSING,PT_RSVD") into an inject
 * mask, bit i = 1 << INV_i (the order of the catalogue). Returns false with
 * err naming the first unknown or empty item; *mask is only set on success.
 */
bool invariant_parse_mask(const char *list, uint64_t *mask, char *err, size_t errlen);

#endif
