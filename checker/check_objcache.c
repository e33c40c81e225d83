/* SPDX-License-Identifier: BSD-2-Clause */
/* The MM's object caches (hments, address spaces): every object out held where it belongs (OC_LEAK), every free one reachable (OC_FREE). */
#include "check_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SLAB_MAX_OBJECTS ((MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE) / 8)   /* objects are 8 bytes at least */
#define SLAB_WORDS (SLAB_MAX_OBJECTS / 64 + 1)

/* A page's objects as a free-list walk met them: a bit per object index. */
struct slab_seen {
	uint64_t slab;   /* the page's header VA; 0: none */
	uint64_t bits[SLAB_WORDS];
};

/* One cache the guest exports: its descriptor, where it is, what it holds. */
struct cache_ref {
	const struct objcache *oc;
	uint64_t va;
	const char *what;
};

/*
 * One cache: `out` objects handed out (oc_inuse less the `parked` ones
 * on the CPUs' lists), `found` held where they belong. At a checkpoint
 * no operation holds one in flight, so more out is a leak (taken off its
 * list or hat_list, never given back) and fewer a cache that lost count.
 */
static void compare_out(struct checker *c, const struct cache_ref *k, uint64_t parked, uint64_t found,
			const char *where)
{
	uint64_t out = k->oc->oc_inuse - parked;   /* parked <= oc_inuse (cpu_lists) */

	if (out > found)
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, k->va, REPORT_NONE,
			       "the %s cache has %" PRIu64 " out, %" PRIu64 " %s: %" PRIu64 " leaked",
			       k->what, out, found, where, out - found);
	else if (out < found)
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, k->va, REPORT_NONE,
			       "the %s cache has %" PRIu64 " out, but %" PRIu64 " %s", k->what, out, found,
			       where);
}

/*
 * The cache's shape: objects that fit a page beside the header, as
 * objcache_init makes them. Every free-list walk divides by oc_size and
 * marks objects below oc_per_page in a bitmap sized for a page: none
 * may start without it.
 */
static bool shape_fits(const struct objcache *oc)
{
	return oc->oc_size >= 8 && oc->oc_size % 8 == 0 && oc->oc_size <= MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE &&
	       oc->oc_per_page == (MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE) / oc->oc_size;
}

/* shape_fits(), reported (OC_FREE) when not. */
static bool shape_sane(struct checker *c, const struct cache_ref *k)
{
	const struct objcache *oc = k->oc;

	if (shape_fits(oc))
		return true;
	sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, k->va, REPORT_NONE,
		       "the %s cache's objects are %u bytes, %u to a page: not a shape objcache_init makes",
		       k->what, oc->oc_size, oc->oc_per_page);
	return false;
}

/* The page whose header is at slab_va. */
static uint64_t slab_page(uint64_t slab_va)
{
	return slab_va + OBJCACHE_SLAB_SIZE - (uint64_t)MM_PAGE_SIZE;
}

/*
 * The free list from `link` in the page held in `page`: its length, or
 * -1 when it is not sound (reported). *met gets the objects met.
 */
static int64_t free_list(struct checker *c, const struct cache_ref *k, uint64_t slab_va,
			 const uint8_t page[MM_PAGE_SIZE], uint16_t link, struct slab_seen *met)
{
	const struct objcache *oc = k->oc;
	uint64_t *seen = met->bits;
	int64_t n = 0;

	*met = (struct slab_seen){ .slab = slab_va };

	while (link != 0) {
		uint32_t off = (uint32_t)link - 1, i = off / oc->oc_size;

		if (off % oc->oc_size != 0 || i >= oc->oc_per_page || bit_test(seen, i)) {
			sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, slab_va, REPORT_NONE,
				       "%s cache page 0x%" PRIx64 ": free-list link 0x%x is not an object of it, "
				       "or one met before", k->what, slab_page(slab_va), off + 1);
			return -1;
		}
		memcpy(&link, page + off, sizeof(link));   /* off < oc_per_page * oc_size: inside the page */
		bit_set(seen, i);
		n++;
	}
	return n;
}

/*
 * OC_FREE: the objects met on one free list (`what`) against those on
 * the first ncpus CPUs' lists met before on the same page (a CPU's list
 * is compared with those before it, a page's own list with all): an
 * object on two lists at once (a double free) would be handed out twice.
 */
