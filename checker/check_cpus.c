/* SPDX-License-Identifier: BSD-2-Clause */
/* The CPUs' loaded spaces (ST_CPUS): each space's h_cpus against hat_cpu[], the set every flush goes by. */
#include "check_internal.h"

#include <inttypes.h>

#define report(c, space, ...) sink_violation(&(c)->sink, INV_ST_CPUS, space, REPORT_NONE, REPORT_NONE, __VA_ARGS__)

/* The CPUs whose hat_cpu[] entry is the space at va. */
static uint64_t cpus_loading(const uint64_t loaded[HAT_MAX_CPUS], uint64_t va)
{
	uint64_t set = 0;

	for (unsigned cpu = 0; cpu < HAT_MAX_CPUS; cpu++)
		if (loaded[cpu] == va)
			set |= 1ull << cpu;
	return set;
}

/* A loaded space that is on no list is one destroyed while a CPU still runs on it; judged when the list was read whole. */
static void check_loaded_listed(struct checker *c, const uint64_t loaded[HAT_MAX_CPUS], uint64_t listed)
{
	const struct mm_view *v = &c->view;

	if (!v->hat_list_whole || !v->have_kas)
		return;
	for (unsigned cpu = 0; cpu < HAT_MAX_CPUS; cpu++)
		if (loaded[cpu] != 0 && !(listed & (1ull << cpu)))
			report(c, REPORT_NONE, "hat_cpu[%u] is 0x%" PRIx64 ", no address space on hat_list",
			       cpu, loaded[cpu]);
}

void check_cpus(struct checker *c)
{
	struct mm_view *v = &c->view;
	uint64_t loaded[HAT_MAX_CPUS], listed = 0;

	if (v->sym.hat_cpu == 0)
		return;
	if (!reader_read_va(&v->rd, v->sym.hat_cpu, loaded, sizeof(loaded))) {
		report(c, REPORT_NONE, "hat_cpu at 0x%" PRIx64 " cannot be read", v->sym.hat_cpu);
		return;
	}
	for (size_t i = 0; i < v->nhats && !check_work(c, HAT_MAX_CPUS); i++) {
		const struct hat_rec *s = &v->hats[i];
		uint64_t want = cpus_loading(loaded, s->va);

		listed |= want;
		if (s->h.h_cpus != want)
			report(c, s->h.h_id, "space %u's CPU set h_cpus is 0x%" PRIx64 "; hat_cpu names it"
			       " loaded on CPUs 0x%" PRIx64, s->h.h_id, s->h.h_cpus, want);
	}
	check_loaded_listed(c, loaded, listed);
}
