/* SPDX-License-Identifier: BSD-2-Clause */
/* Runs the checker at checkpoints and at exit, plants injections, writes reports, ptdumps and cores. */
#include "monitor.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_dump.h"
#include "elf_symbols.h"
#include "hat_model.h"
#include "hatvm/exit_status.h"
#include "hatvm/mm_structs.h"
#include "inject.h"
#include "invariant_names.h"
#include "ptdump.h"
#include "replay_report.h"
#include "walker_verify.h"

#define DISABLE_CHECK_ENV "HATVM_TEST_DISABLE_CHECK"   /* test only: see monitor_open() */

/* False, after saying why, when --inject names an ID nothing in guest memory can plant. */
static bool injections_supported(uint64_t mask)
{
	for (unsigned id = 0; id < INV_COUNT; id++) {
		if ((mask >> id & 1) && !inject_supported((enum invariant_id)id)) {
			fprintf(stderr, "vmm: --inject %s: this invariant cannot be injected (nothing in "
				"guest memory can plant it)\n", invariant_name((enum invariant_id)id));
			return false;
		}
	}
	return true;
}

/* Test only: HATVM_TEST_DISABLE_CHECK=ID makes the checker drop ID's violations. */
static bool apply_disabled_check(void)
{
	const char *name = getenv(DISABLE_CHECK_ENV);
	enum invariant_id id;

	if (!name || !*name)
		return true;
	if (!invariant_parse(name, &id)) {
		fprintf(stderr, "vmm: %s=%s: not an invariant ID\n", DISABLE_CHECK_ENV, name);
		return false;
	}
	fprintf(stderr, "vmm: test hook %s: %s violations are not reported\n", DISABLE_CHECK_ENV,
		invariant_name(id));
	checker_set_disabled(1ull << id);
	return true;
}

/* Finds the MM's symbols in opt->image when checks or ptdump need them; false after a message. */
static bool find_symbols(struct monitor *m, const struct vmm_options *opt)
{
	char err[256];
	struct elf_symbols *syms;

	if (opt->check == CHECK_OFF && !opt->ptdump)
		return true;
	syms = elf_symbols_open(opt->image, err, sizeof(err));
	if (!syms) {
		fprintf(stderr, "vmm: %s\n", err);
		return false;
	}
	m->have_syms = mm_symbols_from_elf(syms, &m->syms, err, sizeof(err));
	elf_symbols_close(syms);
	if (!m->have_syms && !opt->quiet)
		fprintf(stderr, "vmm: checks skipped: %s does not name a hatvm memory manager (%s)\n",
			opt->image, err);
	if (!m->have_syms && opt->inject_mask) {
		fprintf(stderr, "vmm: --inject needs a guest whose memory manager the checker knows\n");
		return false;
	}
	return true;
}

/*
 * The model of what should be mapped follows the guest's operation log
 * only when every checkpoint is checked: exit-only checks would miss
 * records. Without host memory for it, checks go on without the model.
 */
static void attach_model(struct monitor *m)
{
	if (!m->have_syms || m->syms.hat_oplog == 0 || m->opt->check != CHECK_CHECKPOINTS)
		return;
	m->model = hat_model_new();
	if (m->model == NULL)
		fprintf(stderr, "vmm: out of memory for the mapping model; checks go on without it\n");
	checker_use_model(m->model);
}

int monitor_open(struct monitor *m, const struct vmm_options *opt, const struct guest_mem *gm)
{
	*m = (struct monitor){ .opt = opt, .gm = gm, .inject_pending = opt->inject_mask };
	if (!injections_supported(opt->inject_mask) || !apply_disabled_check())
		return -1;
	check_mem_from_guest(&m->mem, gm);
	m->report = report_new(stderr);
	if (!m->report) {
		fprintf(stderr, "vmm: out of memory for the report\n");
		return -1;
	}
	report_set_quiet(m->report, opt->quiet);
	if (!find_symbols(m, opt)) {
		/* a failed open owns nothing: callers call monitor_close only after a success */
		report_free(m->report);
		m->report = NULL;
		return -1;
	}
	attach_model(m);
	return 0;
}

