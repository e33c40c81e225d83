/* SPDX-License-Identifier: BSD-2-Clause */
/* Command-line parsing for vmm: options, sizes, the guest command line. */
#include "cli.h"

#include "default_guest.h"
#include "gdbstub_kvm.h"
#include "hatvm/exit_status.h"
#include "invariant_names.h"
#include "out_file.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MEM     (256ull << 20)
#define DEFAULT_TIMEOUT 60u
#define MAX_TIMEOUT     86400u
/*
 * A replay's default watchdog grows by a second per this many events: a
 * replay on a KVM that emulates ring 0 plays 50-170 events a second, with
 * checks; one on hardware KVM, far more.
 */
#define REPLAY_EVENTS_PER_S 20u

/*
 * printf format of --help; the arguments are those of print_help. A macro,
 * so the compiler checks the format against them.
 */
#define HELP_FORMAT \
"Usage: vmm [OPTIONS] [GUEST.ELF] [-- GUEST COMMAND LINE...]\n" \
"\n" \
"Boot GUEST.ELF, an ELF64 x86-64 executable, in a KVM virtual machine that\n" \
"starts directly in 64-bit long mode, and serve its hypercalls. Without\n" \
"GUEST.ELF, boot the bundled guest: the build tree's when vmm runs from its\n" \
"build tree, else the installed one (--print-guest shows which).\n" \
"\n" \
"Options:\n" \
"  -m, --mem SIZE        guest RAM; K, M or G suffix (default %s,\n" \
"                        %s to %s)\n" \
"  -c, --cpus N          number of vCPUs, 1 to %d (default 1)\n" \
"  -t, --timeout SECONDS stop the guest after SECONDS, exit status %d\n" \
"                        (default %u, and with --replay 1 more per %u of the\n" \
"                        trace's events; at most %u; 0 disables the watchdog)\n" \
"  -q, --quiet           print only guest output, errors and violations\n" \
"  -h, --help            print this help and exit\n" \
"  -V, --version         print the version and exit\n" \
"      --print-guest     print the path of the default guest image and exit\n" \
"      --list-invariants print each invariant ID of the catalogue and what it\n" \
"                        requires, and exit\n" \
"      --gdb=PORT        serve gdb on 127.0.0.1:PORT and wait for it before the\n" \
"                        first instruction (no watchdog); with\n" \
"                        --stop-on-violation, a violation stops for gdb\n" \
"      --gdb-on-violation[=PORT]\n" \
"                        run without gdb; at the first violation freeze the\n" \
"                        guest there (--stop-on-violation), print the gdb\n" \
"                        command to attach and serve gdb on 127.0.0.1:PORT\n" \
"                        (default: any free port; no watchdog)\n" \
"\n" \
"Checking (needs a guest whose symbols name its memory manager):\n" \
"      --check=WHEN      off, exit (once, after the guest stopped),\n" \
"                        checkpoints (default: at every checkpoint and at exit)\n" \
"                        or async:MS (checkpoints, and every MS milliseconds\n" \
"                        every vCPU stopped wherever it is for the invariants\n" \
"                        that hold even inside an operation: see README.md)\n" \
"      --report=FILE     also write every check and violation as JSON to FILE\n" \
"      --inject=ID[,ID]  plant exactly that corruption at the first checkpoint\n" \
"                        where it is possible, check, then repair it; IDs are\n" \
"                        those of --list-invariants, e.g. RM_MISSING\n" \
"      --ptdump[=LABEL]  print every address space's page tables at the\n" \
"                        checkpoint LABEL (default: after the guest stopped)\n" \
"      --dump-core=FILE  write guest RAM and every vCPU's registers as an ELF\n" \
"                        core file when the run ends (crash, violation or exit)\n" \
"      --verify-walker   at each checkpoint, compare the host's page-table\n" \
"                        walker with KVM_TRANSLATE on sampled addresses\n" \
"      --replay=TRACE    stream the recorded TRACE (vmm record) to the guest's\n" \
"                        workload=replay, the default workload then\n" \
"      --stop-on-violation\n" \
"                        freeze the guest at the first checkpoint whose check\n" \
"                        reports a violation (and plants no --inject): no\n" \
"                        vCPU runs again; the exit check, --report and\n" \
"                        --dump-core follow; needs --check=checkpoints\n" \
"\n" \
"Also: vmm check-core [--report=FILE] [--ptdump] [--quiet] CORE GUEST.ELF\n" \
"  re-runs the checker on a core file written by --dump-core (no KVM needed).\n" \
"      vmm record -o TRACE -- COMMAND [ARGS...]\n" \
"  runs COMMAND under perf and writes the memory events of its process tree\n" \
"  to TRACE (needs perf and root or CAP_PERFMON; see README.md).\n" \
"      vmm trace-info TRACE\n" \
"  prints what a recorded trace holds: processes, events, peak resident pages.\n" \
"\n" \
"Words after `--' are joined by spaces (at most %" PRIu64 " bytes) and handed\n" \
"to the guest as its command line, e.g. `vmm -- workload=random seed=7'.\n" \
"The bundled guest takes workload=all (default), smoke, share, random,\n" \
"pressure, large, bench, corrupt, replay, tlb (--cpus 2 or more),\n" \
"smp-disjoint, smp-share, smp-steal (on every vCPU), hello, fault, spin,\n" \
"triple, badcall or hole, and check_every=N (a checkpoint after every N\n" \
"HAT operations); see README.md and vmm(1).\n" \
"\n" \
"Exit status:\n" \
"  %d  the guest finished cleanly and every check passed\n" \
"  %d  the checker reported a violated invariant (even if the guest crashed\n" \
"     or hung later, or --stop-on-violation froze it)\n" \
"  %d  usage error, bad guest command line, unusable guest image, or KVM\n" \
"     cannot be set up; on an otherwise clean run, also a --report or\n" \
"     --dump-core file that could not be written\n" \
"  %d  the guest crashed (exception, triple fault, abort, bad hypercall,\n" \
"     access to a memory hole)\n" \
"  %d  the watchdog timeout expired (the check after it reports findings,\n" \
"     not violations: the guest may have stopped inside an operation)\n" \
"  %d  an --inject corruption was planted but the checker did not report it\n" \
"  130  interrupted by Ctrl-C (SIGINT); 143 by SIGTERM, 129 by SIGHUP\n" \
"       (128 + the signal); a second signal exits at once\n"

