/* SPDX-License-Identifier: BSD-2-Clause */
/* The mutation driver's workload shapes: seeded mixes of HAT operations over the model. */
#ifndef TESTS_MUTATE_MUTATE_SHAPES_H
#define TESTS_MUTATE_MUTATE_SHAPES_H

#include "mutate_model.h"

struct shape;

/* The shapes, in matrix order; NULL-named entry ends the list. */
extern const struct shape *const mutate_shapes[];

const char *shape_name(const struct shape *sh);

/* The shape by name, or NULL. */
const struct shape *shape_find(const char *name);

/* Boots the model for sh (spaces, pages, knobs) and runs its operations; checkpoints as m->every says. */
void shape_run(const struct shape *sh, struct model *m, uint64_t seed);

#endif
