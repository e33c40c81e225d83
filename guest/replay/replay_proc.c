/* SPDX-License-Identifier: BSD-2-Clause */
/* Processes: an address space each; fork shares private pages copy-on-write, exec and exit tear the space down. */
#include "replay_int.h"

struct rproc *proc_find(struct replay *r, uint32_t pid)
{
	return (struct rproc *)(uintptr_t)parray_get(&r->pids, pid);
}

static struct rproc *proc_new(struct replay *r, uint32_t pid)
{
	uint64_t *w = rp_word(r, &r->pids, pid);
	struct rproc *p = w ? rp_obj(r, &r->procs_oc) : NULL;

	if (p == NULL)
		return NULL;
	*p = (struct rproc){ .pid = pid, .id = ++r->next_id };
	p->hat = rp_hat_create(r);
	if (p->hat == NULL) {
		objcache_free(&r->procs_oc, p);
		return NULL;
	}
	p->next = r->live;
	r->live = p;
	*w = (uint64_t)(uintptr_t)p;
	r->st.processes++;
	return p;
}

struct rproc *proc_get(struct replay *r, uint32_t pid)
{
	struct rproc *p = proc_find(r, pid);

	return p ? p : proc_new(r, pid);
}

/* Everything of p's address space goes; p itself stays. */
static void teardown(struct replay *r, struct rproc *p)
{
	r->seam.space_gone(r->seam.ctx, p->hat);
	hat_destroy(p->hat);
	p->hat = NULL;
	slot_release_all(r, p);
	vma_free_all(r, p);
	p->brk_start = p->brk_end = 0;
}

bool proc_exec(struct replay *r, struct rproc *p)
{
	teardown(r, p);
	p->hat = rp_hat_create(r);
	r->st.execs++;
	return p->hat != NULL;
}

void proc_exit(struct replay *r, struct rproc *p)
{
	teardown(r, p);
	*parray_at(&r->pids, p->pid, false) = 0;
	for (struct rproc **link = &r->live; *link; link = &(*link)->next)
		if (*link == p) {
			*link = p->next;
			break;
		}
	objcache_free(&r->procs_oc, p);
}

static bool copy_regions(struct replay *r, const struct rproc *parent, struct rproc *child)
{
	for (const struct rvma *v = parent->vmas; v; v = v->next) {
		struct rvma *c = rp_obj(r, &r->vmas_oc);
		if (c == NULL)
			return false;
		*c = *v;
		vma_insert(child, c);
		/* private pages become copy-on-write: read-only in the parent too */
		if (!(v->flags & TR_MAP_SHARED) && (v->prot & TR_PROT_WRITE))
			hat_chgprot(parent->hat, v->start, v->end - v->start, vma_attr(v, false));
	}
	return true;
}

/* The child holds a share of every anonymous page of the parent. */
static bool share_anon(struct replay *r, const struct rproc *parent, struct rproc *child)
{
	for (struct rslot *s = parent->slots; s; s = s->pnext) {
		s->anon->ref++;
		if (!slot_add(r, child, s->vpn, s->anon)) {
			s->anon->ref--;
			return false;
		}
	}
	return true;
}

/*
 * Copies the parent's page tables of its private regions that have
 * anonymous pages into the child, read-only, one hat_dup per region, as
 * Linux's fork copies those of a VMA with an anon_vma (its file pages
 * too); the others fault in later in the child, as there. A dup that
 * finds no memory leaves its pages to the child's faults.
 */
static void copy_tables(struct replay *r, const struct rproc *parent, struct rproc *child)
{
	for (const struct rvma *v = child->vmas; v; v = v->next)
		if (!(v->flags & TR_MAP_SHARED) && v->anon_pages)
			(void)rp_dup(r, child->hat, parent->hat, v->start, v->end - v->start,
				     vma_attr(v, false));
}

bool proc_fork(struct replay *r, struct rproc *parent, uint32_t child_pid)
{
	struct rproc *child = proc_new(r, child_pid);

	if (child == NULL)
		return false;
	child->brk_start = parent->brk_start;
	child->brk_end = parent->brk_end;
	if (!copy_regions(r, parent, child) || !share_anon(r, parent, child))
		return false;
	copy_tables(r, parent, child);
	return true;
}
