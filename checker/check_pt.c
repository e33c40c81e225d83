/* SPDX-License-Identifier: BSD-2-Clause */
/* Page-table invariants: each address space's tables walked from its top (PT_*, ST_ACCOUNT, ST_NMAP, ST_LOCKED) and the idle table-page cache (ST_FREE_ZERO). */
#include "check_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LARGE_ALIGN_BITS_LOW 13    /* bit 12 of a PS entry is PAT; 13 up to the frame must be 0 */

/* One address space's walk. */
struct walk {
	struct checker *c;
	struct hat_rec *space;
	uint64_t id;            /* its h_id, for reports */
	bool is_kas;
	uint64_t n4k, n2m;      /* present leaves h_nmap4k / h_nmap2m count (ST_NMAP) */
	uint64_t nlocked;       /* present locked leaves h_nlocked counts (ST_LOCKED) */
};

/* The table page being walked. */
struct table_walk {
	uint64_t pfn;
	uint64_t ptva;
	unsigned level;
	unsigned present;
	unsigned locked;        /* locked leaves: p_lockcnt (ST_LOCKED) */
	uint64_t leaf[8];
	uint64_t tracked[8];
};

static const char *kind_name(unsigned kind)
{
	static const char *const names[] = { "free", "reserved", "kernel", "user", "table", "cached table" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "garbage-kind";
}

/* Records a reached table; its index, or SIZE_MAX when out of memory. */
static size_t table_add(struct checker *c, uint64_t pfn, unsigned level, uint64_t ptva, uint64_t space)
{
	if (c->ntables == c->tables_cap) {
		size_t cap = c->tables_cap ? c->tables_cap * 2 : 64;
		struct table_info *grown = realloc(c->tables, cap * sizeof(*grown));

		if (grown == NULL)
			return SIZE_MAX;
		c->tables = grown;
		c->tables_cap = cap;
	}
	c->tables[c->ntables] = (struct table_info){
		.ptva = ptva, .pfn = (uint32_t)pfn, .space = (uint32_t)space, .level = (uint8_t)level,
	};
	c->table_slot[pfn] = (uint32_t)(c->ntables + 1);
	bit_set(c->entered, pfn);
	return c->ntables++;
}

/* Space that must own a table mapping ptva: hat_kas for the kernel half. */
static uint64_t expected_owner(const struct walk *w, uint64_t ptva)
{
	return ptva >= KERNEL_HALF_BASE ? w->c->view.sym.hat_kas : w->space->va;
}

/*
 * PT_PTP_OWNER for a table about to be entered at `level`, mapping ptva.
 * Returns false when the page is not a table page of that level: it is
 * then not entered (its contents would only yield follow-on reports).
 */
static bool table_accounted(struct walk *w, uint64_t pfn, unsigned level, uint64_t ptva, uint64_t va)
{
	struct checker *c = w->c;
	const struct page *pg;
	uint64_t owner;

	if (c->view.pages == NULL)
		return true;
	if (pfn >= c->view.npages) {
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, va, pfn,
			       "level-%u table pfn 0x%" PRIx64 " has no page_t", level, pfn);
		return false;
	}
	pg = &c->view.pages[pfn];
	if (pg->p_kind != PG_PTP || pg->p_level != level) {
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, va, pfn,
			       "entry points at pfn 0x%" PRIx64
			       ", a %s page (p_level %u), not a level-%u table page",
			       pfn, kind_name(pg->p_kind), pg->p_level, level);
		return false;
	}
	owner = expected_owner(w, ptva);
	if (pg->p_hat != owner)
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, va, pfn,
			       "level-%u table pfn 0x%" PRIx64 " belongs to p_hat 0x%" PRIx64
			       " (space %" PRId64 "), not 0x%" PRIx64, level, pfn, pg->p_hat,
			       (int64_t)view_space_id(&c->view, pg->p_hat), owner);
	if (pg->p_ptva != ptva)
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, va, pfn,
			       "level-%u table pfn 0x%" PRIx64 " records p_ptva 0x%" PRIx64
			       " but maps 0x%" PRIx64, level,
			       pfn, pg->p_ptva,
			       ptva);
	return true;
}

