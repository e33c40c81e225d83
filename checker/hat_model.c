/* SPDX-License-Identifier: BSD-2-Clause */
/* The host's model of what should be mapped, kept from the HAT operation log: hashed by (space, VA), by frame and by space. */
#include "hat_model.h"

#include <stdlib.h>
#include <string.h>

#define SYNC_CLEAR 0x1u              /* HAT_SYNC_CLEAR (guest/hat.h), as a pagesync record's o_attr */
#define NONE 0u                      /* "no node": indices are stored + 1 */
#define SMALL (1ull << MM_PAGE_SHIFT)
#define LARGE (1ull << MM_LEVEL_SHIFT(2))

/* A mapping and its links: a chain per (space, va) bucket, per frame bucket and per space. */
struct node {
	struct model_map map;
	uint32_t key_next;
	uint32_t frame_next, frame_prev;
	uint32_t space_next, space_prev;
	uint32_t round;
	bool used;
};

/* An address space with mappings: the head of its node list. */
struct space {
	uint32_t id;
	uint32_t head;
	uint32_t next;                   /* chain of its bucket; free list */
	uint64_t count;
};

struct hat_model {
	struct node *nodes;
	uint32_t nnodes, node_cap, node_free;
	uint32_t *key_heads, *frame_heads;
	uint32_t nbuckets;               /* a power of two, >= nodes in use */
	struct space *spaces;
	uint32_t nspaces, space_cap, space_free;
	uint32_t *space_heads;
	uint32_t nspace_buckets;
	uint64_t count, seen;
	uint32_t round;
	uint64_t changed;                /* the operation being applied: translations it removed or changed */
	uint64_t older;                  /* hat_model_older_maps()'s count */
	uint64_t cost;                   /* and the lookups and nodes it took */
};

static uint32_t mix(uint64_t x)
{
	return (uint32_t)((x * 0x9e3779b97f4a7c15ull) >> 32);
}

static uint32_t key_bucket(const struct hat_model *m, uint32_t space, uint64_t va)
{
	return mix((va >> MM_PAGE_SHIFT) ^ ((uint64_t)space << 40)) & (m->nbuckets - 1);
}

static uint32_t frame_bucket(const struct hat_model *m, uint32_t pfn)
{
	return mix(pfn) & (m->nbuckets - 1);
}

static struct node *node_at(const struct hat_model *m, uint32_t i)
{
	return i == NONE ? NULL : &m->nodes[i - 1];
}

static uint64_t map_size(const struct model_map *map)
{
	return (map->attr & HAT_LARGE) ? LARGE : SMALL;
}

struct hat_model *hat_model_new(void)
{
	struct hat_model *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->nbuckets = 1024;
	m->nspace_buckets = 256;
	m->key_heads = calloc(m->nbuckets, sizeof(uint32_t));
	m->frame_heads = calloc(m->nbuckets, sizeof(uint32_t));
	m->space_heads = calloc(m->nspace_buckets, sizeof(uint32_t));
	if (m->key_heads == NULL || m->frame_heads == NULL || m->space_heads == NULL) {
		hat_model_free(m);
		return NULL;
	}
	return m;
}

void hat_model_free(struct hat_model *m)
{
	if (m == NULL)
		return;
	free(m->nodes);
	free(m->key_heads);
	free(m->frame_heads);
	free(m->spaces);
	free(m->space_heads);
	free(m);
}

void hat_model_clear(struct hat_model *m)
{
	m->nnodes = m->node_free = 0;
	m->nspaces = m->space_free = 0;
	m->count = m->seen = 0;
	memset(m->key_heads, 0, m->nbuckets * sizeof(uint32_t));
	memset(m->frame_heads, 0, m->nbuckets * sizeof(uint32_t));
	memset(m->space_heads, 0, m->nspace_buckets * sizeof(uint32_t));
}

/* --- spaces ------------------------------------------------------------------ */

