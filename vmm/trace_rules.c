/* SPDX-License-Identifier: BSD-2-Clause */
/* What a well-formed trace event is: the one set of rules the writer obeys and the reader enforces. */
#include "trace_rules.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "trace_format.h"

/* Which fields each kind uses; the others must be zero. */
enum {
	F_ADDR = 1 << 0, F_LEN = 1 << 1, F_ARG = 1 << 2, F_LEN2 = 1 << 3, F_OFFSET = 1 << 4,
	F_FILE = 1 << 5, F_PROT = 1 << 6, F_FLAGS = 1 << 7, F_FAULT = 1 << 8,
};

static const unsigned kind_fields[TR_KIND_MAX + 1] = {
	[TR_FORK] = F_ARG | F_FLAGS,
	[TR_EXEC] = F_FILE,
	[TR_EXIT] = 0,
	[TR_MMAP] = F_ADDR | F_LEN | F_PROT | F_FLAGS | F_FILE | F_OFFSET,
	[TR_MUNMAP] = F_ADDR | F_LEN,
	[TR_MPROTECT] = F_ADDR | F_LEN | F_PROT,
	[TR_MREMAP] = F_ADDR | F_LEN | F_ARG | F_LEN2,
	[TR_BRK] = F_ADDR | F_ARG,
	[TR_DONTNEED] = F_ADDR | F_LEN,
	[TR_FAULT] = F_ADDR | F_FAULT,
};

static const char *const kind_names[TR_KIND_MAX + 1] = {
	[TR_FORK] = "fork", [TR_EXEC] = "exec", [TR_EXIT] = "exit", [TR_MMAP] = "mmap",
	[TR_MUNMAP] = "munmap", [TR_MPROTECT] = "mprotect", [TR_MREMAP] = "mremap",
	[TR_BRK] = "brk", [TR_DONTNEED] = "dontneed", [TR_FAULT] = "fault",
};

const char *trace_kind_name(uint32_t kind)
{
	return kind >= 1 && kind <= TR_KIND_MAX ? kind_names[kind] : "?";
}

