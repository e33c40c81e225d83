/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: hypercall validation against hostile arguments, on hosted guest memory. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "hypercall.h"
#include "run_vmm.h"

#define RAM_SIZE (1u << 20)

static struct guest_mem gm;
static char console_buf[1 << 16], diag_buf[1 << 16];
static FILE *console, *diag;

static void setup(void)
{
	ck_assert_int_eq(guest_mem_map(&gm, RAM_SIZE), 0);
	memset(console_buf, 0, sizeof(console_buf));
	memset(diag_buf, 0, sizeof(diag_buf));
	console = fmemopen(console_buf, sizeof(console_buf) - 1, "w");
	diag = fmemopen(diag_buf, sizeof(diag_buf) - 1, "w");
}

static void teardown(void)
{
	fclose(console);
	fclose(diag);
	guest_mem_unmap(&gm);
}

/* Writes `arg` at GPA 0x1000 and makes call on `port` pointing at it. */
static struct hc_result call(uint16_t port, const void *arg, size_t len)
{
	struct hc_sink sink = { console, diag };
	struct hc_call c = { .port = port, .out = true, .size = 4, .count = 1, .value = 0x1000 };
	struct hc_result res;

	ck_assert(guest_mem_write(&gm, 0x1000, arg, len));
	hypercall_handle(&gm, 0, &c, &sink, &res);
	fflush(console);
	fflush(diag);
	return res;
}

START_TEST(puts_writes_console)
{
	struct hc_puts a = { .buf = 0x2000, .len = 5 };

	guest_mem_write(&gm, 0x2000, "hello", 5);
	struct hc_result r = call(HC_PORT_PUTS, &a, sizeof(a));
	ck_assert_int_eq(r.verdict, HC_RESUME);
	ck_assert_str_eq(console_buf, "hello");
}
END_TEST

static const struct hc_puts bad_puts[] = {
	{ .buf = RAM_SIZE, .len = 1 },                 /* just past RAM */
	{ .buf = RAM_SIZE - 2, .len = 3 },             /* straddles the end */
	{ .buf = UINT64_MAX - 1, .len = 4 },           /* wraps around */
	{ .buf = 0x2000, .len = HC_MAX_PUTS + 1 },     /* too long */
	{ .buf = 0x2000, .len = UINT64_MAX },
};

START_TEST(puts_rejects_bad_buffer)
{
	struct hc_result r = call(HC_PORT_PUTS, &bad_puts[_i], sizeof(bad_puts[0]));
	ck_assert_int_eq(r.verdict, HC_STOP);
	ck_assert_int_eq(r.outcome, RUN_CRASHED);
	ck_assert(r.dump_regs);
	ck_assert(strstr(diag_buf, "bad hypercall puts"));
	ck_assert_str_eq(console_buf, "");
}
END_TEST

START_TEST(argument_struct_outside_ram)
{
	struct hc_sink sink = { console, diag };
	struct hc_call c = { .port = HC_PORT_PUTS, .out = true, .size = 4, .count = 1,
			     .value = RAM_SIZE - 8 };
	struct hc_result res;

	hypercall_handle(&gm, 0, &c, &sink, &res);
	fflush(diag);
	ck_assert_int_eq(res.verdict, HC_STOP);
	ck_assert(strstr(diag_buf, "argument struct outside RAM at 0xffff8"));
}
END_TEST

START_TEST(wrong_access_shape)
{
	struct hc_sink sink = { console, diag };
	struct hc_call shapes[] = {
		{ .port = HC_PORT_EXIT, .out = false, .size = 4, .count = 1 },
		{ .port = HC_PORT_EXIT, .out = true, .size = 1, .count = 1 },
		{ .port = HC_PORT_EXIT, .out = true, .size = 4, .count = 2 },
		{ .port = 0x80, .out = true, .size = 4, .count = 1 },
	};
	struct hc_result res;

	for (unsigned i = 0; i < 4; i++) {
		hypercall_handle(&gm, 0, &shapes[i], &sink, &res);
		ck_assert_int_eq(res.verdict, HC_STOP);
		ck_assert_int_eq(res.outcome, RUN_CRASHED);
	}
	fflush(diag);
	ck_assert(strstr(diag_buf, "unknown I/O port 0x80"));
}
END_TEST

