/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: boot guest.elf and check each boot-level behaviour end to end. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "run_vmm.h"

static const char *vmm_path, *guest_path;

/* Boots the guest with `opts` (NULL-terminated) and guest words after "--". */
static struct vmm_result boot(const char *const opts[], const char *const words[])
{
	return run_guest(vmm_path, guest_path, opts, words);
}


static void assert_register_dump(const struct vmm_result *r)
{
	ASSERT_HAS(r->err, "register dump");
	ASSERT_HAS(r->err, "RIP");
	ASSERT_HAS(r->err, "CR3");
	ASSERT_HAS(r->err, "EFER");
}

START_TEST(hello_one_cpu)
{
	struct vmm_result r = boot((const char *[]){ "--cpus", "1", NULL },
				   (const char *[]){ "workload=hello", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "hello from CPU 0 of 1\n");
	ASSERT_HAS(r.out, "hello: all 1 CPUs up\n");
	vmm_result_free(&r);
}
END_TEST

START_TEST(hello_two_cpus)
{
	struct vmm_result r = boot((const char *[]){ "--cpus", "2", NULL },
				   (const char *[]){ "workload=hello", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "hello from CPU 0 of 2\n");
	ASSERT_HAS(r.out, "hello from CPU 1 of 2\n");
	ASSERT_HAS(r.out, "hello: all 2 CPUs up\n");
	vmm_result_free(&r);
}
END_TEST

static const struct { const char *word, *vector; } faults[] = {
	{ "fault=ud", "vector 6 (#UD invalid opcode)" },
	{ "fault=gp", "vector 13 (#GP general protection)" },
	{ "fault=pf", "vector 14 (#PF page fault)" },
	{ "fault=de", "vector 0 (#DE divide error)" },
};

START_TEST(fault_names_vector)
{
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=fault", faults[_i].word, NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_CRASH);
	ASSERT_HAS(r.err, faults[_i].vector);
	ASSERT_HAS(r.err, "RIP 0x");
	assert_register_dump(&r);
	vmm_result_free(&r);
}
END_TEST

START_TEST(spin_times_out)
{
	struct vmm_result r = boot((const char *[]){ "--timeout", "1", NULL },
				   (const char *[]){ "workload=spin", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_TIMEOUT);
	ASSERT_HAS(r.err, "timeout");
	assert_register_dump(&r);
	/* "about a second": generous, this only catches a watchdog that never fires */
	ck_assert_msg(r.seconds < 10.0, "took %.2f s", r.seconds);
	vmm_result_free(&r);
}
END_TEST

START_TEST(spin_times_out_on_every_cpu)
{
	struct vmm_result r = boot((const char *[]){ "--timeout", "1", "--cpus", "2", NULL },
				   (const char *[]){ "workload=spin", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_TIMEOUT);
	vmm_result_free(&r);
}
END_TEST

START_TEST(triple_fault)
{
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=triple", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_CRASH);
	ASSERT_HAS(r.err, "triple fault");
	assert_register_dump(&r);
	vmm_result_free(&r);
}
END_TEST

static const struct { const char *word, *message; } badcalls[] = {
	{ "call=puts", "bad hypercall puts: buffer outside RAM" },
	{ "call=arg",  "bad hypercall puts: argument struct outside RAM" },
	{ "call=port", "bad hypercall (none): unknown I/O port 0x506" },   /* HC_PORT_BASE + HC_PORT_COUNT */
};

START_TEST(badcall_stops_guest)
{
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=badcall", badcalls[_i].word, NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_CRASH);
	ASSERT_HAS(r.err, badcalls[_i].message);
	assert_register_dump(&r);
	ck_assert(!strstr(r.out, "the host accepted it"));
	vmm_result_free(&r);
}
END_TEST

START_TEST(hole_is_reported)
{
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=hole", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_CRASH);
	ASSERT_HAS(r.err, "at GPA 0xe0000000: a hole");
	assert_register_dump(&r);
	vmm_result_free(&r);
}
END_TEST

/* A bad guest command line is a usage error: status 2, one line naming the option, no register dump. */
static void assert_usage_error(const char *const words[], const char *message)
{
	struct vmm_result r = boot(NULL, words);

	ck_assert_msg(r.status == VMM_EXIT_USAGE, "status %d:\n%s", r.status, r.err);
	ASSERT_HAS(r.err, message);
	ck_assert_msg(!strstr(r.err, "register dump"), "register dump on a usage error:\n%s", r.err);
	ck_assert_msg(!strstr(r.err, "guest abort"), "abort on a usage error:\n%s", r.err);
	vmm_result_free(&r);
}

START_TEST(unknown_workload)
{
	assert_usage_error((const char *[]){ "workload=nonesuch", NULL },
			   "vmm: guest command line: option workload=nonesuch: unknown workload; "
			   "known: all smoke share random");
}
END_TEST

START_TEST(malformed_number)
{
	assert_usage_error((const char *[]){ "workload=random", "seed=abc", NULL },
			   "vmm: guest command line: option seed=abc: not a decimal number");
}
END_TEST

START_TEST(unknown_fault_kind)
{
	assert_usage_error((const char *[]){ "workload=fault", "fault=xyz", NULL },
			   "vmm: guest command line: option fault=xyz: expected ud, gp, pf or de");
}
END_TEST

START_TEST(boot_info_reaches_guest)
{
	struct vmm_result r = boot((const char *[]){ "--mem", "64M", "--cpus", "3", NULL },
				   (const char *[]){ "workload=hello", NULL });
	ck_assert_int_eq(r.status, VMM_EXIT_OK);
	ASSERT_HAS(r.out, "hello from CPU 2 of 3\n");
	vmm_result_free(&r);
}
END_TEST

static Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *tc = tcase_create("boot");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hello_one_cpu);
	tcase_add_test(tc, hello_two_cpus);
	tcase_add_loop_test(tc, fault_names_vector, 0, 4);
	tcase_add_test(tc, spin_times_out);
	tcase_add_test(tc, spin_times_out_on_every_cpu);
	tcase_add_test(tc, triple_fault);
	tcase_add_loop_test(tc, badcall_stops_guest, 0, 3);
	tcase_add_test(tc, hole_is_reported);
	tcase_add_test(tc, unknown_workload);
	tcase_add_test(tc, malformed_number);
	tcase_add_test(tc, unknown_fault_kind);
	tcase_add_test(tc, boot_info_reaches_guest);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return kvm_test_main(argc, argv, &vmm_path, &guest_path, boot_suite);
}
