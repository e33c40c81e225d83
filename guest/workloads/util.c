/* SPDX-License-Identifier: BSD-2-Clause */
/* What every MM workload shares: must-succeed HAT operations, checkpoints, the closing stats line. */
#include "util.h"

#include "hypercall.h"
#include "kernel.h"
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

void wl_checkpoint(const char *workload, const char *what)
{
	char label[96];

	ksnprintf(label, sizeof(label), "%s:%s", workload, what);
	stats.checkpoints++;
	hc_checkpoint(label);
}

void wl_finish(const char *workload, const char *what)
{
	wl_checkpoint(workload, what);
	stats_print();
}
