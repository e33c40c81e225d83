/* SPDX-License-Identifier: BSD-2-Clause */
/* Offline checking: load a core written by --dump-core and run every invariant on it. */
#include "cmd_check_core.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_dump.h"
#include "hatvm/exit_status.h"
#include "monitor.h"
#include "out_file.h"

static const char usage_text[] =
"Usage: vmm check-core [--report=FILE] [--ptdump] [--quiet] CORE GUEST.ELF\n"
"\n"
"Run the checker over CORE, an ELF core file written by `vmm --dump-core',\n"
"using GUEST.ELF's symbols to find the memory manager. No KVM is needed.\n"
"Exit status: 0 no violation, 1 violations found, 2 usage or file error\n"
"(a report that cannot be written included).\n";

static const struct option options[] = {
	{ "report", required_argument, NULL, 'r' },
	{ "ptdump", no_argument,       NULL, 'p' },
	{ "quiet",  no_argument,       NULL, 'q' },
	{ "help",   no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Fills opt from argv and checks --report; returns -1 after printing a usage error, 1 after --help. */
static int parse(int argc, char **argv, struct vmm_options *opt, const char **core)
{
	char why[PATH_MAX + 160];
	int c;

	*opt = (struct vmm_options){ .check = CHECK_EXIT };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+r:pqh", options, NULL)) != -1) {
		switch (c) {
		case 'r': opt->report_path = optarg; break;
		case 'p': opt->ptdump = true; break;
		case 'q': opt->quiet = true; break;
		case 'h': fputs(usage_text, stdout); return 1;
		default:  fputs(usage_text, stderr); return -1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "vmm check-core: expected CORE and GUEST.ELF\n%s", usage_text);
		return -1;
	}
	*core = argv[optind];
	opt->image = argv[optind + 1];
	/* before the core is read: a FIFO would block at the end, a device would be written */
	if (opt->report_path && out_file_check(opt->report_path, why, sizeof(why))) {
		fprintf(stderr, "vmm check-core: --report: %s\n", why);
		return -1;
	}
	return 0;
}

int check_core_main(int argc, char **argv)
{
	struct vmm_options opt;
	const char *core;
	struct guest_mem gm = { 0 };
	struct core_vcpu_state *vcpus = NULL;
	unsigned ncpus = 0;
	uint64_t run_flags = 0;
	struct monitor mon;
	char err[512];
	int rc = parse(argc, argv, &opt, &core);

	if (rc)
		return rc > 0 ? VMM_EXIT_OK : exit_status_decide(RUN_USAGE, NULL);
	if (core_dump_read(core, &gm, &vcpus, &ncpus, &run_flags, err, sizeof(err))) {
		fprintf(stderr, "vmm check-core: %s\n", err);
		return exit_status_decide(RUN_USAGE, NULL);
	}
	free(vcpus);
	int status = exit_status_decide(RUN_USAGE, NULL);
	if (monitor_open(&mon, &opt, &gm) == 0) {
		struct vm_checkpoint where = { .label = "core", .phase = VM_PHASE_OFFLINE, .cpu = -1,
					       .vcpu_fd = -1, .mid_run = (run_flags & HATVM_RUN_MID_RUN) != 0 };
		struct run_findings findings;
		monitor_check(&mon, &where, NULL, 0);
		monitor_close(&mon, &findings);
		/* without the MM's symbols nothing was checked: a file error, not a pass */
		status = exit_status_decide(mon.have_syms ? RUN_CLEAN : RUN_USAGE, &findings);
	}
	guest_mem_unmap(&gm);
	return status;
}
