/* SPDX-License-Identifier: BSD-2-Clause */
/* The few guest-kernel functions guest/kernel/cmdline.c calls, provided by the host's libc. */
#include "cmdline_host.h"

#include <stdarg.h>
#include <stdio.h>

#include "hypercall.h"
#include "kernel.h"

jmp_buf cmdline_usage_jump;
const char *cmdline_usage_message;

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

void hc_usage(const char *msg)
{
	cmdline_usage_message = msg;
	longjmp(cmdline_usage_jump, 1);
}
