/* SPDX-License-Identifier: BSD-2-Clause */
/* The shapes of the mutation matrix: one operation mix each, together covering every HAT path the mutants touch. */

/*
 * The shapes of the mutation matrix: one operation mix each, so every HAT
 * operation, the hment list/hash/reserve/steal paths, table install and
 * prune, the table-page cache and the allocator's edges are all driven.
 */
#include "mutate_shapes.h"

#include <string.h>

#include "objcache.h"

enum op {
	OP_LOAD, OP_LOAD_LARGE, OP_DEVLOAD, OP_UNLOAD, OP_UNLOAD_LARGE, OP_UNLOAD_ALL,
	OP_PAGEUNLOAD, OP_CHGPROT, OP_CHGPROT_LARGE, OP_PAGESYNC, OP_CLRATTR, OP_TOUCH,
	OP_RESPACE, OP_RESERVE, OP_FORK, OP_CACHE, OP_SCRATCH, OP_CAP, OP_BULK, OP_UNLOCK, OP_KLOAD,
	OP_ARRAY, OP_DUP, OP_N
};

struct shape {
	const char *name;
	unsigned spaces, pool, blocks, ops;
	bool overlap;                /* small slots mostly where 2 MiB slots lie */
	void (*setup)(struct model *m);
	unsigned char weight[OP_N];
	void (*finish)(struct model *m);   /* after the operations, before the cap goes */
};

/* Protections memload picks from; the memory type comes with the frame (frame_cache). */
static const unsigned load_attrs[] = {
	HAT_READ, HAT_READ | HAT_WRITE, HAT_READ | HAT_EXEC, HAT_READ | HAT_USER,
	HAT_READ | HAT_WRITE | HAT_USER, HAT_READ | HAT_WRITE | HAT_USER,
	HAT_READ | HAT_WRITE | HAT_EXEC | HAT_USER,
};
static const unsigned prots[] = {
	HAT_READ, HAT_READ | HAT_WRITE, HAT_READ | HAT_EXEC, HAT_READ | HAT_USER,
	HAT_READ | HAT_WRITE | HAT_USER, HAT_READ | HAT_WRITE | HAT_EXEC | HAT_USER,
};

static unsigned pick(struct model *m, unsigned n)
{
	return (unsigned)rand_below(&m->rng, n);
}

/* A live space, creating one when none is. */
static unsigned live_space(struct model *m)
{
	unsigned start = pick(m, m->nspaces);

	for (unsigned i = 0; i < m->nspaces; i++)
		if (m->sp[(start + i) % m->nspaces].h != NULL)
			return (start + i) % m->nspaces;
	md_create(m, start);
	return start;
}

static unsigned small_slot(struct model *m, const struct shape *sh)
{
	if (sh->overlap && pick(m, 2))
		return pick(m, 2 * MD_REGION_SLOTS);   /* regions 0 and 1: under 2 MiB slots 0 and 1 */
	return pick(m, MD_REGULAR);
}

/* A run of slots inside one region: *first and the count. */
static unsigned small_run(struct model *m, unsigned *first)
{
	unsigned r = pick(m, MD_REGIONS), start = pick(m, MD_REGION_SLOTS);

	*first = r * MD_REGION_SLOTS + start;
	return 1 + pick(m, MD_REGION_SLOTS - start);
}

/* A frame to map 4 KiB: mostly a pool page, sometimes a page inside a 2 MiB block. */
static uint64_t some_frame(struct model *m)
{
	static const unsigned subpages[] = { 0, 1, 2, MM_LARGE_PAGES - 1 };

	if (m->nblocks > 0 && (m->npool == 0 || pick(m, 5) == 0))
		return m->block[pick(m, m->nblocks)]->p_pagenum + subpages[pick(m, 4)];
	return m->pool[pick(m, m->npool)]->p_pagenum;
}

/* A protection, the frame's memory type, and one load in eight locked (never stolen until unlocked). */
static unsigned load_attr(struct model *m, uint64_t pfn)
{
	unsigned lock = pick(m, 8) == 0 ? HAT_LOCK : 0;

	return load_attrs[pick(m, sizeof(load_attrs) / sizeof(load_attrs[0]))] | md_frame_cache(m, pfn) | lock;
}

static unsigned prot(struct model *m)
{
	return prots[pick(m, sizeof(prots) / sizeof(prots[0]))];
}

/* Maps what space a maps into space b, read-only (as fork does for copy-on-write). */
static void fork_space(struct model *m, unsigned a, unsigned b)
{
	for (unsigned k = 0; k < m->nsmall; k++) {
		struct md_map mp = m->sp[a].small[k];

		if (mp.on && m->sp[b].h != NULL) {
			md_load_small(m, b, k, mp.pfn, mp.attr & ~HAT_WRITE);
			md_between_calls(m);
		}
	}
	for (unsigned j = 0; j < MD_LARGE; j++) {
		struct md_map mp = m->sp[a].large[j];

		for (unsigned i = 0; i < m->nblocks && mp.on; i++)
			if (m->block[i]->p_pagenum == mp.pfn) {
				md_load_large(m, b, j, i, mp.attr & ~HAT_WRITE);
				md_between_calls(m);
			}
	}
}

