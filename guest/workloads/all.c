/* SPDX-License-Identifier: BSD-2-Clause */
/* all (the default): smoke, share, random, pressure and large in a row, the MM put back to its defaults between them. */
#include "demand.h"
#include "hat.h"
#include "kernel.h"
#include "objcache.h"
#include "stats.h"
#include "util.h"
#include "workload.h"

static const struct workload *const sequence[] = {
	&workload_smoke, &workload_share, &workload_random, &workload_pressure, &workload_large,
};

/* Undoes what a workload may have changed: loaded space, demand region, caps, reserve. */
static void restore_defaults(void)
{
	hat_switch(&hat_kas);
	demand_region(NULL, 0, 0, 0);
	hment_set_limit(OBJCACHE_LIMIT_NONE);
	page_set_limit(PAGE_LIMIT_NONE);
	hment_set_reserve_amount(HMENT_RESERVE_DEFAULT);
	hment_reserve_fill(0);
}

/* Between workloads nothing may be left: no address space but the kernel's, no hment listed. */
static void check_clean(const char *after)
{
	if (hat_list != &hat_kas || hat_kas.h_next != NULL)
		panic("all: %s left address space %u behind", after,
		      hat_kas.h_next ? hat_kas.h_next->h_id : 0);
	if (hment_listed_count() != 0)
		panic("all: %s left %" PRIu64 " hments on mapping lists", after,
		      hment_listed_count());
}

static int all_run(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sequence); i++) {
		const struct workload *w = sequence[i];
		int rc;

		kprintf("all: %s\n", w->name);
		rc = w->run();
		if (rc != 0)
			panic("all: workload %s returned %d", w->name, rc);
		restore_defaults();
		check_clean(w->name);
	}
	kprintf("all: %u workloads passed\n", (unsigned)ARRAY_SIZE(sequence));
	wl_finish("all", "done");
	return 0;
}

const struct workload workload_all = {
	"all", "smoke, share, random, pressure and large in a row (the default)", true, all_run,
	NULL,
};
