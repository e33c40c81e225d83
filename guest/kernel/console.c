/* SPDX-License-Identifier: BSD-2-Clause */
/* kprintf and panic over the console and abort hypercalls. */
#include "kernel.h"
#include "hypercall.h"

#define LINE_MAX 512

/* One hypercall per call keeps lines from different CPUs whole. */
int kprintf(const char *fmt, ...)
{
	char buf[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	size_t len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	hc_puts(buf, len);
	return n;
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	char msg[LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hc_abort(file, line, msg);
}