enum {
	OPT_CHECK = 0x100, OPT_REPORT, OPT_INJECT, OPT_PTDUMP, OPT_DUMP_CORE,
	OPT_VERIFY_WALKER, OPT_PRINT_GUEST, OPT_LIST_INVARIANTS, OPT_STOP_ON_VIOLATION,
	OPT_GDB, OPT_REPLAY, OPT_GDB_ON_VIOLATION,
};

static const struct option long_options[] = {
	{ "mem",     required_argument, NULL, 'm' },
	{ "cpus",    required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "quiet",   no_argument,       NULL, 'q' },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ "check",   required_argument, NULL, OPT_CHECK },
	{ "report",  required_argument, NULL, OPT_REPORT },
	{ "inject",  required_argument, NULL, OPT_INJECT },
	{ "ptdump",  optional_argument, NULL, OPT_PTDUMP },
	{ "dump-core", required_argument, NULL, OPT_DUMP_CORE },
	{ "verify-walker", no_argument, NULL, OPT_VERIFY_WALKER },
	{ "stop-on-violation", no_argument, NULL, OPT_STOP_ON_VIOLATION },
	{ "print-guest", no_argument,   NULL, OPT_PRINT_GUEST },
	{ "list-invariants", no_argument, NULL, OPT_LIST_INVARIANTS },
	{ "gdb",     required_argument, NULL, OPT_GDB },
	{ "gdb-on-violation", optional_argument, NULL, OPT_GDB_ON_VIOLATION },
	{ "replay",  required_argument, NULL, OPT_REPLAY },
	{ NULL, 0, NULL, 0 },
};

bool cli_parse_size(const char *text, uint64_t *bytes)
{
	char *end;
	unsigned shift = 0;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	uint64_t value = strtoull(text, &end, 10);
	if (errno != 0)
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end != '\0' || value > (UINT64_MAX >> shift))
		return false;
	*bytes = value << shift;
	return true;
}

static bool parse_uint(const char *text, unsigned min, unsigned max, unsigned *out)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return false;
	*out = (unsigned)value;
	return true;
}

