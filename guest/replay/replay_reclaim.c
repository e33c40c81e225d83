/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay's memory: allocations that reclaim when RAM runs short, page owners, and the clock that picks victims. */
#include "replay_int.h"

#define RECLAIM_BATCH 16u
#define ALLOC_TRIES   4u

void rp_pin(struct replay *r, uint64_t pfn)
{
	for (unsigned i = 0; i < REPLAY_PINS; i++)
		if (r->pins[i] == 0) {
			r->pins[i] = pfn;
			return;
		}
	panic("replay: more than %u pinned pages", REPLAY_PINS);
}

void rp_unpin(struct replay *r, uint64_t pfn)
{
	for (unsigned i = 0; i < REPLAY_PINS; i++)
		if (r->pins[i] == pfn) {
			r->pins[i] = 0;
			return;
		}
}

static bool pinned(const struct replay *r, uint64_t pfn)
{
	for (unsigned i = 0; i < REPLAY_PINS; i++)
		if (r->pins[i] == pfn)
			return true;
	return false;
}

void rp_set_owner(struct replay *r, uint64_t pfn, uint64_t owner)
{
	uint64_t *w = parray_at(&r->owners, pfn, owner != 0);

	/* an owner word's page is made before the page is handed out (rp_page) */
	if (w != NULL)
		*w = owner;
}

/* Gives one victim back: its mappings, its owner's record, the page. */
static void evict(struct replay *r, page_t *pp, uint64_t owner, unsigned attr)
{
	hat_pageunload(pp);
	if ((owner & ROWN_KIND) == ROWN_ANON) {
		((struct ranon *)(uintptr_t)(owner & ~ROWN_KIND))->pfn = 0;
		r->st.swapped_out++;
	} else {
		struct rcache *c = (struct rcache *)(uintptr_t)(owner & ~ROWN_KIND);
		if (c->obj & ROBJ_SHM)
			r->st.swapped_out++;
		else if (attr & PG_ATTR_MOD)
			r->st.written_back++;
		else
			r->st.dropped_clean++;
		pcache_remove(r, c);
	}
	rp_page_free(r, pp);
	r->st.reclaimed++;
}

/*
 * The clock: a hand over every managed pfn; a page whose mappings were
 * referenced since the last pass (accessed bits, through pagesync) gets a
 * second chance, the others go. At most two turns per call.
 */
unsigned replay_reclaim(struct replay *r, unsigned want)
{
	uint64_t span = page_count - page_first_managed, freed = 0;

	for (uint64_t seen = 0; seen < 2 * span + 1 && freed < want; seen++) {
		uint64_t pfn = page_first_managed + r->hand;
		r->hand = (r->hand + 1) % span;
		uint64_t owner = parray_get(&r->owners, pfn);
		if (owner == 0 || pinned(r, pfn))
			continue;
		page_t *pp = page_from_pfn(pfn);
		unsigned attr = hat_pagesync(pp, HAT_SYNC_CLEAR);
		if (attr & PG_ATTR_REF) {
			hat_page_clrattr(pp, PG_ATTR_REF);
			continue;
		}
		evict(r, pp, owner, attr);
		freed++;
	}
	return (unsigned)freed;
}

/* After a failed try (*tries of them so far): reclaims; true when that took pages back and tries are left. */
static bool try_again(struct replay *r, unsigned *tries)
{
	return replay_reclaim(r, RECLAIM_BATCH) != 0 && ++*tries < ALLOC_TRIES;
}

page_t *rp_page(struct replay *r, uint64_t owner)
{
	unsigned tries = 0;
	page_t *pp;
	uint64_t *w;

	while ((pp = page_alloc(PG_USER)) == NULL && try_again(r, &tries))
		;
	if (pp == NULL) {
		r->st.oom++;
		return NULL;
	}
	/* the owner word needs its table page first, and it must not take pp's place */
	rp_pin(r, pp->p_pagenum);
	w = rp_word(r, &r->owners, pp->p_pagenum);   /* counts its own oom */
	rp_unpin(r, pp->p_pagenum);
	if (w == NULL) {
		page_free(pp);
		return NULL;
	}
	*w = owner;
	return pp;
}

void rp_page_free(struct replay *r, page_t *pp)
{
	if (hment_mapcnt(pp) != 0) {
		r->st.internal_errors++;
		hat_pageunload(pp);
	}
	rp_set_owner(r, pp->p_pagenum, 0);
	hat_page_clrattr(pp, PG_ATTR_REF | PG_ATTR_MOD);
	page_free(pp);
}

void *rp_obj(struct replay *r, struct objcache *oc)
{
	unsigned tries = 0;
	void *o;

	while ((o = objcache_alloc(oc)) == NULL && try_again(r, &tries))
		;
	r->st.oom += o == NULL;
	return o;
}

uint64_t *rp_word(struct replay *r, struct parray *a, uint64_t index)
{
	unsigned tries = 0;
	uint64_t *w;

	while ((w = parray_at(a, index, true)) == NULL && index < PARRAY_MAX && try_again(r, &tries))
		;
	r->st.oom += w == NULL;
	return w;
}

int rp_map(struct replay *r, struct rproc *p, uint64_t va, page_t *pp, unsigned attr)
{
	unsigned tries = 0;
	int rc;

	rp_pin(r, pp->p_pagenum);
	while ((rc = hat_memload(p->hat, va, pp, attr)) != 0 && try_again(r, &tries))
		;
	rp_unpin(r, pp->p_pagenum);
	if (rc != 0) {
		/* whatever va mapped before no longer matches the books */
		hat_unload(p->hat, va, RPAGE);
		r->st.oom++;
		return -1;
	}
	replay_note_hments(r);
	return 0;
}

int rp_dup(struct replay *r, struct hat *dst, struct hat *src, uint64_t va, uint64_t len, unsigned attr)
{
	unsigned tries = 0;
	int rc;

	while ((rc = hat_dup(dst, src, va, len, attr)) != 0 && try_again(r, &tries))
		;
	if (rc != 0) {
		r->st.oom++;
		return -1;
	}
	replay_note_hments(r);
	return 0;
}

struct hat *rp_hat_create(struct replay *r)
{
	unsigned tries = 0;
	struct hat *h;

	while ((h = hat_create()) == NULL && try_again(r, &tries))
		;
	r->st.oom += h == NULL;
	return h;
}
