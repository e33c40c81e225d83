/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay's events: each checked field by field (nothing from the trace is trusted), then played on its process. */
#include "replay_int.h"

#define KNOWN_PROT  (TR_PROT_READ | TR_PROT_WRITE | TR_PROT_EXEC)
#define KNOWN_FLAGS (TR_MAP_SHARED | TR_MAP_ANON | TR_MAP_STACK)

bool replay_init(struct replay *r, const struct replay_seam *seam, const struct replay_config *cfg)
{
	uint64_t buckets = 512;

	*r = (struct replay){ .seam = *seam, .cfg = *cfg, .steals_base = hment_stats.steals };
	while (buckets < 65536 && buckets * 8 < page_count)
		buckets *= 2;
	r->hash_mask = buckets - 1;
	objcache_init(&r->procs_oc, "replay procs", sizeof(struct rproc));
	objcache_init(&r->vmas_oc, "replay regions", sizeof(struct rvma));
	objcache_init(&r->anons_oc, "replay anon", sizeof(struct ranon));
	objcache_init(&r->slots_oc, "replay slots", sizeof(struct rslot));
	objcache_init(&r->cache_oc, "replay page cache", sizeof(struct rcache));
	return parray_at(&r->owners, page_first_managed, true) != NULL;
}

static void trace_error(struct replay *r, uint64_t *which)
{
	(*which)++;
	r->st.trace_errors++;
}

static uint64_t page_up(uint64_t v)
{
	return (v + RPAGE_MASK) & ~RPAGE_MASK;
}

/* [addr, addr + len) page-aligned at addr, rounded up, non-empty and below TASK_TOP; its end in *end. */
static bool range_ok(uint64_t addr, uint64_t len, uint64_t *end)
{
	if ((addr & RPAGE_MASK) || len == 0 || len > REPLAY_TASK_TOP || addr >= REPLAY_TASK_TOP)
		return false;
	*end = addr + page_up(len);
	return *end <= REPLAY_TASK_TOP;
}

static bool do_mmap(struct replay *r, struct rproc *p, const struct trace_event *ev, uint64_t end)
{
	bool anon = ev->te_flags & TR_MAP_ANON, shared = ev->te_flags & TR_MAP_SHARED;

	if ((ev->te_prot & ~KNOWN_PROT) || (ev->te_flags & ~KNOWN_FLAGS) ||
	    (!anon && (ev->te_file == TR_FILE_NONE || (ev->te_offset & RPAGE_MASK) ||
		       (r->cfg.files && ev->te_file >= r->cfg.files))))
		return false;
	if (!vma_unmap(r, p, ev->te_addr, end))   /* MAP_FIXED semantics: what was there goes */
		return true;
	struct rvma *v = rp_obj(r, &r->vmas_oc);
	if (v == NULL)
		return true;
	*v = (struct rvma){ .start = ev->te_addr, .end = end, .prot = ev->te_prot,
			    .flags = ev->te_flags, .obj = ROBJ_NONE };
	if (!anon) {
		v->obj = ev->te_file;
		v->pgoff = ev->te_offset >> MM_PAGE_SHIFT;
	} else if (shared) {
		v->obj = ROBJ_SHM | (r->next_shm++ & 0xffffffffu);
	}
	vma_insert(p, v);
	return true;
}

/* The mappings of [s, e) in v's part get v's protection (private pages stay read-only: copy-on-write). */
static void reprotect(struct replay *r, struct rproc *p, struct rvma *v, uint16_t prot)
{
	(void)r;
	v->prot = prot;
	if ((prot & KNOWN_PROT) == 0)
		hat_unload(p->hat, v->start, v->end - v->start);   /* PROT_NONE: nothing may stay mapped */
	else
		hat_chgprot(p->hat, v->start, v->end - v->start,
			    vma_attr(v, v->flags & TR_MAP_SHARED));
}

static bool do_mprotect(struct replay *r, struct rproc *p, const struct trace_event *ev, uint64_t end)
{
	if (ev->te_prot & ~KNOWN_PROT)
		return false;
	if (!vma_split(r, p, ev->te_addr) || !vma_split(r, p, end))
		return true;
	for (struct rvma *v = p->vmas; v && v->start < end; v = v->next)
		if (v->start >= ev->te_addr)
			reprotect(r, p, v, ev->te_prot);
	return true;
}