/* Joins argv[first..argc) with spaces; false when it does not fit. */
static bool join_cmdline(int argc, char **argv, int first, char *dst, size_t size)
{
	size_t used = 0;

	dst[0] = '\0';
	for (int i = first; i < argc; i++) {
		size_t len = strlen(argv[i]);
		size_t need = len + (used ? 1 : 0);
		if (need >= size - used)
			return false;
		if (used)
			dst[used++] = ' ';
		memcpy(dst + used, argv[i], len + 1);
		used += len;
	}
	return true;
}

__attribute__((format(printf, 2, 3)))
static enum cli_result usage_error(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "vmm: ");
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fprintf(err, "\nTry 'vmm --help' for more information.\n");
	return CLI_USAGE;
}

void cli_scale_timeout(struct vmm_options *opt, uint64_t events)
{
	uint64_t t = DEFAULT_TIMEOUT + events / REPLAY_EVENTS_PER_S;

	if (!opt->timeout_given)
		opt->timeout_s = t < MAX_TIMEOUT ? (unsigned)t : MAX_TIMEOUT;
}

/* "3G", "4M", "64K" or bytes: the largest suffix that --mem reads back exactly. */
static const char *format_size(uint64_t bytes, char buf[24])
{
	static const char suffix[] = "GMK";

	for (unsigned i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * i;
		if (bytes && bytes % (1ull << shift) == 0) {
			snprintf(buf, 24, "%" PRIu64 "%c", bytes >> shift, suffix[i]);
			return buf;
		}
	}
	snprintf(buf, 24, "%" PRIu64, bytes);
	return buf;
}

static void print_help(FILE *out)
{
	char def[24], min[24], max[24];

	fprintf(out, HELP_FORMAT, format_size(DEFAULT_MEM, def), format_size(GUEST_RAM_MIN, min),
		format_size(GUEST_RAM_MAX, max), BOOT_MAX_CPUS, VMM_EXIT_TIMEOUT, DEFAULT_TIMEOUT,
		REPLAY_EVENTS_PER_S, MAX_TIMEOUT, (uint64_t)BOOT_CMDLINE_MAX, VMM_EXIT_OK, VMM_EXIT_VIOLATION,
		VMM_EXIT_USAGE, VMM_EXIT_CRASH, VMM_EXIT_TIMEOUT, VMM_EXIT_INJECT_MISSED);
}

/* One line per catalogue entry: the ID, padded to the longest, and its description. */
static void list_invariants(FILE *out)
{
	int width = 0;

	for (unsigned i = 0; i < INV_COUNT; i++) {
		int len = (int)strlen(invariant_name((enum invariant_id)i));
		width = len > width ? len : width;
	}
	for (unsigned i = 0; i < INV_COUNT; i++)
		fprintf(out, "%-*s  %s\n", width, invariant_name((enum invariant_id)i),
			invariant_description((enum invariant_id)i));
}

/* --print-guest: the default guest's path, or a usage error when there is none. */
static enum cli_result print_guest(FILE *out, FILE *err)
{
	char path[PATH_MAX];

	if (!default_guest(path, sizeof(path)))
		return usage_error(err, "no default guest: %s is missing and vmm does not run "
				   "from a build tree", HATVM_INSTALLED_GUEST);
	fprintf(out, "%s\n", path);
	return CLI_DONE;
}

#define GDB_BOTH "--gdb and --gdb-on-violation: choose one (--gdb with --stop-on-violation " \
		 "also stops for gdb at a violation)"

#define ASYNC_MS_MAX 60000u

/* The MS of --check=async:MS, 1 to ASYNC_MS_MAX milliseconds. */
static bool parse_async_ms(const char *text, unsigned *ms)
{
	char *end;
	unsigned long v;

	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v == 0 || v > ASYNC_MS_MAX)
		return false;
	*ms = (unsigned)v;
	return true;
}

static enum cli_result parse_check_option(int c, struct vmm_options *opt, FILE *out, FILE *err)
{
	char why[128];