/* Reserved bits, and PTE_U in the kernel half, of a present entry. */
static void check_entry_bits(struct walk *w, const struct table_walk *t, unsigned e, uint64_t v,
			     uint64_t va)
{
	struct checker *c = w->c;
	uint64_t pfn = (v & c->frame_mask) >> MM_PAGE_SHIFT;

	if (v & c->rsvd_mask)
		sink_violation(&c->sink, INV_PT_RSVD, w->id, va, pfn,
			       "level-%u entry %u of pfn 0x%" PRIx64
			       " sets address bits 0x%" PRIx64 " above MAXPHYADDR",
			       t->level, e, t->pfn, (v & c->rsvd_mask));
	if (t->level == MM_LEVELS && (v & PTE_PS))
		sink_violation(&c->sink, INV_PT_RSVD, w->id, va, pfn,
			       "PML4 entry %u of pfn 0x%" PRIx64
			       " has PS set (reserved in a PML4 entry)", e,
			       t->pfn);
	if (va >= KERNEL_HALF_BASE && (v & PTE_U))
		sink_violation(&c->sink, INV_PT_KERNEL_HALF, w->id, va, pfn,
			       "kernel-half level-%u entry %u of pfn 0x%" PRIx64
			       " is user-accessible (0x%" PRIx64 ")",
			       t->level, e, t->pfn, v);
}

/* True for a leaf the space's h_nmap4k / h_nmap2m count: memloads, so the user half, or hat_kas's KMAP window. */
static bool leaf_counted(const struct walk *w, uint64_t va)
{
	return w->is_kas ? va >= KMAP_BASE && va < KMAP_END : va < USER_TOP;
}

/* The memory type a leaf selects: its PAT, PCD and PWT bits as the PAT index (0..7). */
static unsigned leaf_memtype(uint64_t v, unsigned level)
{
	uint64_t pat = level == 1 ? PTE_PS : (1ull << 12);   /* PAT is bit 7 in a PTE, bit 12 in a large leaf */

	return ((v & PTE_PWT) ? 1u : 0u) | ((v & PTE_PCD) ? 2u : 0u) | ((v & pat) ? 4u : 0u);
}

/*
 * PT_MEMTYPE: the first user leaf of a managed page fixes its memory type
 * (a 2 MiB leaf is a mapping of its first page, as on the mapping lists);
 * every later one must agree. A nibble per page: 0, or 1 + the type.
 */
static void check_memtype(struct walk *w, uint64_t v, unsigned level, uint64_t va, uint64_t pfn)
{
	uint8_t *cell = &w->c->memtype[pfn / 2];
	unsigned shift = (pfn & 1) * 4, seen = (*cell >> shift) & 0xf, type = leaf_memtype(v, level);

	if (seen == 0)
		*cell |= (uint8_t)((type + 1) << shift);
	else if (seen != type + 1)
		sink_violation(&w->c->sink, INV_PT_MEMTYPE, w->id, va, pfn,
			       "leaf selects memory type %u (PAT/PCD/PWT), an earlier mapping of pfn 0x%" PRIx64
			       " selects %u", type, pfn, seen - 1);
}

/* True when a leaf of this level at frame pfn covers a managed page. */
static bool leaf_maps_managed(const struct checker *c, uint64_t pfn, unsigned level)
{
	uint64_t last = pfn + (1ull << (MM_LEVEL_SHIFT(level) - MM_PAGE_SHIFT)) - 1;

	return last >= c->view.first_managed && pfn < c->view.npages;
}

/*
 * PT_DIRTY_ACCESSED: D without A. The CPU sets A whenever it uses a leaf
 * (with D, or before it); only pagesync clears them, both, and flushes,
 * so the next access walks the tables and sets A again.
 */