static void on_two_lists(struct checker *c, const struct cache_ref *k, const struct slab_seen *met,
			 const struct slab_seen cpus[HAT_MAX_CPUS], unsigned ncpus, const char *what)
{
	for (unsigned j = 0; j < ncpus; j++) {
		if (cpus[j].slab != met->slab)
			continue;
		for (unsigned w = 0; w < SLAB_WORDS; w++) {
			uint64_t both = met->bits[w] & cpus[j].bits[w];

			if (both == 0)
				continue;
			sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, met->slab, REPORT_NONE,
				       "%s cache page 0x%" PRIx64 ": object 0x%" PRIx64 " is on %s and on CPU %u's "
				       "list at once", k->what, slab_page(met->slab),
				       slab_page(met->slab) + (uint64_t)(w * 64 + (unsigned)__builtin_ctzll(both)) * k->oc->oc_size,
				       what, j);
			return;
		}
	}
}

/* Reads the cache page whose header is at slab_va whole, header and all; false (reported as `who`'s) when it is not one in RAM. */
static bool read_slab(struct checker *c, const struct cache_ref *k, uint64_t slab_va, const char *who,
		      uint8_t page[MM_PAGE_SIZE], struct objcache_slab *s)
{
	if ((slab_va & (MM_PAGE_SIZE - 1)) != MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE ||
	    !reader_read_va(&c->view.rd, slab_page(slab_va), page, MM_PAGE_SIZE)) {
		sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, slab_va, REPORT_NONE,
			       "%s of the %s cache names 0x%" PRIx64 ", no page header in RAM", who, k->what,
			       slab_va);
		return false;
	}
	memcpy(s, page + MM_PAGE_SIZE - OBJCACHE_SLAB_SIZE, sizeof(*s));
	return true;
}

/*
 * CPU i's list (a): unlocked at a checkpoint (LK_QUIESCENT), on a page
 * of the cache, as long as it counts (OC_FREE). Returns its objects, or
 * -1 when they cannot be counted.
 */
static int64_t cpu_list(struct checker *c, const struct cache_ref *k, unsigned i, const struct objcache_cpu *a,
			struct slab_seen cpus[HAT_MAX_CPUS])
{
	uint8_t page[MM_PAGE_SIZE];
	struct objcache_slab s;
	char what[32];
	int64_t n;

	if (a->oa_lock.ml_locked != 0 || a->oa_lock.ml_owner != 0)
		sink_violation(&c->sink, INV_LK_QUIESCENT, REPORT_NONE, k->oc->oc_cpus, REPORT_NONE,
			       "CPU %u's list of the %s cache is locked at a checkpoint", i, k->what);
	if (a->oa_free == 0 && a->oa_count == 0)
		return 0;
	if (!read_slab(c, k, a->oa_slab, "a CPU's list", page, &s))
		return -1;
	if (s.os_size != k->oc->oc_size) {
		sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, a->oa_slab, REPORT_NONE,
			       "CPU %u's list of the %s cache is on page 0x%" PRIx64 " of %u-byte objects, not %u",
			       i, k->what, slab_page(a->oa_slab), s.os_size, k->oc->oc_size);
		return -1;
	}
	if ((n = free_list(c, k, a->oa_slab, page, a->oa_free, &cpus[i])) < 0) {
		cpus[i].slab = 0;   /* reported: what it met is no list to compare with */
		return -1;
	}
	snprintf(what, sizeof(what), "CPU %u's list", i);
	on_two_lists(c, k, &cpus[i], cpus, i, what);
	if ((uint64_t)n == a->oa_count)
		return n;
	sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, a->oa_slab, REPORT_NONE,
		       "CPU %u's list of the %s cache counts %u objects, %" PRId64 " are on it", i, k->what,
		       a->oa_count, n);
	return -1;
}

/*
 * The CPUs' lists (none: 0): the objects on them, or -1 when they cannot
 * be read or hold more than the cache has out (OC_LEAK: what callers
 * hold is then unknown).
 */
static int64_t cpu_lists(struct checker *c, const struct cache_ref *k, struct slab_seen met[HAT_MAX_CPUS])
{
	struct objcache_cpu cpus[HAT_MAX_CPUS];
	uint64_t parked = 0;
	bool sound = true;

	if (k->oc->oc_cpus == 0)
		return 0;
	if (!shape_fits(k->oc))
		return -1;   /* check_free_objects reports the shape */
	if (!reader_read_va(&c->view.rd, k->oc->oc_cpus, cpus, sizeof(cpus))) {
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, k->oc->oc_cpus, REPORT_NONE,
			       "the %s cache's lists per CPU cannot be read", k->what);
		return -1;
	}
	for (unsigned i = 0; i < HAT_MAX_CPUS; i++) {
		int64_t n = cpu_list(c, k, i, &cpus[i], met);

		sound = sound && n >= 0;
		parked += n < 0 ? 0 : (uint64_t)n;
	}
	if (!sound)
		return -1;
	if (parked <= k->oc->oc_inuse)
		return (int64_t)parked;
	sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, k->va, REPORT_NONE,
		       "the %s cache has %" PRIu64 " out, fewer than the %" PRIu64 " on its CPUs' lists",
		       k->what, k->oc->oc_inuse, parked);
	return -1;
}

