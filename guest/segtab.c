/* SPDX-License-Identifier: BSD-2-Clause */
/* Table-page tree of each address space (after NetBSD pmap_segtab.c): lookup, reserve with CAS, process, prune, the zero-checked cache. */
#include "segtab.h"

#define PTP_CACHE_MAX_DEFAULT 32

struct ptp_cache segtab_ptp_cache;
void (*segtab_race_hook)(struct hat *h, uint64_t va);
struct segtab_stats segtab_stats;

void segtab_init(void)
{
	segtab_ptp_cache = (struct ptp_cache){ .pc_max = PTP_CACHE_MAX_DEFAULT };
	segtab_race_hook = NULL;
	segtab_stats = (struct segtab_stats){ 0 };
}

/* Panics unless every entry of the table page is zero (ST_FREE_ZERO). */
static void segtab_check_zero(const page_t *ptp, const char *who)
{
	const pte_t *t = ptp_table(ptp);
	uint64_t i = mm_find_nonzero(t, MM_PTES);

	if (i < MM_PTES)
		MM_PANIC(ST_FREE_ZERO, "%s: table page pfn 0x%x entry %u is 0x%" PRIx64 ", not 0",
			 who, ptp->p_pagenum, (unsigned)i, t[i]);
}

/* First VA a level-l table holding va maps. */
static uint64_t table_base(uint64_t va, unsigned l)
{
	if (l == MM_LEVELS)
		return 0;
	return x86_va_sign_extend(va & ~(mm_level_size(l + 1) - 1));
}

/* Takes the cache's first page (NULL when empty). Cache lock held. */
static page_t *ptp_cache_take(struct ptp_cache *c)
{
	page_t *ptp = c->pc_head;

	if (ptp != NULL) {
		c->pc_head = ptp->p_next;
		c->pc_count--;
		ptp->p_kind = PG_PTP;
		ptp->p_next = NULL;
	}
	return ptp;
}

/* Pops the cache; NULL when empty. */
static page_t *ptp_cache_get(void)
{
	struct ptp_cache *c = &segtab_ptp_cache;
	page_t *ptp;

	mm_lock_enter(&c->pc_lock);
	ptp = ptp_cache_take(c);
	mm_lock_exit(&c->pc_lock);
	return ptp;
}

page_t *segtab_ptp_alloc(struct hat *h, unsigned level, uint64_t va)
{
	page_t *ptp = ptp_cache_get();

	MM_REQUIRE(level >= 1 && level <= MM_LEVELS);
	if (ptp != NULL) {
		ptp->p_next = NULL;
		segtab_check_zero(ptp, "segtab_ptp_alloc (cached page)");
		__atomic_fetch_add(&segtab_stats.ptp_cached, 1, __ATOMIC_RELAXED);
	} else {
		/* the kernel's tables may take the emergency reserve: kernel mapping fails last */
		ptp = (h->h_flags & HAT_F_KERNEL) ? page_alloc_reserve(PG_PTP) : page_alloc(PG_PTP);
		if (ptp == NULL)
			return NULL;
		__atomic_fetch_add(&segtab_stats.ptp_new, 1, __ATOMIC_RELAXED);
	}
	ptp->p_hat = h;
	ptp->p_level = (uint8_t)level;
	ptp->p_ptva = table_base(va, level);
	ptp->p_valid = 0;
	__atomic_fetch_add(&h->h_nptp, 1, __ATOMIC_RELAXED);
	return ptp;
}

void segtab_ptp_free(page_t *ptp)
{
	struct ptp_cache *c = &segtab_ptp_cache;
	struct hat *owner = ptp->p_hat;

	MM_REQUIRE(ptp->p_kind == PG_PTP && page_pfn_managed(ptp->p_pagenum));
	segtab_check_zero(ptp, "segtab_ptp_free");
	MM_ASSERT(PT_VALID_CNT, ptp->p_valid == 0);
	MM_ASSERT(ST_LOCKED, ptp->p_lockcnt == 0);
	MM_REQUIRE(ptp->p_busy == 0);
	if (owner != NULL)
		__atomic_fetch_sub(&owner->h_nptp, 1, __ATOMIC_RELAXED);
	ptp->p_hat = NULL;
	ptp->p_level = 0;
	ptp->p_ptva = 0;
	__atomic_fetch_add(&segtab_stats.ptp_freed, 1, __ATOMIC_RELAXED);
	mm_lock_enter(&c->pc_lock);
	if (c->pc_count < c->pc_max) {
		ptp->p_kind = PG_CACHE;
		ptp->p_next = c->pc_head;
		c->pc_head = ptp;
		c->pc_count++;
		ptp = NULL;
	}
	MM_ASSERT(ST_FREE_ZERO, c->pc_count <= c->pc_max);
	mm_lock_exit(&c->pc_lock);
	if (ptp != NULL)
		page_free(ptp);
}