void trace_rules_init(struct trace_rules *r, uint32_t max_processes, uint32_t files)
{
	*r = (struct trace_rules){ .processes = 1, .max_processes = max_processes, .files = files };
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* The first field set that KIND does not use, or NULL. */
static const char *stray_field(const struct trace_event *ev, unsigned used)
{
	if (!(used & F_ADDR) && ev->te_addr) return "address";
	if (!(used & F_LEN) && ev->te_len) return "length";
	if (!(used & F_ARG) && ev->te_arg) return "argument";
	if (!(used & F_LEN2) && ev->te_len2) return "new length";
	if (!(used & F_OFFSET) && ev->te_offset) return "offset";
	if (!(used & F_FILE) && ev->te_file != TR_FILE_NONE) return "file";
	if (!(used & F_PROT) && ev->te_prot) return "protection";
	if (!(used & F_FLAGS) && ev->te_flags) return "flags";
	if (!(used & F_FAULT) && ev->te_fault) return "fault bits";
	return NULL;
}

static bool page_aligned(uint64_t v)
{
	return (v & (TRACE_PAGE_SIZE - 1)) == 0;
}

/* [addr, addr + len): whole pages, at least one, below TRACE_ADDR_LIMIT. */
static int check_range(uint64_t addr, uint64_t len, const char *what, char *why, size_t wlen)
{
	if (!page_aligned(addr) || !page_aligned(len))
		return fail(why, wlen, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") is not whole pages", what,
			    addr, len);
	if (len == 0)
		return fail(why, wlen, "%s length is 0 pages", what);
	if (addr >= TRACE_ADDR_LIMIT || len > TRACE_ADDR_LIMIT - addr)
		return fail(why, wlen, "%s [0x%" PRIx64 ", +0x%" PRIx64 ") ends past the user "
			    "address limit 0x%llx", what, addr, len, TRACE_ADDR_LIMIT);
	return 0;
}

static int check_file(const struct trace_rules *r, uint32_t file, char *why, size_t len)
{
	if (file != TR_FILE_NONE && file >= r->files)
		return fail(why, len, "file index %" PRIu32 " is outside the file table (%" PRIu32
			    " entries)", file, r->files);
	return 0;
}

static int check_mmap(const struct trace_rules *r, const struct trace_event *ev, char *why,
		      size_t len)
{
	if (check_range(ev->te_addr, ev->te_len, "MMAP", why, len))
		return -1;
	if (ev->te_prot & ~(TR_PROT_READ | TR_PROT_WRITE | TR_PROT_EXEC))
		return fail(why, len, "MMAP protection 0x%x has unknown bits", ev->te_prot);
	if (ev->te_flags & ~(TR_MAP_SHARED | TR_MAP_ANON | TR_MAP_STACK))
		return fail(why, len, "MMAP flags 0x%x have unknown bits", ev->te_flags);
	if ((ev->te_flags & TR_MAP_STACK) &&
	    (ev->te_flags & (TR_MAP_ANON | TR_MAP_SHARED)) != TR_MAP_ANON)
		return fail(why, len, "MMAP of a stack that is not private anonymous memory");
	if (ev->te_flags & TR_MAP_ANON) {
		if (ev->te_file != TR_FILE_NONE || ev->te_offset)
			return fail(why, len, "anonymous MMAP names a file or an offset");
		return 0;
	}
	if (ev->te_file == TR_FILE_NONE)
		return fail(why, len, "file MMAP without a file");
	if (!page_aligned(ev->te_offset) || ev->te_offset >= TRACE_OFFSET_LIMIT)
		return fail(why, len, "MMAP file offset 0x%" PRIx64 " is not a page below 0x%llx",
			    ev->te_offset, TRACE_OFFSET_LIMIT);
	return check_file(r, ev->te_file, why, len);
}

static int check_fork(struct trace_rules *r, const struct trace_event *ev, char *why, size_t len)
{
	if (ev->te_arg != r->processes)
		return fail(why, len, "FORK child %" PRIu64 " is not the next new process %" PRIu32,
			    ev->te_arg, r->processes);
	if (r->processes >= r->max_processes)
		return fail(why, len, "FORK makes more than the %" PRIu32 " processes declared",
			    r->max_processes);
	if (ev->te_flags & ~TR_FORK_VM)
		return fail(why, len, "FORK flags 0x%x have unknown bits", ev->te_flags);
	r->processes++;
	return 0;
}

/* The checks of each kind's own fields. */
static int check_kind(struct trace_rules *r, const struct trace_event *ev, char *why, size_t len)
{
	switch (ev->te_kind) {
	case TR_FORK:
		return check_fork(r, ev, why, len);
	case TR_EXEC:
		return check_file(r, ev->te_file, why, len);
	case TR_MMAP:
		return check_mmap(r, ev, why, len);
	case TR_MUNMAP:
	case TR_DONTNEED:
		return check_range(ev->te_addr, ev->te_len, trace_kind_name(ev->te_kind), why, len);
	case TR_MPROTECT:
		if (ev->te_prot & ~(TR_PROT_READ | TR_PROT_WRITE | TR_PROT_EXEC))
			return fail(why, len, "MPROTECT protection 0x%x has unknown bits", ev->te_prot);
		return check_range(ev->te_addr, ev->te_len, "MPROTECT", why, len);
	case TR_MREMAP:
		if (check_range(ev->te_addr, ev->te_len, "MREMAP old", why, len))
			return -1;
		return check_range(ev->te_arg, ev->te_len2, "MREMAP new", why, len);
	case TR_BRK:
		if (ev->te_addr >= TRACE_ADDR_LIMIT || ev->te_arg > ev->te_addr)
			return fail(why, len, "BRK break 0x%" PRIx64 " below its heap start 0x%" PRIx64
				    " or past the user address limit", ev->te_addr, ev->te_arg);
		return 0;
	case TR_FAULT:
		if (ev->te_addr >= TRACE_ADDR_LIMIT)
			return fail(why, len, "FAULT address 0x%" PRIx64 " past the user address limit",
				    ev->te_addr);
		if (ev->te_fault & ~(TR_FAULT_PRESENT | TR_FAULT_WRITE | TR_FAULT_EXEC))
			return fail(why, len, "FAULT bits 0x%x have unknown bits", ev->te_fault);
		return 0;
	default:   /* TR_EXIT */
		return 0;
	}
}

int trace_rules_check(struct trace_rules *r, const struct trace_event *ev, char *why, size_t len)
{
	if (ev->te_kind < 1 || ev->te_kind > TR_KIND_MAX)
		return fail(why, len, "unknown event kind %" PRIu32, ev->te_kind);
	if (ev->te_pid >= r->processes)
		return fail(why, len, "%s of process %" PRIu32 ", which no FORK created yet",
			    trace_kind_name(ev->te_kind), ev->te_pid);
	const char *stray = stray_field(ev, kind_fields[ev->te_kind]);
	if (stray)
		return fail(why, len, "%s event has a %s, which its kind does not use",
			    trace_kind_name(ev->te_kind), stray);
	return check_kind(r, ev, why, len);
}