static bool do_dontneed(struct replay *r, struct rproc *p, uint64_t s, uint64_t e)
{
	for (struct rvma *v = p->vmas; v && v->start < e; v = v->next) {
		uint64_t a = v->start > s ? v->start : s, b = v->end < e ? v->end : e;
		if (a >= b)
			continue;
		hat_unload(p->hat, a, b - a);
		if (!(v->flags & TR_MAP_SHARED))
			slot_release_range(r, p, a, b);
	}
	return true;
}

/* mremap: [old, +oldlen) within one region, resized in place or moved to [new, +newlen). */
static bool do_mremap(struct replay *r, struct rproc *p, const struct trace_event *ev, uint64_t old_end)
{
	uint64_t old = ev->te_addr, new = ev->te_arg, new_end;
	struct rvma *v = vma_find(p, old);

	if (!range_ok(new, ev->te_len2, &new_end) || v == NULL || old_end > v->end)
		return false;
	uint64_t keep = new_end - new < old_end - old ? new_end - new : old_end - old;
	/* v becomes exactly [old, old + keep); a shrunk tail goes */
	if (!vma_split(r, p, old) || !vma_split(r, p, old + keep) ||
	    !vma_unmap(r, p, old + keep, old_end))
		return true;
	v = vma_find(p, old);
	if (new != old) {
		hat_unload(p->hat, old, keep);
		for (struct rvma **link = &p->vmas; *link; link = &(*link)->next)
			if (*link == v) {
				*link = v->next;   /* out of the list while its destination is cleared */
				break;
			}
		p->hint = NULL;
		bool cleared = vma_unmap(r, p, new, new_end);
		if (cleared) {
			slot_move(r, p, old, old + keep, (int64_t)(new - old));
			v->start = new;
			v->end = new + keep;
		}
		vma_insert(p, v);
		if (!cleared)
			return true;
	} else if (!vma_unmap(r, p, old + keep, new_end)) {
		return true;
	}
	v->end = new_end;   /* grown into the space just cleared */
	p->hint = NULL;
	return true;
}

/* brk: the heap is [brk_start, brk_end), an anonymous private read-write region. */
static bool do_brk(struct replay *r, struct rproc *p, const struct trace_event *ev)
{
	uint64_t end = page_up(ev->te_addr);

	if (ev->te_addr >= REPLAY_TASK_TOP)
		return false;
	if (p->brk_start == 0) {
		uint64_t start = ev->te_arg ? ev->te_arg : ev->te_addr;
		if (start == 0 || start >= REPLAY_TASK_TOP)
			return false;
		p->brk_start = p->brk_end = page_up(start);
	}
	if (end < p->brk_start)
		return false;
	if (end < p->brk_end) {
		vma_unmap(r, p, end, p->brk_end);
	} else if (end > p->brk_end) {
		struct rvma *heap = p->brk_end > p->brk_start ? vma_find(p, p->brk_end - 1) : NULL;
		if (heap && heap->end == p->brk_end && heap->obj == ROBJ_NONE &&
		    heap->flags == TR_MAP_ANON && vma_unmap(r, p, p->brk_end, end)) {
			heap->end = end;   /* the heap grows in place: one region, not one per brk */
		} else {
			struct trace_event grow = {
				.te_kind = TR_MMAP, .te_addr = p->brk_end, .te_len = end - p->brk_end,
				.te_file = TR_FILE_NONE, .te_prot = TR_PROT_READ | TR_PROT_WRITE,
				.te_flags = TR_MAP_ANON,
			};
			do_mmap(r, p, &grow, end);
		}
	}
	p->brk_end = end;
	return true;
}

