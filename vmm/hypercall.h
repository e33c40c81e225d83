/* SPDX-License-Identifier: BSD-2-Clause */
/* Hypercall dispatch: copy the guest's argument struct once, validate, act. */
#ifndef VMM_HYPERCALL_H
#define VMM_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "guest_mem.h"
#include "hatvm/abi.h"
#include "hatvm/exit_status.h"

/* One port access as KVM_EXIT_IO describes it. */
struct hc_call {
	uint16_t port;
	bool out;          /* guest wrote to the port */
	uint8_t size;      /* bytes per access */
	uint32_t count;    /* accesses in this exit */
	uint32_t value;    /* the first access's data */
	bool string;       /* INS/OUTS: KVM makes each iteration its own exit with count 1 */
};

enum hc_verdict {
	HC_RESUME,         /* done: run the guest on */
	HC_CHECKPOINT,     /* pause every vCPU and check; then resume */
	HC_STOP,           /* stop the VM: the run ended with `outcome` */
};

struct hc_result {
	enum hc_verdict verdict;
	enum run_outcome outcome;        /* HC_STOP: how the run ended */
	bool dump_regs;                  /* HC_STOP: a failure worth the vCPU's registers */
	char label[HC_MAX_STRING + 1];   /* HC_CHECKPOINT: the label, printable */
};

/* Where hypercalls write: the guest's console and the VMM's diagnostics. */
struct hc_sink {
	FILE *console;
	FILE *diag;
};

/*
 * Where the trace call's events come from (vmm --replay): next_event
 * returns 1 with *ev filled, 0 at the end of the trace, -1 when the trace
 * is unreadable (err says why, naming the record).
 */
struct trace_event;
struct hc_trace_source {
	int (*next_event)(void *ctx, struct trace_event *ev, char *err, size_t err_size);
	void *ctx;
	uint64_t files;    /* entries in the trace's file table */
};

/* Serves the trace call from src from now on (NULL: no trace; the call says HC_TRACE_NONE). */
void hypercall_set_trace_source(const struct hc_trace_source *src);

/* Handles one port access by `cpu`; diagnostics name the call and the bad value. */
void hypercall_handle(const struct guest_mem *gm, unsigned cpu, const struct hc_call *call,
		      const struct hc_sink *sink, struct hc_result *res);

/* Human name of a hypercall port, or NULL when the port is not one. */
const char *hypercall_name(uint16_t port);

#endif
