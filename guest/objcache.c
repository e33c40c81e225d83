/* SPDX-License-Identifier: BSD-2-Clause */
/* Object caches: carve PG_KERNEL pages into fixed-size objects, each page with its own free list. */
#include "objcache.h"

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
	return true;
}

/* Takes the first free object of the first page with one. Cache lock held, oc_partial not NULL. */
static void *slab_take(struct objcache *oc)
{
	struct objcache_slab *s = oc->oc_partial;
	uint32_t off = (uint32_t)s->os_free - 1;
	uint8_t *obj = slab_base(s) + off;

	/* a bad link would hand out memory that straddles objects, or lies past the page's */
	MM_GUARD(OC_FREE, s->os_nfree > 0 && s->os_free != 0 && s->os_size == oc->oc_size &&
			  off < oc->oc_per_page * oc->oc_size &&
			  (((uint64_t)off * oc->oc_recip) >> 32) * oc->oc_size == off);
	s->os_free = *(uint16_t *)obj;
	if (--s->os_nfree == 0) {
		oc->oc_partial = s->os_next;
		if (oc->oc_partial == NULL)
			oc->oc_partial_tail = NULL;
	}
	return obj;
}

void *objcache_alloc(struct objcache *oc)
{
	void *obj = NULL;

	mm_lock_enter(&oc->oc_lock);
	/* every free object is on a partial page: none there, none anywhere */
	MM_ASSERT(OC_FREE, oc->oc_partial != NULL || oc->oc_nfree == 0);
	if (oc->oc_inuse < oc->oc_limit && (oc->oc_partial != NULL || objcache_grow(oc))) {
		obj = slab_take(oc);
		oc->oc_nfree--;
		oc->oc_inuse++;
	} else {
		oc->oc_nfail++;
	}
	mm_lock_exit(&oc->oc_lock);
	if (obj != NULL)
		mm_zero(obj, oc->oc_size);
	return obj;
}

/* Puts obj back on its page's free list. Cache lock held. */
static void slab_put(struct objcache *oc, void *obj)
{
	struct objcache_slab *s = slab_of(obj);
	uint64_t off = (uint64_t)((uint8_t *)obj - slab_base(s));

	MM_REQUIRE(oc->oc_inuse > 0 && s->os_nfree < oc->oc_per_page);
	*(uint16_t *)obj = s->os_free;
	s->os_free = (uint16_t)(off + 1);
	if (s->os_nfree++ == 0)
		partial_append(oc, s);
	oc->oc_nfree++;
	oc->oc_inuse--;
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

void objcache_free_n(struct objcache *oc, void *const objs[], unsigned n)
{
	if (n == 0)
		return;
	for (unsigned i = 0; i < n; i++)
		check_own(oc, objs[i]);
	mm_lock_enter(&oc->oc_lock);
	for (unsigned i = 0; i < n; i++)
		slab_put(oc, objs[i]);
	mm_lock_exit(&oc->oc_lock);
}

void objcache_set_limit(struct objcache *oc, uint64_t max_in_use)
{
	mm_lock_enter(&oc->oc_lock);
	oc->oc_limit = max_in_use;
	mm_lock_exit(&oc->oc_lock);
}
