/* SPDX-License-Identifier: BSD-2-Clause */
/* Object caches: carve PG_KERNEL pages into fixed-size objects, each page with its own free list, each CPU with a page's list of its own. */
#include "objcache.h"

#define STEP_INLINE inline __attribute__((always_inline))   /* a per-object step: a call costs as much again */

/*
 * Wholly free pages a cache keeps for its next allocations. When more
 * than a quarter of its pages, and more than twice these, are wholly
 * free, all but these go back to the page allocator: a cache that once
 * held many objects does not keep their pages for good, one that hovers
 * around a page boundary does not give a page back and carve it again on
 * every other call, and the walk that finds them (the partial list) is
 * paid for by the quarter of the pages it gives back.
 */
#define OBJCACHE_IDLE_KEEP 2u

static bool too_many_idle(const struct objcache *oc)
{
	return oc->oc_nidle > 2 * OBJCACHE_IDLE_KEEP && oc->oc_nidle > oc->oc_npages / 4;
}

void objcache_init(struct objcache *oc, const char *name, uint32_t size)
{
	uint32_t rounded = (size + 7u) & ~7u;

	MM_REQUIRE(size >= sizeof(uint16_t) && rounded <= MM_PAGE_SIZE - sizeof(struct objcache_slab));
	*oc = (struct objcache){
		.oc_name = name,
		.oc_size = rounded,
		.oc_recip = (uint32_t)(((1ull << 32) + rounded - 1) / rounded),
		.oc_per_page = (uint32_t)((MM_PAGE_SIZE - sizeof(struct objcache_slab)) / rounded),
		.oc_limit = OBJCACHE_LIMIT_NONE,
	};
}

static struct objcache_slab *slab_of(const void *obj)
{
	uintptr_t base = (uintptr_t)obj & ~(uintptr_t)(MM_PAGE_SIZE - 1);

	return (struct objcache_slab *)(base + MM_PAGE_SIZE - sizeof(struct objcache_slab));
}

static uint8_t *slab_base(struct objcache_slab *s)
{
	return (uint8_t *)s + sizeof(*s) - MM_PAGE_SIZE;
}

/* Puts the page at the end of the cache's pages with free objects. Cache lock held. */
static void partial_append(struct objcache *oc, struct objcache_slab *s)
{
	s->os_next = NULL;
	if (oc->oc_partial_tail != NULL)
		oc->oc_partial_tail->os_next = s;
	else
		oc->oc_partial = s;
	oc->oc_partial_tail = s;
}

/* Carves one more page, its objects free in address order; false when no page is left. Cache lock held. */
static bool objcache_grow(struct objcache *oc)
{
	page_t *pp = page_alloc(PG_KERNEL);
	struct objcache_slab *s;
	uint8_t *base;

	if (pp == NULL)
		return false;
	base = page_kva(pp);
	MM_REQUIRE(((uintptr_t)base & (MM_PAGE_SIZE - 1)) == 0);
	s = slab_of(base);
	for (uint32_t i = 0; i < oc->oc_per_page; i++)
		*(uint16_t *)(base + (uint64_t)i * oc->oc_size) =
			(uint16_t)(i + 1 < oc->oc_per_page ? (i + 1) * oc->oc_size + 1 : 0);
	*s = (struct objcache_slab){ .os_free = 1, .os_nfree = (uint16_t)oc->oc_per_page,
				     .os_size = oc->oc_size };
	partial_append(oc, s);
	oc->oc_nfree += oc->oc_per_page;
	oc->oc_npages++;
	oc->oc_nidle++;
	return true;
}

/* Counts s out of the idle pages when an object is about to leave it. Cache lock held. */
static STEP_INLINE void leaving_idle(struct objcache *oc, const struct objcache_slab *s)
{
	if (s->os_nfree == oc->oc_per_page)
		oc->oc_nidle--;
}

/*
 * Gives the page allocator every wholly free page on the partial list
 * but the first OBJCACHE_IDLE_KEEP. No CPU's list is on such a page: it
 * would hold one of the page's objects. Cache lock held (the allocator's
 * is taken inside it, as objcache_grow does).
 */
static void reap_idle(struct objcache *oc)
{
	struct objcache_slab **link = &oc->oc_partial, *s, *last = NULL;
	unsigned kept = 0;

	while ((s = *link) != NULL) {
		bool idle = s->os_nfree == oc->oc_per_page;

		if (!idle || kept < OBJCACHE_IDLE_KEEP) {
			kept += idle;
			last = s;
			link = &s->os_next;
			continue;
		}
		*link = s->os_next;
		oc->oc_nfree -= oc->oc_per_page;
		oc->oc_nidle--;
		oc->oc_npages--;
		page_free(page_from_pa(mm_kva_to_pa(slab_base(s))));
	}
	oc->oc_partial_tail = last;
}

/*
 * The object *head names in the page at base; *head moves on to the
 * next. The link is checked first: a bad one would hand out memory that
 * straddles objects, or lies past the page's.
 */
