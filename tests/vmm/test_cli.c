/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: vmm's option parsing, in-process and through the binary. */
#include <check.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "default_guest.h"
#include "fifo_guard.h"
#include "gdbstub_kvm.h"
#include "hatvm/exit_status.h"
#include "hatvm/layout.h"
#include "invariant_names.h"
#include "run_vmm.h"

static char vmm_path[PATH_MAX], guest_path[PATH_MAX];

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
	ck_assert(!o.stop_on_violation);
	ck_assert_str_eq(o.cmdline, "");
}
END_TEST

/* --stop-on-violation needs checks at checkpoints, and composes with --inject. */
START_TEST(stop_on_violation)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, (const char *[]){ "--stop-on-violation", "g.elf", NULL }), CLI_RUN);
	ck_assert(o.stop_on_violation);
	ck_assert_int_eq(o.check, CHECK_CHECKPOINTS);
	ck_assert_int_eq(parse(&o, (const char *[]){ "--check=checkpoints", "--inject", "RM_LINKS",
				"--stop-on-violation", "g.elf", "--", "check_every=1", NULL }), CLI_RUN);
	ck_assert(o.stop_on_violation);
	ck_assert(o.inject_mask != 0);
	ck_assert_str_eq(o.cmdline, "check_every=1");
}
END_TEST

/* --check=async:MS: checkpoints as by default, and an instant check every MS ms. */
START_TEST(check_async)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, (const char *[]){ "g.elf", NULL }), CLI_RUN);
	ck_assert_uint_eq(o.async_ms, 0);
	ck_assert_int_eq(parse(&o, (const char *[]){ "--check=async:5", "g.elf", NULL }), CLI_RUN);
	ck_assert_int_eq(o.check, CHECK_CHECKPOINTS);
	ck_assert_uint_eq(o.async_ms, 5);
	ck_assert_int_eq(parse(&o, (const char *[]){ "--check=async:60000", "--stop-on-violation",
						    "g.elf", NULL }), CLI_RUN);
	ck_assert_uint_eq(o.async_ms, 60000);
}
END_TEST

/* --gdb-on-violation[=PORT] freezes at a violation for gdb: any free port without PORT. */
START_TEST(gdb_on_violation)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, (const char *[]){ "g.elf", NULL }), CLI_RUN);
	ck_assert(!o.gdb_on_violation && o.gdb_port == 0);
	ck_assert_int_eq(parse(&o, (const char *[]){ "--gdb-on-violation", "g.elf", NULL }), CLI_RUN);
	ck_assert(o.gdb_on_violation && o.stop_on_violation);
	ck_assert_uint_eq(o.gdb_port, GDB_KVM_ANY_PORT);
	ck_assert_int_eq(parse(&o, (const char *[]){ "--gdb-on-violation=4321", "g.elf", NULL }), CLI_RUN);
	ck_assert(o.gdb_on_violation && o.stop_on_violation);
	ck_assert_uint_eq(o.gdb_port, 4321);
	ck_assert_int_eq(parse(&o, (const char *[]){ "--gdb=4321", "--stop-on-violation", "g.elf", NULL }),
			 CLI_RUN);
	ck_assert(!o.gdb_on_violation && o.stop_on_violation);
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

/* A replay's trace lengthens the default watchdog, never one given with -t (0 included). */
START_TEST(replay_scales_only_the_default_timeout)
{
	struct vmm_options o;

	ck_assert_int_eq(parse(&o, (const char *[]){ "g.elf", NULL }), CLI_RUN);
	cli_scale_timeout(&o, 0);
	ck_assert_uint_eq(o.timeout_s, 60);
	cli_scale_timeout(&o, 41163);
	ck_assert_uint_eq(o.timeout_s, 60 + 41163 / 20);
	cli_scale_timeout(&o, UINT64_MAX);
	ck_assert_uint_eq(o.timeout_s, 86400);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(parse(&o, (const char *[]){ "-t", i ? "0" : "10", "g.elf", NULL }), CLI_RUN);
		cli_scale_timeout(&o, 1000000);
		ck_assert_uint_eq(o.timeout_s, i ? 0 : 10);
	}
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
	{ "--mem", "1M", "g.elf", NULL },            /* below 4M */
	{ "--mem", "4G", "g.elf", NULL },            /* above 3G */
	{ "--mem", "5000000", "g.elf", NULL },       /* not a page multiple */
	{ "--cpus", "0", "g.elf", NULL },
	{ "--cpus", "65", "g.elf", NULL },
	{ "--cpus", "two", "g.elf", NULL },
	{ "--timeout", "-1", "g.elf", NULL },
	{ "--frobnicate", "g.elf", NULL },
	{ "g.elf", "stray", NULL },                  /* guest words need -- */
	{ "--stop-on-violation", "--check=exit", "g.elf", NULL },   /* no checkpoint checks */
	{ "--check=off", "--stop-on-violation", "g.elf", NULL },
	{ "--stop-on-violation=yes", "g.elf", NULL },                /* takes no argument */
	{ "--gdb-on-violation=0", "g.elf", NULL },
	{ "--gdb-on-violation=65536", "g.elf", NULL },
	{ "--gdb-on-violation", "--check=exit", "g.elf", NULL },
	{ "--gdb=1234", "--gdb-on-violation", "g.elf", NULL },       /* one or the other */
	{ "--gdb-on-violation", "--gdb=1234", "g.elf", NULL },
	{ "--check=async", "g.elf", NULL },                          /* async:MS */
	{ "--check=async:0", "g.elf", NULL },
	{ "--check=async:60001", "g.elf", NULL },
	{ "--check=async:5ms", "g.elf", NULL },
	{ "--check=async:-5", "g.elf", NULL },
	{ "--check=async:99999999999999999999", "g.elf", NULL },
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

