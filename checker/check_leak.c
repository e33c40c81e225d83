/* SPDX-License-Identifier: BSD-2-Clause */
/* The MM's object caches against the objects the other passes found: no hment and no address space leaked (OC_LEAK). */
#include "check_internal.h"

#include <inttypes.h>

/*
 * One cache: `out` objects handed out, `found` held where they belong.
 * At a checkpoint no operation holds one in flight, so more out is a
 * leak (taken off its list or hat_list, never given back) and fewer a
 * cache that lost count.
 */
static void compare(struct checker *c, uint64_t cache_va, const char *what, uint64_t out,
		    uint64_t found, const char *where)
{
	if (out > found)
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, cache_va, REPORT_NONE,
			       "the %s cache has %" PRIu64 " out, %" PRIu64 " %s: %" PRIu64 " leaked",
			       what, out, found, where, out - found);
	else if (out < found)
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, cache_va, REPORT_NONE,
			       "the %s cache has %" PRIu64 " out, but %" PRIu64 " %s", what, out, found,
			       where);
}

void check_leaks(struct checker *c)
{
	const struct mm_view *v = &c->view;

	if (v->hcache_ok && c->hments_found >= 0)
		compare(c, v->sym.hment_cache, "hment", v->hcache.oc_inuse, (uint64_t)c->hments_found,
			"are on mapping lists, the reserve or hash chains");
	/* hat_kas is a variable, not the cache's: every other space on hat_list is */
	if (v->hatcache_ok && v->hat_list_whole && !v->stopped)
		compare(c, v->sym.hat_cache, "address-space", v->hatcache.oc_inuse, v->nhats - 1,
			"are on hat_list besides hat_kas");
}
