/* SPDX-License-Identifier: BSD-2-Clause */
/* The CPUs' loaded spaces: each space's h_cpus against hat_cpu[], the set every flush goes by (ST_CPUS), and what each CPU's TLB has flushed of them (TLB_STALE). */
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

/* TLB_STALE, one CPU: what it has flushed against the generation its loaded space and the kernel reached. */
static void check_flushed_cpu(struct checker *c, unsigned cpu, const struct hat_rec *s,
			      const struct hat_tlb_flushed *f)
{
	const struct mm_view *v = &c->view;
	const struct hat *kas = v->have_kas ? &v->hats[0].h : NULL;

	/* hat_kas loaded: its generation is the kernel's, which tf_kernel follows */
	if (!(s->h.h_flags & HAT_F_KERNEL) && f->tf_space < s->h.h_tlb_gen)
		sink_violation(&c->sink, INV_TLB_STALE, s->h.h_id, REPORT_NONE, REPORT_NONE,
			       "CPU %u runs space %u and has flushed it to generation %" PRIu64 ", but"
			       " changes made while it had the space loaded reached generation %" PRIu64
			       ": their flush never ran there, so its TLB may still hold what they removed",
			       cpu, s->h.h_id, f->tf_space, s->h.h_tlb_gen);
	if (kas != NULL && f->tf_kernel < kas->h_tlb_gen)
		sink_violation(&c->sink, INV_TLB_STALE, kas->h_id, REPORT_NONE, REPORT_NONE,
			       "CPU %u has flushed the kernel's translations to generation %" PRIu64
			       ", but the kernel space's changes reached generation %" PRIu64
			       ": their flush never ran there", cpu, f->tf_kernel, kas->h_tlb_gen);
}

/* TLB_STALE: every CPU with a space loaded (a running one) against that space and the kernel. */
static void check_flushed(struct checker *c, const uint64_t loaded[HAT_MAX_CPUS])
{
	struct mm_view *v = &c->view;
	struct hat_tlb_flushed f[HAT_MAX_CPUS];

	if (v->sym.hat_tlb_flushed == 0)
		return;
	if (!reader_read_va(&v->rd, v->sym.hat_tlb_flushed, f, sizeof(f))) {
		sink_violation(&c->sink, INV_TLB_STALE, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "hat_tlb_flushed at 0x%" PRIx64 " cannot be read", v->sym.hat_tlb_flushed);
		return;
	}
	for (unsigned cpu = 0; cpu < HAT_MAX_CPUS; cpu++) {
		const struct hat_rec *s = loaded[cpu] != 0 ? view_hat_at(v, loaded[cpu]) : NULL;

		if (s != NULL)   /* a loaded space on no list: ST_CPUS says so */
			check_flushed_cpu(c, cpu, s, &f[cpu]);
	}
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
	check_flushed(c, loaded);
}
