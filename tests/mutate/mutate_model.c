/* SPDX-License-Identifier: BSD-2-Clause */
/* The mutation driver's workload model, written from the HAT's contract (hat.h), not from its code. */

/*
 * The mutation driver's workload model, written from the HAT's contract
 * (hat.h), not from its code: what each space should map and with which
 * bits, how many mappings each page has, what pagesync must return, and
 * a software TLB that only the HAT's shootdowns empty.
 */
#include "mutate_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hat_model.h"
#include "hosted_platform.h"
#include "objcache.h"

static const uint64_t region_base[MD_REGIONS] = {
	0x0000000040000000ull, 0x0000000040200000ull, 0x0000000080000000ull,
	0x0000008000000000ull,
};
/* the first two cover regions 0 and 1: 2 MiB and 4 KiB mappings replace each other there */
static const uint64_t large_base[MD_LARGE] = {
	0x0000000040000000ull, 0x0000000040200000ull, 0x0000000040400000ull,
	0x00000000c0000000ull,
};

static struct model *hook_model;   /* the model the shootdown hook feeds */

#define BULK_BASE 0x0000000100000000ull

uint64_t md_small_va(unsigned k)
{
	if (k >= MD_REGULAR)
		return BULK_BASE + (uint64_t)(k - MD_REGULAR) * MM_PAGE_SIZE;
	return region_base[k / MD_REGION_SLOTS] + (uint64_t)(k % MD_REGION_SLOTS) * MM_PAGE_SIZE;
}

uint64_t md_large_va(unsigned j)
{
	return large_base[j];
}

static bool in_large(uint64_t va, unsigned j)
{
	return va >= large_base[j] && va - large_base[j] < MM_LARGE_SIZE;
}

void md_finding(struct model *m, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (m->nfindings++ != 0)
		return;
	m->finding_op = m->ops;
	m->finding_kind = kind;
	va_start(ap, fmt);
	vsnprintf(m->finding, sizeof(m->finding), fmt, ap);
	va_end(ap);
}

bool md_small_covered(const struct model *m, unsigned s, unsigned k)
{
	for (unsigned j = 0; j < MD_LARGE; j++)
		if (m->sp[s].large[j].on && in_large(md_small_va(k), j))
			return true;
	return false;
}

/*
 * The leaf the HAT's contract asks for: frame, P, the protection, cache and
 * size bits as the host checker's model derives them (hat_model_pte_bits),
 * the software lock bit, A/D as touched.
 */
static uint64_t want_pte(const struct md_map *mp, bool large)
{
	uint64_t v = PTE_P | (mp->pfn << MM_PAGE_SHIFT) |
		     hat_model_pte_bits(mp->attr | (large ? HAT_LARGE : 0));

	if (mp->attr & HAT_LOCK)
		v |= PTE_LOCKED;
	if (mp->a)
		v |= PTE_A;
	if (mp->d)
		v |= PTE_D;
	return v;
}

/*
 * The leaf the CPU's page walker reaches for va from h's CR3 (NULL: none),
 * read from RAM; *upper gets what the levels above allow: PTE_U and PTE_W
 * when all of them have it, PTE_NX when any has it.
 */
static uint64_t *hw_walk(const struct hat *h, uint64_t va, bool *largep, uint64_t *upper)
{
	uint64_t pa = h->h_top_pa;

	*largep = false;
	*upper = PTE_U | PTE_W;
	for (unsigned l = MM_LEVELS;; l--) {
		uint64_t *e, v;

		if ((pa & PTE_FRAME) + MM_PAGE_SIZE > mm_hosted_ram_size)
			return NULL;
		e = (uint64_t *)(mm_hosted_ram + (pa & PTE_FRAME)) + MM_VA_INDEX(va, l);
		v = __atomic_load_n(e, __ATOMIC_RELAXED);
		if (!(v & PTE_P))
			return NULL;
		if (l == 1 || (l == 2 && (v & PTE_PS))) {
			*largep = l == 2;
			return e;
		}
		if (v & PTE_PS)
			return NULL;
		*upper = (*upper & v & (PTE_U | PTE_W)) | ((*upper | v) & PTE_NX);
		pa = v;
	}
}

static uint64_t *hw_leaf(const struct hat *h, uint64_t va, bool *largep)
{
	uint64_t upper;

	return hw_walk(h, va, largep, &upper);
}

static uint64_t hw_value(const struct hat *h, uint64_t va, bool *largep)
{
	uint64_t *e = hw_leaf(h, va, largep);

	return e ? __atomic_load_n(e, __ATOMIC_RELAXED) : 0;
}

static struct md_map *small_or_null(struct md_map *mp)
{
	return mp->on ? mp : NULL;
}

