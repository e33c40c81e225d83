/* SPDX-License-Identifier: BSD-2-Clause */
/* The host<->guest ABI: hypercall ports, their argument structs, boot info. */
#ifndef HATVM_ABI_H
#define HATVM_ABI_H

#include <stdint.h>

/*
 * A hypercall is one 32-bit OUT to its port; EAX holds the guest-physical
 * address of the argument struct. The host copies the struct out of guest
 * RAM once and validates the copy, so the guest cannot change it under
 * the host's feet. Every pointer inside a struct is a guest-physical
 * address (the guest's kernel keeps RAM identity-reachable for this).
 */
#define HC_PORT_BASE       0x500
#define HC_PORT_PUTS       (HC_PORT_BASE + 0)  /* struct hc_puts */
#define HC_PORT_EXIT       (HC_PORT_BASE + 1)  /* struct hc_exit */
#define HC_PORT_ABORT      (HC_PORT_BASE + 2)  /* struct hc_abort */
#define HC_PORT_CHECKPOINT (HC_PORT_BASE + 3)  /* struct hc_checkpoint */
#define HC_PORT_TRAP       (HC_PORT_BASE + 4)  /* struct hc_trap */
#define HC_PORT_USAGE      (HC_PORT_BASE + 5)  /* struct hc_usage */
#define HC_PORT_TRACE      (HC_PORT_BASE + 6)  /* struct hc_trace */
#define HC_PORT_COUNT      7

/*
 * A vCPU is finished: the host ends that vCPU's thread (the others run
 * on). No argument (EAX is ignored). With several vCPUs the VM has an
 * in-kernel LAPIC, so HLT no longer exits to the host and cannot say
 * "finished". Handled by the run loop itself, apart from the table of
 * HC_PORT_COUNT calls (the port right after them stays unknown).
 */
#define HC_PORT_DONE       (HC_PORT_BASE + 0x10)

#define HC_MAX_STRING      4096u     /* labels, file names, messages */
#define HC_MAX_PUTS        65536u    /* one console write */

struct hc_puts {
	uint64_t buf;   /* GPA of the bytes */
	uint64_t len;   /* <= HC_MAX_PUTS */
};

struct hc_exit {
	uint64_t status; /* 0: success; anything else: the guest failed */
};

struct hc_abort {
	uint64_t file;     /* GPA of the file name */
	uint64_t file_len;
	uint64_t line;
	uint64_t msg;      /* GPA of the message */
	uint64_t msg_len;
};

struct hc_checkpoint {
	uint64_t label;    /* GPA of a label naming the point */
	uint64_t label_len;
};

/* An exception the guest could not handle, reported instead of a triple fault. */
struct hc_trap {
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t rsp;
	uint64_t cr2;
	uint64_t cpu;
};

/* The guest refuses its command line: the run ends as a usage error (no register dump). */
struct hc_usage {
	uint64_t msg;      /* GPA of one line naming the bad option */
	uint64_t msg_len;  /* <= HC_MAX_STRING */
};

/*
 * The next events of the trace `vmm --replay` streams (struct trace_event,
 * hatvm/trace.h): the host writes at most `max` of them at `buf`, then
 * `count`, `status` and `files` back into this struct. The guest checks
 * every one of them again: it trusts no length and no field.
 */
#define HC_TRACE_MAX_EVENTS 256u

enum hc_trace_status {
	HC_TRACE_OK = 0,     /* count (>= 1) events written */
	HC_TRACE_END = 1,    /* the trace is over: count 0 */
	HC_TRACE_NONE = 2,   /* vmm was given no --replay TRACE */
};

struct hc_trace {
	uint64_t buf;      /* GPA of room for max events */
	uint64_t max;      /* 1 .. HC_TRACE_MAX_EVENTS */
	uint64_t count;    /* out: events written */
	uint64_t status;   /* out: enum hc_trace_status */
	uint64_t files;    /* out: entries in the trace's file table (te_file < files) */
};

/*
 * Boot information: the host fills this at BOOTINFO_GPA and passes its
 * address in RDI to every vCPU; RSI holds the vCPU's index (0 = boot CPU).
 */
#define BOOTINFO_MAGIC   0x3174746f6f42764dull /* "MvBoot1\0"-ish tag */
#define BOOTINFO_VERSION 1

struct boot_info {
	uint64_t magic;
	uint64_t version;
	uint64_t ram_size;      /* bytes of RAM from GPA 0 */
	uint64_t cpu_count;
	uint64_t cmdline;       /* GPA of the NUL-terminated command line */
	uint64_t cmdline_len;   /* without the NUL */
	uint64_t tsc_khz;       /* 0 when KVM cannot tell */
	uint64_t reserved_end;  /* RAM below this belongs to the VMM's boot data */
};

#endif
