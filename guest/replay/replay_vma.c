/* SPDX-License-Identifier: BSD-2-Clause */
/* A process's regions (VMAs): a sorted list, split at boundaries, unmapped with their pages. */
#include "replay_int.h"

struct rvma *vma_find(struct rproc *p, uint64_t va)
{
	if (p->hint && va >= p->hint->start && va < p->hint->end)
		return p->hint;
	for (struct rvma *v = p->vmas; v && v->start <= va; v = v->next)
		if (va < v->end)
			return p->hint = v;
	return NULL;
}

bool vma_split(struct replay *r, struct rproc *p, uint64_t addr)
{
	struct rvma *v = vma_find(p, addr);

	if (v == NULL || v->start == addr)
		return true;
	struct rvma *tail = rp_obj(r, &r->vmas_oc);
	if (tail == NULL)
		return false;
	*tail = *v;
	tail->start = addr;
	if (v->obj != ROBJ_NONE)
		tail->pgoff += (addr - v->start) >> MM_PAGE_SHIFT;
	v->end = addr;
	v->next = tail;
	return true;
}

void vma_insert(struct rproc *p, struct rvma *v)
{
	struct rvma **link = &p->vmas;

	while (*link && (*link)->start < v->start)
		link = &(*link)->next;
	v->next = *link;
	*link = v;
}

bool vma_unmap(struct replay *r, struct rproc *p, uint64_t s, uint64_t e)
{
	if (s >= e)
		return true;
	if (!vma_split(r, p, s) || !vma_split(r, p, e))
		return false;
	p->hint = NULL;
	for (struct rvma **link = &p->vmas; *link;) {
		struct rvma *v = *link;
		if (v->start >= s && v->end <= e) {
			*link = v->next;
			objcache_free(&r->vmas_oc, v);
		} else {
			link = &v->next;
		}
	}
	hat_unload(p->hat, s, e - s);
	slot_release_range(r, p, s, e);
	return true;
}

void vma_free_all(struct replay *r, struct rproc *p)
{
	while (p->vmas) {
		struct rvma *v = p->vmas;
		p->vmas = v->next;
		objcache_free(&r->vmas_oc, v);
	}
	p->hint = NULL;
}

unsigned vma_attr(const struct rvma *v, bool writable)
{
	unsigned attr = HAT_USER | HAT_READ;

	if (writable && (v->prot & TR_PROT_WRITE))
		attr |= HAT_WRITE;
	if (v->prot & TR_PROT_EXEC)
		attr |= HAT_EXEC;
	return attr;
}