START_TEST(dashes_without_image_mean_the_default_guest)
{
	struct vmm_options o;

	/* whether a default guest exists depends on the install: either way no word is the image */
	enum cli_result r = parse(&o, (const char *[]){ "-q", "--", "workload=smoke", "seed=2", NULL });
	if (r == CLI_RUN) {
		ck_assert_str_eq(o.image, o.default_image);
		ck_assert_str_eq(o.cmdline, "workload=smoke seed=2");
	} else {
		ck_assert_int_eq(r, CLI_USAGE);
	}
}
END_TEST

/* ---- the default guest ------------------------------------------------------------ */

static char tree[] = "/tmp/hatvm-cli-XXXXXX";

static char *tree_path(const char *name)
{
	static char path[4][PATH_MAX];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", tree, name);
	return p;
}

static void remove_tree(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tree);
	ck_assert_int_eq(system(cmd), 0);
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f, "cannot create %s", path);
	fclose(f);
}

/* TREE/build/{vmm/,guest/guest.elf} as a build tree; TREE/share/guest.elf as an install. */
static void make_tree(bool build_guest, bool installed_guest)
{
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_int_eq(mkdir(tree_path("build"), 0755), 0);
	ck_assert_int_eq(mkdir(tree_path("build/vmm"), 0755), 0);
	ck_assert_int_eq(mkdir(tree_path("build/guest"), 0755), 0);
	ck_assert_int_eq(mkdir(tree_path("share"), 0755), 0);
	if (build_guest)
		touch(tree_path("build/guest/guest.elf"));
	if (installed_guest)
		touch(tree_path("share/guest.elf"));
}

START_TEST(default_guest_prefers_the_build_tree)
{
	char found[PATH_MAX];

	make_tree(true, true);
	ck_assert(default_guest_find(tree_path("build/vmm/vmm"), tree_path("share/guest.elf"),
				     found, sizeof(found)));
	ck_assert_str_eq(found, tree_path("build/guest/guest.elf"));
	remove_tree();
}
END_TEST

START_TEST(default_guest_falls_back_to_the_installed_one)
{
	char found[PATH_MAX];

	make_tree(false, true);
	ck_assert(default_guest_find(tree_path("build/vmm/vmm"), tree_path("share/guest.elf"),
				     found, sizeof(found)));
	ck_assert_str_eq(found, tree_path("share/guest.elf"));
	ck_assert(default_guest_find(NULL, tree_path("share/guest.elf"), found, sizeof(found)));
	ck_assert_str_eq(found, tree_path("share/guest.elf"));
	remove_tree();
}
END_TEST

/* An install staged with --destdir or moved: PREFIX/bin/vmm finds PREFIX/share/hatvm/guest.elf. */
START_TEST(default_guest_beside_a_moved_install)
{
	char found[PATH_MAX];

	make_tree(false, false);
	ck_assert_int_eq(mkdir(tree_path("bin"), 0755), 0);
	ck_assert_int_eq(mkdir(tree_path("share/hatvm"), 0755), 0);
	touch(tree_path("share/hatvm/guest.elf"));
	ck_assert(default_guest_find(tree_path("bin/vmm"), tree_path("share/nothing"), found, sizeof(found)));
	ck_assert_str_eq(found, tree_path("share/hatvm/guest.elf"));
	remove_tree();
}
END_TEST