static void check_dirty_accessed(struct walk *w, const struct table_walk *t, unsigned e, uint64_t v,
				 uint64_t va, uint64_t pfn)
{
	if ((v & (PTE_A | PTE_D)) == PTE_D)
		sink_violation(&w->c->sink, INV_PT_DIRTY_ACCESSED, w->id, va, pfn,
			       "level-%u leaf (entry %u of pfn 0x%" PRIx64 ") is dirty but not accessed (0x%" PRIx64 ")",
			       t->level, e, t->pfn, v);
}

/* A present leaf: alignment, and whether the mapping lists must track it. */
static void visit_leaf(struct walk *w, struct table_walk *t, unsigned e, uint64_t v, uint64_t va)
{
	struct checker *c = w->c;
	uint64_t size_mask = (1ull << MM_LEVEL_SHIFT(t->level)) - 1;
	uint64_t pfn = (v & c->frame_mask & ~size_mask) >> MM_PAGE_SHIFT;
	uint64_t misaligned = v & size_mask & ~((1ull << LARGE_ALIGN_BITS_LOW) - 1);
	const struct page *pg;

	if (t->level > 1 && misaligned)
		sink_violation(&c->sink, INV_PT_LARGE_ALIGN, w->id, va, pfn,
			       "%s leaf (entry %u of pfn 0x%" PRIx64 ") has frame bits 0x%" PRIx64
			       " below its alignment",
			       t->level == 2 ? "2 MiB" : "1 GiB", e, t->pfn,
			       misaligned);
	check_dirty_accessed(w, t, e, v, va, pfn);
	if (va < USER_TOP && !w->is_kas)
		check_model_leaf(c, (uint32_t)w->id, va, v, t->level);
	if (leaf_counted(w, va)) {
		w->n4k += t->level == 1;
		w->n2m += t->level == 2;
		w->nlocked += (v & PTE_LOCKED) != 0;
		t->locked += (v & PTE_LOCKED) != 0;
	}
	if (w->is_kas && leaf_counted(w, va) && leaf_maps_managed(c, pfn, t->level))
		sink_violation(&c->sink, INV_RM_MISSING, w->id, va, pfn,
			       "KMAP-window leaf (entry %u of pfn 0x%" PRIx64 ") maps managed pfn 0x%" PRIx64
			       ": kernel mappings are on no mapping list", e, t->pfn, pfn);
	if (va >= USER_TOP || !view_managed(&c->view, pfn))
		return;
	check_memtype(w, v, t->level, va, pfn);
	c->stats.mappings++;
	bit_set(t->leaf, e);
	pg = &c->view.pages[pfn];
	if (pg->p_embed == 1 && pg->p_mlentry == e && pg->p_mapping == t->pfn) {
		bit_set(t->tracked, e);
		bit_set(c->embed_ok, pfn);
	}
}

static bool walk_table(struct walk *w, uint64_t pfn, unsigned level, uint64_t ptva);

/*
 * PT_NONLEAF: P|W, U in the user half only, no NX, PCD or PWT (the CPU's
 * A bit aside). U in the kernel half is PT_KERNEL_HALF's to report.
 */
static void check_nonleaf_bits(struct walk *w, const struct table_walk *t, unsigned e, uint64_t v,
			       uint64_t va, uint64_t pfn)
{
	bool user = va < USER_TOP;
	uint64_t mask = PTE_W | PTE_NX | PTE_PCD | PTE_PWT | (user ? PTE_U : 0);
	uint64_t want = PTE_W | (user ? PTE_U : 0);

	if ((v & mask) != want)
		sink_violation(&w->c->sink, INV_PT_NONLEAF, w->id, va, pfn,
			       "level-%u non-leaf entry %u of pfn 0x%" PRIx64 " is 0x%" PRIx64
			       ": W%s must be set, NX, PCD and PWT clear",
			       t->level, e, t->pfn, v, user ? " and U" : "");
}

