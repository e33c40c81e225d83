/* SPDX-License-Identifier: BSD-2-Clause */
/* Hypercall handlers: console, exit, abort, checkpoint, trap reports and command-line refusals. */
#include "hypercall.h"

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "hatvm/trace.h"

static const char *const call_names[HC_PORT_COUNT] = {
	"puts", "exit", "abort", "checkpoint", "trap", "usage", "trace",
};

/* One trace for the whole run; vCPU threads take turns reading it. */
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct hc_trace_source *trace_source;

static const char *const vector_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

const char *hypercall_name(uint16_t port)
{
	if (port < HC_PORT_BASE || port >= HC_PORT_BASE + HC_PORT_COUNT)
		return NULL;
	return call_names[port - HC_PORT_BASE];
}

static void stop(struct hc_result *res, enum run_outcome outcome, bool dump_regs)
{
	res->verdict = HC_STOP;
	res->outcome = outcome;
	res->dump_regs = dump_regs;
}

static void bad_call(const struct hc_sink *sink, struct hc_result *res, unsigned cpu,
		     const char *call, const char *what, uint64_t value)
{
	fprintf(sink->diag, "vmm: vCPU %u: bad hypercall %s: %s 0x%" PRIx64 "\n",
		cpu, call, what, value);
	stop(res, RUN_CRASHED, true);
}

/* Copies a guest string into dst (NUL-terminated), replacing unprintable bytes. */
static bool copy_string(const struct guest_mem *gm, uint64_t gpa, uint64_t len, char *dst)
{
	if (len > HC_MAX_STRING || !guest_mem_read(gm, gpa, dst, len))
		return false;
	dst[len] = '\0';
	for (uint64_t i = 0; i < len; i++)
		if (dst[i] < 0x20 || dst[i] > 0x7e)
			dst[i] = '?';
	return true;
}

static void do_puts(const struct guest_mem *gm, unsigned cpu, const struct hc_puts *a,
		    const struct hc_sink *sink, struct hc_result *res)
{
	if (a->len > HC_MAX_PUTS)
		return bad_call(sink, res, cpu, "puts", "length", a->len);
	const void *buf = guest_mem_ptr(gm, a->buf, a->len);
	if (!buf)
		return bad_call(sink, res, cpu, "puts", "buffer outside RAM at", a->buf);
	fwrite(buf, 1, a->len, sink->console);
	fflush(sink->console);
}

static void do_exit(unsigned cpu, const struct hc_exit *a, const struct hc_sink *sink,
		    struct hc_result *res)
{
	if (a->status == 0)
		return stop(res, RUN_CLEAN, false);
	fprintf(sink->diag, "vmm: vCPU %u: guest exited with failure status %" PRIu64 "\n",
		cpu, a->status);
	stop(res, RUN_CRASHED, false);   /* the guest said why itself */
}

static void do_abort(const struct guest_mem *gm, unsigned cpu, const struct hc_abort *a,
		     const struct hc_sink *sink, struct hc_result *res)
{
	char file[HC_MAX_STRING + 1], msg[HC_MAX_STRING + 1];

	if (!copy_string(gm, a->file, a->file_len, file))
		return bad_call(sink, res, cpu, "abort", "file name outside RAM or too long at", a->file);
	if (!copy_string(gm, a->msg, a->msg_len, msg))
		return bad_call(sink, res, cpu, "abort", "message outside RAM or too long at", a->msg);
	fprintf(sink->diag, "vmm: vCPU %u: guest abort at %s:%" PRIu64 ": %s\n",
		cpu, file, a->line, msg);
	stop(res, RUN_CRASHED, true);
}

static void do_checkpoint(const struct guest_mem *gm, unsigned cpu, const struct hc_checkpoint *a,
			  const struct hc_sink *sink, struct hc_result *res)
{
	if (!copy_string(gm, a->label, a->label_len, res->label))
		return bad_call(sink, res, cpu, "checkpoint", "label outside RAM or too long at", a->label);
	res->verdict = HC_CHECKPOINT;
}

static void do_trap(unsigned cpu, const struct hc_trap *a, const struct hc_sink *sink,
		    struct hc_result *res)
{
	const char *name = a->vector < 32 ? vector_names[a->vector] : "external interrupt";

	fprintf(sink->diag,
		"vmm: vCPU %u: guest exception vector %" PRIu64 " (%s), error code 0x%" PRIx64
		", RIP 0x%016" PRIx64 ", RSP 0x%016" PRIx64 ", CR2 0x%016" PRIx64 "\n",
		cpu, a->vector, name, a->error_code, a->rip, a->rsp, a->cr2);
	stop(res, RUN_CRASHED, true);
}