START_TEST(default_guest_missing_or_not_a_file)
{
	char found[PATH_MAX] = "";

	make_tree(false, false);
	ck_assert_int_eq(mkdir(tree_path("share/guest.elf"), 0755), 0);   /* a folder */
	ck_assert(!default_guest_find(tree_path("build/vmm/vmm"), tree_path("share/guest.elf"),
				      found, sizeof(found)));
	ck_assert(!default_guest_find(tree_path("build/vmm/vmm"), tree_path("share/nothing"),
				      found, 4));   /* and too small a buffer is no crash */
	ck_assert_str_eq(found, "");
	remove_tree();
}
END_TEST

/* ---- through the binary: exit statuses and what is printed where ------------------ */

START_TEST(binary_help_version_usage)
{
	char cpus[64];
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--help", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "Usage: vmm");
	ASSERT_HAS(r.out, "Exit status");
	ASSERT_HAS(r.out, "--list-invariants");
	ASSERT_HAS(r.out, "--print-guest");
	snprintf(cpus, sizeof(cpus), "1 to %d (default 1)", BOOT_MAX_CPUS);
	ASSERT_HAS(r.out, cpus);
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "--version", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "vmm (hatvm)");
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "--cpus", "0", "x.elf", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "--cpus '0'");
	vmm_result_free(&r);
}
END_TEST

/* --stop-on-violation is documented, and refused (status 2, before any guest runs) without checkpoint checks. */
START_TEST(binary_stop_on_violation)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--help", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "--stop-on-violation");
	ASSERT_HAS(r.out, "check_every=N");
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "--check=exit", "--stop-on-violation", guest_path,
		NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "vmm: --stop-on-violation needs --check=checkpoints\n");
	ck_assert_str_eq(r.out, "");
	vmm_result_free(&r);
}
END_TEST

/* The limits in messages are the layout's constants, however they are spelt. */
START_TEST(binary_limits_come_from_the_layout)
{
	char want[128];
	static char word[BOOT_CMDLINE_MAX + 2];
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--cpus", "1000", "x.elf", NULL });

	snprintf(want, sizeof(want), "from 1 to %d", BOOT_MAX_CPUS);
	ASSERT_HAS(r.err, want);
	vmm_result_free(&r);

	r = run_vmm((const char *[]){ vmm_path, "--mem", "1K", "x.elf", NULL });
	snprintf(want, sizeof(want), "from %" PRIu64 "M to %" PRIu64 "G",
		 (uint64_t)GUEST_RAM_MIN >> 20, (uint64_t)GUEST_RAM_MAX >> 30);
	ASSERT_HAS(r.err, want);
	vmm_result_free(&r);

	memset(word, 'x', BOOT_CMDLINE_MAX + 1);
	r = run_vmm((const char *[]){ vmm_path, "x.elf", "--", word, NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	snprintf(want, sizeof(want), "longer than %" PRIu64 " bytes", (uint64_t)BOOT_CMDLINE_MAX);
	ASSERT_HAS(r.err, want);
	vmm_result_free(&r);
}
END_TEST

START_TEST(binary_lists_the_catalogue)
{
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--list-invariants", NULL });
	const char *line = r.out;

	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	for (unsigned i = 0; i < INV_COUNT; i++) {
		const char *name = invariant_name((enum invariant_id)i);
		const char *desc = invariant_description((enum invariant_id)i);
		size_t n = strlen(name), pad = strspn(line + n, " ");

		ck_assert_msg(strncmp(line, name, n) == 0 && pad >= 2, "line %u: %s", i, line);
		ck_assert_msg(strncmp(line + n + pad, desc, strlen(desc)) == 0 &&
			      line[n + pad + strlen(desc)] == '\n', "line %u: %s", i, line);
		line += n + pad + strlen(desc) + 1;
	}
	ck_assert_str_eq(line, "");
	vmm_result_free(&r);
}
END_TEST

/* From any folder, the build tree's vmm finds the build tree's guest. */
START_TEST(binary_finds_the_default_guest)
{
	char want[PATH_MAX + 1];

	ck_assert_int_eq(chdir("/"), 0);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, "--print-guest", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	snprintf(want, sizeof(want), "%s\n", guest_path);
	ck_assert_str_eq(r.out, want);
	vmm_result_free(&r);
}
END_TEST

/*
 * `vmm -- WORDS` boots the default guest and says so unless --quiet. Without
 * /dev/kvm the run then fails at KVM set-up (status 2); with it, hello exits 0.
 */
START_TEST(binary_boots_the_default_guest)
{
	char said[PATH_MAX + 64];
	const char *quiet = _i ? "--quiet" : "--timeout=30";

	ck_assert_int_eq(chdir("/"), 0);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, quiet, "--", "workload=hello",
		NULL });
	ck_assert_msg(r.status == VMM_EXIT_OK || r.status == VMM_EXIT_USAGE, "status %d:\n%s",
		      r.status, r.err);
	snprintf(said, sizeof(said), "vmm: no GUEST.ELF given, booting %s\n", guest_path);
	bool said_it = strstr(r.err, said) != NULL;
	ck_assert_msg(said_it == !_i, "%s:\n%s", quiet, r.err);
	vmm_result_free(&r);
}
END_TEST