void segtab_cache_drain(void)
{
	page_t *ptp;

	while ((ptp = ptp_cache_get()) != NULL) {
		segtab_check_zero(ptp, "segtab_cache_drain");
		page_free(ptp);
	}
}

/*
 * A lower maximum trims the cache in the same hold of its lock, so
 * pc_count <= pc_max whenever the lock is free (ST_FREE_ZERO).
 */
void segtab_set_cache_max(uint64_t max)
{
	struct ptp_cache *c = &segtab_ptp_cache;
	page_t *excess = NULL, *ptp;

	mm_lock_enter(&c->pc_lock);
	c->pc_max = max;
	while (c->pc_count > max && (ptp = ptp_cache_take(c)) != NULL) {
		ptp->p_next = excess;
		excess = ptp;
	}
	mm_lock_exit(&c->pc_lock);
	while ((ptp = excess) != NULL) {
		excess = ptp->p_next;
		ptp->p_next = NULL;
		segtab_check_zero(ptp, "segtab_set_cache_max");
		page_free(ptp);
	}
}

/* The table page a present non-leaf entry v (at level l, for va) points at, checked. */
static page_t *segtab_child(const struct hat *h, pte_t v, unsigned l, uint64_t va)
{
	page_t *c = page_from_pa(v & PTE_FRAME);

	MM_ASSERT(PT_RSVD, (v & PTE_PS) == 0);
	MM_ASSERT(PT_NONLEAF, (v & (PTE_W | PTE_U | PTE_NX | PTE_PCD | PTE_PWT)) ==
			      (PTE_W | (va_in_user(va) ? PTE_U : 0)));
	MM_GUARD(PT_PTP_RANGE, c != NULL);
	MM_ASSERT(PT_PTP_OWNER, c->p_kind == PG_PTP && c->p_level == l - 1);
	if (va_in_user(va))
		MM_ASSERT(PT_PTP_OWNER, c->p_hat == h);
	else
		MM_ASSERT(PT_PTP_OWNER, c->p_hat != NULL && (c->p_hat->h_flags & HAT_F_KERNEL));
	return c;
}

/*
 * The space whose lock each CPU holds shared (segtab_shared_begin), or
 * NULL; a cache line each, as every CPU writes its own at every fault.
 */
static struct {
	const struct hat *h;
	uint8_t pad[MM_CACHE_LINE - sizeof(const struct hat *)];
} shared_holder[HAT_MAX_CPUS] __attribute__((aligned(MM_CACHE_LINE)));

void segtab_shared_begin(const struct hat *h)
{
	shared_holder[cpu_id()].h = h;
}

void segtab_shared_end(void)
{
	shared_holder[cpu_id()].h = NULL;
}

/* This CPU holds h's lock, exclusive or shared: h's tables stay in its tree meanwhile. */
static bool holds_lock(const struct hat *h)
{
	return mm_lock_held(&h->h_lock) || shared_holder[cpu_id()].h == h;
}

/*
 * The walk hint (h_hint): the user 4 KiB table the last walk of h under
 * its lock reached. Loads of neighbouring pages, the common run of faults,
 * then find their table without walking four levels. Read and set only
 * under h's lock (shared: by several CPUs at once, each naming a table of
 * h), dropped when pruning (under the exclusive lock) detaches that table,
 * the only way a table leaves the tree, so it never names a table that is
 * not h's.
 */
static pte_t *hinted_entry(const struct hat *h, uint64_t va, page_t **ptpp)
{
	page_t *ptp = __atomic_load_n(&h->h_hint, __ATOMIC_ACQUIRE);

	if (ptp == NULL || ptp->p_ptva != table_base(va, 1) || !holds_lock(h))
		return NULL;
	MM_ASSERT(PT_PTP_OWNER, ptp->p_kind == PG_PTP && ptp->p_level == 1 && ptp->p_hat == h);
	*ptpp = ptp;
	return &ptp_table(ptp)[MM_VA_INDEX(va, 1)];
}

