/* SPDX-License-Identifier: BSD-2-Clause */
/* Anonymous pages: shared identities (copy-on-write after fork) and each process's slots, hashed by (process, page). */
#include "replay_int.h"

static uint64_t *bucket(struct replay *r, uint32_t id, uint64_t vpn, bool create)
{
	uint64_t h = (vpn ^ ((uint64_t)id << 40)) * 0x9e3779b97f4a7c15ull;
	uint64_t index = (h >> 32) & r->hash_mask;

	return create ? rp_word(r, &r->slot_hash, index) : parray_at(&r->slot_hash, index, false);
}

struct rslot *slot_find(struct replay *r, const struct rproc *p, uint64_t vpn)
{
	uint64_t *head = bucket(r, p->id, vpn, false);

	for (struct rslot *s = head ? (struct rslot *)(uintptr_t)*head : NULL; s; s = s->hnext)
		if (s->vpn == vpn && s->proc_id == p->id)
			return s;
	return NULL;
}

static bool hash_in(struct replay *r, struct rslot *s)
{
	uint64_t *head = bucket(r, s->proc_id, s->vpn, true);

	if (head == NULL)
		return false;
	s->hnext = (struct rslot *)(uintptr_t)*head;
	*head = (uint64_t)(uintptr_t)s;
	return true;
}

static void hash_out(struct replay *r, struct rslot *s)
{
	uint64_t *head = bucket(r, s->proc_id, s->vpn, false);
	struct rslot **link = (struct rslot **)head;

	while (*link != s)
		link = &(*link)->hnext;
	*link = s->hnext;
}

struct rslot *slot_add(struct replay *r, struct rproc *p, uint64_t vpn, struct ranon *a)
{
	struct rslot *s = rp_obj(r, &r->slots_oc);

	if (s == NULL)
		return NULL;
	*s = (struct rslot){ .vpn = vpn, .anon = a, .proc_id = p->id };
	if (!hash_in(r, s)) {
		objcache_free(&r->slots_oc, s);
		return NULL;
	}
	s->pnext = p->slots;
	if (p->slots)
		p->slots->pprev = s;
	p->slots = s;
	p->nslots++;
	return s;
}

/* Off p's list, its page reference dropped, freed; already off the hash. */
static void slot_drop(struct replay *r, struct rproc *p, struct rslot *s)
{
	if (s->pprev)
		s->pprev->pnext = s->pnext;
	else
		p->slots = s->pnext;
	if (s->pnext)
		s->pnext->pprev = s->pprev;
	p->nslots--;
	anon_put(r, s->anon);
	objcache_free(&r->slots_oc, s);
}

static void slot_del(struct replay *r, struct rproc *p, struct rslot *s)
{
	hash_out(r, s);
	slot_drop(r, p, s);
}

/* Probes page by page when the range is smaller than the process's slots, else walks them. */
void slot_release_range(struct replay *r, struct rproc *p, uint64_t s, uint64_t e)
{
	uint64_t first = rp_vpn(s), last = rp_vpn(e);

	if (last - first <= p->nslots) {
		for (uint64_t vpn = first; vpn < last; vpn++) {
			struct rslot *sl = slot_find(r, p, vpn);
			if (sl)
				slot_del(r, p, sl);
		}
		return;
	}
	for (struct rslot *sl = p->slots, *next; sl; sl = next) {
		next = sl->pnext;
		if (sl->vpn >= first && sl->vpn < last)
			slot_del(r, p, sl);
	}
}

void slot_release_all(struct replay *r, struct rproc *p)
{
	while (p->slots)
		slot_del(r, p, p->slots);
}

void slot_move(struct replay *r, struct rproc *p, uint64_t s, uint64_t e, int64_t delta)
{
	uint64_t first = rp_vpn(s), last = rp_vpn(e);

	for (struct rslot *sl = p->slots, *next; sl; sl = next) {
		next = sl->pnext;
		if (sl->vpn < first || sl->vpn >= last)
			continue;
		hash_out(r, sl);
		sl->vpn = (uint64_t)((int64_t)sl->vpn + delta / (int64_t)RPAGE);
		/* no memory for the new bucket: the page is lost, a later touch zero-fills */
		if (!hash_in(r, sl))
			slot_drop(r, p, sl);
	}
}

struct ranon *anon_new(struct replay *r, page_t *pp)
{
	struct ranon *a = rp_obj(r, &r->anons_oc);

	if (a == NULL)
		return NULL;
	a->ref = 1;
	a->pfn = (uint32_t)pp->p_pagenum;
	rp_set_owner(r, pp->p_pagenum, (uint64_t)(uintptr_t)a | ROWN_ANON);
	return a;
}

void anon_put(struct replay *r, struct ranon *a)
{
	if (--a->ref != 0)
		return;
	if (a->pfn != 0)
		rp_page_free(r, page_from_pfn(a->pfn));
	objcache_free(&r->anons_oc, a);
}