static STEP_INLINE void *list_take(const struct objcache *oc, uint8_t *base, uint16_t *head)
{
	uint32_t off = (uint32_t)*head - 1;

	MM_GUARD(OC_FREE, *head != 0 && off < oc->oc_per_page * oc->oc_size &&
			  (((uint64_t)off * oc->oc_recip) >> 32) * oc->oc_size == off);
	*head = *(uint16_t *)(base + off);
	return base + off;
}

/* Puts obj at the front of the list *head of the page at base. */
static STEP_INLINE void list_put(uint8_t *base, uint16_t *head, void *obj)
{
	*(uint16_t *)obj = *head;
	*head = (uint16_t)((uint8_t *)obj - base + 1);
}

/* Takes the first page off the partial list. Cache lock held, oc_partial not NULL. */
static void partial_pop(struct objcache *oc)
{
	oc->oc_partial = oc->oc_partial->os_next;
	if (oc->oc_partial == NULL)
		oc->oc_partial_tail = NULL;
}

/* Takes the first free object of the first page with one. Cache lock held, oc_partial not NULL. */
static void *slab_take(struct objcache *oc)
{
	struct objcache_slab *s = oc->oc_partial;
	void *obj;

	MM_GUARD(OC_FREE, s->os_nfree > 0 && s->os_size == oc->oc_size);
	leaving_idle(oc, s);
	obj = list_take(oc, slab_base(s), &s->os_free);
	if (--s->os_nfree == 0)
		partial_pop(oc);
	return obj;
}

/* oc_lock held; stored atomically: hment_cache_inuse() and the hat cache's count read without the lock. */
static void inuse_add(struct objcache *oc, int64_t delta)
{
	__atomic_store_n(&oc->oc_inuse, oc->oc_inuse + (uint64_t)delta, __ATOMIC_RELAXED);
}

/* An object off the pages, under oc_lock, within the limit; NULL when refused. */
static void *slab_alloc(struct objcache *oc)
{
	void *obj = NULL;

	mm_lock_enter(&oc->oc_lock);
	/* every free object is on a partial page: none there, none anywhere */
	MM_ASSERT(OC_FREE, oc->oc_partial != NULL || oc->oc_nfree == 0);
	if (oc->oc_inuse < oc->oc_limit && (oc->oc_partial != NULL || objcache_grow(oc))) {
		obj = slab_take(oc);
		oc->oc_nfree--;
		inuse_add(oc, 1);
	} else {
		oc->oc_nfail++;
	}
	mm_lock_exit(&oc->oc_lock);
	return obj;
}

/*
 * This CPU's list, locked; NULL when the cache keeps none or has a limit
 * (read under oa_lock: objcache_set_limit empties every list under its
 * lock after setting one).
 */
static struct objcache_cpu *cpu_enter(struct objcache *oc)
{
	struct objcache_cpu *a;

	if (oc->oc_cpus == NULL)
		return NULL;
	a = &oc->oc_cpus[cpu_slot()];
	mm_lock_enter(&a->oa_lock);
	if (__atomic_load_n(&oc->oc_limit, __ATOMIC_RELAXED) == OBJCACHE_LIMIT_NONE)
		return a;
	mm_lock_exit(&a->oa_lock);
	return NULL;
}

/* Stored atomically: objcache_on_cpus() reads every CPU's count without its lock. oa_lock held. */
static void set_count(struct objcache_cpu *a, uint32_t n)
{
	__atomic_store_n(&a->oa_count, (uint16_t)n, __ATOMIC_RELAXED);
}

/* Moves the whole free list of the first page with one to a's empty list; false when no page is left. */
static bool cpu_refill(struct objcache *oc, struct objcache_cpu *a)
{
	struct objcache_slab *s;

	mm_lock_enter(&oc->oc_lock);
	if (oc->oc_partial == NULL && !objcache_grow(oc)) {
		mm_lock_exit(&oc->oc_lock);
		return false;
	}
	s = oc->oc_partial;
	MM_GUARD(OC_FREE, s->os_nfree > 0 && s->os_free != 0 && s->os_size == oc->oc_size);
	leaving_idle(oc, s);
	partial_pop(oc);
	a->oa_slab = s;
	a->oa_free = s->os_free;
	set_count(a, s->os_nfree);
	oc->oc_nfree -= s->os_nfree;
	inuse_add(oc, s->os_nfree);
	s->os_free = 0;
	s->os_nfree = 0;
	mm_lock_exit(&oc->oc_lock);
	return true;
}

void *objcache_alloc_uninit(struct objcache *oc)
{
	struct objcache_cpu *a = cpu_enter(oc);
	void *obj;

	if (a != NULL && (a->oa_count > 0 || cpu_refill(oc, a))) {
		obj = list_take(oc, slab_base(a->oa_slab), &a->oa_free);
		set_count(a, a->oa_count - 1);
		mm_lock_exit(&a->oa_lock);
		return obj;
	}
	if (a != NULL)
		mm_lock_exit(&a->oa_lock);
	return slab_alloc(oc);   /* counts a refusal */
}

void *objcache_alloc(struct objcache *oc)
{
	void *obj = objcache_alloc_uninit(oc);

	if (obj != NULL)
		mm_zero(obj, oc->oc_size);
	return obj;
}