/* The model's mapping covering va in space s (NULL: none). */
static struct md_map *md_at(struct model *m, unsigned s, uint64_t va, bool *largep)
{
	*largep = false;
	for (unsigned j = 0; j < MD_LARGE; j++) {
		if (m->sp[s].large[j].on && in_large(va, j)) {
			*largep = true;
			return &m->sp[s].large[j];
		}
	}
	for (unsigned r = 0; r < MD_REGIONS; r++) {
		uint64_t k = (va - region_base[r]) >> MM_PAGE_SHIFT;

		if (va >= region_base[r] && k < MD_REGION_SLOTS)
			return small_or_null(&m->sp[s].small[r * MD_REGION_SLOTS + k]);
	}
	if (m->nsmall == MD_SMALL && va >= BULK_BASE && (va - BULK_BASE) >> MM_PAGE_SHIFT < MD_BULK)
		return small_or_null(&m->sp[s].small[MD_REGULAR + ((va - BULK_BASE) >> MM_PAGE_SHIFT)]);
	return NULL;
}

static bool managed(uint64_t pfn)
{
	return pfn < MD_RAM_PAGES && page_pfn_managed(pfn);
}

/* The mapping is gone: its A/D bits went to its page's attributes (tracked pages only). */
static void md_drop(struct model *m, struct md_map *mp)
{
	if (!mp->on)
		return;
	if (managed(mp->pfn))
		m->attr[mp->pfn] |= (uint8_t)((mp->a ? PG_ATTR_REF : 0) | (mp->d ? PG_ATTR_MOD : 0));
	*mp = (struct md_map){ 0 };
}

/* --- the software TLB --------------------------------------------------------- */

static void tlb_drop_space(struct model *m, unsigned s)
{
	for (unsigned i = 0; i < MD_TLB; i++)
		if (m->tlb[i].space == s)
			m->tlb[i].on = false;
}

static void tlb_insert(struct model *m, unsigned s, uint64_t va, uint64_t pte)
{
	unsigned victim = (unsigned)rand_below(&m->rng, MD_TLB);

	for (unsigned i = 0; i < MD_TLB; i++) {
		if (m->tlb[i].on && m->tlb[i].space == s && m->tlb[i].va == va) {
			victim = i;
			break;
		}
		if (!m->tlb[i].on)
			victim = i;
	}
	m->tlb[victim] = (struct md_tlb){ .on = true, .space = s, .va = va, .pte = pte };
}

/* mm_tlb_shootdown_hook: the CPUs in `cpus` drop what they cached of h, and run the request (TLB_STALE). */
static void md_shootdown(uint64_t cpus, struct hat *sh, uint64_t gen, uint64_t va, uint64_t npages)
{
	struct model *m = hook_model;
	uint64_t end = va + npages * MM_PAGE_SIZE;

	for (unsigned i = 0; i < MD_TLB; i++) {
		struct md_tlb *t = &m->tlb[i];
		struct hat *h = m->sp[t->space].h;
		uint64_t size = (t->pte & PTE_PS) ? MM_LARGE_SIZE : MM_PAGE_SIZE;

		if (!t->on || h == NULL || h != sh || !(cpus & (1ull << (t->space + 1))))
			continue;
		if (npages == 0 || (t->va < end && va < t->va + size))
			t->on = false;
	}
	mm_hosted_run_shootdown(cpus, sh, gen, va, npages);
}

/* A cached translation the table no longer backs: the CPU would still use it. */
static bool tlb_stale(uint64_t was, uint64_t now)
{
	return !(now & PTE_P) || !(now & PTE_A) ||
	       ((now ^ was) & (PTE_FRAME | PTE_PS | PTE_PCD | PTE_PWT)) != 0 ||
	       ((was & PTE_W) && !(now & PTE_W)) || ((was & PTE_U) && !(now & PTE_U)) ||
	       (!(was & PTE_NX) && (now & PTE_NX)) || ((was & PTE_D) && !(now & PTE_D));
}

static void tlb_check(struct model *m)
{
	for (unsigned i = 0; i < MD_TLB; i++) {
		struct md_tlb *t = &m->tlb[i];
		uint64_t now;
		bool large;

		if (!t->on || m->sp[t->space].h == NULL)
			continue;
		now = hw_value(m->sp[t->space].h, t->va, &large);
		if (tlb_stale(t->pte, now)) {
			md_finding(m, "tlb", "stale TLB: space %u va 0x%" PRIx64 " cached 0x%" PRIx64
				   ", the table holds 0x%" PRIx64 " and no shootdown came",
				   t->space, t->va, t->pte, now);
			t->on = false;
		}
	}
}

/* --- comparing with the MM ------------------------------------------------------- */