static struct space *space_find(const struct hat_model *m, uint32_t id)
{
	for (uint32_t i = m->space_heads[mix(id) & (m->nspace_buckets - 1)]; i != NONE;
	     i = m->spaces[i - 1].next)
		if (m->spaces[i - 1].id == id)
			return &m->spaces[i - 1];
	return NULL;
}

static struct space *space_get(struct hat_model *m, uint32_t id)
{
	struct space *s = space_find(m, id);
	uint32_t i, *head;

	if (s != NULL)
		return s;
	if (m->space_free != NONE) {
		i = m->space_free;
		m->space_free = m->spaces[i - 1].next;
	} else {
		if (m->nspaces == m->space_cap) {
			uint32_t cap = m->space_cap ? m->space_cap * 2 : 64;
			struct space *grown = realloc(m->spaces, cap * sizeof(*grown));

			if (grown == NULL)
				return NULL;
			m->spaces = grown;
			m->space_cap = cap;
		}
		i = ++m->nspaces;
	}
	head = &m->space_heads[mix(id) & (m->nspace_buckets - 1)];
	m->spaces[i - 1] = (struct space){ .id = id, .next = *head };
	*head = i;
	return &m->spaces[i - 1];
}

/* Drops the record of a space left without mappings. */
static void space_put(struct hat_model *m, struct space *s)
{
	uint32_t *link = &m->space_heads[mix(s->id) & (m->nspace_buckets - 1)];
	uint32_t i = (uint32_t)(s - m->spaces) + 1;

	if (s->count != 0)
		return;
	while (*link != i)
		link = &m->spaces[*link - 1].next;
	*link = s->next;
	s->next = m->space_free;
	m->space_free = i;
}

/* --- nodes -------------------------------------------------------------------- */

/* Doubles the buckets when the nodes outnumber them: chains stay short. */
static bool rehash(struct hat_model *m)
{
	uint32_t n = m->nbuckets * 2;
	uint32_t *keys = calloc(n, sizeof(uint32_t)), *frames = calloc(n, sizeof(uint32_t));

	if (keys == NULL || frames == NULL) {
		free(keys);
		free(frames);
		return false;
	}
	free(m->key_heads);
	free(m->frame_heads);
	m->key_heads = keys;
	m->frame_heads = frames;
	m->nbuckets = n;
	for (uint32_t i = 1; i <= m->nnodes; i++) {
		struct node *nd = &m->nodes[i - 1];
		uint32_t kb, fb;

		if (!nd->used)
			continue;
		kb = key_bucket(m, nd->map.space, nd->map.va);
		fb = frame_bucket(m, nd->map.pfn);
		nd->key_next = keys[kb];
		keys[kb] = i;
		nd->frame_prev = NONE;
		nd->frame_next = frames[fb];
		if (frames[fb] != NONE)
			m->nodes[frames[fb] - 1].frame_prev = i;
		frames[fb] = i;
	}
	return true;
}

static uint32_t node_alloc(struct hat_model *m)
{
	uint32_t i;

	if (m->node_free != NONE) {
		i = m->node_free;
		m->node_free = m->nodes[i - 1].key_next;
		return i;
	}
	if (m->nnodes == m->node_cap) {
		uint32_t cap = m->node_cap ? m->node_cap * 2 : 1024;
		struct node *grown = cap > m->node_cap ? realloc(m->nodes, (size_t)cap * sizeof(*grown)) : NULL;

		if (grown == NULL)
			return NONE;
		m->nodes = grown;
		m->node_cap = cap;
	}
	return ++m->nnodes;
}