static void do_fault(struct replay *r, struct rproc *p, const struct trace_event *ev)
{
	unsigned acc = REPLAY_ACC_READ;
	uint64_t resolved = r->st.zero_fill + r->st.file_hit + r->st.file_miss + r->st.cow_copies +
			    r->st.cow_file + r->st.swap_in + r->st.upgrades;

	if (ev->te_fault & TR_FAULT_EXEC) {
		acc = REPLAY_ACC_EXEC;
		r->st.faults_exec++;
	} else if (ev->te_fault & TR_FAULT_WRITE) {
		acc = REPLAY_ACC_WRITE;
		r->st.faults_write++;
	} else {
		r->st.faults_read++;
	}
	struct rvma *v = vma_find(p, ev->te_addr);
	if (v == NULL)
		return trace_error(r, &r->st.err_noregion);
	/* a real kernel would send SIGSEGV: the replay checks first, so ring 3 never faults for nothing */
	if (!replay_prot_allows(v->prot, acc))
		return trace_error(r, &r->st.err_prot);
	enum replay_rc rc = r->seam.access(r->seam.ctx, r, p, p->hat, ev->te_addr, acc);
	if (rc == REPLAY_ENOMEM)
		return;   /* counted in oom */
	if (rc == REPLAY_EACCESS)
		r->st.internal_errors++;
	else if (rc != REPLAY_OK)
		return trace_error(r, rc == REPLAY_EPROT ? &r->st.err_prot : &r->st.err_noregion);
	if (resolved == r->st.zero_fill + r->st.file_hit + r->st.file_miss + r->st.cow_copies +
			r->st.cow_file + r->st.swap_in + r->st.upgrades)
		r->st.no_fault++;
}

static void checkpoint(struct replay *r, const char *what)
{
	replay_sample(r);
	r->st.checkpoints++;
	r->seam.checkpoint(r->seam.ctx, what);
}

/* Plays ev of process `proc` on its address space p; false when a field is malformed. */
static bool play(struct replay *r, struct rproc *proc, struct rproc *p, const struct trace_event *ev)
{
	uint64_t end = 0;
	bool ranged = ev->te_kind == TR_MMAP || ev->te_kind == TR_MUNMAP || ev->te_kind == TR_MPROTECT ||
		      ev->te_kind == TR_MREMAP || ev->te_kind == TR_DONTNEED;

	if (ranged && !range_ok(ev->te_addr, ev->te_len, &end))
		return false;
	switch (ev->te_kind) {
	case TR_FORK:
		if (ev->te_arg >= PARRAY_MAX || ev->te_arg == ev->te_pid || (ev->te_flags & ~TR_FORK_VM) ||
		    proc_find(r, (uint32_t)ev->te_arg))
			return false;
		if (ev->te_flags & TR_FORK_VM)
			proc_vfork(r, p, (uint32_t)ev->te_arg);
		else
			proc_fork(r, p, (uint32_t)ev->te_arg);
		return true;
	case TR_EXEC:     proc_exec(r, proc); return true;
	case TR_MMAP:     return do_mmap(r, p, ev, end);
	case TR_MUNMAP:   vma_unmap(r, p, ev->te_addr, end); return true;
	case TR_MPROTECT: return do_mprotect(r, p, ev, end);
	case TR_MREMAP:   return do_mremap(r, p, ev, end);
	case TR_BRK:      return do_brk(r, p, ev);
	case TR_DONTNEED: return do_dontneed(r, p, ev->te_addr, end);
	default:
		if (ev->te_addr >= REPLAY_TASK_TOP)
			return false;
		do_fault(r, p, ev);
		return true;
	}
}

void replay_event(struct replay *r, const struct trace_event *ev)
{
	char what[48];

	r->st.events++;
	if (ev->te_kind == 0 || ev->te_kind > TR_KIND_MAX || ev->te_pid >= PARRAY_MAX) {
		trace_error(r, &r->st.err_event);
	} else {
		r->st.by_kind[ev->te_kind]++;
		struct rproc *p = proc_get(r, ev->te_pid);
		if (p != NULL && ev->te_kind == TR_EXIT) {
			proc_exit(r, p);
			ksnprintf(what, sizeof(what), "exit-%u", ev->te_pid);
			checkpoint(r, what);
		} else if (p == NULL || proc_space(p)->hat == NULL) {
			r->st.oom += p != NULL;
		} else if (!play(r, p, proc_space(p), ev)) {
			trace_error(r, &r->st.err_event);
		}
	}
	if (r->cfg.check_every && r->st.events % r->cfg.check_every == 0) {
		ksnprintf(what, sizeof(what), "ev-%" PRIu64, r->st.events);
		checkpoint(r, what);
	}
}

void replay_finish(struct replay *r)
{
	replay_sample(r);
	proc_finish_all(r);
	pcache_drop_all(r);
	r->st.steals = hment_stats.steals - r->steals_base;
}

const struct replay_stats *replay_stats(const struct replay *r)
{
	return &r->st;
}