static void check_va(struct model *m, unsigned s, uint64_t va)
{
	struct hat *h = m->sp[s].h;
	bool large_m, large_hw;
	struct md_map *mp = md_at(m, s, va, &large_m);
	uint64_t now = hw_value(h, va, &large_hw), pfn = hat_getpfnum(h, va), want, upper;

	if (mp == NULL) {
		if (now & PTE_P)
			md_finding(m, "leaf", "space %u va 0x%" PRIx64 ": the table maps 0x%" PRIx64
				   ", the model nothing", s, va, now);
		else if (pfn != HAT_PFN_INVALID)
			md_finding(m, "getpfnum", "space %u va 0x%" PRIx64 ": getpfnum 0x%" PRIx64
				   " for an unmapped address", s, va, pfn);
		return;
	}
	if (!(now & PTE_P) && m->may_steal && (mp->attr & HAT_LOCK)) {
		md_finding(m, "leaf", "space %u va 0x%" PRIx64 ": the locked mapping of pfn 0x%" PRIx64
			   " is gone (a steal never takes a locked mapping)", s, va, mp->pfn);
		return;
	}
	if (!(now & PTE_P) && m->may_steal) {
		md_drop(m, mp);
		m->vanished++;
		return;
	}
	want = want_pte(mp, large_m);
	if (now != want || large_hw != large_m) {
		md_finding(m, "leaf", "space %u va 0x%" PRIx64 ": leaf 0x%" PRIx64 ", the model wants 0x%"
			   PRIx64, s, va, now, want);
		return;
	}
	hw_walk(h, va, &large_hw, &upper);
	if (upper != (PTE_U | PTE_W)) {
		md_finding(m, "walk", "space %u va 0x%" PRIx64 ": the tables above the leaf allow "
			   "only 0x%" PRIx64 " of U|W|NX (user half: U|W, no NX)", s, va, upper);
		return;
	}
	want = mp->pfn + (large_m ? (va & (MM_LARGE_SIZE - 1)) >> MM_PAGE_SHIFT : 0);
	if (pfn != want)
		md_finding(m, "getpfnum", "space %u va 0x%" PRIx64 ": getpfnum 0x%" PRIx64 ", the model 0x%"
			   PRIx64, s, va, pfn, want);
}

/* Mappings of pfn the HAT's contract counts: its 4 KiB ones and the 2 MiB ones covering it. */
static unsigned md_count(const struct model *m, uint64_t pfn)
{
	unsigned n = 0;

	for (unsigned s = 0; s < m->nspaces; s++) {
		if (m->sp[s].h == NULL)
			continue;
		for (unsigned k = 0; k < m->nsmall; k++)
			n += m->sp[s].small[k].on && m->sp[s].small[k].pfn == pfn;
		for (unsigned j = 0; j < MD_LARGE; j++)
			n += m->sp[s].large[j].on && pfn - m->sp[s].large[j].pfn < MM_LARGE_PAGES;
	}
	return n;
}

static void check_count(struct model *m, uint64_t pfn)
{
	unsigned got = hat_getmapcnt(&page_array[pfn]), want = md_count(m, pfn);

	if (got != want)
		md_finding(m, "mapcnt", "pfn 0x%" PRIx64 ": hat_getmapcnt %u, the model %u", pfn, got, want);
}

static void check_allocator(struct model *m)
{
	uint64_t managed_pages = page_count - page_first_managed;

	if (page_nfree() + page_ninuse() != managed_pages)
		md_finding(m, "allocator", "allocator: %" PRIu64 " free + %" PRIu64 " in use, %" PRIu64
			   " pages managed", page_nfree(), page_ninuse(), managed_pages);
	/* beyond the cap only what the emergency reserve served since: the kernel's table pages (page.h) */
	if (m->page_cap != PAGE_LIMIT_NONE && page_ninuse() > m->page_cap + (page_nreserve() - m->nreserve0))
		md_finding(m, "allocator", "allocator: %" PRIu64 " pages in use, the cap is %" PRIu64
			   " and the emergency reserve served %" PRIu64, page_ninuse(), m->page_cap,
			   page_nreserve() - m->nreserve0);
	if (m->hment_cap != OBJCACHE_LIMIT_NONE && hment_cache_inuse() > m->hment_cap)
		md_finding(m, "hments", "hments: %" PRIu64 " out, the cap is %" PRIu64, hment_cache_inuse(),
			   m->hment_cap);
	if (m->vanished > hment_stats.steals - m->steals0)
		md_finding(m, "hments", "%" PRIu64 " mappings vanished, %" PRIu64 " steals counted", m->vanished,
			   hment_stats.steals - m->steals0);
}

static void verify(struct model *m)
{
	for (unsigned s = 0; s < m->nspaces; s++) {
		if (m->sp[s].h == NULL)
			continue;
		for (unsigned k = 0; k < m->nsmall; k++)
			check_va(m, s, md_small_va(k));
		for (unsigned j = 0; j < MD_LARGE; j++) {
			check_va(m, s, md_large_va(j));
			check_va(m, s, md_large_va(j) + MM_LARGE_SIZE - MM_PAGE_SIZE);
		}
	}
	for (unsigned i = 0; i < m->npool; i++)
		check_count(m, m->pool[i]->p_pagenum);
	for (unsigned b = 0; b < m->nblocks; b++) {
		check_count(m, m->block[b]->p_pagenum);
		check_count(m, m->block[b]->p_pagenum + 1);
		check_count(m, m->block[b]->p_pagenum + MM_LARGE_PAGES - 1);
	}
	check_allocator(m);
	tlb_check(m);
}

