/* SPDX-License-Identifier: BSD-2-Clause */
/* Must-succeed HAT operations shared by the MM workloads, with their stats counting. */
#include "util.h"

#include "stats.h"

struct hat *wl_hat_create(const char *who)
{
	struct hat *h = hat_create();

	if (!h)
		panic("%s: hat_create failed", who);
	stats.spaces++;
	stats.ops++;
	return h;
}

page_t *wl_page_alloc(const char *who)
{
	page_t *pp = page_alloc(PG_USER);

	if (!pp)
		panic("%s: out of pages", who);
	return pp;
}

void wl_memload(const char *who, struct hat *h, uint64_t va, page_t *pp, unsigned attr)
{
	if (hat_memload(h, va, pp, attr) != 0)
		panic("%s: memload of 0x%" PRIx64 " (attr 0x%x) in space %u failed", who,
		      va, attr, h->h_id);
	stats.maps++;
	stats.ops++;
	stats_sample();
}
