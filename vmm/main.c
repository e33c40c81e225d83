/* SPDX-License-Identifier: BSD-2-Clause */
/* vmm: boot an ELF64 guest on KVM and serve it until it stops. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot_x86_64.h"
#include "cmd_check_core.h"
#include "cli.h"
#include "elf_load.h"
#include "gdbstub_kvm.h"
#include "hatvm/exit_status.h"
#include "guest_mem.h"
#include "hatvm/layout.h"
#include "hatvm/mm_structs.h"
#include "invariant_names.h"
#include "kvm_run.h"
#include "monitor.h"
#include "progress.h"
#include "replay_source.h"
#include "report.h"
#include "trace_info.h"
#include "trace_record.h"

/* Maps RAM, loads the image and writes the boot structures; false after a message. */
static bool prepare_guest(const struct vmm_options *opt, struct guest_mem *gm,
			  struct elf_image *img)
{
	char err[512];
	struct boot_params params = { .cpus = opt->cpus, .cmdline = opt->cmdline };
	int rc = guest_mem_map(gm, opt->mem_size);

	if (rc) {
		fprintf(stderr, "vmm: cannot map %" PRIu64 " bytes of guest RAM: %s\n",
			(uint64_t)opt->mem_size, strerror(-rc));
		return false;
	}
	/*
	 * The boot structures below BOOT_RESERVED_END are a few KiB, and the
	 * guest hardly touches the rest: a huge page there, zeroed whole at
	 * vmm's first write, cost a one-HLT run about 1.5 ms on kvm_pvm.
	 */
	guest_mem_small_pages(gm, 0, BOOT_RESERVED_END);
	if (elf_load(opt->image, gm->base, gm->size, BOOT_RESERVED_END, img, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s\n", err);
		return false;
	}
	if (boot_build(gm, img, &params, err, sizeof(err))) {
		fprintf(stderr, "vmm: %s: %s\n", opt->image, err);
		return false;
	}
	return true;
}

/* The monitor, what --stop-on-violation needs to judge its latest check, the progress line. */
struct observer {
	struct monitor mon;
	bool freeze;   /* the latest check reported a violation it did not plant */
	struct progress progress;
};

/* Test hook: the progress line from the first checkpoint on, however short the run. */
#define PROGRESS_NOW_ENV "HATVM_TEST_PROGRESS_NOW"

/* HAT operations the guest has logged so far (its oplog's next sequence number - 1). */
static uint64_t guest_ops(const struct monitor *m)
{
	uint64_t next;

	if (!m->have_syms || m->syms.hat_oplog < KERNEL_BASE ||
	    !guest_mem_read(m->gm, m->syms.hat_oplog - KERNEL_BASE + offsetof(struct hat_oplog, ol_next),
			    &next, sizeof(next)) || next == 0)
		return PROGRESS_NO_OPS;
	return next - 1;
}

/* The progress line after a checkpoint's check (the guest paused: its oplog holds still). */
static void show_progress(struct observer *o)
{
	struct progress_counts c = {
		.ops = guest_ops(&o->mon), .checks = o->mon.checks_run,
		.violations = o->mon.report ? report_violations_total(o->mon.report) : 0,
	};

	progress_update(&o->progress, &c, progress_now_ns());
}

/*
 * True when the check that just ended reported a violation and planted
 * no --inject corruption. A planted one is expected and repaired, and it
 * may truthfully bring others (a removed leaf is also MD_MISSING to the
 * model); a real violation in that check shows again in the next one,
 * which plants nothing of it.
 */
static bool found_unplanted(uint64_t found, uint64_t planted)
{
	return found != 0 && planted == 0;
}

/* The vm_check_fn: the monitor's check, judged for --stop-on-violation. */
static void observe_check(void *ctx, const struct vm_checkpoint *where,
			  const struct vcpu_state *vcpus, unsigned ncpus)
{
	struct observer *o = ctx;
	uint64_t before = report_violations_total(o->mon.report);
	uint64_t pending = o->mon.inject_pending;

	if (where->phase == VM_PHASE_EXIT)
		progress_end(&o->progress);   /* the run's last lines follow */
	else
		progress_hide(&o->progress);   /* the check's lines start at the left margin */
	monitor_check(&o->mon, where, vcpus, ncpus);
	if (where->phase != VM_PHASE_EXIT)
		show_progress(o);
	o->freeze = o->mon.opt->stop_on_violation &&
		    found_unplanted(report_violations_total(o->mon.report) - before,
				    pending & ~o->mon.inject_pending);
}

/* The vm_freeze_fn of --stop-on-violation. */
static bool freeze_on_violation(void *ctx, const struct vm_checkpoint *where)
{
	struct observer *o = ctx;

	if (o->freeze) {
		progress_end(&o->progress);
		fprintf(stderr, "vmm: %s: guest frozen at '%s' (vCPU %d)\n",
			o->mon.opt->gdb_on_violation ? "--gdb-on-violation" : "--stop-on-violation",
			where->label, where->cpu);
	}
	return o->freeze;
}

/* Runs the guest with the monitor checking it; the outcome and the findings decide the status. */
static int run_observed(const struct vmm_options *opt, const struct guest_mem *gm,
			const struct elf_image *img)
{
	struct observer obs = { .freeze = false };
	struct run_findings findings;

	if (monitor_open(&obs.mon, opt, gm))
		return exit_status_decide(RUN_USAGE, NULL);
	progress_init(&obs.progress, stderr, progress_wanted(STDERR_FILENO, opt->quiet), progress_now_ns(),
		      getenv(PROGRESS_NOW_ENV) ? 0 : PROGRESS_DELAY_NS);
	gdb_kvm_wait_at_start(!opt->gdb_on_violation);
	struct vm_hooks hooks = { .check = observe_check, .freeze = freeze_on_violation,
				  .ctx = &obs };
	enum run_outcome outcome = vm_run(opt, gm, img, &hooks);
	int sig = vm_interrupt_signal();

	progress_end(&obs.progress);
	if (sig)
		report_set_interrupted(obs.mon.report);   /* before monitor_close() writes it */
	monitor_close(&obs.mon, &findings);
	findings.interrupt_signal = sig;
	return exit_status_decide(outcome, &findings);
}

int main(int argc, char **argv)
{
	struct vmm_options opt;
	struct guest_mem gm = { 0 };
	struct elf_image img;
	int status;

	if (argc > 1 && strcmp(argv[1], "check-core") == 0)
		return check_core_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "record") == 0)
		return record_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "trace-info") == 0)
		return trace_info_main(argc - 1, argv + 1);
	switch (cli_parse(argc, argv, &opt, stdout, stderr)) {
	case CLI_DONE:  return VMM_EXIT_OK;
	case CLI_USAGE: return exit_status_decide(RUN_USAGE, NULL);
	case CLI_RUN:   break;
	}
	if (opt.replay_path && !replay_source_open(opt.replay_path, stderr)) {
		status = exit_status_decide(RUN_USAGE, NULL);
	} else {
		cli_scale_timeout(&opt, replay_source_events());
		status = prepare_guest(&opt, &gm, &img) ? run_observed(&opt, &gm, &img)
							: exit_status_decide(RUN_USAGE, NULL);
	}
	replay_source_close();
	guest_mem_unmap(&gm);
	fflush(stdout);
	return status;
}