void md_end_op(struct model *m)
{
	char label[32];

	m->ops++;
	/* the checker first: the model's own probes (hat_getpfnum, hat_getmapcnt) are HAT calls too */
	if (m->every != 0 && m->ops % m->every == 0 && m->checkpoint != NULL) {
		snprintf(label, sizeof(label), "op%" PRIu64, m->ops);
		m->checkpoint(m->arg, label);
	}
	verify(m);
}

void md_between_calls(struct model *m)
{
	char label[40];

	if (m->every != 1 || m->checkpoint == NULL)
		return;
	snprintf(label, sizeof(label), "op%" PRIu64 "-call", m->ops + 1);
	m->checkpoint(m->arg, label);
}

/* --- operations ------------------------------------------------------------------ */

/* Loads h on this space's own CPU (index + 1), so every flush of it is a shootdown the TLB sees. */
static void load_on_cpu(unsigned s, struct hat *h)
{
	mm_hosted_set_cpu(s + 1);
	hat_switch(h);
	mm_hosted_set_cpu(0);
}

void md_create(struct model *m, unsigned s)
{
	struct hat *h = hat_create();

	if (h == NULL)
		return;
	m->sp[s] = (struct md_space){ .h = h };
	tlb_drop_space(m, s);
	load_on_cpu(s, h);
}

void md_destroy(struct model *m, unsigned s)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL)
		return;
	load_on_cpu(s, &hat_kas);   /* a CR3 load: that CPU's TLB forgets the space */
	tlb_drop_space(m, s);
	md_between_calls(m);        /* a kernel switches away first and destroys later */
	hat_destroy(sp->h);
	for (unsigned k = 0; k < m->nsmall; k++)
		md_drop(m, &sp->small[k]);
	for (unsigned j = 0; j < MD_LARGE; j++)
		md_drop(m, &sp->large[j]);
	sp->h = NULL;
}

/*
 * A reload of the frame mp already maps, locked as it is: the leaf stays
 * (new bits, A/D kept). Locking or unlocking by reload replaces it.
 */
static bool same_mapping(const struct md_map *mp, uint64_t pfn, unsigned attr)
{
	return mp->on && mp->pfn == pfn && ((mp->attr ^ attr) & HAT_LOCK) == 0;
}

/* What a 4 KiB load at slot k of s with result rc leaves, by the contract (the HAT already called). */
static void loaded_small(struct model *m, unsigned s, unsigned k, uint64_t pfn, unsigned attr, int rc)
{
	struct md_space *sp = &m->sp[s];
	struct md_map *mp = &sp->small[k];
	uint64_t va = md_small_va(k);

	for (unsigned j = 0; j < MD_LARGE; j++)
		if (in_large(va, j))
			md_drop(m, &sp->large[j]);
	if (same_mapping(mp, pfn, attr)) {
		mp->attr = attr;   /* same frame, same size: new bits, A/D kept */
		return;
	}
	md_drop(m, mp);
	if (rc == 0)
		*mp = (struct md_map){ .on = true, .pfn = pfn, .attr = attr };
}

/* What a 2 MiB load of frame pfn at large slot j of s with result rc leaves. */
static void loaded_large(struct model *m, unsigned s, unsigned j, uint64_t pfn, unsigned attr, int rc)
{
	struct md_space *sp = &m->sp[s];
	struct md_map *mp = &sp->large[j];

	if (same_mapping(mp, pfn, attr)) {
		mp->attr = attr;
		return;
	}
	md_drop(m, mp);
	for (unsigned k = 0; k < m->nsmall; k++)
		if (in_large(md_small_va(k), j))
			md_drop(m, &sp->small[k]);
	if (rc == 0)
		*mp = (struct md_map){ .on = true, .pfn = pfn, .attr = attr };
}

void md_load_small(struct model *m, unsigned s, unsigned k, uint64_t pfn, unsigned attr)
{
	struct md_space *sp = &m->sp[s];
	uint64_t va = md_small_va(k);
	int rc;

	if (sp->h == NULL)
		return;
	rc = managed(pfn) ? hat_memload(sp->h, va, &page_array[pfn], attr)
			  : hat_devload(sp->h, va, pfn, attr);
	loaded_small(m, s, k, pfn, attr, rc);
}

void md_load_large(struct model *m, unsigned s, unsigned j, unsigned b, unsigned attr)
{
	struct md_space *sp = &m->sp[s];
	int rc;

	if (sp->h == NULL)
		return;
	rc = hat_memload(sp->h, md_large_va(j), m->block[b], attr | HAT_LARGE);
	loaded_large(m, s, j, m->block[b]->p_pagenum, attr, rc);
}

