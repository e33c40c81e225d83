/* SPDX-License-Identifier: BSD-2-Clause */
/* Processes: an address space each, a vfork child's borrowed; fork shares private pages copy-on-write, exec and exit tear the space down. */
#include "replay_int.h"

struct rproc *proc_find(struct replay *r, uint32_t pid)
{
	return (struct rproc *)(uintptr_t)parray_get(&r->pids, pid);
}

/* A new process pid, with an empty address space of its own unless `borrower`. */
static struct rproc *proc_new(struct replay *r, uint32_t pid, bool borrower)
{
	uint64_t *w = rp_word(r, &r->pids, pid);
	struct rproc *p = w ? rp_obj(r, &r->procs_oc) : NULL;

	if (p == NULL)
		return NULL;
	*p = (struct rproc){ .pid = pid, .id = ++r->next_id };
	if (!borrower && (p->hat = rp_hat_create(r)) == NULL) {
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

	return p ? p : proc_new(r, pid, false);
}

/* Everything of p's address space goes (none after a failed exec); p itself stays. */
static void teardown(struct replay *r, struct rproc *p)
{
	if (p->hat != NULL) {
		r->seam.space_gone(r->seam.ctx, p->hat);
		hat_destroy(p->hat);
		p->hat = NULL;
	}
	slot_release_all(r, p);
	vma_free_all(r, p);
	p->brk_start = p->brk_end = 0;
}

/* p and its address space go. */
static void proc_free(struct replay *r, struct rproc *p)
{
	teardown(r, p);
	for (struct rproc **link = &r->live; *link; link = &(*link)->next)
		if (*link == p) {
			*link = p->next;
			break;
		}
	objcache_free(&r->procs_oc, p);
}

/* The vfork child p stops using its lender's memory; an exited lender goes with its last borrower. */
static void give_back(struct replay *r, struct rproc *p)
{
	struct rproc *lender = p->lender;

	p->lender = NULL;
	if (--lender->borrowers == 0 && lender->exited)
		proc_free(r, lender);
}

/*
 * p execs while vfork children still use its memory: the memory moves
 * to a new, exited object that they keep; p is left with none (and a new
 * id: the anonymous pages are keyed by the old). False when out of memory.
 */
static bool hand_over(struct replay *r, struct rproc *p)
{
	struct rproc *o = rp_obj(r, &r->procs_oc);

	if (o == NULL)
		return false;
	*o = *p;
	o->exited = true;
	o->next = r->live;
	r->live = o;
	for (struct rproc *q = o->next; q; q = q->next)
		if (q->lender == p)
			q->lender = o;
	*p = (struct rproc){ .next = p->next, .pid = p->pid, .id = ++r->next_id };
	return true;
}

bool proc_exec(struct replay *r, struct rproc *p)
{
	r->st.execs++;
	if (p->lender != NULL)
		give_back(r, p);
	else if (p->borrowers == 0)
		teardown(r, p);
	else if (!hand_over(r, p))
		return false;   /* p keeps its memory: counted in oom */
	p->hat = rp_hat_create(r);
	return p->hat != NULL;
}

void proc_exit(struct replay *r, struct rproc *p)
{
	uint64_t *w = parray_at(&r->pids, p->pid, false);

	if (w != NULL && *w == (uint64_t)(uintptr_t)p)
		*w = 0;
	if (p->lender != NULL)
		give_back(r, p);
	if (p->borrowers != 0)
		p->exited = true;   /* its memory stays until the last borrower gives it back */
	else
		proc_free(r, p);
}

void proc_finish_all(struct replay *r)
{
	for (struct rproc *p = r->live; p; p = p->next)
		if (p->lender != NULL) {
			p->lender->borrowers--;
			p->lender = NULL;
		}
	while (r->live)
		proc_exit(r, r->live);
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

bool proc_vfork(struct replay *r, struct rproc *parent, uint32_t child_pid)
{
	struct rproc *child = proc_new(r, child_pid, true);

	if (child == NULL)
		return false;
	child->lender = proc_space(parent);
	child->lender->borrowers++;
	r->st.vforks++;
	return true;
}

bool proc_fork(struct replay *r, struct rproc *parent, uint32_t child_pid)
{
	struct rproc *child = proc_new(r, child_pid, false);

	if (child == NULL)
		return false;
	child->brk_start = parent->brk_start;
	child->brk_end = parent->brk_end;
	if (!copy_regions(r, parent, child) || !share_anon(r, parent, child))
		return false;
	copy_tables(r, parent, child);
	return true;
}
