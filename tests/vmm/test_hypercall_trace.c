/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the trace hypercall (vmm --replay): chunks, the end, no trace, hostile counts and buffers, an unreadable trace. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "hatvm/trace.h"
#include "hypercall.h"
#include "run_vmm.h"

#define RAM_SIZE (1u << 20)
#define ARG_GPA  0x1000u
#define BUF_GPA  0x2000u

static struct guest_mem gm;
static char diag_buf[1 << 12];
static FILE *diag;
static uint64_t left;   /* events the fake trace still has; UINT64_MAX: it fails */

/* A fake trace: event i has te_addr i; after `left` events, the end (or an error). */
static int next_event(void *ctx, struct trace_event *ev, char *err, size_t err_size)
{
	uint64_t *n = ctx;

	if (left == UINT64_MAX) {
		snprintf(err, err_size, "t.trace: event 7 (byte 99): bad varint");
		return -1;
	}
	if (left == 0)
		return 0;
	left--;
	*ev = (struct trace_event){ .te_kind = TR_FAULT, .te_addr = (*n)++ };
	return 1;
}

static uint64_t counter;
static const struct hc_trace_source source = { .next_event = next_event, .ctx = &counter, .files = 9 };

static void setup(void)
{
	ck_assert_int_eq(guest_mem_map(&gm, RAM_SIZE), 0);
	diag = fmemopen(diag_buf, sizeof(diag_buf) - 1, "w");
	counter = 0;
	hypercall_set_trace_source(&source);
}

static void teardown(void)
{
	hypercall_set_trace_source(NULL);
	fclose(diag);
	guest_mem_unmap(&gm);
}

/* Asks for max events into buf; the struct as the host left it in *out. */
static struct hc_result ask(uint64_t buf, uint64_t max, struct hc_trace *out)
{
	struct hc_sink sink = { diag, diag };
	struct hc_trace a = { .buf = buf, .max = max, .count = 77, .status = 77 };
	struct hc_call c = { .port = HC_PORT_TRACE, .out = true, .size = 4, .count = 1, .value = ARG_GPA };
	struct hc_result res;

	ck_assert(guest_mem_write(&gm, ARG_GPA, &a, sizeof(a)));
	hypercall_handle(&gm, 0, &c, &sink, &res);
	fflush(diag);
	ck_assert(guest_mem_read(&gm, ARG_GPA, out, sizeof(*out)));
	return res;
}

START_TEST(chunks_then_end)
{
	struct hc_trace t;
	struct trace_event ev[HC_TRACE_MAX_EVENTS];

	left = 300;
	ck_assert_int_eq(ask(BUF_GPA, HC_TRACE_MAX_EVENTS, &t).verdict, HC_RESUME);
	ck_assert_uint_eq(t.count, HC_TRACE_MAX_EVENTS);
	ck_assert_uint_eq(t.status, HC_TRACE_OK);
	ck_assert_uint_eq(t.files, 9);
	ck_assert(guest_mem_read(&gm, BUF_GPA, ev, sizeof(ev)));
	ck_assert_uint_eq(ev[255].te_addr, 255);
	ask(BUF_GPA, HC_TRACE_MAX_EVENTS, &t);
	ck_assert_uint_eq(t.count, 44);
	ask(BUF_GPA, 1, &t);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_uint_eq(t.status, HC_TRACE_END);
}
END_TEST

START_TEST(no_trace)
{
	struct hc_trace t;

	hypercall_set_trace_source(NULL);
	ck_assert_int_eq(ask(BUF_GPA, 4, &t).verdict, HC_RESUME);
	ck_assert_uint_eq(t.status, HC_TRACE_NONE);
	ck_assert_uint_eq(t.count, 0);
}
END_TEST

/* Counts of 0 or past the limit, buffers outside RAM or running past its end: a bad call, nothing read. */
START_TEST(hostile_requests)
{
	static const struct { uint64_t buf, max; } bad[] = {
		{ BUF_GPA, 0 }, { BUF_GPA, HC_TRACE_MAX_EVENTS + 1 }, { BUF_GPA, UINT64_MAX },
		{ RAM_SIZE, 1 }, { RAM_SIZE - sizeof(struct trace_event) + 1, 1 }, { UINT64_MAX - 8, 2 },
	};
	struct hc_trace t;

	left = 1000;
	struct hc_result r = ask(bad[_i].buf, bad[_i].max, &t);
	ck_assert_int_eq(r.verdict, HC_STOP);
	ck_assert_int_eq(r.outcome, RUN_CRASHED);
	ck_assert(strstr(diag_buf, "bad hypercall trace") != NULL);
	ck_assert_uint_eq(left, 1000);
}
END_TEST

START_TEST(unreadable_trace_stops_as_usage)
{
	struct hc_trace t;

	left = UINT64_MAX;
	struct hc_result r = ask(BUF_GPA, 8, &t);
	ck_assert_int_eq(r.verdict, HC_STOP);
	ck_assert_int_eq(r.outcome, RUN_USAGE);
	ck_assert(strstr(diag_buf, "vmm: --replay: t.trace: event 7") != NULL);
}
END_TEST

static Suite *trace_call_suite(void)
{
	Suite *s = suite_create("hypercall_trace");
	TCase *t = tcase_create("trace");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, chunks_then_end);
	tcase_add_test(t, no_trace);
	tcase_add_loop_test(t, hostile_requests, 0, 6);
	tcase_add_test(t, unreadable_trace_stops_as_usage);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(trace_call_suite());
}