/*
 * hat_memload_array of pps[0..n) at slots first.. of s (one region).
 * Only driven with no cap set: a failure is then the HAT's fault, and
 * the contract does not say which page failed, so the model cannot follow.
 */
void md_load_array(struct model *m, unsigned s, unsigned first, unsigned n, page_t **pps,
		   unsigned attr)
{
	struct md_space *sp = &m->sp[s];
	int rc;

	if (sp->h == NULL)
		return;
	rc = hat_memload_array(sp->h, md_small_va(first), (uint64_t)n * MM_PAGE_SIZE, pps, attr);
	if (rc != 0)
		md_finding(m, "leaf", "space %u: hat_memload_array of %u pages at 0x%" PRIx64
			   " failed (%d) with no cap set", s, n, md_small_va(first), rc);
	for (unsigned k = 0; k < n; k++)
		loaded_small(m, s, first + k, pps[k]->p_pagenum, attr, rc);
}

/* The slots' whole span: hat_dup of it copies every mapping the model can hold. */
#define DUP_SPAN 0x0000010000000000ull

/*
 * hat_dup of space a into b with protection prot: each mapping of a
 * loaded in b, same frame and size, prot with its memory type. Driven
 * with no cap set only (see md_load_array).
 */
void md_dup(struct model *m, unsigned a, unsigned b, unsigned prot)
{
	struct md_space *src = &m->sp[a], *dst = &m->sp[b];
	int rc;

	if (a == b || src->h == NULL || dst->h == NULL)
		return;
	rc = hat_dup(dst->h, src->h, 0, DUP_SPAN, prot);
	if (rc != 0)
		md_finding(m, "leaf", "hat_dup of space %u into %u failed (%d) with no cap set", a, b, rc);
	for (unsigned k = 0; k < m->nsmall; k++) {
		struct md_map mp = src->small[k];

		if (mp.on)
			loaded_small(m, b, k, mp.pfn, prot | (mp.attr & (HAT_NOCACHE | HAT_WRITETHRU)), rc);
	}
	for (unsigned j = 0; j < MD_LARGE; j++) {
		struct md_map mp = src->large[j];

		if (mp.on)
			loaded_large(m, b, j, mp.pfn, prot | (mp.attr & (HAT_NOCACHE | HAT_WRITETHRU)), rc);
	}
}

/* The large slot covering small slot k (there is one when md_small_covered). */
static unsigned covering(unsigned k)
{
	for (unsigned j = 0; j < MD_LARGE; j++)
		if (in_large(md_small_va(k), j))
			return j;
	return 0;
}

void md_unload_small(struct model *m, unsigned s, unsigned first, unsigned n)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL)
		return;
	if (md_small_covered(m, s, first)) {   /* a 2 MiB mapping is unloaded whole or not at all */
		md_unload_large(m, s, covering(first));
		return;
	}
	hat_unload(sp->h, md_small_va(first), (uint64_t)n * MM_PAGE_SIZE);
	for (unsigned k = first; k < first + n; k++)
		md_drop(m, &sp->small[k]);
}

void md_unload_large(struct model *m, unsigned s, unsigned j)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL)
		return;
	hat_unload(sp->h, md_large_va(j), MM_LARGE_SIZE);
	md_drop(m, &sp->large[j]);
	for (unsigned k = 0; k < m->nsmall; k++)
		if (in_large(md_small_va(k), j))
			md_drop(m, &sp->small[k]);
}

void md_unload_all(struct model *m, unsigned s)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL)
		return;
	hat_unload(sp->h, 0, USER_TOP);
	for (unsigned k = 0; k < m->nsmall; k++)
		md_drop(m, &sp->small[k]);
	for (unsigned j = 0; j < MD_LARGE; j++)
		md_drop(m, &sp->large[j]);
}

void md_pageunload(struct model *m, uint64_t pfn)
{
	unsigned want = md_count(m, pfn), got = hat_pageunload(&page_array[pfn]);

	if (got != want)
		md_finding(m, "pageunload", "pfn 0x%" PRIx64 ": hat_pageunload removed %u mappings, the model has %u",
			   pfn, got, want);
	for (unsigned s = 0; s < m->nspaces; s++) {
		for (unsigned k = 0; k < m->nsmall; k++)
			if (m->sp[s].small[k].on && m->sp[s].small[k].pfn == pfn)
				md_drop(m, &m->sp[s].small[k]);
		for (unsigned j = 0; j < MD_LARGE; j++)
			if (m->sp[s].large[j].on && pfn - m->sp[s].large[j].pfn < MM_LARGE_PAGES)
				md_drop(m, &m->sp[s].large[j]);
	}
}

static void set_prot(struct md_map *mp, unsigned prot)
{
	if (mp->on)
		mp->attr = (mp->attr & ~HAT_PROT_MASK) | prot;   /* cache attributes stay */
}