bool hat_model_add(struct hat_model *m, const struct model_map *map)
{
	struct space *s;
	uint32_t i, kb, fb;
	struct node *nd;

	if (m->count >= m->nbuckets && !rehash(m))
		return false;
	if ((s = space_get(m, map->space)) == NULL || (i = node_alloc(m)) == NONE)
		return false;
	nd = &m->nodes[i - 1];
	kb = key_bucket(m, map->space, map->va);
	fb = frame_bucket(m, map->pfn);
	*nd = (struct node){ .map = *map, .used = true, .key_next = m->key_heads[kb],
			     .frame_next = m->frame_heads[fb], .space_next = s->head };
	m->key_heads[kb] = i;
	if (nd->frame_next != NONE)
		m->nodes[nd->frame_next - 1].frame_prev = i;
	m->frame_heads[fb] = i;
	if (s->head != NONE)
		m->nodes[s->head - 1].space_prev = i;
	s->head = i;
	s->count++;
	m->count++;
	return true;
}

/* Unlinks node i from its three chains and frees it. */
static void node_remove(struct hat_model *m, uint32_t i)
{
	struct node *nd = &m->nodes[i - 1];
	uint32_t *link = &m->key_heads[key_bucket(m, nd->map.space, nd->map.va)];
	struct space *s = space_find(m, nd->map.space);

	while (*link != i)
		link = &m->nodes[*link - 1].key_next;
	*link = nd->key_next;
	if (nd->frame_prev != NONE)
		m->nodes[nd->frame_prev - 1].frame_next = nd->frame_next;
	else
		m->frame_heads[frame_bucket(m, nd->map.pfn)] = nd->frame_next;
	if (nd->frame_next != NONE)
		m->nodes[nd->frame_next - 1].frame_prev = nd->frame_prev;
	if (nd->space_prev != NONE)
		m->nodes[nd->space_prev - 1].space_next = nd->space_next;
	else if (s != NULL)   /* every node's space has a record: s is never NULL */
		s->head = nd->space_next;
	if (nd->space_next != NONE)
		m->nodes[nd->space_next - 1].space_prev = nd->space_prev;
	if (s != NULL) {
		s->count--;
		space_put(m, s);
	}
	if (nd->round == m->round && m->seen > 0)
		m->seen--;
	nd->used = false;
	nd->key_next = m->node_free;
	m->node_free = i;
	m->count--;
}

static uint32_t find_index(const struct hat_model *m, uint32_t space, uint64_t va)
{
	for (uint32_t i = m->key_heads[key_bucket(m, space, va)]; i != NONE; i = m->nodes[i - 1].key_next)
		if (m->nodes[i - 1].map.space == space && m->nodes[i - 1].map.va == va)
			return i;
	return NONE;
}

struct model_map *hat_model_find(struct hat_model *m, uint32_t space, uint64_t va)
{
	struct node *nd = node_at(m, find_index(m, space, va));

	if (nd == NULL)
		return NULL;
	if (nd->round != m->round) {
		nd->round = m->round;
		m->seen++;
	}
	return &nd->map;
}

uint64_t hat_model_pfn_at(const struct hat_model *m, uint32_t space, uint64_t va)
{
	const struct node *nd = node_at(m, find_index(m, space, va & ~(SMALL - 1)));

	if (nd != NULL && !(nd->map.attr & HAT_LARGE))
		return nd->map.pfn;
	nd = node_at(m, find_index(m, space, va & ~(LARGE - 1)));
	if (nd != NULL && (nd->map.attr & HAT_LARGE))
		return nd->map.pfn + ((va & (LARGE - 1)) >> MM_PAGE_SHIFT);
	return MODEL_PFN_NONE;
}

/* --- the operations ------------------------------------------------------------ */

static bool overlaps(const struct model_map *map, uint64_t va, uint64_t len)
{
	return map->va < va + len && va < map->va + map_size(map);
}