/* A present non-leaf entry: range, ownership, then the table below. False when out of memory. */
static bool visit_child(struct walk *w, const struct table_walk *t, unsigned e, uint64_t v, uint64_t va)
{
	struct checker *c = w->c;
	uint64_t pa = v & c->frame_mask, pfn = pa >> MM_PAGE_SHIFT;
	const struct table_info *seen;

	check_nonleaf_bits(w, t, e, v, va, pfn);

	if (pa >= c->view.rd.ram_size) {
		sink_violation(&c->sink, INV_PT_PTP_RANGE, w->id, va, pfn,
			       "level-%u entry %u of pfn 0x%" PRIx64 " points at 0x%" PRIx64
			       ", outside RAM (0x%" PRIx64 " bytes)",
			       t->level, e, t->pfn, pa,
			       c->view.rd.ram_size);
		return true;
	}
	bit_set(c->referenced, pfn);
	if (!table_accounted(w, pfn, t->level - 1, va, va))
		return true;
	seen = checker_table(c, pfn);
	if (seen != NULL) {
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, va, pfn,
			       "table pfn 0x%" PRIx64
			       " is reached twice: already the level-%u table of "
			       "space %u for 0x%" PRIx64,
			       pfn, seen->level, seen->space,
			       seen->ptva);
		return true;
	}
	return walk_table(w, pfn, t->level - 1, va);
}

/* A user space's copy of a kernel-half PML4 entry must equal hat_kas's (the CPU's A bit aside). */
static void kernel_half_entry(struct walk *w, unsigned e, uint64_t v, uint64_t va)
{
	struct checker *c = w->c;

	if (c->kas_pml4_ok && ((v ^ c->kas_pml4[e]) & ~PTE_A))
		sink_violation(&c->sink, INV_PT_KERNEL_HALF, w->id, va, (v & c->frame_mask) >> MM_PAGE_SHIFT,
			       "PML4 entry %u is 0x%" PRIx64 ", hat_kas has 0x%" PRIx64, e, v,
			       c->kas_pml4[e]);
}

/* Checks the entries of one table and walks below it. False when out of memory. */
static bool walk_entries(struct walk *w, struct table_walk *t, const uint64_t *ent)
{
	for (unsigned e = 0; e < MM_PTES; e++) {
		uint64_t v = ent[e];
		uint64_t va = x86_table_entry_va(t->ptva, t->level, e);

		if (t->level == MM_LEVELS && e >= MM_PML4_KERNEL && !w->is_kas) {
			kernel_half_entry(w, e, v, va);
			t->present += (v & PTE_P) != 0;
			continue;
		}
		if (!(v & PTE_P))
			continue;
		t->present++;
		check_entry_bits(w, t, e, v, va);
		if (t->level == 1 || (t->level < MM_LEVELS && (v & PTE_PS)))
			visit_leaf(w, t, e, v, va);
		else if (!visit_child(w, t, e, v, va))
			return false;
		else if (w->c->stats.stopped)
			return true;
	}
	return true;
}

/* PT_VALID_CNT of a walked table page. */
static void check_valid_count(struct walk *w, const struct table_walk *t)
{
	struct checker *c = w->c;
	const struct page *pg;

	if (c->view.pages == NULL || t->pfn >= c->view.npages)
		return;
	pg = &c->view.pages[t->pfn];
	if (pg->p_kind == PG_PTP && pg->p_valid != t->present)
		sink_violation(&c->sink, INV_PT_VALID_CNT, w->id, t->ptva, t->pfn,
			       "level-%u table pfn 0x%" PRIx64
			       " records p_valid %u, has %u present entries",
			       t->level, t->pfn, pg->p_valid, t->present);
	if (pg->p_kind == PG_PTP && pg->p_lockcnt != t->locked)
		sink_violation(&c->sink, INV_ST_LOCKED, w->id, t->ptva, t->pfn,
			       "level-%u table pfn 0x%" PRIx64
			       " records p_lockcnt %u, has %u locked leaves",
			       t->level, t->pfn, pg->p_lockcnt, t->locked);
}

