/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest side of the hypercalls: one 32-bit OUT of the argument struct's GPA. */
#include "hypercall.h"

#include "kernel.h"

void hc_raw(uint16_t port, uint32_t arg_gpa)
{
	__asm__ volatile("outl %0, %1" : : "a"(arg_gpa), "Nd"(port) : "memory");
}

static void call(uint16_t port, const void *arg)
{
	hc_raw(port, (uint32_t)kva_to_pa(arg));
}

void hc_puts(const char *s, size_t len)
{
	struct hc_puts a = { .buf = kva_to_pa(s), .len = len };

	call(HC_PORT_PUTS, &a);
}

static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void hc_exit(uint64_t status)
{
	struct hc_exit a = { .status = status };

	call(HC_PORT_EXIT, &a);
	halt_forever();
}

void hc_done(void)
{
	hc_raw(HC_PORT_DONE, 0);
	halt_forever();
}

void hc_abort(const char *file, int line, const char *msg)
{
	struct hc_abort a = {
		.file = kva_to_pa(file), .file_len = strlen(file), .line = (uint64_t)line,
		.msg = kva_to_pa(msg), .msg_len = strlen(msg),
	};

	call(HC_PORT_ABORT, &a);
	halt_forever();
}

void hc_checkpoint(const char *label)
{
	struct hc_checkpoint a = { .label = kva_to_pa(label), .label_len = strlen(label) };

	call(HC_PORT_CHECKPOINT, &a);
}

void hc_trace(struct trace_event *buf, uint64_t max, struct hc_trace *out)
{
	*out = (struct hc_trace){ .buf = kva_to_pa(buf), .max = max };
	call(HC_PORT_TRACE, out);
}

void hc_trap(const struct hc_trap *trap)
{
	call(HC_PORT_TRAP, trap);
	halt_forever();
}

void hc_usage(const char *msg)
{
	struct hc_usage a = { .msg = kva_to_pa(msg), .msg_len = strlen(msg) };

	call(HC_PORT_USAGE, &a);
	halt_forever();
}