/* The VA some access goes to: a small slot or somewhere inside a 2 MiB slot. */
static uint64_t touch_va(struct model *m, const struct shape *sh)
{
	if (pick(m, 3) == 0)
		return md_large_va(pick(m, MD_LARGE)) + (uint64_t)pick(m, MM_LARGE_PAGES) * MM_PAGE_SIZE;
	return md_small_va(small_slot(m, sh));
}

/* No cap is set: a range load must not fail (the model could not tell where it stopped). */
static bool uncapped(const struct model *m)
{
	return m->page_cap == PAGE_LIMIT_NONE && m->hment_cap == OBJCACHE_LIMIT_NONE && !m->may_steal;
}

/* A pool page with memory type `cache`: a range load has one attribute for all its pages. */
static page_t *pool_page_like(struct model *m, unsigned cache, page_t *fallback)
{
	for (unsigned tries = 0; tries < 4 * MD_POOL; tries++) {
		page_t *pp = m->pool[pick(m, m->npool)];

		if (md_frame_cache(m, pp->p_pagenum) == cache)
			return pp;
	}
	return fallback;
}

/* A run of slots in one region loaded by one hat_memload_array: pool pages of one memory type. */
static void op_array(struct model *m, unsigned s)
{
	page_t *pps[MD_REGION_SLOTS], *lead;
	unsigned first, n = small_run(m, &first), attr;

	if (m->npool == 0 || !uncapped(m))
		return;
	lead = m->pool[pick(m, m->npool)];
	attr = load_attr(m, lead->p_pagenum);
	for (unsigned i = 0; i < n; i++)
		pps[i] = pool_page_like(m, md_frame_cache(m, lead->p_pagenum), lead);
	md_load_array(m, s, first, n, pps, attr);
}

static void op_respace(struct model *m)
{
	unsigned s = pick(m, m->nspaces), live = 0;

	for (unsigned i = 0; i < m->nspaces; i++)
		live += m->sp[i].h != NULL;
	if (m->sp[s].h == NULL)
		md_create(m, s);
	else if (live > 1)
		md_destroy(m, s);
}

static void one_op(struct model *m, const struct shape *sh, enum op op)
{
	unsigned s = live_space(m), first, n, k, b;
	uint64_t pfn;

	switch (op) {
	case OP_LOAD:
		k = small_slot(m, sh);
		pfn = some_frame(m);
		md_load_small(m, s, k, pfn, load_attr(m, pfn));
		break;
	case OP_LOAD_LARGE:
		if (m->nblocks > 0) {
			b = pick(m, m->nblocks);
			md_load_large(m, s, pick(m, MD_LARGE), b,
				      load_attr(m, m->block[b]->p_pagenum));
		}
		break;
	case OP_DEVLOAD:   /* an unmanaged frame: mapped, never tracked */
		k = small_slot(m, sh);
		pfn = 0x10 + pick(m, 16);
		md_load_small(m, s, k, pfn, load_attr(m, pfn));
		break;
	case OP_UNLOAD:
		n = small_run(m, &first);
		md_unload_small(m, s, first, n);
		break;
	case OP_UNLOAD_LARGE:
		md_unload_large(m, s, pick(m, MD_LARGE));
		break;
	case OP_UNLOAD_ALL:
		md_unload_all(m, s);
		break;
	case OP_PAGEUNLOAD:
		md_pageunload(m, some_frame(m));
		break;
	case OP_CHGPROT:
		n = small_run(m, &first);
		md_chgprot_small(m, s, first, n, prot(m));
		break;
	case OP_CHGPROT_LARGE:
		md_chgprot_large(m, s, pick(m, MD_LARGE), prot(m));
		break;
	case OP_PAGESYNC:
		md_pagesync(m, some_frame(m), pick(m, 2));
		break;
	case OP_CLRATTR:
		md_clrattr(m, some_frame(m), 1 + pick(m, 3));
		break;
	case OP_TOUCH:
		for (unsigned i = 0; i < 4; i++)
			md_touch(m, live_space(m), touch_va(m, sh), pick(m, 2));
		break;
	case OP_RESPACE:
		op_respace(m);
		break;
	case OP_RESERVE:
		md_reserve(m, pick(m, 17), pick(m, 4), pick(m, 2));
		break;
	case OP_FORK:
		fork_space(m, s, pick(m, m->nspaces));
		break;
	case OP_CACHE:
		if (pick(m, 3) == 0)
			segtab_cache_drain();
		else
			segtab_set_cache_max(pick(m, 9));
		break;
	case OP_SCRATCH:
		md_scratch(m, pick(m, MD_SCRATCH), pick(m, 4) == 0);
		break;
	case OP_CAP:
		md_page_cap(m, m->page_cap == PAGE_LIMIT_NONE ? pick(m, 6) : UINT64_MAX);
		break;
	case OP_BULK:
		md_bulk(m, s, pick(m, 3) != 0);
		break;
	case OP_UNLOCK:
		n = small_run(m, &first);
		md_unlock_small(m, s, first, n);
		break;
	case OP_ARRAY:
		op_array(m, s);
		break;
	case OP_DUP:   /* fork's shape in one call: read-only copies, as OP_FORK makes them */
		if (uncapped(m))
			md_dup(m, s, pick(m, m->nspaces), prot(m) & ~HAT_WRITE);
		break;
	case OP_KLOAD:   /* a pool page (refused) or an unmanaged frame */
		md_kernel_load(m, pick(m, MD_KMAP), pick(m, 2) ? some_frame(m) : 0x10 + pick(m, 16));
		break;
	case OP_N:
		break;
	}
}