/* Each iteration of `rep outsl` exits with count 1 and a valid argument struct: still refused. */
START_TEST(string_io_is_refused)
{
	struct hc_sink sink = { console, diag };
	struct hc_exit ok = { 0 };
	struct hc_call c = { .port = HC_PORT_EXIT, .out = true, .size = 4, .count = 1,
			     .value = 0x1000, .string = true };
	struct hc_result res;

	ck_assert(guest_mem_write(&gm, 0x1000, &ok, sizeof(ok)));
	hypercall_handle(&gm, 0, &c, &sink, &res);
	fflush(diag);
	ck_assert_int_eq(res.verdict, HC_STOP);
	ck_assert_int_eq(res.outcome, RUN_CRASHED);
	ck_assert(res.dump_regs);
	ck_assert(strstr(diag_buf, "bad hypercall exit: string I/O (INS/OUTS)"));
}
END_TEST

START_TEST(exit_statuses)
{
	struct hc_exit ok = { 0 }, bad = { 5 };

	struct hc_result r = call(HC_PORT_EXIT, &ok, sizeof(ok));
	ck_assert_int_eq(r.verdict, HC_STOP);
	ck_assert_int_eq(r.outcome, RUN_CLEAN);
	ck_assert(!r.dump_regs);
	r = call(HC_PORT_EXIT, &bad, sizeof(bad));
	ck_assert_int_eq(r.outcome, RUN_CRASHED);
	ck_assert(!r.dump_regs);   /* the guest said why itself */
	ck_assert(strstr(diag_buf, "failure status 5"));
}
END_TEST

START_TEST(abort_sanitizes_and_bounds_strings)
{
	struct hc_abort a = { .file = 0x2000, .file_len = 6, .line = 42, .msg = 0x3000, .msg_len = 4 };

	guest_mem_write(&gm, 0x2000, "boot.c", 6);
	guest_mem_write(&gm, 0x3000, "a\033[b", 4);
	struct hc_result r = call(HC_PORT_ABORT, &a, sizeof(a));
	ck_assert_int_eq(r.outcome, RUN_CRASHED);
	ck_assert(r.dump_regs);
	ck_assert(strstr(diag_buf, "guest abort at boot.c:42: a?[b"));

	a.msg_len = HC_MAX_STRING + 1;
	r = call(HC_PORT_ABORT, &a, sizeof(a));
	ck_assert(strstr(diag_buf, "bad hypercall abort: message"));
	a.msg_len = 4;
	a.file = RAM_SIZE;
	r = call(HC_PORT_ABORT, &a, sizeof(a));
	ck_assert(strstr(diag_buf, "bad hypercall abort: file name"));
}
END_TEST

START_TEST(checkpoint_label)
{
	struct hc_checkpoint a = { .label = 0x2000, .label_len = 5 };

	guest_mem_write(&gm, 0x2000, "start", 5);
	struct hc_result r = call(HC_PORT_CHECKPOINT, &a, sizeof(a));
	ck_assert_int_eq(r.verdict, HC_CHECKPOINT);
	ck_assert_str_eq(r.label, "start");
	a.label_len = UINT64_MAX;
	r = call(HC_PORT_CHECKPOINT, &a, sizeof(a));
	ck_assert_int_eq(r.verdict, HC_STOP);
}
END_TEST