void md_chgprot_small(struct model *m, unsigned s, unsigned first, unsigned n, unsigned prot)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL)
		return;
	if (md_small_covered(m, s, first)) {
		md_chgprot_large(m, s, covering(first), prot);
		return;
	}
	hat_chgprot(sp->h, md_small_va(first), (uint64_t)n * MM_PAGE_SIZE, prot);
	for (unsigned k = first; k < first + n; k++)
		set_prot(&sp->small[k], prot);
}

void md_chgprot_large(struct model *m, unsigned s, unsigned j, unsigned prot)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL)
		return;
	hat_chgprot(sp->h, md_large_va(j), MM_LARGE_SIZE, prot);
	set_prot(&sp->large[j], prot);
	for (unsigned k = 0; k < m->nsmall; k++)
		if (in_large(md_small_va(k), j))
			set_prot(&sp->small[k], prot);
}

static void unlock_slot(struct md_map *mp)
{
	mp->attr &= ~HAT_LOCK;
}

void md_unlock_small(struct model *m, unsigned s, unsigned first, unsigned n)
{
	struct md_space *sp = &m->sp[s];
	unsigned j;

	if (sp->h == NULL)
		return;
	if (md_small_covered(m, s, first)) {   /* a 2 MiB mapping is unlocked whole */
		j = covering(first);
		hat_memunlock(sp->h, md_large_va(j), MM_LARGE_SIZE);
		unlock_slot(&sp->large[j]);
		return;
	}
	hat_memunlock(sp->h, md_small_va(first), (uint64_t)n * MM_PAGE_SIZE);
	for (unsigned k = first; k < first + n; k++)
		unlock_slot(&sp->small[k]);
}

#define KMAP_SLOTS_VA (KMAP_BASE + (256ull << 30))   /* away from what the MM maps there itself */

void md_kernel_load(struct model *m, unsigned k, uint64_t pfn)
{
	uint64_t va = KMAP_SLOTS_VA + (uint64_t)k * MM_PAGE_SIZE;
	int rc;

	if (m->kmap[k]) {
		hat_unload(&hat_kas, va, MM_PAGE_SIZE);
		m->kmap[k] = false;
		return;
	}
	m->kmap[k] = true;
	if (!managed(pfn)) {
		(void)hat_devload(&hat_kas, va, pfn, HAT_READ | HAT_WRITE);
		return;
	}
	rc = hat_memload(&hat_kas, va, &page_array[pfn], HAT_READ | HAT_WRITE);
	if (rc != HAT_ERR_KERNEL_MANAGED)
		md_finding(m, "leaf", "kernel va 0x%" PRIx64 ": memload of managed pfn 0x%" PRIx64
			   " returned %d, not HAT_ERR_KERNEL_MANAGED", va, pfn, rc);
}

/*
 * What the emergency reserve is for: with the KMAP window's tables
 * pruned, the table cache given back and ordinary allocations at the
 * cap, a kernel load takes its two tables from a reserve of two; a load
 * needing a third finds the hard cap reached and fails.
 */
void md_kernel_at_cap(struct model *m)
{
	const uint64_t far = KMAP_SLOTS_VA + MM_LARGE_SIZE;   /* another 4 KiB table */
	int rc;

	for (unsigned k = 0; k < MD_KMAP; k++)
		if (m->kmap[k])
			md_kernel_load(m, k, 0);
	segtab_cache_drain();
	md_page_cap(m, UINT64_MAX);
	page_set_reserve(2);
	md_page_cap(m, 0);
	md_end_op(m);
	rc = hat_devload(&hat_kas, KMAP_SLOTS_VA, 0x10, HAT_READ | HAT_WRITE);
	m->kmap[0] = rc == 0;
	if (rc != 0)
		md_finding(m, "kernel", "kernel load at the cap: %d with %" PRIu64
			   " pages of the emergency reserve free", rc, page_pool.limit - page_ninuse());
	md_end_op(m);
	rc = hat_devload(&hat_kas, far, 0x11, HAT_READ | HAT_WRITE);
	md_end_op(m);
	if (rc == 0)
		hat_unload(&hat_kas, far, MM_PAGE_SIZE);
	md_end_op(m);
}

/* One mapping on pfn's list: its A/D go into want; cleared with `clear`. */
static void sync_one(struct md_map *mp, unsigned *want, bool clear)
{
	*want |= (mp->a ? PG_ATTR_REF : 0) | (mp->d ? PG_ATTR_MOD : 0);
	if (clear)
		mp->a = mp->d = false;
}

