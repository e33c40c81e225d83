/* unit suite: vmm's option parsing, in-process and through the binary. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_vmm.h"

static const char *vmm_path;

static enum cli_result parse(struct vmm_options *opt, const char *const words[])
{
	char *argv[32];
	int argc = 0;
	FILE *sink = fopen("/dev/null", "w");

	argv[argc++] = "vmm";
	for (int i = 0; words[i]; i++)
		argv[argc++] = (char *)words[i];
	argv[argc] = NULL;
	enum cli_result r = cli_parse(argc, argv, opt, sink, sink);
	fclose(sink);
	return r;
}

START_TEST(defaults)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, (const char *[]){ "g.elf", NULL }), CLI_RUN);
	ck_assert_str_eq(o.image, "g.elf");
	ck_assert_uint_eq(o.mem_size, 256ull << 20);
	ck_assert_uint_eq(o.cpus, 1);
	ck_assert_uint_eq(o.timeout_s, 60);
	ck_assert(!o.quiet);
	ck_assert_str_eq(o.cmdline, "");
}
END_TEST

START_TEST(options_and_guest_words)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, (const char *[]){ "--mem", "1G", "-c", "4", "--timeout", "0", "-q",
				"g.elf", "--", "workload=random", "seed=7", NULL }), CLI_RUN);
	ck_assert_uint_eq(o.mem_size, 1ull << 30);
	ck_assert_uint_eq(o.cpus, 4);
	ck_assert_uint_eq(o.timeout_s, 0);
	ck_assert(o.quiet);
	ck_assert_str_eq(o.cmdline, "workload=random seed=7");
}
END_TEST

START_TEST(sizes)
{
	uint64_t b;

	ck_assert(cli_parse_size("4096", &b) && b == 4096);
	ck_assert(cli_parse_size("64k", &b) && b == 65536);
	ck_assert(cli_parse_size("3G", &b) && b == 3ull << 30);
	ck_assert(!cli_parse_size("", &b));
	ck_assert(!cli_parse_size("-1M", &b));
	ck_assert(!cli_parse_size("12Q", &b));
	ck_assert(!cli_parse_size("99999999999999999999", &b));
	ck_assert(!cli_parse_size("17179869184G", &b));   /* overflows 64 bits */
}
END_TEST

static const char *const bad_usages[][6] = {
	{ NULL },                                    /* no image */
	{ "--mem", "1M", "g.elf", NULL },            /* below 4M */
	{ "--mem", "4G", "g.elf", NULL },            /* above 3G */
	{ "--mem", "5000000", "g.elf", NULL },       /* not a page multiple */
	{ "--cpus", "0", "g.elf", NULL },
	{ "--cpus", "65", "g.elf", NULL },
	{ "--cpus", "two", "g.elf", NULL },
	{ "--timeout", "-1", "g.elf", NULL },
	{ "--frobnicate", "g.elf", NULL },
	{ "g.elf", "stray", NULL },                  /* guest words need -- */
};

START_TEST(usage_errors)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, bad_usages[_i]), CLI_USAGE);
}
END_TEST

START_TEST(cmdline_too_long)
{
	static char word[5000];
	struct vmm_options o;

	memset(word, 'x', sizeof(word) - 1);
	ck_assert_int_eq(parse(&o, (const char *[]){ "g.elf", "--", word, NULL }), CLI_USAGE);
}
END_TEST

/* Through the binary: exit statuses and what is printed where. */
START_TEST(binary_help_version_usage)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--help", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "Usage: vmm"));
	ck_assert(strstr(r.out, "Exit status"));
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "--version", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert(strstr(r.out, "vmm (hatvm)"));
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "--cpus", "0", "x.elf", NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert(strstr(r.err, "--cpus '0'"));
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert(strstr(r.err, "missing GUEST.ELF"));
	vmm_result_free(&r);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 2)
		return 99;
	vmm_path = argv[1];
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, options_and_guest_words);
	tcase_add_test(tc, sizes);
	tcase_add_loop_test(tc, usage_errors, 0, sizeof(bad_usages) / sizeof(bad_usages[0]));
	tcase_add_test(tc, cmdline_too_long);
	tcase_add_test(tc, binary_help_version_usage);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
