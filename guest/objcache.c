/* SPDX-License-Identifier: BSD-2-Clause */
/* Object caches: carve PG_KERNEL pages into fixed-size objects kept on a free list. */
#include "objcache.h"

void objcache_init(struct objcache *oc, const char *name, uint32_t size)
{
	uint32_t rounded = (size + 7u) & ~7u;

	MM_REQUIRE(size >= sizeof(void *) && rounded <= MM_PAGE_SIZE);
	*oc = (struct objcache){
		.oc_name = name,
		.oc_size = rounded,
		.oc_per_page = (uint32_t)(MM_PAGE_SIZE / rounded),
		.oc_limit = OBJCACHE_LIMIT_NONE,
	};
}

/* Carves one more page onto the free list; false when no page is left. Cache lock held. */
static bool objcache_grow(struct objcache *oc)
{
	page_t *pp = page_alloc(PG_KERNEL);
	uint8_t *base;

	if (pp == NULL)
		return false;
	base = page_kva(pp);
	for (uint32_t i = oc->oc_per_page; i-- > 0;) {
		void **obj = (void **)(base + (uint64_t)i * oc->oc_size);

		*obj = oc->oc_free;
		oc->oc_free = obj;
	}
	oc->oc_nfree += oc->oc_per_page;
	oc->oc_npages++;
	return true;
}

void *objcache_alloc(struct objcache *oc)
{
	void **obj = NULL;

	mm_lock_enter(&oc->oc_lock);
	if (oc->oc_inuse < oc->oc_limit && (oc->oc_free != NULL || objcache_grow(oc))) {
		obj = oc->oc_free;
		oc->oc_free = *obj;
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

void objcache_free(struct objcache *oc, void *obj)
{
	void **o = obj;

	MM_REQUIRE(obj != NULL);
	mm_lock_enter(&oc->oc_lock);
	MM_REQUIRE(oc->oc_inuse > 0);
	*o = oc->oc_free;
	oc->oc_free = o;
	oc->oc_nfree++;
	oc->oc_inuse--;
	mm_lock_exit(&oc->oc_lock);
}

void objcache_set_limit(struct objcache *oc, uint64_t max_in_use)
{
	mm_lock_enter(&oc->oc_lock);
	oc->oc_limit = max_in_use;
	mm_lock_exit(&oc->oc_lock);
}