void md_pagesync(struct model *m, uint64_t pfn, bool clear)
{
	unsigned want = m->attr[pfn], got;

	for (unsigned s = 0; s < m->nspaces; s++) {
		if (m->sp[s].h == NULL)
			continue;
		for (unsigned k = 0; k < m->nsmall; k++)
			if (m->sp[s].small[k].on && m->sp[s].small[k].pfn == pfn)
				sync_one(&m->sp[s].small[k], &want, clear);
		for (unsigned j = 0; j < MD_LARGE; j++)   /* a 2 MiB leaf is on its first page's list */
			if (m->sp[s].large[j].on && m->sp[s].large[j].pfn == pfn)
				sync_one(&m->sp[s].large[j], &want, clear);
	}
	got = hat_pagesync(&page_array[pfn], clear ? HAT_SYNC_CLEAR : 0);
	m->attr[pfn] = (uint8_t)want;
	if (got != want)
		md_finding(m, "pagesync", "pfn 0x%" PRIx64 ": hat_pagesync returned 0x%x, the model 0x%x", pfn, got,
			   want);
}

void md_clrattr(struct model *m, uint64_t pfn, unsigned bits)
{
	hat_page_clrattr(&page_array[pfn], bits);
	m->attr[pfn] &= (uint8_t)~bits;
}

/* The CPU accesses va in space s: walks the tables, sets A (and D on a write), caches the leaf. */
void md_touch(struct model *m, unsigned s, uint64_t va, bool write)
{
	struct hat *h = m->sp[s].h;
	bool large, large_m;
	uint64_t *e, v, base;
	struct md_map *mp;

	if (h == NULL || (e = hw_leaf(h, va, &large)) == NULL)
		return;
	v = __atomic_load_n(e, __ATOMIC_RELAXED);
	if (write && !(v & PTE_W))
		return;   /* a protection fault: nothing cached, nothing set */
	v = __atomic_or_fetch(e, PTE_A | (write ? PTE_D : 0), __ATOMIC_RELAXED);
	base = va & ~((large ? MM_LARGE_SIZE : MM_PAGE_SIZE) - 1);
	tlb_insert(m, s, base, v);
	mp = md_at(m, s, va, &large_m);
	if (mp != NULL && large_m == large && mp->pfn == ((v & PTE_FRAME) >> MM_PAGE_SHIFT)) {
		mp->a = true;
		mp->d |= write;
	}
}

void md_reserve(struct model *m, unsigned amount, unsigned fill, bool adjust)
{
	bool capped = m->page_cap != PAGE_LIMIT_NONE || m->hment_cap != OBJCACHE_LIMIT_NONE;
	uint32_t before, want;

	hment_set_reserve_amount(amount);
	if (fill) {
		before = hment_reserve.hr_count;
		want = before > amount + fill ? before : amount + fill;
		hment_reserve_fill(fill);
		if (hment_reserve.hr_count != want && !(capped && hment_reserve.hr_count < want))
			md_finding(m, "reserve", "reserve: %u hments after filling %u to %u + %u",
				   hment_reserve.hr_count, before, amount, fill);
	}
	if (adjust) {
		before = hment_reserve.hr_count;
		want = before < amount ? before : amount;
		hment_adjust_reserve();
		if (hment_reserve.hr_count != want)
			md_finding(m, "reserve", "reserve: %u hments after adjusting %u to %u",
				   hment_reserve.hr_count, before, amount);
	}
}

/*
 * Every mapping of a page must select the same memory type (PT_MEMTYPE),
 * so the cache attribute is the frame's: write-back, uncached or
 * write-through by pfn, a 2 MiB block's by its first page.
 */
unsigned md_frame_cache(const struct model *m, uint64_t pfn)
{
	static const unsigned types[] = { 0, HAT_NOCACHE, 0, HAT_WRITETHRU };

	for (unsigned b = 0; b < m->nblocks; b++)
		if (pfn - m->block[b]->p_pagenum < MM_LARGE_PAGES)
			pfn = m->block[b]->p_pagenum >> 9;
	return types[pfn % 4];
}

/* Maps (or unmaps) the whole bulk region of s, pool pages round-robin: hundreds of hments. */
void md_bulk(struct model *m, unsigned s, bool load)
{
	struct md_space *sp = &m->sp[s];

	if (sp->h == NULL || m->nsmall < MD_SMALL)
		return;
	if (!load) {
		hat_unload(sp->h, BULK_BASE, (uint64_t)MD_BULK * MM_PAGE_SIZE);
		for (unsigned k = MD_REGULAR; k < MD_SMALL; k++)
			md_drop(m, &sp->small[k]);
		return;
	}
	for (unsigned k = MD_REGULAR; k < MD_SMALL; k++) {
		uint64_t pfn = m->pool[(k - MD_REGULAR) % m->npool]->p_pagenum;

		md_load_small(m, s, k, pfn, HAT_READ | HAT_WRITE | HAT_USER | md_frame_cache(m, pfn));
	}
}