static void hint_set(struct hat *h, uint64_t va, page_t *ptp)
{
	if (va_in_user(va) && holds_lock(h))
		__atomic_store_n(&h->h_hint, ptp, __ATOMIC_RELEASE);
}

pte_t *segtab_walk(struct hat *h, uint64_t va, unsigned *levelp, page_t **ptpp)
{
	unsigned target = *levelp;
	page_t *ptp = h->h_top;
	pte_t *hinted;

	MM_REQUIRE(target >= 1 && target <= MM_LEVELS);
	if (target == 1 && (hinted = hinted_entry(h, va, ptpp)) != NULL)
		return hinted;
	for (unsigned l = MM_LEVELS; l > target; l--) {
		pte_t v = pte_load(&ptp_table(ptp)[MM_VA_INDEX(va, l)]);

		if ((v & PTE_P) == 0)
			return NULL;
		if (v & PTE_PS) {
			MM_ASSERT(PT_RSVD, l == 2);
			*levelp = l;
			*ptpp = ptp;
			return &ptp_table(ptp)[MM_VA_INDEX(va, l)];
		}
		ptp = segtab_child(h, v, l, va);
	}
	if (target == 1)
		hint_set(h, va, ptp);
	*ptpp = ptp;
	return &ptp_table(ptp)[MM_VA_INDEX(va, target)];
}

/*
 * Makes entry e of ptp (level l) point at a new table for va. Returns the
 * entry's value afterwards (ours, or the winner's when another CPU
 * installed one first), or 0 when no page is left.
 */