/* One page on the partial list, read whole once: its header and free list; its free objects, or -1 when the walk must stop. */
static int64_t partial_page(struct checker *c, const struct cache_ref *k, uint64_t slab_va,
			    uint64_t *next, const struct slab_seen cpus[HAT_MAX_CPUS])
{
	uint8_t page[MM_PAGE_SIZE];
	struct objcache_slab s;
	struct slab_seen met;
	int64_t n;

	if (!read_slab(c, k, slab_va, "the partial list", page, &s))
		return -1;
	*next = s.os_next;
	if ((n = free_list(c, k, slab_va, page, s.os_free, &met)) < 0)
		return 0;
	on_two_lists(c, k, &met, cpus, HAT_MAX_CPUS, "its page's free list");
	if (s.os_size != k->oc->oc_size || s.os_nfree == 0 || (uint64_t)n != s.os_nfree)
		sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, slab_va, REPORT_NONE,
			       "%s cache page 0x%" PRIx64 " on the partial list: os_size %u (the cache's %u), "
			       "os_nfree %u, %" PRId64 " objects on its free list", k->what,
			       slab_page(slab_va), s.os_size, k->oc->oc_size,
			       s.os_nfree, n);
	return n;
}

/*
 * OC_FREE: the partial list (Brent, at most oc_npages pages) holds every
 * free object: a page off it with a free object (a free that did not put
 * the page back, a take that dropped it early) hides that object for good.
 * The wholly free pages on it are oc_nidle: what decides when pages go
 * back to the page allocator.
 */
static void check_free_objects(struct checker *c, const struct cache_ref *k, const struct slab_seen cpus[HAT_MAX_CPUS])
{
	const struct objcache *oc = k->oc;
	uint64_t node = oc->oc_partial, last = 0, pages = 0, nfree = 0, idle = 0;
	struct brent b;

	if (!shape_sane(c, k))
		return;
	brent_init(&b);
	for (; node != 0; pages++) {
		uint64_t here = node;
		int64_t n;

		if (brent_step(&b, node) || pages >= oc->oc_npages || pages >= c->view.ram_pages) {
			sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, k->va, REPORT_NONE,
				       "the %s cache's partial list does not end within its %" PRIu64 " pages",
				       k->what, oc->oc_npages);
			return;
		}
		if (check_work(c, 1) || (n = partial_page(c, k, node, &node, cpus)) < 0)
			return;
		nfree += (uint64_t)n;
		idle += (uint64_t)n == oc->oc_per_page;
		last = here;
	}
	if (oc->oc_partial_tail != last)
		sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, k->va, REPORT_NONE,
			       "the %s cache's oc_partial_tail is 0x%" PRIx64 ", its partial list ends at 0x%"
			       PRIx64, k->what, oc->oc_partial_tail, last);
	if (nfree != oc->oc_nfree)
		sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, k->va, REPORT_NONE,
			       "the %s cache counts %" PRIu64 " objects free, its partial pages hold %" PRIu64,
			       k->what, oc->oc_nfree, nfree);
	if (idle != oc->oc_nidle)
		sink_violation(&c->sink, INV_OC_FREE, REPORT_NONE, k->va, REPORT_NONE,
			       "the %s cache counts %" PRIu64 " pages wholly free, its partial list holds %" PRIu64,
			       k->what, oc->oc_nidle, idle);
}

void check_object_caches(struct checker *c)
{
	const struct mm_view *v = &c->view;
	const struct cache_ref hments = { &v->hcache, v->sym.hment_cache, "hment" };
	const struct cache_ref spaces = { &v->hatcache, v->sym.hat_cache, "address-space" };
	struct slab_seen cpus[HAT_MAX_CPUS];   /* what each CPU's list held, by page */
	int64_t parked;

	if (v->hcache_ok) {
		memset(cpus, 0, sizeof(cpus));
		parked = cpu_lists(c, &hments, cpus);
		if (c->hments_found >= 0 && parked >= 0)
			compare_out(c, &hments, (uint64_t)parked, (uint64_t)c->hments_found,
				    "are on mapping lists, the reserve or hash chains");
		check_free_objects(c, &hments, cpus);
	}
	/* hat_kas is a variable, not the cache's: every other space on hat_list is */
	if (v->hatcache_ok) {
		memset(cpus, 0, sizeof(cpus));
		parked = cpu_lists(c, &spaces, cpus);
		if (v->hat_list_whole && !v->stopped && parked >= 0)
			compare_out(c, &spaces, (uint64_t)parked, v->nhats - 1, "are on hat_list besides hat_kas");
		check_free_objects(c, &spaces, cpus);
	}
}
