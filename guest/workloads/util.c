/* SPDX-License-Identifier: BSD-2-Clause */
/* What every MM workload shares: the HAT operations, each counted in one place; checkpoints; the closing stats line. */
#include "util.h"

#include "check_every.h"
#include "hypercall.h"
#include "kernel.h"
#include "stats.h"

struct hat *wl_hat_try_create(const char *who)
{
	struct hat *h = hat_create();

	if (h)
		stats_add(&stats.spaces, 1);
	wl_op_done(who);
	return h;
}

struct hat *wl_hat_create(const char *who)
{
	struct hat *h = wl_hat_try_create(who);

	if (!h)
		panic("%s: hat_create failed", who);
	return h;
}

void wl_hat_destroy(const char *who, struct hat *h)
{
	hat_destroy(h);
	wl_op_done(who);
}

page_t *wl_page_alloc(const char *who)
{
	page_t *pp = page_alloc(PG_USER);

	if (!pp)
		panic("%s: out of pages", who);
	return pp;
}

int wl_memload_try(const char *who, struct hat *h, uint64_t va, page_t *pp, unsigned attr)
{
	int rc = hat_memload(h, va, pp, attr);

	if (rc == 0) {
		stats_add(&stats.maps, 1);
		stats_sample();
	}
	wl_op_done(who);
	return rc;
}

void wl_memload(const char *who, struct hat *h, uint64_t va, page_t *pp, unsigned attr)
{
	if (wl_memload_try(who, h, va, pp, attr) != 0)
		panic("%s: memload of 0x%" PRIx64 " (attr 0x%x) in space %u failed", who,
		      va, attr, h->h_id);
}

void wl_memload_array(const char *who, struct hat *h, uint64_t va, uint64_t len, page_t **pps,
		      unsigned attr)
{
	if (hat_memload_array(h, va, len, pps, attr) != 0)
		panic("%s: memload_array of [0x%" PRIx64 ", +0x%" PRIx64 ") (attr 0x%x) in space %u"
		      " failed", who, va, len, attr, h->h_id);
	stats_add(&stats.maps, len >> MM_PAGE_SHIFT);
	stats_sample();
	wl_op_done(who);
}

int wl_dup_try(const char *who, struct hat *dst, struct hat *src, uint64_t va, uint64_t len,
	       unsigned attr)
{
	int rc = hat_dup(dst, src, va, len, attr);

	stats_sample();
	wl_op_done(who);
	return rc;
}

void wl_dup(const char *who, struct hat *dst, struct hat *src, uint64_t va, uint64_t len,
	    unsigned attr)
{
	if (wl_dup_try(who, dst, src, va, len, attr) != 0)
		panic("%s: hat_dup of [0x%" PRIx64 ", +0x%" PRIx64 ") from space %u into %u failed",
		      who, va, len, src->h_id, dst->h_id);
}

void wl_unload(const char *who, struct hat *h, uint64_t va, uint64_t len)
{
	hat_unload(h, va, len);
	wl_op_done(who);
}

unsigned wl_pageunload(const char *who, page_t *pp)
{
	unsigned n = hat_pageunload(pp);

	wl_op_done(who);
	return n;
}

void wl_chgprot(const char *who, struct hat *h, uint64_t va, uint64_t len, unsigned attr)
{
	hat_chgprot(h, va, len, attr);
	wl_op_done(who);
}

uint64_t wl_getpfnum(const char *who, struct hat *h, uint64_t va)
{
	uint64_t pfn = hat_getpfnum(h, va);

	wl_op_done(who);
	return pfn;
}

uint64_t wl_getpte(const char *who, struct hat *h, uint64_t va)
{
	uint64_t pte = hat_getpte(h, va);

	wl_op_done(who);
	return pte;
}

unsigned wl_pagesync(const char *who, page_t *pp, unsigned flags)
{
	unsigned attr = hat_pagesync(pp, flags);

	wl_op_done(who);
	return attr;
}

void wl_page_clrattr(const char *who, page_t *pp, unsigned attr)
{
	hat_page_clrattr(pp, attr);
	wl_op_done(who);
}

void wl_checkpoint(const char *workload, const char *what)
{
	char label[96];

	ksnprintf(label, sizeof(label), "%s:%s", workload, what);
	hat_assert_accounted();   /* no operation is in progress: nothing is in flight */
	stats_add(&stats.checkpoints, 1);
	hc_checkpoint(label);
}

void wl_finish(const char *workload, const char *what)
{
	wl_checkpoint(workload, what);
	stats_print();
}
