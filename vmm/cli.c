/* Command-line parsing for vmm: options, sizes, the guest command line. */
#include "cli.h"

#include "invariant_names.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MEM     (256ull << 20)
#define DEFAULT_TIMEOUT 60u
#define MAX_TIMEOUT     86400u

static const char usage_text[] =
"Usage: vmm [OPTIONS] GUEST.ELF [-- GUEST COMMAND LINE...]\n"
"\n"
"Boot GUEST.ELF, an ELF64 x86-64 executable, in a KVM virtual machine that\n"
"starts directly in 64-bit long mode, and serve its hypercalls.\n"
"\n"
"Options:\n"
"  -m, --mem SIZE        guest RAM; K, M or G suffix (default 256M,\n"
"                        4M to 3G)\n"
"  -c, --cpus N          number of vCPUs, 1 to 64 (default 1)\n"
"  -t, --timeout SECONDS stop the guest after SECONDS, exit status 4\n"
"                        (default 60; 0 disables the watchdog)\n"
"  -q, --quiet           print only guest output, errors and violations\n"
"  -h, --help            print this help and exit\n"
"  -V, --version         print the version and exit\n"
"\n"
"Checking (needs a guest whose symbols name its memory manager):\n"
"      --check=WHEN      off, exit (once, after the guest stopped) or\n"
"                        checkpoints (default: at every checkpoint and at exit)\n"
"      --report=FILE     also write every check and violation as JSON to FILE\n"
"      --inject=ID[,ID]  plant exactly that corruption at the first checkpoint\n"
"                        where it is possible, check, then repair it; IDs are\n"
"                        the invariant catalogue's (see README), e.g. RM_MISSING\n"
"      --ptdump[=LABEL]  print every address space's page tables at the\n"
"                        checkpoint LABEL (default: after the guest stopped)\n"
"      --dump-core=FILE  write guest RAM and every vCPU's registers as an ELF\n"
"                        core file when the run ends (crash, violation or exit)\n"
"      --verify-walker   at each checkpoint, compare the host's page-table\n"
"                        walker with KVM_TRANSLATE on sampled addresses\n"
"\n"
"Also: vmm check-core CORE GUEST.ELF [--report=FILE] [--ptdump]\n"
"  re-runs the checker on a core file written by --dump-core (no KVM needed).\n"
"\n"
"Words after `--' are joined by spaces and handed to the guest as its\n"
"command line, e.g. `vmm guest.elf -- workload=random seed=7'. The bundled\n"
"guest takes workload=all (default), smoke, share, random, pressure, large,\n"
"bench, hello, fault, spin, triple, badcall or hole; see README.md.\n"
"\n"
"Exit status:\n"
"  0  the guest finished cleanly\n"
"  1  an invariant was violated\n"
"  2  usage error, unusable guest image, or KVM cannot be set up\n"
"  3  the guest crashed (exception, triple fault, abort, bad hypercall,\n"
"     access to a memory hole)\n"
"  4  the watchdog timeout expired\n";

enum {
	OPT_CHECK = 0x100, OPT_REPORT, OPT_INJECT, OPT_PTDUMP, OPT_DUMP_CORE,
	OPT_VERIFY_WALKER,
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

static enum cli_result usage_error(FILE *err, const char *fmt, const char *arg)
{
	fprintf(err, "vmm: ");
	fprintf(err, fmt, arg);
	fprintf(err, "\nTry 'vmm --help' for more information.\n");
	return CLI_USAGE;
}

static enum cli_result parse_check_option(int c, struct vmm_options *opt, FILE *err)
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
		else
			return usage_error(err, "--check '%s': expected off, exit or checkpoints", optarg);
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
	default:
		opt->verify_walker = true;
		return CLI_RUN;
	}
}

static enum cli_result parse_option(int c, struct vmm_options *opt, FILE *out, FILE *err)
{
	if (c >= OPT_CHECK)
		return parse_check_option(c, opt, err);
	switch (c) {
	case 'm':
		if (!cli_parse_size(optarg, &opt->mem_size) ||
		    opt->mem_size < GUEST_RAM_MIN || opt->mem_size > GUEST_RAM_MAX ||
		    opt->mem_size % 4096)
			return usage_error(err, "--mem '%s': expected a multiple of 4K from 4M to 3G", optarg);
		return CLI_RUN;
	case 'c':
		if (!parse_uint(optarg, 1, BOOT_MAX_CPUS, &opt->cpus))
			return usage_error(err, "--cpus '%s': expected a number from 1 to 64", optarg);
		return CLI_RUN;
	case 't':
		if (!parse_uint(optarg, 0, MAX_TIMEOUT, &opt->timeout_s))
			return usage_error(err, "--timeout '%s': expected seconds from 0 to 86400", optarg);
		return CLI_RUN;
	case 'q':
		opt->quiet = true;
		return CLI_RUN;
	case 'h':
		fputs(usage_text, out);
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

enum cli_result cli_parse(int argc, char **argv, struct vmm_options *opt,
			  FILE *out, FILE *err)
{
	int c;

	*opt = (struct vmm_options){
		.mem_size = DEFAULT_MEM, .cpus = 1, .timeout_s = DEFAULT_TIMEOUT,
		.check = CHECK_CHECKPOINTS,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:c:t:qhV", long_options, NULL)) != -1) {
		enum cli_result r = parse_option(c, opt, out, err);
		if (r != CLI_RUN)
			return r;
	}
	if (optind >= argc)
		return usage_error(err, "%s", "missing GUEST.ELF");
	if (opt->inject_mask && opt->check != CHECK_CHECKPOINTS)
		return usage_error(err, "%s", "--inject needs --check=checkpoints");
	opt->image = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	else if (optind < argc)
		return usage_error(err, "unexpected argument '%s' (guest arguments go after --)", argv[optind]);
	if (!join_cmdline(argc, argv, optind, opt->cmdline, sizeof(opt->cmdline)))
		return usage_error(err, "%s", "guest command line longer than 4095 bytes");
	return CLI_RUN;
}