/* Puts obj back on its page's free list. Cache lock held. */
static STEP_INLINE void slab_put(struct objcache *oc, void *obj)
{
	struct objcache_slab *s = slab_of(obj);

	MM_REQUIRE(oc->oc_inuse > 0 && s->os_nfree < oc->oc_per_page);
	list_put(slab_base(s), &s->os_free, obj);
	if (s->os_nfree++ == 0)
		partial_append(oc, s);
	oc->oc_nfree++;
	inuse_add(oc, -1);
	if (s->os_nfree == oc->oc_per_page) {
		oc->oc_nidle++;
		if (too_many_idle(oc))
			reap_idle(oc);
	}
}

/*
 * Panics unless obj is an object of oc's size where one of oc's pages
 * carves one. Divides by multiplying (oc_recip, exact for offsets below
 * a page): a division is tens of cycles, and every freed hment is checked.
 */
static void check_own(const struct objcache *oc, void *obj)
{
	struct objcache_slab *s = slab_of(obj);
	uint64_t off = (uint64_t)((uint8_t *)obj - slab_base(s));

	MM_REQUIRE(obj != NULL);
	MM_REQUIRE(s->os_size == oc->oc_size &&
		   ((off * oc->oc_recip) >> 32) * oc->oc_size == off);
}

void objcache_free(struct objcache *oc, void *obj)
{
	objcache_free_n(oc, &obj, 1);
}

/*
 * This CPU's list, locked, when one of objs is of its page; else NULL
 * (no lock taken: most frees are of pages it has moved on from). Only
 * this CPU sets its oa_slab, so it reads it without the lock.
 */
static struct objcache_cpu *cpu_enter_for(struct objcache *oc, void *const objs[], unsigned n)
{
	struct objcache_slab *mine;

	if (oc->oc_cpus == NULL || cpu_id() >= HAT_MAX_CPUS)
		return NULL;
	mine = oc->oc_cpus[cpu_id()].oa_slab;
	for (unsigned i = 0; i < n; i++)
		if (slab_of(objs[i]) == mine)
			return cpu_enter(oc);
	return NULL;
}

/*
 * Objects of this CPU's page go back on its list; the others on their
 * pages' lists, under one hold of oc_lock.
 */
void objcache_free_n(struct objcache *oc, void *const objs[], unsigned n)
{
	struct objcache_cpu *a;
	bool locked = false;

	if (n == 0)
		return;
	for (unsigned i = 0; i < n; i++)
		check_own(oc, objs[i]);
	a = cpu_enter_for(oc, objs, n);
	for (unsigned i = 0; i < n; i++) {
		if (a != NULL && slab_of(objs[i]) == a->oa_slab) {
			list_put(slab_base(a->oa_slab), &a->oa_free, objs[i]);
			set_count(a, a->oa_count + 1);
			continue;
		}
		if (!locked)
			mm_lock_enter(&oc->oc_lock);
		locked = true;
		slab_put(oc, objs[i]);
	}
	if (locked)
		mm_lock_exit(&oc->oc_lock);
	if (a != NULL)
		mm_lock_exit(&a->oa_lock);
}

void objcache_per_cpu(struct objcache *oc, struct objcache_cpu cpus[HAT_MAX_CPUS])
{
	for (unsigned i = 0; i < HAT_MAX_CPUS; i++)
		cpus[i] = (struct objcache_cpu){ .oa_slab = NULL };
	oc->oc_cpus = cpus;
}

uint64_t objcache_on_cpus(const struct objcache *oc)
{
	uint64_t n = 0;

	for (unsigned i = 0; oc->oc_cpus != NULL && i < HAT_MAX_CPUS; i++)
		n += __atomic_load_n(&oc->oc_cpus[i].oa_count, __ATOMIC_RELAXED);
	return n;
}

/* Gives a CPU's list back to its page. oa_lock held. */
static void cpu_drain(struct objcache *oc, struct objcache_cpu *a)
{
	mm_lock_enter(&oc->oc_lock);
	for (; a->oa_count > 0; set_count(a, a->oa_count - 1))
		slab_put(oc, list_take(oc, slab_base(a->oa_slab), &a->oa_free));
	mm_lock_exit(&oc->oc_lock);
}

void objcache_set_limit(struct objcache *oc, uint64_t max_in_use)
{
	mm_lock_enter(&oc->oc_lock);
	__atomic_store_n(&oc->oc_limit, max_in_use, __ATOMIC_RELAXED);
	mm_lock_exit(&oc->oc_lock);
	/* a limit counts what callers hold: nothing may stay on a CPU's list, where oc_inuse counts it */
	for (unsigned i = 0; max_in_use != OBJCACHE_LIMIT_NONE && oc->oc_cpus != NULL && i < HAT_MAX_CPUS; i++) {
		struct objcache_cpu *a = &oc->oc_cpus[i];

		mm_lock_enter(&a->oa_lock);
		cpu_drain(oc, a);
		mm_lock_exit(&a->oa_lock);
	}
}