static bool walk_table(struct walk *w, uint64_t pfn, unsigned level, uint64_t ptva)
{
	struct checker *c = w->c;
	struct table_walk t = { .pfn = pfn, .ptva = ptva, .level = level };
	uint64_t copy[MM_PTES];
	const uint64_t *ent = reader_direct(&c->view.rd, pfn << MM_PAGE_SHIFT, sizeof(copy));
	size_t idx = table_add(c, pfn, level, ptva, w->id);

	if (idx == SIZE_MAX)
		return false;
	w->space->reached++;
	c->stats.ptes += MM_PTES;
	if (check_work(c, MM_PTES))
		return true;
	if (ent == NULL && reader_read_pa(&c->view.rd, pfn << MM_PAGE_SHIFT, copy, sizeof(copy)))
		ent = copy;
	if (ent == NULL)
		return true;    /* pfn was checked against RAM: only a failing accessor gets here */
	if (level == MM_LEVELS && w->is_kas) {
		memcpy(c->kas_pml4, ent, sizeof(c->kas_pml4));
		c->kas_pml4_ok = true;
	}
	if (!walk_entries(w, &t, ent))
		return false;
	if (t.present == 0 && level < MM_LEVELS)
		check_model_empty_table(c, (uint32_t)w->id, ptva, level, pfn);
	memcpy(c->tables[idx].leaf, t.leaf, sizeof(t.leaf));
	memcpy(c->tables[idx].tracked, t.tracked, sizeof(t.tracked));
	check_valid_count(w, &t);
	return true;
}

/* PT_PTP_OWNER of a space's PML4 (walked anyway: it is what CR3 holds). */
static void top_accounted(struct walk *w, uint64_t pfn)
{
	struct checker *c = w->c;
	uint64_t top_va = view_page_va(&c->view, pfn);

	if (c->view.pages == NULL)
		return;
	if (pfn < c->view.npages && w->space->h.h_top != top_va)
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, REPORT_NONE, pfn,
			       "h_top is 0x%" PRIx64 " but h_top_pa names the page_t at 0x%" PRIx64,
			       w->space->h.h_top, top_va);
	table_accounted(w, pfn, MM_LEVELS, 0, REPORT_NONE);
}

/*
 * PT_PTP_OWNER of the walk hint: NULL, or the page_t of a 4 KiB table of
 * the user half that this space's walk reached (a table the MM pruned
 * must not be named: a load would write into a page outside the tree).
 */
static void hint_accounted(struct checker *c, const struct walk *w)
{
	uint64_t hint = w->space->h.h_hint, pfn = REPORT_NONE;
	const struct table_info *t = NULL;

	if (hint == 0)
		return;
	if (view_pfn_of_page_va(&c->view, hint, &pfn))
		t = checker_table(c, pfn);
	if (t == NULL || t->space != w->id || t->level != 1 || t->ptva >= USER_TOP)
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w->id, REPORT_NONE, pfn,
			       "h_hint 0x%" PRIx64 " is not the page_t of a user 4 KiB table of this "
			       "space's tree", hint);
}