/* Calls fn on every mapping of space overlapping [va, va + len). */
static void each_in_range(struct hat_model *m, uint32_t space, uint64_t va, uint64_t len,
			  void (*fn)(struct hat_model *m, uint32_t i, unsigned attr), unsigned attr)
{
	struct space *s = space_find(m, space);

	if (s == NULL || len == 0)
		return;
	if (len / SMALL > s->count) {
		/* fewer mappings than pages in the range: walk the space's list */
		for (uint32_t i = s->head, next; i != NONE; i = next) {
			m->cost++;
			next = m->nodes[i - 1].space_next;
			if (overlaps(&m->nodes[i - 1].map, va, len))
				fn(m, i, attr);
		}
		return;
	}
	for (uint64_t base = va & ~(LARGE - 1); base < va + len; base += LARGE) {
		uint32_t i = find_index(m, space, base);

		m->cost++;
		if (i != NONE && (m->nodes[i - 1].map.attr & HAT_LARGE))
			fn(m, i, attr);
	}
	for (uint64_t p = va; p < va + len; p += SMALL) {
		uint32_t i = find_index(m, space, p);

		m->cost++;
		if (i != NONE && !(m->nodes[i - 1].map.attr & HAT_LARGE))
			fn(m, i, attr);
	}
}

static void remove_cb(struct hat_model *m, uint32_t i, unsigned attr)
{
	(void)attr;
	m->changed++;
	node_remove(m, i);
}

static void chgprot_cb(struct hat_model *m, uint32_t i, unsigned attr)
{
	struct model_map *map = &m->nodes[i - 1].map;
	uint16_t now = (uint16_t)((map->attr & ~HAT_PROT_MASK) | (attr & HAT_PROT_MASK));

	m->changed += hat_model_pte_bits(now) != hat_model_pte_bits(map->attr);
	map->attr = now;
}

static void older_cb(struct hat_model *m, uint32_t i, unsigned seq)
{
	if ((int32_t)(m->nodes[i - 1].map.seq - seq) < 0)
		m->older++;
}

uint64_t hat_model_older_maps(struct hat_model *m, uint32_t space, uint64_t va, uint64_t len, uint32_t seq)
{
	m->older = 0;
	m->cost = 1;
	each_in_range(m, space, va, len, older_cb, seq);
	return m->older;
}

/* A load over the very mapping it asks for (same page, size and bits): the HAT changes nothing. */
static bool load_is_noop(const struct hat_model *m, const struct hat_op *op)
{
	uint32_t i = find_index(m, op->o_space, op->o_va);
	const struct model_map *map = i == NONE ? NULL : &m->nodes[i - 1].map;

	return op->o_result == 0 && map != NULL && map->pfn == op->o_pfn &&
	       hat_model_pte_bits(map->attr) == hat_model_pte_bits(op->o_attr);
}

/*
 * A load of the page op's mapping already maps, with the same size and
 * lock: the leaf stays (hat.h: only its protection and cache bits may
 * change), so the A/D bits it held are still the page's. NONE otherwise.
 */
static uint8_t reload_keeps_ad(const struct hat_model *m, const struct hat_op *op)
{
	uint32_t i = find_index(m, op->o_space, op->o_va);
	const struct model_map *map = i == NONE ? NULL : &m->nodes[i - 1].map;

	if (op->o_result != 0 || map == NULL || map->pfn != op->o_pfn ||
	    ((map->attr ^ op->o_attr) & (HAT_LARGE | HAT_LOCK)) != 0)
		return 0;
	return map->ad;
}

/* Calls fn on the mappings of pfn a pagesync reaches: 4 KiB ones of pfn, 2 MiB ones starting at it. */
static void each_of_frame(const struct hat_model *m, uint32_t pfn,
			  void (*fn)(struct model_map *map, void *ctx), void *ctx)
{
	for (uint32_t i = m->frame_heads[frame_bucket(m, pfn)]; i != NONE; i = m->nodes[i - 1].frame_next)
		if (m->nodes[i - 1].map.pfn == pfn)
			fn(&m->nodes[i - 1].map, ctx);
}

static void gather_ad(struct model_map *map, void *ctx)
{
	*(unsigned *)ctx |= map->ad;
}

static void clear_ad(struct model_map *map, void *ctx)
{
	(void)ctx;
	map->ad = 0;
}