static enum op pick_op(struct model *m, const struct shape *sh)
{
	unsigned total = 0, x;

	for (unsigned i = 0; i < OP_N; i++)
		total += sh->weight[i];
	x = pick(m, total);
	for (unsigned i = 0; i < OP_N; i++) {
		if (x < sh->weight[i])
			return (enum op)i;
		x -= sh->weight[i];
	}
	return OP_LOAD;
}

/* pressure: no reserve and an hment cap a few above what is out, so mappings get stolen. */
static void setup_pressure(struct model *m)
{
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	m->hment_cap = hment_cache_inuse() + 6;
	hment_set_limit(m->hment_cap);
	m->may_steal = true;
	m->steals0 = hment_stats.steals;
}

/* pressure's end (and starve's, tapped's): a table held busy while loads elsewhere steal. */
static void finish_busy_steal(struct model *m)
{
	md_busy_steal(m);
	md_end_op(m);
}

/* churn's end: an empty table held busy survives a prune. */
static void finish_busy_prune(struct model *m)
{
	md_busy_prune(m);
	md_end_op(m);
}

/*
 * exhaust: a page cap now and then. The reserve starts full (the MM fills
 * it only by donation) and stays so: with no page and no reserve an
 * hment allocation has nothing left to try. Hments come from stealing too.
 * At the end, a 2 MiB allocation split and kernel loads at the hard cap.
 */
static void setup_exhaust(struct model *m)
{
	hment_reserve_fill(0);
	m->may_steal = true;
	m->steals0 = hment_stats.steals;
}

/* exhaust's end: a 2 MiB allocation split (scratch slot 1), then kernel loads at the hard cap. */
static void finish_exhaust(struct model *m)
{
	if (m->page_cap != PAGE_LIMIT_NONE)
		md_page_cap(m, UINT64_MAX);
	while (m->scratch[1] != NULL) {
		md_scratch(m, 1, false);
		md_end_op(m);
	}
	md_scratch(m, 1, true);
	md_end_op(m);
	md_scratch(m, 1, false);
	md_end_op(m);
	md_kernel_at_cap(m);
}

/*
 * starve: no reserve and the hment cap two above what is out, few pages
 * many times mapped: most pages keep one embedded mapping, a second one
 * finds the cache refusing, at most a list or two to steal from, and
 * falls back to the page's own mappings.
 */
static void setup_starve(struct model *m)
{
	setup_pressure(m);
	m->hment_cap = hment_cache_inuse() + 2;
	hment_set_limit(m->hment_cap);
}

/*
 * tapped: starve's few pages and tight hment cap, but a reserve of
 * TAPPED_RESERVE filled at the start: a second mapping that finds the
 * cache refusing and no other page's list to steal from is served from
 * the reserve, one hment at a time, and frees refill it.
 */
#define TAPPED_RESERVE 6

static void setup_tapped(struct model *m)
{
	hment_set_reserve_amount(TAPPED_RESERVE);
	hment_reserve_fill(0);
	m->hment_cap = hment_cache_inuse() + 2;
	hment_set_limit(m->hment_cap);
	m->may_steal = true;
	m->steals0 = hment_stats.steals;
}

/*
 * hash: thousands of hments, so the hash splits buckets (linear hashing)
 * and grows bucket pages. Under an hment limit far above what it maps:
 * with a limit the CPUs keep no lists of their own, so its hments come
 * off the cache's pages one at a time, page after page (the other
 * unlimited shapes take whole pages' lists).
 */