/* Plants every pending injection that has a target now; returns how many. */
static unsigned plant_injections(struct monitor *m, struct inject_undo *undo, const char *label)
{
	unsigned planted = 0;
	char what[256];

	for (unsigned id = 0; id < INV_COUNT; id++) {
		if (!(m->inject_pending & (1ull << id)))
			continue;
		if (inject_plant(&m->mem, &m->syms, (enum invariant_id)id, &undo[planted],
				 what, sizeof(what)) != 0)
			continue;   /* no target at this checkpoint: try the next */
		m->inject_pending &= ~(1ull << id);
		fprintf(stderr, "vmm: injected %s at '%s': %s\n", invariant_name((enum invariant_id)id),
			label, what);
		planted++;
	}
	return planted;
}

/* Each planted injection must be in the open check at its place; says which are not. */
static void verify_injections(struct monitor *m, const struct inject_undo *undo, unsigned planted,
			      const char *label)
{
	for (unsigned i = 0; i < planted; i++) {
		if (inject_verify(&undo[i], m->report))
			continue;
		fprintf(stderr, "vmm: injected %s was not detected at '%s'\n",
			invariant_name(undo[i].id), label);
		m->inject_missed++;
	}
}

/* Walker mismatches go into the open check as PT_WALK_AGREE violations. */
static void verify_walker(struct monitor *m, const struct vm_checkpoint *where)
{
	struct walker_verdict v;

	walker_verify(where->vcpu_fd, m->gm, m->report, &v);
	fprintf(stderr, "vmm: walker at '%s': cr3=0x%" PRIx64 " %u addresses compared with "
		"KVM_TRANSLATE, %u disagree\n", where->label, v.cr3, v.sampled, v.mismatched);
}

static void write_core(struct monitor *m, const struct vcpu_state *vcpus, unsigned ncpus,
		       uint64_t run_flags)
{
	struct core_vcpu_state states[BOOT_MAX_CPUS];
	char err[256];

	for (unsigned i = 0; i < ncpus; i++) {
		if (vcpus[i].valid)
			core_vcpu_from_kvm(&vcpus[i].regs, &vcpus[i].sregs, i, &states[i]);
		else
			states[i] = (struct core_vcpu_state){ .cpu = i };
	}
	if (core_dump_write(m->opt->core_path, m->gm, states, ncpus, run_flags, err, sizeof(err))) {
		fprintf(stderr, "vmm: core dump: %s\n", err);
		m->output_failed = true;
	} else if (!m->opt->quiet)
		fprintf(stderr, "vmm: core written to %s\n", m->opt->core_path);
}

/*
 * False while the guest has not built its memory manager (boot-level
 * workloads never do): page_array, page_count and hat_list still zero.
 */
static bool mm_initialized(const struct monitor *m)
{
	static struct mem_reader rd;   /* large; checks never run concurrently */
	uint64_t words[3] = { 0, 0, 0 };

	reader_init(&rd, &m->mem);
	reader_read_u64_va(&rd, m->syms.page_array, &words[0]);
	reader_read_u64_va(&rd, m->syms.page_count, &words[1]);
	reader_read_u64_va(&rd, m->syms.hat_list, &words[2]);
	return words[0] || words[1] || words[2];
}

static bool wants_check(const struct monitor *m, const struct vm_checkpoint *where)
{
	if (!m->have_syms || m->opt->check == CHECK_OFF)
		return false;
	if (where->phase == VM_PHASE_CHECKPOINT && m->opt->check != CHECK_CHECKPOINTS)
		return false;
	if (mm_initialized(m))
		return true;
	if (!m->opt->quiet)
		fprintf(stderr, "vmm: check '%s' skipped: the guest has not set up its memory manager\n",
			where->label);
	return false;
}

static bool wants_ptdump(const struct monitor *m, const struct vm_checkpoint *where)
{
	if (!m->opt->ptdump || !m->have_syms)
		return false;
	if (!m->opt->ptdump_label)
		return where->phase != VM_PHASE_CHECKPOINT;
	return where->phase == VM_PHASE_CHECKPOINT && strcmp(m->opt->ptdump_label, where->label) == 0;
}

static enum report_phase report_phase(const struct vm_checkpoint *where)
{
	switch (where->phase) {
	case VM_PHASE_EXIT:    return where->mid_run ? REPORT_PHASE_STOPPED : REPORT_PHASE_EXIT;
	case VM_PHASE_OFFLINE: return where->mid_run ? REPORT_PHASE_STOPPED : REPORT_PHASE_OFFLINE;
	default:               return REPORT_PHASE_CHECKPOINT;
	}
}