/* Walks one address space from its top; ST_ACCOUNT at the end. False when out of memory. */
static bool walk_space(struct checker *c, struct hat_rec *hr, bool is_kas)
{
	struct walk w = { .c = c, .space = hr, .id = hr->h.h_id, .is_kas = is_kas };
	uint64_t top = hr->h.h_top_pa, pfn = top >> MM_PAGE_SHIFT;
	const struct table_info *seen;

	c->stats.spaces++;
	if ((top & (MM_PAGE_SIZE - 1)) || top >= c->view.rd.ram_size) {
		sink_violation(&c->sink, INV_PT_PTP_RANGE, w.id, REPORT_NONE, pfn,
			       "h_top_pa 0x%" PRIx64 " is not a page of RAM", top);
		return true;
	}
	top_accounted(&w, pfn);
	bit_set(c->referenced, pfn);
	seen = checker_table(c, pfn);
	if (seen != NULL) {
		sink_violation(&c->sink, INV_PT_PTP_OWNER, w.id, REPORT_NONE, pfn,
			       "PML4 pfn 0x%" PRIx64
			       " is already the level-%u table of space %u for 0x%" PRIx64,
			       pfn, seen->level, seen->space, seen->ptva);
		return true;
	}
	if (!walk_table(&w, pfn, MM_LEVELS, 0))
		return false;
	if (c->stats.stopped)
		return true;
	hint_accounted(c, &w);
	if (hr->reached != hr->h.h_nptp)
		sink_violation(&c->sink, INV_ST_ACCOUNT, w.id, REPORT_NONE, REPORT_NONE,
			       "h_nptp is %" PRIu64 " but %" PRIu64
			       " table pages are reachable from its top",
			       hr->h.h_nptp, hr->reached);
	if (w.n4k != hr->h.h_nmap4k || w.n2m != hr->h.h_nmap2m)
		sink_violation(&c->sink, INV_ST_NMAP, w.id, REPORT_NONE, REPORT_NONE,
			       "h_nmap4k %" PRIu64 " / h_nmap2m %" PRIu64 " but the tables hold %" PRIu64
			       " / %" PRIu64 " %s leaves", hr->h.h_nmap4k, hr->h.h_nmap2m, w.n4k, w.n2m,
			       is_kas ? "KMAP-window" : "user-half");
	if (w.nlocked != hr->h.h_nlocked)
		sink_violation(&c->sink, INV_ST_LOCKED, w.id, REPORT_NONE, REPORT_NONE,
			       "h_nlocked is %" PRIu64 " but the tables hold %" PRIu64 " locked leaves",
			       hr->h.h_nlocked, w.nlocked);
	return true;
}

/* ST_ACCOUNT: every live table page belongs to some walk (the table pages index_pages() found). */
static void check_unreached_tables(struct checker *c)
{
	const struct mm_view *v = &c->view;

	for (uint64_t w = 0; v->ptp_map != NULL && w <= v->npages / 64; w++) {
		uint64_t unreached = v->ptp_map[w] & ~c->entered[w];

		/* a unit is a page_t: the table pages of this word of the map */
		if (check_work(c, (uint64_t)__builtin_popcountll(v->ptp_map[w])))
			return;
		for (; unreached != 0; unreached &= unreached - 1) {
			uint64_t pfn = w * 64 + (uint64_t)__builtin_ctzll(unreached);
			const struct page *pg = &v->pages[pfn];

			sink_violation(&c->sink, INV_ST_ACCOUNT, view_space_id(v, pg->p_hat), pg->p_ptva, pfn,
				       "level-%u table page pfn 0x%" PRIx64 " is reachable from no address space",
				       pg->p_level, pfn);
		}
	}
}

/* Walks hat_kas, then every other space; the unreached tables at the end. False when out of memory. */
/*
 * An instant check (--check=async) leaves out a space whose lock a CPU
 * holds: its tables may be going (hat_destroy frees its top before the
 * space leaves hat_list) and their pages already someone else's.
 */
static bool walk_space_now(struct checker *c, struct hat_rec *s, bool kas)
{
	if (c->instant && s->h.h_lock.ml_locked != 0)
		return true;
	return walk_space(c, s, kas);
}

