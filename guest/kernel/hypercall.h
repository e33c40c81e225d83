/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest side of the hypercall ABI (include/hatvm/abi.h). */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

#include "hatvm/abi.h"

void hc_puts(const char *s, size_t len);
void hc_exit(uint64_t status) __attribute__((noreturn));
/* This vCPU is finished (the others run on): the host ends its thread. */
void hc_done(void) __attribute__((noreturn));
void hc_abort(const char *file, int line, const char *msg) __attribute__((noreturn));
/* Returns once the host has checked the paused guest. */
void hc_checkpoint(const char *label);
void hc_trap(const struct hc_trap *trap) __attribute__((noreturn));
/* Refuses the command line: the host prints msg as one line and exits with the usage status. */
void hc_usage(const char *msg) __attribute__((noreturn));
/*
 * Asks the host for at most max (<= HC_TRACE_MAX_EVENTS) events of the
 * --replay trace into buf; fills the struct's count, status and files.
 * The caller checks them all: they come from the host.
 */
struct trace_event;
void hc_trace(struct trace_event *buf, uint64_t max, struct hc_trace *out);
/* Raw call: hands the host any GPA, valid or not (the badcall workload). */
void hc_raw(uint16_t port, uint32_t arg_gpa);

#endif
