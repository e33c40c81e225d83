/* SPDX-License-Identifier: BSD-2-Clause */
/* `vmm trace-info TRACE`: what a recorded trace holds, and how much memory it touched. */
#include "trace_info.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "trace_format.h"
#include "trace_read.h"
#include "trace_resident.h"
#include "trace_rules.h"

#define MAX_PROCESS_ROWS 40
#define MAX_FILE_ROWS 10

static const char usage_text[] =
"Usage: vmm trace-info TRACE\n"
"\n"
"Print what the trace written by `vmm record' holds: its header (command,\n"
"machine, date), the processes, events by kind, the distinct files, the\n"
"peak resident pages and the files mapped most. Exit status: 0, or 2 when\n"
"TRACE cannot be read or is damaged (the message names the event).\n";

struct proc_row {
	uint32_t parent;      /* UINT32_MAX: none */
	bool vfork;           /* started by a vfork: borrowed its parent's memory */
	uint32_t program;     /* file of its latest exec, TR_FILE_NONE */
	uint64_t faults;
};

struct file_row {
	uint64_t pages, maps;
	uint32_t idx;
};

struct info {
	struct proc_row *procs;
	uint32_t nprocs;
	struct file_row *files;
	uint64_t fault_bits[3];   /* write, exec, present */
	uint64_t vforks;
	struct resident *res;
	bool res_failed;
};

/* Prints S with unprintable bytes as '?': a trace's strings come from elsewhere. */
static void put_clean(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?', out);
}

static void print_header(FILE *out, const char *path, const struct trace_header *h)
{
	fprintf(out, "trace: ");
	put_clean(out, path);
	fprintf(out, "\n  format: version %" PRIu32 ", %" PRIu64 " bytes, %.1f bytes per event\n",
		h->version, h->size, h->events ? (double)h->size / (double)h->events : 0.0);
	fprintf(out, "  command: ");
	put_clean(out, h->command);
	fprintf(out, "\n  machine: ");
	put_clean(out, h->machine);
	fprintf(out, "\n  date: ");
	put_clean(out, h->date);
	fprintf(out, "\n  perf lost %" PRIu64 " events; the recorder skipped %" PRIu64 "\n", h->lost,
		h->skipped);
}

static void account(struct info *in, const struct trace_event *ev)
{
	struct proc_row *p = &in->procs[ev->te_pid];

	switch (ev->te_kind) {
	case TR_FORK:
		in->procs[ev->te_arg] = (struct proc_row){ .parent = ev->te_pid,
							   .program = p->program,
							   .vfork = (ev->te_flags & TR_FORK_VM) != 0 };
		in->vforks += (ev->te_flags & TR_FORK_VM) != 0;
		break;
	case TR_EXEC:
		p->program = ev->te_file;
		break;
	case TR_FAULT:
		p->faults++;
		in->fault_bits[0] += (ev->te_fault & TR_FAULT_WRITE) != 0;
		in->fault_bits[1] += (ev->te_fault & TR_FAULT_EXEC) != 0;
		in->fault_bits[2] += (ev->te_fault & TR_FAULT_PRESENT) != 0;
		break;
	case TR_MMAP:
		if (ev->te_file != TR_FILE_NONE) {
			in->files[ev->te_file].pages += ev->te_len >> TRACE_PAGE_SHIFT;
			in->files[ev->te_file].maps++;
		}
		break;
	default:
		break;
	}
	if (!in->res_failed && resident_event(in->res, ev))
		in->res_failed = true;
}

static void print_events(FILE *out, const struct trace_header *h, const struct info *in)
{
	fprintf(out, "events: %" PRIu64 "\n ", h->events);
	for (uint32_t k = 1; k <= TR_KIND_MAX; k++) {
		fprintf(out, " %s %" PRIu64, trace_kind_name(k), h->count[k]);
		if (k == TR_FORK)
			fprintf(out, " (vfork %" PRIu64 ")", in->vforks);
		fputs(k < TR_KIND_MAX ? "," : "\n", out);
	}
	uint64_t faults = h->count[TR_FAULT];
	fprintf(out, "faults: %" PRIu64 " (read %" PRIu64 ", write %" PRIu64 ", exec %" PRIu64
		"); %" PRIu64 " on present pages (protection)\n", faults,
		faults - in->fault_bits[0] - in->fault_bits[1], in->fault_bits[0], in->fault_bits[1],
		in->fault_bits[2]);
}

