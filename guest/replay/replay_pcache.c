/* SPDX-License-Identifier: BSD-2-Clause */
/* The page cache: one physical page per (file, page offset), shared by every process that maps it; shared anonymous memory too. */
#include "replay_int.h"

static uint64_t cache_index(const struct replay *r, uint64_t obj, uint64_t pgoff)
{
	uint64_t h = (pgoff + (obj << 24) + (obj >> 32)) * 0x9e3779b97f4a7c15ull;

	return (h >> 32) & r->hash_mask;
}

static struct rcache *lookup(struct replay *r, uint64_t obj, uint64_t pgoff)
{
	uint64_t head = parray_get(&r->cache_hash, cache_index(r, obj, pgoff));

	for (struct rcache *c = (struct rcache *)(uintptr_t)head; c; c = c->hnext)
		if (c->obj == obj && c->pgoff == pgoff)
			return c;
	return NULL;
}

/* Reads (obj, pgoff) in: a zeroed page (the replay has no file contents) under a new entry. */
static struct rcache *read_in(struct replay *r, uint64_t obj, uint64_t pgoff)
{
	struct rcache *c = rp_obj(r, &r->cache_oc);

	if (c == NULL)
		return NULL;
	uint64_t *head = rp_word(r, &r->cache_hash, cache_index(r, obj, pgoff));
	page_t *pp = head ? rp_page(r, (uint64_t)(uintptr_t)c | ROWN_CACHE) : NULL;
	if (pp == NULL) {
		objcache_free(&r->cache_oc, c);
		return NULL;
	}
	/* reclaim in rp_page may have emptied this bucket, so read the head only now */
	*c = (struct rcache){ .hnext = (struct rcache *)(uintptr_t)*head, .obj = obj,
			      .pgoff = pgoff, .pfn = (uint32_t)pp->p_pagenum };
	*head = (uint64_t)(uintptr_t)c;
	return c;
}

page_t *pcache_get(struct replay *r, uint64_t obj, uint64_t pgoff, bool *miss)
{
	struct rcache *c = lookup(r, obj, pgoff);

	*miss = c == NULL;
	if (c == NULL)
		c = read_in(r, obj, pgoff);
	return c ? page_from_pfn(c->pfn) : NULL;
}

void pcache_remove(struct replay *r, struct rcache *c)
{
	struct rcache **link = (struct rcache **)parray_at(&r->cache_hash,
							    cache_index(r, c->obj, c->pgoff), false);

	while (*link != c)
		link = &(*link)->hnext;
	*link = c->hnext;
	objcache_free(&r->cache_oc, c);
}

void pcache_drop_all(struct replay *r)
{
	for (uint64_t i = 0; i <= r->hash_mask; i++) {
		uint64_t *head = parray_at(&r->cache_hash, i, false);
		while (head && *head) {
			struct rcache *c = (struct rcache *)(uintptr_t)*head;
			page_t *pp = page_from_pfn(c->pfn);
			hat_pageunload(pp);
			*head = (uint64_t)(uintptr_t)c->hnext;
			objcache_free(&r->cache_oc, c);
			rp_page_free(r, pp);
		}
	}
}