START_TEST(trap_names_vector)
{
	struct hc_trap t = { .vector = 14, .error_code = 2, .rip = 0x1234, .cr2 = 0xdead000 };
	struct hc_result r = call(HC_PORT_TRAP, &t, sizeof(t));

	ck_assert_int_eq(r.outcome, RUN_CRASHED);
	ck_assert(strstr(diag_buf, "vector 14 (#PF page fault)"));
	ck_assert(strstr(diag_buf, "CR2 0x000000000dead000"));
	t.vector = 1000;   /* out of the table: must not index past it */
	call(HC_PORT_TRAP, &t, sizeof(t));
	ck_assert(strstr(diag_buf, "vector 1000 (external interrupt)"));
}
END_TEST

START_TEST(usage_stops_as_usage_error)
{
	struct hc_usage a = { .msg = 0x2000, .msg_len = 24 };

	guest_mem_write(&gm, 0x2000, "option seed=abc: bad\033num", 24);
	struct hc_result r = call(HC_PORT_USAGE, &a, sizeof(a));
	ck_assert_int_eq(r.verdict, HC_STOP);
	ck_assert_int_eq(r.outcome, RUN_USAGE);
	ck_assert(!r.dump_regs);
	ck_assert_str_eq(diag_buf, "vmm: guest command line: option seed=abc: bad?num\n");
	ck_assert_int_eq(exit_status_decide(r.outcome, NULL), VMM_EXIT_USAGE);
	ck_assert_str_eq(hypercall_name(HC_PORT_USAGE), "usage");
}
END_TEST

static const struct hc_usage bad_usage[] = {
	{ .msg = RAM_SIZE, .msg_len = 1 },                 /* just past RAM */
	{ .msg = RAM_SIZE - 2, .msg_len = 3 },             /* straddles the end */
	{ .msg = UINT64_MAX - 1, .msg_len = 4 },           /* wraps around */
	{ .msg = 0x2000, .msg_len = HC_MAX_STRING + 1 },   /* too long */
	{ .msg = 0x2000, .msg_len = UINT64_MAX },
};

START_TEST(usage_rejects_bad_message)
{
	struct hc_result r = call(HC_PORT_USAGE, &bad_usage[_i], sizeof(bad_usage[0]));

	ck_assert_int_eq(r.verdict, HC_STOP);
	ck_assert_int_eq(r.outcome, RUN_CRASHED);
	ck_assert(r.dump_regs);
	ck_assert(strstr(diag_buf, "bad hypercall usage: message outside RAM or too long"));
	ck_assert(!strstr(diag_buf, "guest command line"));
}
END_TEST

START_TEST(usage_longest_message_passes)
{
	struct hc_usage a = { .msg = 0x2000, .msg_len = HC_MAX_STRING };
	char *msg = malloc(HC_MAX_STRING);

	ck_assert_ptr_nonnull(msg);
	memset(msg, 'x', HC_MAX_STRING);
	guest_mem_write(&gm, 0x2000, msg, HC_MAX_STRING);
	struct hc_result r = call(HC_PORT_USAGE, &a, sizeof(a));
	ck_assert_int_eq(r.outcome, RUN_USAGE);
	ck_assert_uint_eq(strlen(diag_buf), strlen("vmm: guest command line: \n") + HC_MAX_STRING);
	free(msg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hypercall");
	TCase *tc = tcase_create("hypercall");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, puts_writes_console);
	tcase_add_loop_test(tc, puts_rejects_bad_buffer, 0, sizeof(bad_puts) / sizeof(bad_puts[0]));
	tcase_add_test(tc, argument_struct_outside_ram);
	tcase_add_test(tc, wrong_access_shape);
	tcase_add_test(tc, string_io_is_refused);
	tcase_add_test(tc, exit_statuses);
	tcase_add_test(tc, abort_sanitizes_and_bounds_strings);
	tcase_add_test(tc, checkpoint_label);
	tcase_add_test(tc, trap_names_vector);
	tcase_add_test(tc, usage_stops_as_usage_error);
	tcase_add_loop_test(tc, usage_rejects_bad_message, 0, sizeof(bad_usage) / sizeof(bad_usage[0]));
	tcase_add_test(tc, usage_longest_message_passes);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