static void print_file(FILE *out, const struct trace *t, uint32_t idx)
{
	const struct trace_file *f = trace_file(t, idx);

	if (f)
		put_clean(out, f->path);
	else
		fputc('-', out);
}

static void print_processes(FILE *out, const struct trace *t, const struct info *in)
{
	fprintf(out, "processes: %" PRIu32 "\n  %5s %6s %5s %8s  %s\n", in->nprocs, "id", "parent",
		"by", "faults", "program");
	for (uint32_t i = 0; i < in->nprocs && i < MAX_PROCESS_ROWS; i++) {
		const struct proc_row *p = &in->procs[i];
		char parent[16] = "-";
		if (p->parent != UINT32_MAX)
			snprintf(parent, sizeof(parent), "%" PRIu32, p->parent);
		const char *by = p->parent == UINT32_MAX ? "-" : p->vfork ? "vfork" : "fork";
		fprintf(out, "  %5" PRIu32 " %6s %5s %8" PRIu64 "  ", i, parent, by, p->faults);
		print_file(out, t, p->program);
		fputc('\n', out);
	}
	if (in->nprocs > MAX_PROCESS_ROWS)
		fprintf(out, "  ... and %" PRIu32 " more\n", in->nprocs - MAX_PROCESS_ROWS);
}

static int by_pages(const void *a, const void *b)
{
	const struct file_row *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void print_files(FILE *out, const struct trace *t, const struct trace_header *h,
			struct info *in)
{
	qsort(in->files, h->files, sizeof(*in->files), by_pages);
	fprintf(out, "biggest files by pages mapped:\n  %8s %6s  %s\n", "pages", "maps", "file");
	for (uint32_t i = 0; i < h->files && i < MAX_FILE_ROWS && in->files[i].maps; i++) {
		fprintf(out, "  %8" PRIu64 " %6" PRIu64 "  ", in->files[i].pages, in->files[i].maps);
		print_file(out, t, in->files[i].idx);
		fputc('\n', out);
	}
}

static void print_residency(FILE *out, const struct info *in)
{
	uint64_t peak = resident_peak(in->res);

	fprintf(out, "peak resident pages: %" PRIu64 " (%.1f MiB)%s: pages faulted in and not yet "
		"unmapped, summed over the live processes\n", peak,
		(double)peak * TRACE_PAGE_SIZE / (1024.0 * 1024.0),
		in->res_failed ? " at least (out of memory)" : "");
}

/* Streams the events once through the counters. */
static int scan(struct trace *t, struct info *in, FILE *err)
{
	struct trace_event ev;
	int rc;

	while ((rc = trace_next(t, &ev)) == 1)
		account(in, &ev);
	if (rc < 0) {
		fprintf(err, "vmm trace-info: %s\n", trace_error(t));
		return -1;
	}
	return 0;
}

int trace_info_print(const char *path, FILE *out, FILE *err)
{
	char msg[1024];
	struct trace *t = trace_open(path, msg, sizeof(msg));
	int rc = -1;

	if (!t) {
		fprintf(err, "vmm trace-info: %s\n", msg);
		return -1;
	}
	const struct trace_header *h = trace_header(t);
	struct info in = { .nprocs = h->processes };
	in.procs = calloc(h->processes, sizeof(*in.procs));
	in.files = calloc(h->files + 1, sizeof(*in.files));
	in.res = resident_new();
	if (!in.procs || !in.files || !in.res) {
		fprintf(err, "vmm trace-info: %s: out of memory\n", path);
	} else {
		in.procs[0] = (struct proc_row){ .parent = UINT32_MAX, .program = TR_FILE_NONE };
		for (uint32_t i = 0; i < h->files; i++)
			in.files[i].idx = i;
		if (scan(t, &in, err) == 0) {
			print_header(out, path, h);
			print_events(out, h, &in);
			print_processes(out, t, &in);
			fprintf(out, "files: %" PRIu32 " distinct (device, inode, path)\n", h->files);
			print_residency(out, &in);
			print_files(out, t, h, &in);
			rc = 0;
		}
	}
	resident_free(in.res);
	free(in.procs);
	free(in.files);
	trace_close(t);
	return rc;
}

int trace_info_main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage_text, stdout);
		return VMM_EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "vmm trace-info: expected one TRACE\n%s", usage_text);
		return VMM_EXIT_USAGE;
	}
	return trace_info_print(argv[1], stdout, stderr) ? VMM_EXIT_USAGE : VMM_EXIT_OK;
}