/* True when [pfn, pfn + n) overlaps a page the driver already holds. */
static bool held(const struct model *m, uint64_t pfn, uint64_t n)
{
	for (unsigned i = 0; i < m->npool; i++)
		if (m->pool[i]->p_pagenum - pfn < n)
			return true;
	for (unsigned b = 0; b < m->nblocks; b++)
		if (m->block[b]->p_pagenum < pfn + n && pfn < m->block[b]->p_pagenum + MM_LARGE_PAGES)
			return true;
	for (unsigned i = 0; i < MD_SCRATCH; i++) {
		uint64_t first, len;

		if (m->scratch[i] == NULL)
			continue;
		first = m->scratch[i]->p_pagenum;
		len = m->scratch_large[i] ? MM_LARGE_PAGES : 1;
		if (first < pfn + n && pfn < first + len)
			return true;
	}
	return false;
}

/* A page (or 2 MiB block) fresh from the allocator: zeroed, PG_USER, nobody else's, within the cap. */
static void check_fresh(struct model *m, page_t *pp, uint64_t n)
{
	const uint64_t *w = (const uint64_t *)page_kva(pp);

	for (uint64_t i = 0; i < n * (MM_PAGE_SIZE / 8); i++) {
		if (w[i] != 0) {
			md_finding(m, "allocator", "allocator: fresh pfn 0x%x is not zero at byte 0x%" PRIx64,
				   pp->p_pagenum, i * 8);
			break;
		}
	}
	if (pp->p_kind != PG_USER || held(m, pp->p_pagenum, n))
		md_finding(m, "allocator", "allocator: pfn 0x%x handed out again (kind %u)", pp->p_pagenum,
			   pp->p_kind);
}

/*
 * A 2 MiB scratch allocation split, as a user of one large page that
 * needs only its first page does: the tail goes back now, page by page,
 * leaving its block one page short of fully free; the head later.
 */
static void scratch_split(struct model *m, unsigned i)
{
	page_t *pp = m->scratch[i];
	uint64_t before = page_ninuse();

	memset(page_kva(pp), 0xa5, MM_LARGE_SIZE);
	for (unsigned k = 1; k < MM_LARGE_PAGES; k++)
		page_free(pp + k);
	m->scratch_large[i] = false;
	if (page_ninuse() != before - (MM_LARGE_PAGES - 1))
		md_finding(m, "allocator", "allocator: %" PRIu64 " pages in use after freeing %u of %"
			   PRIu64, page_ninuse(), MM_LARGE_PAGES - 1, before);
}

void md_scratch(struct model *m, unsigned i, bool large)
{
	page_t *pp = m->scratch[i];

	if (pp != NULL && m->scratch_large[i] && i % 2 == 1) {
		scratch_split(m, i);
		return;
	}
	if (pp != NULL) {
		/* its user wrote to it: the next one to get it must find it zeroed again */
		uint64_t n = m->scratch_large[i] ? MM_LARGE_PAGES : 1, before = page_ninuse();

		memset(page_kva(pp), 0xa5, n * MM_PAGE_SIZE);
		if (m->scratch_large[i])
			page_free_large(pp);
		else
			page_free(pp);
		m->scratch[i] = NULL;
		if (page_ninuse() != before - n)
			md_finding(m, "allocator", "allocator: %" PRIu64 " pages in use after freeing %"
				   PRIu64 " of %" PRIu64, page_ninuse(), n, before);
		return;
	}
	pp = large ? page_alloc_large(PG_USER) : page_alloc(PG_USER);
	if (pp == NULL)
		return;
	check_fresh(m, pp, large ? MM_LARGE_PAGES : 1);
	m->scratch[i] = pp;
	m->scratch_large[i] = large;
}

void md_page_cap(struct model *m, uint64_t extra)
{
	m->page_cap = extra == UINT64_MAX ? PAGE_LIMIT_NONE : page_ninuse() + extra;
	m->nreserve0 = page_nreserve();
	page_set_limit(m->page_cap);
}

void md_init(struct model *m, uint64_t seed, unsigned spaces, unsigned pool, unsigned blocks)
{
	memset(m, 0, sizeof(*m));
	rand_seed(&m->rng, seed);
	m->nspaces = spaces < MD_SPACES ? spaces : MD_SPACES;
	m->nsmall = MD_REGULAR;
	m->hment_cap = OBJCACHE_LIMIT_NONE;
	m->page_cap = PAGE_LIMIT_NONE;
	hook_model = m;
	mm_tlb_shootdown_hook = md_shootdown;
	mm_hosted_ncpus = MD_SPACES + 1;
	for (unsigned i = 0; i < pool && i < MD_POOL; i++) {
		page_t *pp = page_alloc(PG_USER);

		if (pp == NULL)
			break;
		check_fresh(m, pp, 1);
		m->pool[m->npool++] = pp;
	}
	for (unsigned b = 0; b < blocks && b < MD_BLOCKS; b++) {
		page_t *pp = page_alloc_large(PG_USER);

		if (pp == NULL)
			break;
		check_fresh(m, pp, MM_LARGE_PAGES);
		m->block[m->nblocks++] = pp;
	}
	for (unsigned s = 0; s < m->nspaces; s++)
		md_create(m, s);
}