/* A usage error, not a crash: one line, no register dump. */
static void do_usage(const struct guest_mem *gm, unsigned cpu, const struct hc_usage *a,
		     const struct hc_sink *sink, struct hc_result *res)
{
	char msg[HC_MAX_STRING + 1];

	if (!copy_string(gm, a->msg, a->msg_len, msg))
		return bad_call(sink, res, cpu, "usage", "message outside RAM or too long at", a->msg);
	fprintf(sink->diag, "vmm: guest command line: %s\n", msg);
	stop(res, RUN_USAGE, false);
}

void hypercall_set_trace_source(const struct hc_trace_source *src)
{
	pthread_mutex_lock(&trace_lock);
	trace_source = src;
	pthread_mutex_unlock(&trace_lock);
}

/* Writes the call's results back into the guest's struct (at its GPA: checked when it was read). */
static void trace_reply(const struct guest_mem *gm, uint64_t arg_gpa, uint64_t count,
			uint64_t status, uint64_t files)
{
	uint64_t out[3] = { count, status, files };
	void *dst = guest_mem_ptr(gm, arg_gpa + offsetof(struct hc_trace, count), sizeof(out));

	if (dst)
		memcpy(dst, out, sizeof(out));
}

/* Fills up to a->max events from the trace source; an unreadable trace ends the run as a usage error. */
static void do_trace(const struct guest_mem *gm, unsigned cpu, uint64_t arg_gpa,
		     const struct hc_trace *a, const struct hc_sink *sink, struct hc_result *res)
{
	char err[512] = "";
	uint64_t n = 0;
	int rc = 1;

	if (a->max == 0 || a->max > HC_TRACE_MAX_EVENTS)
		return bad_call(sink, res, cpu, "trace", "event count", a->max);
	struct trace_event *buf = guest_mem_ptr(gm, a->buf, a->max * sizeof(struct trace_event));
	if (!buf)
		return bad_call(sink, res, cpu, "trace", "buffer outside RAM at", a->buf);
	pthread_mutex_lock(&trace_lock);
	const struct hc_trace_source *src = trace_source;
	while (src && n < a->max && (rc = src->next_event(src->ctx, &buf[n], err, sizeof(err))) == 1)
		n++;
	pthread_mutex_unlock(&trace_lock);
	if (!src)
		return trace_reply(gm, arg_gpa, 0, HC_TRACE_NONE, 0);
	if (rc < 0) {
		fprintf(sink->diag, "vmm: --replay: %s\n", err);
		return stop(res, RUN_USAGE, false);
	}
	trace_reply(gm, arg_gpa, n, n ? HC_TRACE_OK : HC_TRACE_END, src->files);
}

static const size_t arg_sizes[HC_PORT_COUNT] = {
	sizeof(struct hc_puts), sizeof(struct hc_exit), sizeof(struct hc_abort),
	sizeof(struct hc_checkpoint), sizeof(struct hc_trap), sizeof(struct hc_usage),
	sizeof(struct hc_trace),
};

void hypercall_handle(const struct guest_mem *gm, unsigned cpu, const struct hc_call *call,
		      const struct hc_sink *sink, struct hc_result *res)
{
	const char *name = hypercall_name(call->port);
	union {
		struct hc_puts puts; struct hc_exit exit; struct hc_abort abort;
		struct hc_checkpoint checkpoint; struct hc_trap trap; struct hc_usage usage;
		struct hc_trace trace;
	} arg;

	memset(res, 0, sizeof(*res));
	if (!name)
		return bad_call(sink, res, cpu, "(none)", "unknown I/O port", call->port);
	if (call->string)
		return bad_call(sink, res, cpu, name, "string I/O (INS/OUTS), not a single 32-bit OUT; count",
				call->count);
	if (!call->out || call->size != 4 || call->count != 1)
		return bad_call(sink, res, cpu, name, "not a single 32-bit OUT; access size", call->size);
	unsigned n = call->port - HC_PORT_BASE;
	if (!guest_mem_read(gm, call->value, &arg, arg_sizes[n]))
		return bad_call(sink, res, cpu, name, "argument struct outside RAM at", call->value);
	switch (call->port) {
	case HC_PORT_PUTS:       return do_puts(gm, cpu, &arg.puts, sink, res);
	case HC_PORT_EXIT:       return do_exit(cpu, &arg.exit, sink, res);
	case HC_PORT_ABORT:      return do_abort(gm, cpu, &arg.abort, sink, res);
	case HC_PORT_CHECKPOINT: return do_checkpoint(gm, cpu, &arg.checkpoint, sink, res);
	case HC_PORT_TRAP:       return do_trap(cpu, &arg.trap, sink, res);
	case HC_PORT_TRACE:      return do_trace(gm, cpu, call->value, &arg.trace, sink, res);
	default:                 return do_usage(gm, cpu, &arg.usage, sink, res);
	}
}