static void setup_hash(struct model *m)
{
	m->nsmall = MD_SMALL;
	hment_set_limit(hment_cache_inuse() + 4 * (uint64_t)m->nspaces * MD_BULK);
	for (unsigned s = 0; s < m->nspaces; s++)
		md_bulk(m, s, true);
}

static void setup_churn(struct model *m)
{
	(void)m;
	segtab_set_cache_max(2);
}

/*                                LOAD LRG DEV UNL UNLL ALL PGU CHP CHPL SYNC CLR TCH RSP RSV FORK CACHE SCR CAP BULK UNLK KLD ARR DUP */
static const struct shape shape_random = { "random", 4, 32, 1, 300, false, NULL,
	{ 30, 4, 3, 8, 2, 1, 5, 8, 2, 6, 2, 10, 3, 3, 1, 1, 0, 0, 0, 3, 2, 4, 1 }, NULL };
static const struct shape shape_share = { "share", 8, 5, 0, 300, false, NULL,
	{ 30, 0, 0, 5, 0, 2, 8, 5, 0, 5, 1, 8, 4, 2, 4, 0, 0, 0, 0, 2, 0, 4, 3 }, NULL };
static const struct shape shape_large = { "large", 3, 8, 2, 300, true, NULL,
	{ 20, 16, 0, 6, 6, 1, 8, 4, 6, 6, 1, 10, 1, 0, 2, 0, 0, 0, 0, 3, 0 }, NULL };
static const struct shape shape_pressure = { "pressure", 4, 24, 0, 300, false, setup_pressure,
	{ 40, 0, 0, 6, 0, 1, 5, 3, 0, 3, 0, 6, 2, 0, 4, 0, 0, 0, 0, 4, 0 }, finish_busy_steal };
static const struct shape shape_churn = { "churn", 6, 16, 1, 300, false, setup_churn,
	{ 30, 3, 0, 10, 3, 8, 3, 3, 1, 2, 0, 5, 10, 2, 3, 5, 0, 0, 0, 2, 1 }, finish_busy_prune };
static const struct shape shape_exhaust = { "exhaust", 4, 24, 1, 300, false, setup_exhaust,
	{ 30, 4, 0, 6, 2, 5, 3, 3, 1, 2, 0, 4, 5, 0, 2, 2, 8, 6, 0, 2, 3 }, finish_exhaust };
static const struct shape shape_starve = { "starve", 4, 12, 0, 300, false, setup_starve,
	{ 40, 0, 0, 6, 0, 1, 6, 3, 0, 3, 0, 6, 2, 0, 2, 0, 0, 0, 0, 2, 0 }, finish_busy_steal };
static const struct shape shape_tapped = { "tapped", 4, 12, 0, 300, false, setup_tapped,
	{ 40, 0, 0, 6, 0, 1, 6, 3, 0, 3, 0, 6, 2, 0, 2, 0, 0, 0, 0, 2, 0 }, finish_busy_steal };

static const struct shape shape_hash = { "hash", 8, 32, 0, 40, false, setup_hash,
	{ 10, 0, 0, 3, 0, 1, 4, 2, 0, 2, 0, 3, 2, 1, 0, 0, 0, 0, 12, 0, 0 }, NULL };

const struct shape *const mutate_shapes[] = {
	&shape_random, &shape_share, &shape_large, &shape_pressure, &shape_churn, &shape_exhaust,
	&shape_hash, &shape_starve, &shape_tapped, NULL,
};

const char *shape_name(const struct shape *sh)
{
	return sh->name;
}

const struct shape *shape_find(const char *name)
{
	for (unsigned i = 0; mutate_shapes[i] != NULL; i++)
		if (strcmp(mutate_shapes[i]->name, name) == 0)
			return mutate_shapes[i];
	return NULL;
}

void shape_run(const struct shape *sh, struct model *m, uint64_t seed)
{
	void (*cp)(void *, const char *) = m->checkpoint;
	void *arg = m->arg;
	unsigned every = m->every;

	md_init(m, seed, sh->spaces, sh->pool, sh->blocks);
	m->checkpoint = cp;
	m->arg = arg;
	m->every = every;
	if (sh->setup != NULL) {
		sh->setup(m);
		md_end_op(m);   /* the set-up is an operation of its own: compared, and checked */
		if (m->checkpoint != NULL)
			m->checkpoint(m->arg, "setup");
	}
	for (unsigned i = 0; i < sh->ops; i++) {
		one_op(m, sh, pick_op(m, sh));
		/* the CPUs keep using the spaces: accessed/dirty bits, translations cached */
		for (unsigned t = 0; t < 3; t++)
			md_touch(m, live_space(m), touch_va(m, sh), pick(m, 2));
		md_end_op(m);
	}
	if (sh->finish != NULL)
		sh->finish(m);
	if (m->page_cap != PAGE_LIMIT_NONE)
		md_page_cap(m, UINT64_MAX);
}