static bool walk_spaces(struct checker *c)
{
	struct mm_view *v = &c->view;
	size_t first = 0;

	if (v->have_kas) {
		c->kas_space = v->hats[0].h.h_id;
		if (!walk_space_now(c, &v->hats[0], true))
			return false;
		first = 1;
	}
	for (size_t i = first; i < v->nhats && !c->stats.stopped; i++)
		if (!walk_space_now(c, &v->hats[i], false))
			return false;
	if (!c->stats.stopped)
		check_unreached_tables(c);
	return true;
}

bool check_page_tables(struct checker *c)
{
	size_t bytes = c->view.npages / 2 + 1;
	bool ok;

	c->memtype = check_map_zalloc(bytes);
	if (c->memtype == NULL)
		return false;
	ok = walk_spaces(c);
	check_map_free(c->memtype, bytes);
	c->memtype = NULL;
	return ok;
}

/* ST_FREE_ZERO: a cached table page holds only zeroes. */
static void check_cached_zero(struct checker *c, uint64_t pfn)
{
	uint64_t copy[MM_PTES];
	const uint64_t *ent = reader_direct(&c->view.rd, pfn << MM_PAGE_SHIFT, sizeof(copy));

	if (ent == NULL && reader_read_pa(&c->view.rd, pfn << MM_PAGE_SHIFT, copy, sizeof(copy)))
		ent = copy;
	if (ent == NULL)
		return;
	for (unsigned e = 0; e < MM_PTES; e++) {
		if (ent[e] != 0) {
			sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, pfn,
				       "cached table page pfn 0x%" PRIx64
				       ": entry %u is 0x%" PRIx64 ", not 0",
				       pfn, e, ent[e]);
			return;
		}
	}
}

/* One page on the cache: kind, not in use as a table, all zero. */
static void check_cached_page(struct checker *c, uint64_t pfn)
{
	const struct page *pg = &c->view.pages[pfn];
	const struct table_info *t = checker_table(c, pfn);

	if (pg->p_kind != PG_CACHE)
		sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, pfn,
			       "cached table page pfn 0x%" PRIx64
			       " is a %s page, not a cached table",
			       pfn, kind_name(pg->p_kind));
	if (t != NULL)
		sink_violation(&c->sink, INV_ST_FREE_ZERO, t->space, t->ptva, pfn,
			       "cached table page pfn 0x%" PRIx64
			       " is in use as the level-%u table for 0x%" PRIx64,
			       pfn, t->level, t->ptva);
	else if (bit_test(c->referenced, pfn))
		sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, pfn,
			       "cached table page pfn 0x%" PRIx64 " is pointed at by a table entry",
			       pfn);
	check_cached_zero(c, pfn);
}

void check_ptp_cache(struct checker *c)
{
	const struct mm_view *v = &c->view;
	uint64_t node, n = 0, pfn;
	struct brent b;

	if (!v->cache_ok || v->pages == NULL)
		return;
	brent_init(&b);
	for (node = v->cache.pc_head; node != 0; node = v->pages[pfn].p_next, n++) {
		if (check_work(c, MM_PTES))   /* its page is read in full when zero */
			return;
		if (brent_step(&b, node) || n >= v->npages) {
			sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       "segtab_ptp_cache does not end: it loops back to 0x%" PRIx64
				       " after %" PRIu64 " pages", node, n);
			return;
		}
		if (!view_pfn_of_page_va(v, node, &pfn)) {
			sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       "segtab_ptp_cache entry %" PRIu64 ", 0x%" PRIx64
				       ", is not a page_t",
				       n, node);
			return;
		}
		check_cached_page(c, pfn);
	}
	if (n != v->cache.pc_count)
		sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "segtab_ptp_cache: pc_count is %" PRIu64
			       ", the list holds %" PRIu64 " pages",
			       v->cache.pc_count, n);
	if (v->cache.pc_count > v->cache.pc_max)
		sink_violation(&c->sink, INV_ST_FREE_ZERO, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "segtab_ptp_cache: pc_count %" PRIu64 " is over its maximum %" PRIu64,
			       v->cache.pc_count, v->cache.pc_max);
}