unsigned hat_model_frame_ad(const struct hat_model *m, uint32_t pfn)
{
	unsigned ad = 0;

	each_of_frame(m, pfn, gather_ad, &ad);
	return ad;
}

/*
 * Mappings of frame `start` (large_only: its 2 MiB ones; before: only
 * those made before that record, unless NULL); adds the chain walked to
 * the cost.
 */
static uint64_t frame_maps(struct hat_model *m, uint32_t start, bool large_only, const uint32_t *before)
{
	uint64_t n = 0;

	for (uint32_t i = m->frame_heads[frame_bucket(m, start)]; i != NONE; i = m->nodes[i - 1].frame_next) {
		const struct model_map *map = &m->nodes[i - 1].map;

		m->cost++;
		n += map->pfn == start && (!large_only || (map->attr & HAT_LARGE)) &&
		     (before == NULL || (int32_t)(map->seq - *before) < 0);
	}
	return n;
}

uint64_t hat_model_page_maps(struct hat_model *m, uint32_t pfn)
{
	uint32_t first = pfn & ~(uint32_t)(LARGE / SMALL - 1);

	return frame_maps(m, pfn, false, NULL) + (first != pfn ? frame_maps(m, first, true, NULL) : 0);
}

uint64_t hat_model_older_large(struct hat_model *m, uint32_t pfn, uint32_t seq)
{
	uint32_t first = pfn & ~(uint32_t)(LARGE / SMALL - 1);

	m->cost = 1;
	return first != pfn ? frame_maps(m, first, true, &seq) : 0;
}

unsigned hat_model_ad_of_pte(uint64_t pte)
{
	return ((pte & PTE_A) ? PG_ATTR_REF : 0) | ((pte & PTE_D) ? PG_ATTR_MOD : 0);
}

/* Removes pfn's mappings: 4 KiB ones of pfn, 2 MiB ones whose first page is `first` (when large_only, only those). */
static void unload_frame(struct hat_model *m, uint32_t pfn, bool large_only)
{
	for (uint32_t i = m->frame_heads[frame_bucket(m, pfn)], next; i != NONE; i = next) {
		const struct model_map *map = &m->nodes[i - 1].map;

		next = m->nodes[i - 1].frame_next;
		m->cost++;
		if (map->pfn == pfn && (!large_only || (map->attr & HAT_LARGE))) {
			m->changed++;
			node_remove(m, i);
		}
	}
}

static void destroy_space(struct hat_model *m, uint32_t space)
{
	struct space *s;

	while ((s = space_find(m, space)) != NULL && s->head != NONE)
		node_remove(m, s->head);
}

static bool apply(struct hat_model *m, const struct hat_op *op,
		  bool (*managed)(void *ctx, uint64_t pfn), void *ctx, uint64_t max_maps);

bool hat_model_apply(struct hat_model *m, const struct hat_op *op,
		     bool (*managed)(void *ctx, uint64_t pfn), void *ctx, uint64_t max_maps,
		     uint64_t *changed)
{
	bool noop = op->o_kind == HOP_LOAD && load_is_noop(m, op), ok;

	m->changed = 0;
	m->cost = 1;
	ok = apply(m, op, managed, ctx, max_maps);
	if (changed != NULL)
		*changed = noop ? 0 : m->changed;
	return ok;
}