	switch (c) {
	case OPT_CHECK:
		if (strcmp(optarg, "off") == 0)
			opt->check = CHECK_OFF;
		else if (strcmp(optarg, "exit") == 0)
			opt->check = CHECK_EXIT;
		else if (strcmp(optarg, "checkpoints") == 0)
			opt->check = CHECK_CHECKPOINTS;
		else if (strncmp(optarg, "async:", 6) == 0 && parse_async_ms(optarg + 6, &opt->async_ms))
			opt->check = CHECK_CHECKPOINTS;
		else
			return usage_error(err, "--check '%s': expected off, exit, checkpoints or async:MS "
					   "(MS from 1 to %u)", optarg, ASYNC_MS_MAX);
		return CLI_RUN;
	case OPT_REPORT:
		opt->report_path = optarg;
		return CLI_RUN;
	case OPT_INJECT:
		if (!invariant_parse_mask(optarg, &opt->inject_mask, why, sizeof(why)))
			return usage_error(err, "--inject: %s", why);
		return CLI_RUN;
	case OPT_PTDUMP:
		opt->ptdump = true;
		opt->ptdump_label = optarg;
		return CLI_RUN;
	case OPT_DUMP_CORE:
		opt->core_path = optarg;
		return CLI_RUN;
	case OPT_PRINT_GUEST:
		return print_guest(out, err);
	case OPT_LIST_INVARIANTS:
		list_invariants(out);
		return CLI_DONE;
	case OPT_STOP_ON_VIOLATION:
		opt->stop_on_violation = true;
		return CLI_RUN;
	case OPT_GDB:   /* a TCP port; the stub listens on 127.0.0.1 only */
		if (opt->gdb_on_violation)
			return usage_error(err, "%s", GDB_BOTH);
		if (!parse_uint(optarg, 1, 65535, &opt->gdb_port))
			return usage_error(err, "--gdb '%s': expected a TCP port from 1 to 65535", optarg);
		return CLI_RUN;
	case OPT_GDB_ON_VIOLATION:
		if (opt->gdb_port && !opt->gdb_on_violation)
			return usage_error(err, "%s", GDB_BOTH);
		opt->gdb_on_violation = opt->stop_on_violation = true;
		opt->gdb_port = GDB_KVM_ANY_PORT;
		if (optarg && !parse_uint(optarg, 1, 65535, &opt->gdb_port))
			return usage_error(err, "--gdb-on-violation '%s': expected a TCP port from 1 to 65535",
					   optarg);
		return CLI_RUN;
	case OPT_REPLAY:
		opt->replay_path = optarg;
		return CLI_RUN;
	default:   /* OPT_VERIFY_WALKER */
		opt->verify_walker = true;
		return CLI_RUN;
	}
}

static enum cli_result mem_error(FILE *err, const char *arg)
{
	char min[24], max[24];

	return usage_error(err, "--mem '%s': expected a multiple of 4K from %s to %s", arg,
			   format_size(GUEST_RAM_MIN, min), format_size(GUEST_RAM_MAX, max));
}

static enum cli_result parse_option(int c, struct vmm_options *opt, FILE *out, FILE *err)
{
	if (c >= OPT_CHECK)
		return parse_check_option(c, opt, out, err);
	switch (c) {
	case 'm':
		if (!cli_parse_size(optarg, &opt->mem_size) ||
		    opt->mem_size < GUEST_RAM_MIN || opt->mem_size > GUEST_RAM_MAX ||
		    opt->mem_size % 4096)
			return mem_error(err, optarg);
		return CLI_RUN;
	case 'c':
		if (!parse_uint(optarg, 1, BOOT_MAX_CPUS, &opt->cpus))
			return usage_error(err, "--cpus '%s': expected a number from 1 to %d", optarg,
					   BOOT_MAX_CPUS);
		return CLI_RUN;
	case 't':
		if (!parse_uint(optarg, 0, MAX_TIMEOUT, &opt->timeout_s))
			return usage_error(err, "--timeout '%s': expected seconds from 0 to %u", optarg,
					   MAX_TIMEOUT);
		opt->timeout_given = true;
		return CLI_RUN;
	case 'q':
		opt->quiet = true;
		return CLI_RUN;
	case 'h':
		print_help(out);
		return CLI_DONE;
	case 'V':
		fprintf(out, "vmm (hatvm) %s\n", HATVM_VERSION);
		return CLI_DONE;
	default:
		/* getopt_long has already said what was wrong */
		fprintf(err, "Try 'vmm --help' for more information.\n");
		return CLI_USAGE;
	}
}

