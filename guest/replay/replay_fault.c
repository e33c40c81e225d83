/* SPDX-License-Identifier: BSD-2-Clause */
/* The page-fault path: which page a user access needs (zero-fill, page cache, copy-on-write, swap-in) and its mapping. */
#include "replay_int.h"

bool replay_prot_allows(uint16_t prot, unsigned acc)
{
	if (acc & REPLAY_ACC_WRITE)
		return prot & TR_PROT_WRITE;
	if (acc & REPLAY_ACC_EXEC)
		return prot & TR_PROT_EXEC;
	return prot & (TR_PROT_READ | TR_PROT_WRITE | TR_PROT_EXEC);   /* x86 reads what it may write or run */
}

static enum replay_rc map_or_oom(struct replay *r, struct rproc *p, uint64_t va, page_t *pp,
				 unsigned attr)
{
	return rp_map(r, p, va, pp, attr) == 0 ? REPLAY_OK : REPLAY_ENOMEM;
}

/* MAP_SHARED: the page-cache page itself, with the region's protection. */
static enum replay_rc fault_shared(struct replay *r, struct rproc *p, struct rvma *v,
				   uint64_t va, uint64_t pgoff)
{
	bool miss;
	page_t *pp = pcache_get(r, v->obj, pgoff, &miss);

	if (pp == NULL)
		return REPLAY_ENOMEM;
	if (miss)
		r->st.file_miss++;
	else
		r->st.file_hit++;
	enum replay_rc rc = map_or_oom(r, p, va, pp, vma_attr(v, true));
	if (rc == REPLAY_OK)
		replay_note_list(r, pp, v->obj, pgoff, false);
	return rc;
}

/* A new anonymous page at va: a copy of src, or zeroed when src is NULL. */
static enum replay_rc new_anon(struct replay *r, struct rproc *p, struct rvma *v, uint64_t va,
			       page_t *src, struct rslot *slot)
{
	if (src)
		rp_pin(r, src->p_pagenum);
	page_t *pp = rp_page(r, 0);
	if (src) {
		rp_unpin(r, src->p_pagenum);
		if (pp)
			memcpy(page_kva(pp), page_kva(src), RPAGE);
	}
	if (pp == NULL)
		return REPLAY_ENOMEM;
	v->anon_pages = true;
	/* the allocations below may reclaim: pp must still be there to be mapped */
	rp_pin(r, pp->p_pagenum);
	enum replay_rc rc = REPLAY_ENOMEM;
	struct ranon *a = anon_new(r, pp);
	if (a == NULL) {
		rp_unpin(r, pp->p_pagenum);
		rp_page_free(r, pp);
		return rc;
	}
	if (slot) {
		anon_put(r, slot->anon);   /* others still hold it: this drops only our share */
		slot->anon = a;
		rc = REPLAY_OK;
	} else if (slot_add(r, p, rp_vpn(va), a)) {
		rc = REPLAY_OK;
	}
	rp_unpin(r, pp->p_pagenum);
	if (rc != REPLAY_OK) {
		anon_put(r, a);
		return rc;
	}
	return map_or_oom(r, p, va, pp, vma_attr(v, true));
}

/* An anonymous page the process already has: swap it in, copy it on a shared write, or map it. */
static enum replay_rc fault_anon(struct replay *r, struct rproc *p, struct rvma *v, uint64_t va,
				 struct rslot *slot, unsigned acc)
{
	struct ranon *a = slot->anon;

	if (a->pfn == 0) {
		page_t *pp = rp_page(r, (uint64_t)(uintptr_t)a | ROWN_ANON);
		if (pp == NULL)
			return REPLAY_ENOMEM;
		a->pfn = (uint32_t)pp->p_pagenum;
		r->st.swap_in++;
	}
	page_t *pp = page_from_pfn(a->pfn);
	if ((acc & REPLAY_ACC_WRITE) && a->ref > 1) {
		/* the hardware's write fault may have removed nothing: the old page is still mapped here */
		enum replay_rc rc = new_anon(r, p, v, va, pp, slot);
		r->st.cow_copies += rc == REPLAY_OK;
		return rc;
	}
	if ((acc & REPLAY_ACC_WRITE) && hat_getpfnum(p->hat, va) == a->pfn)
		r->st.upgrades++;
	return map_or_oom(r, p, va, pp, vma_attr(v, a->ref == 1));
}

/* MAP_PRIVATE: the process's own anonymous page, else the file's page read-only, else zero-fill. */
static enum replay_rc fault_private(struct replay *r, struct rproc *p, struct rvma *v,
				    uint64_t va, uint64_t pgoff, unsigned acc)
{
	struct rslot *slot = slot_find(r, p, rp_vpn(va));
	enum replay_rc rc;

	if (slot)
		return fault_anon(r, p, v, va, slot, acc);
	if (v->obj == ROBJ_NONE) {
		rc = new_anon(r, p, v, va, NULL, NULL);
		r->st.zero_fill += rc == REPLAY_OK;
		return rc;
	}
	bool miss;
	page_t *fp = pcache_get(r, v->obj, pgoff, &miss);
	if (fp == NULL)
		return REPLAY_ENOMEM;
	r->st.file_miss += miss;
	if (acc & REPLAY_ACC_WRITE) {
		rc = new_anon(r, p, v, va, fp, NULL);
		r->st.cow_file += rc == REPLAY_OK;
		return rc;
	}
	r->st.file_hit += !miss;
	rc = map_or_oom(r, p, va, fp, vma_attr(v, false));
	if (rc == REPLAY_OK)
		replay_note_list(r, fp, v->obj, pgoff, false);
	return rc;
}

enum replay_rc replay_fault(struct replay *r, struct rproc *p, uint64_t va, unsigned acc)
{
	struct rvma *v = va < REPLAY_TASK_TOP ? vma_find(p, va) : NULL;

	if (v == NULL)
		return REPLAY_ENOREGION;
	if (!replay_prot_allows(v->prot, acc))
		return REPLAY_EPROT;
	va &= ~RPAGE_MASK;
	uint64_t pgoff = v->pgoff + ((va - v->start) >> MM_PAGE_SHIFT);
	if (v->flags & TR_MAP_SHARED)
		return fault_shared(r, p, v, va, pgoff);
	return fault_private(r, p, v, va, pgoff, acc);
}
