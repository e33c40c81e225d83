/* SPDX-License-Identifier: BSD-2-Clause */
/* Merges the leaves of one address space into runs and prints them like Linux's ptdump. */
#include "ptdump.h"

#include <inttypes.h>
#include <stdbool.h>

#define UPPER_HALF   0xffff800000000000ull
#define SHOWN_FLAGS  (PT_F_WRITABLE | PT_F_USER | PT_F_NX | PT_F_GLOBAL | PT_F_LARGE)

/* A run of like leaves being gathered. */
struct run {
	bool open;
	uint64_t start, end;        /* end exclusive; wraps to 0 at the top of the address space */
	uint64_t page_size;
	uint32_t flags;
	unsigned level;
	uint64_t shared;            /* pages whose mapcount is above 1 */
};

struct dumper {
	FILE *out;
	ptdump_mapcount_fn mapcount;
	void *ctx;
	struct run run;
	bool upper_marked;
};

/* Prints SIZE (a multiple of 1 KiB) in the largest unit that divides it: "4K", "2M", "128T". */
static void print_size(FILE *out, uint64_t size)
{
	static const char units[] = "KMGTPE";
	unsigned unit = 0;

	size >>= 10;
	while (size && !(size & 1023) && units[unit + 1]) {
		size >>= 10;
		unit++;
	}
	fprintf(out, "%9" PRIu64 "%c", size, units[unit]);
}

static void mark_upper_half(struct dumper *d)
{
	if (!d->upper_marked)
		fprintf(d->out, "---[ upper half ]---\n");
	d->upper_marked = true;
}

static void flush_run(struct dumper *d)
{
	const struct run *r = &d->run;
	uint32_t f = r->flags;

	if (!r->open)
		return;
	fprintf(d->out, "0x%016" PRIx64 "-0x%016" PRIx64 " ", r->start, r->end);
	print_size(d->out, r->end - r->start);
	fprintf(d->out, "  %s %s %s %s %s  ", f & PT_F_USER ? "USR" : "   ",
		f & PT_F_WRITABLE ? "RW" : "ro", f & PT_F_NX ? "NX" : "x ",
		f & PT_F_LARGE ? "PSE" : "   ", f & PT_F_GLOBAL ? "GLB" : "   ");
	if (d->mapcount)
		fprintf(d->out, "%-5s%9" PRIu64 "\n", pt_level_name(r->level), r->shared);
	else
		fprintf(d->out, "%s\n", pt_level_name(r->level));
	d->run.open = false;
}

/* True when LEAF continues the open run. */
static bool extends_run(const struct run *r, const struct pt_leaf *leaf)
{
	return r->open && leaf->entry.va == r->end && leaf->size == r->page_size &&
	       (leaf->flags & SHOWN_FLAGS) == r->flags;
}

static int on_leaf(void *ctx, const struct pt_leaf *leaf)
{
	struct dumper *d = ctx;
	struct run *r = &d->run;

	if (!extends_run(r, leaf)) {
		flush_run(d);
		if (leaf->entry.va >= UPPER_HALF)
			mark_upper_half(d);
		*r = (struct run){ .open = true, .start = leaf->entry.va, .end = leaf->entry.va,
				   .page_size = leaf->size, .flags = leaf->flags & SHOWN_FLAGS,
				   .level = leaf->entry.level };
	}
	r->end += leaf->size;
	if (d->mapcount && d->mapcount(d->ctx, leaf->pa) > 1)
		r->shared++;
	return 0;
}

static int on_fault(void *ctx, const struct pt_fault *f)
{
	struct dumper *d = ctx;

	flush_run(d);
	if (f->entry.va >= UPPER_HALF)
		mark_upper_half(d);
	fprintf(d->out, "0x%016" PRIx64 " bad %s entry 0x%016" PRIx64 " at GPA 0x%" PRIx64 ": %s",
		f->entry.va, pt_level_name(f->entry.level),
		f->entry.value, f->entry.gpa,
		pt_error_string(f->error));
	if (f->bad_bits)
		fprintf(d->out, " (bits 0x%" PRIx64 ")", f->bad_bits);
	fputc('\n', d->out);
	return 0;
}

static void print_header(struct dumper *d, uint64_t cr3)
{
	fprintf(d->out, "address space cr3=0x%" PRIx64 "\n", cr3);
	fprintf(d->out, "%-18s %-18s %10s  %-18s %-5s%s\n", "start", "end", "size", "flags", "level",
		d->mapcount ? "   shared" : "");
	fprintf(d->out, "---[ lower half ]---\n");
}

enum pt_walk_result ptdump_write(FILE *out, const struct guest_mem *gm, const struct pt_config *cfg,
				 uint64_t cr3, ptdump_mapcount_fn mapcount, void *ctx)
{
	struct dumper d = { .out = out, .mapcount = mapcount, .ctx = ctx };
	struct pt_walk_ops ops = { .leaf = on_leaf, .fault = on_fault };
	struct pt_walk_stats stats;
	enum pt_walk_result result;

	print_header(&d, cr3);
	result = pt_walk(gm, cfg, cr3, 0, UINT64_MAX, &ops, &d, &stats);
	flush_run(&d);
	mark_upper_half(&d);
	if (result == PT_WALK_TRUNCATED)
		fprintf(out, "---[ truncated after %" PRIu64 " entries ]---\n", stats.entries);
	fprintf(out, "---[ %" PRIu64 " leaves, %" PRIu64 " bad entries, %" PRIu64 " tables ]---\n",
		stats.leaves, stats.faults,
		stats.tables);
	return result;
}