/* No GUEST.ELF given: boot the default guest, saying which unless --quiet. */
static enum cli_result choose_default_guest(struct vmm_options *opt, FILE *err)
{
	if (!default_guest(opt->default_image, sizeof(opt->default_image)))
		return usage_error(err, "missing GUEST.ELF (no default guest: %s is missing and "
				   "vmm does not run from a build tree)", HATVM_INSTALLED_GUEST);
	opt->image = opt->default_image;
	if (!opt->quiet)
		fprintf(err, "vmm: no GUEST.ELF given, booting %s\n", opt->image);
	return CLI_RUN;
}

/*
 * GUEST.ELF and the guest's words after the options (argv[first..argc)).
 * DASHES: getopt already skipped a `--', so everything left is the guest's.
 */
static enum cli_result parse_operands(int argc, char **argv, int first, bool dashes,
				      struct vmm_options *opt, FILE *err)
{
	if (!dashes && first < argc)
		opt->image = argv[first++];
	else if (choose_default_guest(opt, err) != CLI_RUN)
		return CLI_USAGE;
	if (!dashes && first < argc) {
		if (strcmp(argv[first], "--") != 0)
			return usage_error(err, "unexpected argument '%s' (guest arguments go after --)",
					   argv[first]);
		first++;
	}
	if (!join_cmdline(argc, argv, first, opt->cmdline, sizeof(opt->cmdline)))
		return usage_error(err, "guest command line longer than %" PRIu64 " bytes",
				   (uint64_t)BOOT_CMDLINE_MAX);
	return CLI_RUN;
}

/*
 * --report and --dump-core must name files that can be created or
 * replaced: refused now, before the guest runs, rather than found to block
 * (a FIFO) or to destroy something (a device) when the run ends.
 */
static enum cli_result check_outputs(const struct vmm_options *opt, FILE *err)
{
	char why[PATH_MAX + 160];

	if (opt->report_path && out_file_check(opt->report_path, why, sizeof(why)))
		return usage_error(err, "--report: %s", why);
	if (opt->core_path && out_file_check(opt->core_path, why, sizeof(why)))
		return usage_error(err, "--dump-core: %s", why);
	return CLI_RUN;
}

/* --replay without a workload= word: the guest runs workload=replay. */
static enum cli_result default_replay_workload(struct vmm_options *opt, FILE *err)
{
	static const char word[] = "workload=replay";
	size_t len = strlen(opt->cmdline);

	if (!opt->replay_path || strstr(opt->cmdline, "workload=") != NULL)
		return CLI_RUN;
	if (len + sizeof(word) + 1 > sizeof(opt->cmdline))
		return usage_error(err, "guest command line longer than %" PRIu64 " bytes",
				   (uint64_t)BOOT_CMDLINE_MAX);
	memmove(opt->cmdline + sizeof(word) - (len ? 0 : 1), opt->cmdline, len + 1);
	memcpy(opt->cmdline, word, sizeof(word) - 1);
	if (len)
		opt->cmdline[sizeof(word) - 1] = ' ';
	return CLI_RUN;
}

enum cli_result cli_parse(int argc, char **argv, struct vmm_options *opt,
			  FILE *out, FILE *err)
{
	int c, before;

	*opt = (struct vmm_options){
		.mem_size = DEFAULT_MEM, .cpus = 1, .timeout_s = DEFAULT_TIMEOUT,
		.check = CHECK_CHECKPOINTS,
	};
	optind = 1;
	before = optind;
	while ((c = getopt_long(argc, argv, "+m:c:t:qhV", long_options, NULL)) != -1) {
		enum cli_result r = parse_option(c, opt, out, err);
		if (r != CLI_RUN)
			return r;
		before = optind;
	}
	if (opt->inject_mask && opt->check != CHECK_CHECKPOINTS)
		return usage_error(err, "%s", "--inject needs --check=checkpoints");
	if (opt->stop_on_violation && opt->check != CHECK_CHECKPOINTS)
		return usage_error(err, "%s", opt->gdb_on_violation ?
				   "--gdb-on-violation needs --check=checkpoints" :
				   "--stop-on-violation needs --check=checkpoints");
	if (check_outputs(opt, err) != CLI_RUN)
		return CLI_USAGE;
	/* getopt ends at the first operand without moving, or skips a `--' */
	if (parse_operands(argc, argv, optind, optind == before + 1, opt, err) != CLI_RUN)
		return CLI_USAGE;
	return default_replay_workload(opt, err);
}