/*
 * One check in the report: the walker comparison (before anything is
 * planted: it compares the guest's own tables), then the invariants over
 * memory with this checkpoint's injections planted; each injection is
 * verified while the check is still open, then repaired.
 */
static void run_one_check(struct monitor *m, const struct vm_checkpoint *where, bool walker,
			  bool invariants)
{
	struct inject_undo undo[INV_COUNT];
	struct check_stats stats = { 0 };
	unsigned planted = 0;

	report_set_phase(m->report, report_phase(where));
	report_begin_check(m->report, where->label);
	if (walker)
		verify_walker(m, where);
	if (invariants) {
		if (where->phase == VM_PHASE_CHECKPOINT)
			planted = plant_injections(m, undo, where->label);
		checker_run_into(&m->mem, &m->syms, m->report, &stats);
		if (!checker_stop_requested())   /* a check the watchdog or a signal cut short proves nothing */
			verify_injections(m, undo, planted, where->label);
	}
	report_end_check(m->report, &stats);
	m->checks_run++;
	while (planted-- > 0)
		inject_undo(&m->mem, &undo[planted]);
}

/*
 * --check=async: the instant invariants (CHECK_INSTANT_IDS) with every
 * vCPU stopped wherever it was. In the report like any check, but its
 * line printed only when it found something: there are hundreds.
 */
static void run_async_check(struct monitor *m)
{
	struct check_stats stats = { 0 };

	if (!m->have_syms || !mm_initialized(m))
		return;
	report_set_quiet(m->report, true);
	report_set_phase(m->report, REPORT_PHASE_CHECKPOINT);
	report_begin_check(m->report, "async");
	checker_run_instant_into(&m->mem, &m->syms, m->report, &stats);
	report_end_check(m->report, &stats);
	report_set_quiet(m->report, m->opt->quiet);
	m->async_run++;
}

void monitor_check(void *monitor, const struct vm_checkpoint *where,
		   const struct vcpu_state *vcpus, unsigned ncpus)
{
	struct monitor *m = monitor;

	if (where->phase == VM_PHASE_ASYNC) {
		run_async_check(m);
		return;
	}
	bool walker = m->opt->verify_walker && where->phase == VM_PHASE_CHECKPOINT;
	bool invariants = wants_check(m, where);

	if (walker || invariants)
		run_one_check(m, where, walker, invariants);
	if (wants_ptdump(m, where))
		monitor_ptdump(m, stdout);
	if (where->phase == VM_PHASE_EXIT && m->opt->replay_path)
		replay_report_collect(m->opt->image, &m->mem, m->report, stderr);
	if (where->phase == VM_PHASE_EXIT && m->opt->core_path)
		write_core(m, vcpus, ncpus, where->mid_run ? HATVM_RUN_MID_RUN : 0);
}

void monitor_close(struct monitor *m, struct run_findings *findings)
{
	char err[256];

	*findings = (struct run_findings){ .inject_missed = m->inject_missed,
					   .output_failed = m->output_failed };
	for (unsigned id = 0; id < INV_COUNT; id++)
		if (m->inject_pending & (1ull << id))
			fprintf(stderr, "vmm: --inject %s: no checkpoint had a target for it; nothing planted\n",
				invariant_name((enum invariant_id)id));
	if (m->opt->report_path &&
	    report_write_json(m->report, m->opt->report_path, err, sizeof(err))) {
		fprintf(stderr, "vmm: report: %s\n", err);
		findings->output_failed = true;
	}
	findings->violations = report_violations_total(m->report);
	if (m->checks_run && !m->opt->quiet && m->async_run)
		fprintf(stderr, "vmm: %u checks and %" PRIu64 " async checks, %" PRIu64 " violations\n",
			m->checks_run, m->async_run, findings->violations);
	else if (m->checks_run && !m->opt->quiet)
		fprintf(stderr, "vmm: %u checks, %" PRIu64 " violations\n", m->checks_run,
			findings->violations);
	report_free(m->report);
	m->report = NULL;
	checker_use_model(NULL);
	hat_model_free(m->model);
	m->model = NULL;
}