static pte_t segtab_install(struct hat *h, page_t *ptp, pte_t *e, unsigned l, uint64_t va)
{
	pte_t expected = 0, nv;
	page_t *np;

	if (l == MM_LEVELS && !va_in_user(va))
		MM_PANIC(PT_KERNEL_HALF, "PML4 entry %u for va 0x%" PRIx64
		         " is missing: kernel-half "
			 "tables are made at boot only", MM_VA_INDEX(va, l), va);
	np = segtab_ptp_alloc(h, l - 1, va);
	if (np == NULL)
		return 0;
	if (segtab_race_hook != NULL)
		segtab_race_hook(h, va);
	nv = page_pa(np) | PTE_P | PTE_W | (va_in_user(va) ? PTE_U : 0);
	if (__atomic_compare_exchange_n(e, &expected, nv, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		ptp_valid_inc(ptp);
		return nv;
	}
	/* another CPU installed a table first: return our page, use theirs */
	__atomic_fetch_add(&segtab_stats.cas_lost, 1, __ATOMIC_RELAXED);
	segtab_ptp_free(np);
	MM_ASSERT(PT_PTP_RANGE, (expected & PTE_P) != 0);
	return expected;
}

pte_t *segtab_reserve(struct hat *h, uint64_t va, unsigned level, page_t **ptpp)
{
	page_t *ptp = h->h_top;
	pte_t *hinted;

	MM_REQUIRE(level >= 1 && level < MM_LEVELS);
	if (level == 1 && (hinted = hinted_entry(h, va, ptpp)) != NULL)
		return hinted;
	for (unsigned l = MM_LEVELS; l > level; l--) {
		pte_t *e = &ptp_table(ptp)[MM_VA_INDEX(va, l)];
		pte_t v = pte_load(e);

		if ((v & PTE_P) == 0 && (v = segtab_install(h, ptp, e, l, va)) == 0)
			return NULL;
		if (v & PTE_PS)
			panic("segtab_reserve: va 0x%" PRIx64 " level %u lies inside a 2 MiB leaf",
			      va, level);
		ptp = segtab_child(h, v, l, va);
	}
	if (level == 1)
		hint_set(h, va, ptp);
	*ptpp = ptp;
	return &ptp_table(ptp)[MM_VA_INDEX(va, level)];
}

/* End of the level-l entry holding va, clipped to eva. */
static uint64_t entry_end(uint64_t va, unsigned l, uint64_t eva)
{
	uint64_t next = (va | (mm_level_size(l) - 1)) + 1;

	return (next == 0 || next > eva) ? eva : next;
}

/* Present kernel-half entries of every user PML4 (fixed since boot; set by segtab_top_init). */
static unsigned segtab_kernel_valid;

/* segtab_kernel_valid, which every hat_create on any CPU writes (the same value each time). */
static unsigned kernel_valid(void)
{
	return __atomic_load_n(&segtab_kernel_valid, __ATOMIC_RELAXED);
}

void ptp_scan_init(struct ptp_scan *s, const page_t *ptp, unsigned from, unsigned to)
{
	unsigned valid = __atomic_load_n(&ptp->p_valid, __ATOMIC_ACQUIRE);
	bool user_top = ptp->p_level == MM_LEVELS && ptp->p_hat != NULL &&
			!(ptp->p_hat->h_flags & HAT_F_KERNEL);
	unsigned kernel = kernel_valid();

	if (user_top && to <= MM_PML4_KERNEL && valid >= kernel)
		valid -= kernel;
	s->t = ptp_table(ptp);
	s->i = from;
	s->end = to;
	s->left = valid;
	s->seen = 0;
}

int ptp_scan_next(struct ptp_scan *s, pte_t *vp)
{
	while (s->left > 0 && s->i < s->end) {
		pte_t v = pte_load(&s->t[s->i]);

		if (v == 0) {
			/* a run of empty entries goes by in one block compare (repe scasq in the guest) */
			s->i += (unsigned)mm_find_nonzero(&s->t[s->i], s->end - s->i);
			continue;
		}
		s->seen++;
		s->i++;
		if (v & PTE_P) {
			s->left--;
			*vp = v;
			return (int)s->i - 1;
		}
	}
	/* one shared-counter update per scan, not per entry */
	__atomic_fetch_add(&segtab_stats.examined, s->seen, __ATOMIC_RELAXED);
	s->seen = 0;
	return -1;
}

void segtab_top_init(page_t *top, const page_t *src)
{
	const pte_t *s = ptp_table(src);
	pte_t *d = ptp_table(top);
	unsigned n = 0;

	for (unsigned i = MM_PML4_KERNEL; i < MM_PTES; i++) {
		d[i] = s[i];
		if (s[i] & PTE_P) {
			ptp_valid_inc(top);
			n++;
		}
	}
	__atomic_store_n(&segtab_kernel_valid, n, __ATOMIC_RELAXED);   /* the same n every time */
}

/* One range walk: process, optionally prune (freed != NULL), optionally drain. */
struct segtab_walker {
	struct hat *h;
	segtab_fn fn;
	void *arg;
	page_t **freed;
	bool drain;
};

/*
 * After the walk below child c (entry e of ptp, for va): detaches c if it
 * is empty. Drains only a table the range covers whole: one with entries
 * outside the range may never empty.
 */
static void walk_detach(struct segtab_walker *w, page_t *ptp, pte_t *e, page_t *c, uint64_t va,
			bool covered)
{
	if (ptp->p_level == MM_LEVELS && !va_in_user(va))
		return;   /* kernel-half tables are permanent */
	if (w->drain && covered)
		while (__atomic_load_n(&c->p_valid, __ATOMIC_ACQUIRE) != 0)
			mm_cpu_relax();
	if (ptp_busy(c))
		return;   /* a memload is filling it */
	if (__atomic_load_n(&c->p_valid, __ATOMIC_ACQUIRE) != 0)
		return;
	pte_store(e, 0);
	ptp_valid_dec(ptp);
	if (__atomic_load_n(&w->h->h_hint, __ATOMIC_RELAXED) == c)
		__atomic_store_n(&w->h->h_hint, NULL, __ATOMIC_RELAXED);
	c->p_next = *w->freed;
	*w->freed = c;
}

/* The walk below one table page; [va, eva) lies inside what ptp maps. */
static void walk_table(struct segtab_walker *w, page_t *ptp, uint64_t va, uint64_t eva)
{
	unsigned l = ptp->p_level;
	struct ptp_scan s;
	pte_t v;
	int i;

	if (l == 1) {
		if (w->fn != NULL)
			w->fn(w->h, ptp, 1, va, eva, w->arg);
		return;
	}
	ptp_scan_init(&s, ptp, MM_VA_INDEX(va, l), MM_VA_INDEX(eva - 1, l) + 1);
	while ((i = ptp_scan_next(&s, &v)) >= 0) {
		uint64_t first = ptp_entry_va(ptp, (unsigned)i), lo, hi;
		page_t *c;

		lo = first < va ? va : first;
		hi = entry_end(lo, l, eva);
		if (l == 2 && (v & PTE_PS)) {
			if (w->fn != NULL)
				w->fn(w->h, ptp, 2, lo, hi, w->arg);
			continue;
		}
		c = segtab_child(w->h, v, l, lo);
		walk_table(w, c, lo, hi);
		if (w->freed != NULL)
			walk_detach(w, ptp, &ptp_table(ptp)[i], c, lo,
				    lo == first && hi - lo == mm_level_size(l));
	}
}

void segtab_process(struct hat *h, uint64_t sva, uint64_t eva, segtab_fn fn, void *arg)
{
	struct segtab_walker w = { .h = h, .fn = fn, .arg = arg };

	MM_REQUIRE(sva < eva);
	walk_table(&w, h->h_top, sva, eva);
}

page_t *segtab_process_prune(struct hat *h, uint64_t sva, uint64_t eva, segtab_fn fn, void *arg,
			     bool drain)
{
	page_t *freed = NULL;
	struct segtab_walker w = { .h = h, .fn = fn, .arg = arg, .freed = &freed, .drain = drain };

	MM_REQUIRE(sva < eva);
	walk_table(&w, h->h_top, sva, eva);
	return freed;
}

page_t *segtab_prune(struct hat *h, uint64_t sva, uint64_t eva)
{
	return segtab_process_prune(h, sva, eva, NULL, NULL, false);
}

unsigned segtab_free_list(page_t *list)
{
	unsigned n = 0;

	for (; list != NULL; n++) {
		page_t *next = list->p_next;

		list->p_next = NULL;
		segtab_ptp_free(list);
		list = next;
	}
	return n;
}

void segtab_destroy(struct hat *h)
{
	page_t *top = h->h_top;
	pte_t *t = ptp_table(top);

	/* the user half is empty when only the kernel half is counted; look closer only if not */
	if (top->p_valid != kernel_valid())
		for (unsigned i = 0; i < MM_PML4_KERNEL; i++)
			if (t[i] != 0)
				MM_PANIC(ST_ACCOUNT, "segtab_destroy: address space %u PML4 entry %u "
					 "still in use (0x%" PRIx64 ")", h->h_id, i, t[i]);
	for (unsigned i = MM_PML4_KERNEL; i < MM_PTES; i++) {
		if (t[i] & PTE_P) {
			pte_store(&t[i], 0);
			ptp_valid_dec(top);
		}
	}
	segtab_ptp_free(top);
	h->h_top = NULL;
	h->h_top_pa = 0;
	MM_ASSERT(ST_ACCOUNT, h->h_nptp == 0);
}

uint64_t segtab_boot_table(uint64_t top_pa, uint64_t va, unsigned level)
{
	uint64_t pa = top_pa;

	for (unsigned l = MM_LEVELS; l > level; l--) {
		pte_t *e = (pte_t *)mm_boot_ptr(pa) + MM_VA_INDEX(va, l);

		if ((*e & PTE_P) == 0)
			*e = page_boot_alloc(1) | PTE_P | PTE_W | (va_in_user(va) ? PTE_U : 0);
		MM_REQUIRE((*e & PTE_PS) == 0);
		pa = *e & PTE_FRAME;
	}
	return pa;
}

void segtab_boot_map(uint64_t top_pa, uint64_t va, unsigned level, pte_t leaf)
{
	pte_t *t = mm_boot_ptr(segtab_boot_table(top_pa, va, level));

	t[MM_VA_INDEX(va, level)] = leaf;
}

/* Marks one boot-built table page and those below it; returns how many. */
static uint64_t adopt_table(struct hat *h, page_t *ptp, unsigned l, uint64_t ptva)
{
	const pte_t *t = ptp_table(ptp);
	uint64_t n = 1;
	unsigned valid = 0;

	MM_REQUIRE(ptp->p_kind == PG_RESERVED || ptp->p_kind == PG_PTP);
	ptp->p_kind = PG_PTP;
	ptp->p_level = (uint8_t)l;
	ptp->p_hat = h;
	ptp->p_ptva = ptva;
	for (unsigned i = 0; i < MM_PTES; i++) {
		pte_t v = t[i];

		if ((v & PTE_P) == 0)
			continue;
		valid++;
		if (l > 1 && !(v & PTE_PS)) {
			page_t *c = page_from_pa(v & PTE_FRAME);

			MM_GUARD(PT_PTP_RANGE, c != NULL);
			n += adopt_table(h, c, l - 1, x86_table_entry_va(ptva, l, i));
		}
	}
	ptp->p_valid = (uint16_t)valid;
	return n;
}

void segtab_adopt(struct hat *h)
{
	h->h_nptp = adopt_table(h, h->h_top, MM_LEVELS, 0);
}