/* ---- outputs refused up front: --report and --dump-core ------------------------- */

static char out_dir[] = "/tmp/hatvm-cli-out-XXXXXX";
static char fifo[64], missing[96];

static void outputs_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(out_dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", out_dir);
	snprintf(missing, sizeof(missing), "%s/no-such-dir/out", out_dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
}

static void outputs_teardown(void)
{
	unlink(fifo);
	rmdir(out_dir);
}

/* Each unusable output, for --report=X and for --dump-core=X. */
START_TEST(unusable_outputs_are_usage_errors)
{
	const char *const bad[] = { fifo, "/dev/null", out_dir, missing };
	const char *const opts[] = { "--report=", "--dump-core=" };
	char arg[160];
	struct vmm_options o;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (unsigned k = 0; k < 2; k++) {
			snprintf(arg, sizeof(arg), "%s%s", opts[k], bad[i]);
			ck_assert_msg(parse(&o, (const char *[]){ arg, "g.elf", NULL }) == CLI_USAGE,
				      "%s accepted", arg);
		}
	}
	snprintf(arg, sizeof(arg), "--report=%s/new.json", out_dir);
	ck_assert_int_eq(parse(&o, (const char *[]){ arg, "g.elf", NULL }), CLI_RUN);
}
END_TEST

/*
 * `vmm --report=FIFO guest.elf` and `--dump-core=FIFO`: status 2 at once,
 * naming the FIFO, before /dev/kvm is opened (so the same without KVM).
 */
START_TEST(binary_refuses_a_fifo_output_before_the_run)
{
	const char *const opts[] = { "--report=", "--dump-core=" };
	char arg[96];
	struct stat st;

	snprintf(arg, sizeof(arg), "%s%s", opts[_i], fifo);
	fifo_guard_arm(fifo, 10);
	struct vmm_result r = run_vmm((const char *[]){ vmm_path, arg, guest_path, NULL });
	ck_assert_msg(!fifo_guard_disarm(), "vmm %s blocked on the FIFO", arg);
	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, fifo);
	ASSERT_HAS(r.err, "not a regular file");
	ck_assert_msg(!strstr(r.err, "kvm"), "checked after KVM set-up:\n%s", r.err);
	ck_assert_int_eq(lstat(fifo, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	vmm_result_free(&r);
}
END_TEST

int main(int argc, char **argv)
{
	/* absolute, so tests may change folder; guest.elf as vmm should find it */
	if (argc != 3 || !realpath(argv[1], vmm_path) || !realpath(argv[2], guest_path))
		return 99;
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, options_and_guest_words);
	tcase_add_test(tc, replay_scales_only_the_default_timeout);
	tcase_add_test(tc, stop_on_violation);
	tcase_add_test(tc, gdb_on_violation);
	tcase_add_test(tc, check_async);
	tcase_add_test(tc, sizes);
	tcase_add_loop_test(tc, usage_errors, 0, sizeof(bad_usages) / sizeof(bad_usages[0]));
	tcase_add_test(tc, cmdline_too_long);
	tcase_add_test(tc, dashes_without_image_mean_the_default_guest);
	tcase_add_test(tc, default_guest_prefers_the_build_tree);
	tcase_add_test(tc, default_guest_falls_back_to_the_installed_one);
	tcase_add_test(tc, default_guest_beside_a_moved_install);
	tcase_add_test(tc, default_guest_missing_or_not_a_file);
	tcase_add_test(tc, binary_help_version_usage);
	tcase_add_test(tc, binary_stop_on_violation);
	tcase_add_test(tc, binary_limits_come_from_the_layout);
	tcase_add_test(tc, binary_lists_the_catalogue);
	tcase_add_test(tc, binary_finds_the_default_guest);
	tcase_add_loop_test(tc, binary_boots_the_default_guest, 0, 2);
	suite_add_tcase(s, tc);
	TCase *to = tcase_create("outputs");
	tcase_add_checked_fixture(to, outputs_setup, outputs_teardown);
	tcase_set_timeout(to, 60);
	tcase_add_test(to, unusable_outputs_are_usage_errors);
	tcase_add_loop_test(to, binary_refuses_a_fifo_output_before_the_run, 0, 2);
	suite_add_tcase(s, to);
	return run_suite(s);
}