/* hat_model_apply() without the count's bookkeeping. */
static bool apply(struct hat_model *m, const struct hat_op *op,
		  bool (*managed)(void *ctx, uint64_t pfn), void *ctx, uint64_t max_maps)
{
	uint64_t size = (op->o_attr & HAT_LARGE) ? LARGE : SMALL;
	uint32_t first = op->o_pfn & ~(uint32_t)(LARGE / SMALL - 1);

	if (op->o_kind == HOP_PAGESYNC) {
		if (op->o_attr & SYNC_CLEAR)
			each_of_frame(m, op->o_pfn, clear_ad, NULL);
		return true;
	}
	if (op->o_kind == HOP_PAGEUNLOAD) {   /* its own mappings, or (HAT_LARGE) its group's 2 MiB ones */
		if (!(op->o_attr & HAT_LARGE) && managed(ctx, op->o_pfn))
			unload_frame(m, op->o_pfn, false);
		if ((op->o_attr & HAT_LARGE) && first != op->o_pfn && managed(ctx, first))
			unload_frame(m, first, true);
		return true;
	}
	if (op->o_space == 0 || op->o_va >= USER_TOP)
		return true;
	switch (op->o_kind) {
	case HOP_CREATE:
	case HOP_DESTROY:
		destroy_space(m, op->o_space);
		return true;
	case HOP_LOAD: {
		uint8_t ad = reload_keeps_ad(m, op);

		each_in_range(m, op->o_space, op->o_va, size, remove_cb, 0);
		if (op->o_result != 0)
			return true;
		if (m->count >= max_maps)
			return false;
		return hat_model_add(m, &(struct model_map){ .va = op->o_va, .space = op->o_space,
							    .pfn = op->o_pfn, .attr = op->o_attr, .ad = ad,
							    .seq = op->o_seq });
	}
	case HOP_UNLOAD:
		each_in_range(m, op->o_space, op->o_va, op->o_len, remove_cb, 0);
		return true;
	case HOP_CHGPROT:
		each_in_range(m, op->o_space, op->o_va, op->o_len, chgprot_cb, op->o_attr);
		return true;
	case HOP_STEAL: {
		uint32_t i = find_index(m, op->o_space, op->o_va);

		if (i != NONE)
			remove_cb(m, i, 0);
		return true;
	}
	default:
		return true;
	}
}

/* --- comparing ------------------------------------------------------------------ */

uint64_t hat_model_round(struct hat_model *m)
{
	m->round++;
	if (m->round == 0) {        /* wrapped: no stale mark may match the new round */
		for (uint32_t i = 0; i < m->nnodes; i++)
			m->nodes[i].round = 0;
		m->round = 1;
	}
	m->seen = 0;
	return m->count;
}

void hat_model_each_unseen(struct hat_model *m, void (*fn)(void *ctx, const struct model_map *map),
			   void *ctx)
{
	for (uint32_t i = 0; i < m->nnodes; i++)
		if (m->nodes[i].used && m->nodes[i].round != m->round)
			fn(ctx, &m->nodes[i].map);
}

uint64_t hat_model_cost(const struct hat_model *m)
{
	return m->cost;
}

uint64_t hat_model_count(const struct hat_model *m)
{
	return m->count;
}

uint64_t hat_model_seen(const struct hat_model *m)
{
	return m->seen;
}

uint64_t hat_model_pte_bits(unsigned attr)
{
	uint64_t v = 0;

	if (attr & HAT_WRITE)
		v |= PTE_W;
	if (!(attr & HAT_EXEC))
		v |= PTE_NX;
	if (attr & HAT_USER)
		v |= PTE_U;
	if (attr & HAT_NOCACHE)
		v |= PTE_PCD | PTE_PWT;
	else if (attr & HAT_WRITETHRU)
		v |= PTE_PWT;
	if (attr & HAT_LARGE)
		v |= PTE_PS;
	return v;
}

unsigned hat_model_attr_of_pte(uint64_t pte, unsigned level)
{
	unsigned attr = HAT_READ;

	if (pte & PTE_W)
		attr |= HAT_WRITE;
	if (!(pte & PTE_NX))
		attr |= HAT_EXEC;
	if (pte & PTE_U)
		attr |= HAT_USER;
	if ((pte & (PTE_PCD | PTE_PWT)) == (PTE_PCD | PTE_PWT))
		attr |= HAT_NOCACHE;
	else if (pte & PTE_PWT)
		attr |= HAT_WRITETHRU;
	if (level == 2)
		attr |= HAT_LARGE;
	return attr;
}
