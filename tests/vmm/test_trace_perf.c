/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the recorder's perf-script parser on a saved sample, on crafted lines and on garbage. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_vmm.h"
#include "temp_dir.h"
#include "trace_perf.h"
#include "trace_read.h"
#include "trace_write.h"

static const char *sample_path;

/* What a parse produced, read back through the trace reader. */
struct parsed {
	struct perf_stats st;
	struct trace_event *ev;
	size_t n;
	struct trace *t;
};

static void parse_lines(char **lines, size_t nlines, struct parsed *out)
{
	struct trace_writer *w = trace_writer_new();
	struct perf_conv *c = perf_conv_new(w, 8u << 20);
	const char *path = temp_path("parsed.trace");
	char err[1024];
	struct trace_meta meta = { .command = "test", .machine = "m", .date = "d" };

	for (size_t i = 0; i < nlines; i++)
		perf_conv_line(c, lines[i]);
	perf_conv_finish(c);
	out->st = *perf_conv_stats(c);
	ck_assert_msg(trace_writer_save(w, path, &meta, err, sizeof(err)) == 0, "%s", err);
	perf_conv_free(c);
	trace_writer_free(w);
	out->t = trace_open(path, err, sizeof(err));
	ck_assert_msg(out->t, "%s", err);
	out->n = trace_header(out->t)->events;
	out->ev = calloc(out->n + 1, sizeof(*out->ev));
	for (size_t i = 0; i < out->n; i++)
		ck_assert_int_eq(trace_next(out->t, &out->ev[i]), 1);
}

static void parsed_free(struct parsed *p)
{
	trace_close(p->t);
	free(p->ev);
}

/* The sample's lines, without newlines. */
static char **read_sample(size_t *n)
{
	FILE *f = fopen(sample_path, "r");
	char **lines = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t len;

	ck_assert_msg(f, "%s", sample_path);
	*n = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		lines = realloc(lines, (*n + 1) * sizeof(*lines));
		lines[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return lines;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static size_t count_kind(const struct parsed *p, uint32_t kind, uint32_t pid)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->ev[i].te_kind == kind && (pid == UINT32_MAX || p->ev[i].te_pid == pid);
	return n;
}

static const struct trace_event *first_kind(const struct parsed *p, uint32_t kind, uint32_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->ev[i].te_kind == kind && p->ev[i].te_pid == pid)
			return &p->ev[i];
	return NULL;
}

/*
 * sh -c './t | cat': sh is process 0, t (1) and cat (2) its children, and
 * t forks once more (3) besides starting a thread, which is no process.
 */
START_TEST(saved_sample)
{
	size_t nlines;
	char **lines = read_sample(&nlines);
	struct parsed p;

	parse_lines(lines, nlines, &p);
	ck_assert_uint_eq(p.st.skipped, 1);   /* the sample's comment line */
	ck_assert_uint_eq(p.st.dropped, 0);
	ck_assert_uint_eq(p.st.lost, 0);
	ck_assert_uint_ge(p.st.echoes, 10);   /* mprotect's and brk's MMAP2 records */
	ck_assert_uint_eq(trace_header(p.t)->processes, 4);
	ck_assert_uint_eq(count_kind(&p, TR_FORK, UINT32_MAX), 3);
	ck_assert_uint_eq(count_kind(&p, TR_EXEC, UINT32_MAX), 3);
	ck_assert_uint_eq(count_kind(&p, TR_EXIT, UINT32_MAX), 4);
	ck_assert_uint_eq(count_kind(&p, TR_FAULT, UINT32_MAX), 137);

	/* each exec names its program, and comes before the new [stack] */
	const char *programs[] = { "/usr/bin/dash", "/tmp/rec/t", "/usr/bin/cat" };
	for (uint32_t pid = 0; pid < 3; pid++) {
		const struct trace_event *ex = first_kind(&p, TR_EXEC, pid);
		ck_assert_ptr_nonnull(ex);
		ck_assert_str_eq(trace_file(p.t, ex->te_file)->path, programs[pid]);
		const struct trace_event *stack = ex + 1;
		ck_assert_uint_eq(stack->te_kind, TR_MMAP);
		ck_assert_uint_eq(stack->te_flags, TR_MAP_ANON | TR_MAP_STACK);
		ck_assert_uint_eq(stack->te_prot, TR_PROT_READ | TR_PROT_WRITE);
	}

	/* t: mremap 1 MiB -> 4 MiB, madvise(DONTNEED) of its first MiB, a shared anonymous page */
	const struct trace_event *mr = first_kind(&p, TR_MREMAP, 1);
	ck_assert_ptr_nonnull(mr);
	ck_assert_uint_eq(mr->te_len, 0x100000);
	ck_assert_uint_eq(mr->te_len2, 0x400000);
	const struct trace_event *dn = first_kind(&p, TR_DONTNEED, 1);
	ck_assert_ptr_nonnull(dn);
	ck_assert_uint_eq(dn->te_addr, mr->te_arg);
	bool shared = false;
	for (size_t i = 0; i < p.n; i++)
		if (p.ev[i].te_kind == TR_MMAP && (p.ev[i].te_flags & TR_MAP_SHARED) &&
		    strncmp(trace_file(p.t, p.ev[i].te_file)->path, "/dev/zero", 9) == 0)
			shared = true;
	ck_assert(shared);

	/* the first brk after exec tells the heap's start */
	const struct trace_event *brk = first_kind(&p, TR_BRK, 1);
	ck_assert_ptr_nonnull(brk);
	ck_assert_uint_eq(brk->te_arg, brk->te_addr);

	/* an mprotect is one MPROTECT, never also an MMAP over the same pages */
	for (size_t i = 1; i < p.n; i++)
		if (p.ev[i].te_kind == TR_MMAP && p.ev[i - 1].te_kind == TR_MPROTECT)
			ck_assert_msg(p.ev[i].te_addr != p.ev[i - 1].te_addr, "event %zu: an echo", i + 1);

	parsed_free(&p);
	free_lines(lines, nlines);
}
END_TEST

START_TEST(crafted_lines)
{
	char *lines[] = {
		"garbage",
		"  1/1   PERF_RECORD_COMM exec: my prog:x:1/1",
		"  1/1   PERF_RECORD_MMAP2 1/1: [0x7ffc00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]",
		"  1/1   PERF_RECORD_MMAP2 1/1: [0x400000(0x2000) @ 0x1000 fe:01 42 0]: r-xp /bin/my prog",
		"  1/1   exceptions:page_fault_user: address=0x7ffbffffe010 ip=0x400000 error_code=0x6",
		"  1/1   PERF_RECORD_LOST lost: 17",
		"  1/1   syscalls:sys_exit_munmap: 0x0",
		"  1/1   syscalls:sys_enter_munmap: addr: 0x0000000000401000, len: 0x0000000000000001",
		"  1/1   syscalls:sys_exit_munmap: 0x0",
		"  1/1   syscalls:sys_enter_mprotect: start: 0x400000, len: 0x1000, prot: 0x7",
		"  1/1   syscalls:sys_exit_mprotect: 0xfffffffffffffff4",
		"  2/2   exceptions:page_fault_user: address=0x1000 ip=0x0 error_code=0x4",
		"  1/1   exceptions:page_fault_user: address=0xffffffffff600000 ip=0x0 error_code=0x14",
		"  1/1   syscalls:sys_enter_madvise: start: 0x400000, len_in: 0x1000, behavior: 0x8",
		"  1/1   syscalls:sys_exit_madvise: 0x0",
		"  1/1   PERF_RECORD_EXIT(1:1):(0:0)",
	};
	struct parsed p;

	parse_lines(lines, sizeof(lines) / sizeof(lines[0]), &p);
	ck_assert_uint_eq(p.st.skipped, 1);
	ck_assert_uint_eq(p.st.lost, 17);
	ck_assert_uint_eq(p.st.failed, 1);         /* the mprotect's ENOMEM */
	ck_assert_uint_eq(p.st.dropped, 3);        /* a lone exit, an unknown pid, a kernel address */
	ck_assert_uint_eq(p.st.stack_growth, 1);
	ck_assert_uint_eq(p.n, 7);
	ck_assert_uint_eq(p.ev[0].te_kind, TR_EXEC);
	ck_assert_str_eq(trace_file(p.t, p.ev[0].te_file)->path, "/bin/my prog");
	ck_assert_uint_eq(trace_file(p.t, p.ev[0].te_file)->dev, 0xfe00000001ull);
	ck_assert_uint_eq(p.ev[2].te_kind, TR_MMAP);
	ck_assert_uint_eq(p.ev[2].te_offset, 0x1000);
	ck_assert_uint_eq(p.ev[3].te_kind, TR_MMAP);   /* the stack grew down to the fault */
	ck_assert_uint_eq(p.ev[3].te_addr, 0x7ffbffffe000ull);
	ck_assert_uint_eq(p.ev[3].te_len, 0x2000);
	ck_assert_uint_eq(p.ev[3].te_flags, TR_MAP_ANON | TR_MAP_STACK);
	ck_assert_uint_eq(p.ev[4].te_kind, TR_FAULT);
	ck_assert_uint_eq(p.ev[4].te_fault, TR_FAULT_WRITE);
	ck_assert_uint_eq(p.ev[5].te_kind, TR_MUNMAP);
	ck_assert_uint_eq(p.ev[5].te_len, 0x1000);     /* rounded up to whole pages */
	ck_assert_uint_eq(p.ev[6].te_kind, TR_EXIT);
	parsed_free(&p);
}
END_TEST

/* FORK records and task_newtask samples, in the orders a recording may show them. */
static char *vfork_lines[] = {
	"  1/1   PERF_RECORD_COMM exec: sh:1/1",
	"  1/1   PERF_RECORD_MMAP2 1/1: [0x400000(0x1000) @ 0 fe:01 42 0]: r-xp /bin/sh",
	"  1/1   PERF_RECORD_MMAP2 1/1: [0x7ffc00000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]",
	/* a vfork: its newtask follows the record, another CPU's line between */
	"  2/2   PERF_RECORD_FORK(2:2):(1:1)",
	"  9/9   exceptions:page_fault_user: address=0x1000 ip=0x0 error_code=0x4",
	"  1/1   task:task_newtask: pid=2 comm=sh clone_flags=4111 oom_score_adj=0",
	/* a fork (no CLONE_VM) whose name fakes the flags */
	"  3/3   PERF_RECORD_FORK(3:3):(1:1)",
	"  1/1   task:task_newtask: pid=3 comm=x clone_flags=4111 clone_flags=1200011 oom_score_adj=0",
	/* a thread: its newtask is no process */
	"  1/4   PERF_RECORD_FORK(1:4):(1:1)",
	"  1/1   task:task_newtask: pid=4 comm=sh clone_flags=3d0f00 oom_score_adj=0",
	/* the parent's fault comes before the newtask: a fork, the late newtask ignored */
	"  5/5   PERF_RECORD_FORK(5:5):(1:1)",
	"  1/1   exceptions:page_fault_user: address=0x400000 ip=0x0 error_code=0x14",
	"  1/1   task:task_newtask: pid=5 comm=sh clone_flags=4111 oom_score_adj=0",
	/* two FORKs in a row: the first is written before the second */
	"  6/6   PERF_RECORD_FORK(6:6):(2:2)",
	"  7/7   PERF_RECORD_FORK(7:7):(2:2)",
	"  2/2   task:task_newtask: pid=7 comm=sh clone_flags=4111 oom_score_adj=0",
	"  2/2   task:task_newtask: garbage",
	/* the vfork child grows its parent's stack: the parent's fault there grows nothing */
	"  2/2   exceptions:page_fault_user: address=0x7ffbffffe010 ip=0x0 error_code=0x6",
	"  1/1   exceptions:page_fault_user: address=0x7ffbfffff010 ip=0x0 error_code=0x6",
	/* the last FORK: written at the end */
	"  8/8   PERF_RECORD_FORK(8:8):(7:7)",
};

/*
 * A FORK waits for its task_newtask sample: CLONE_VM without
 * CLONE_THREAD makes it a vfork. The parent's or the child's next line,
 * or another FORK, writes it as a fork; a thread's newtask changes nothing.
 */
START_TEST(newtask_tells_a_vfork)
{
	struct parsed p;

	parse_lines(vfork_lines, sizeof(vfork_lines) / sizeof(vfork_lines[0]), &p);
	ck_assert_uint_eq(p.st.vforks, 2);
	ck_assert_uint_eq(p.st.skipped, 1);   /* the garbage newtask */
	const struct { uint32_t parent, child; uint8_t flags; } forks[] = {
		{ 0, 1, TR_FORK_VM }, { 0, 2, 0 }, { 0, 3, 0 }, { 1, 4, 0 }, { 1, 5, TR_FORK_VM },
		{ 5, 6, 0 },
	};
	size_t k = 0;
	for (size_t i = 0; i < p.n; i++) {
		if (p.ev[i].te_kind != TR_FORK)
			continue;
		ck_assert_uint_lt(k, sizeof(forks) / sizeof(forks[0]));
		ck_assert_uint_eq(p.ev[i].te_pid, forks[k].parent);
		ck_assert_uint_eq(p.ev[i].te_arg, forks[k].child);
		ck_assert_msg(p.ev[i].te_flags == forks[k].flags, "fork %zu: flags %u", k, p.ev[i].te_flags);
		k++;
	}
	ck_assert_uint_eq(k, sizeof(forks) / sizeof(forks[0]));
	unsigned stacks = 0;
	for (size_t i = 0; i < p.n; i++)
		if (p.ev[i].te_kind == TR_MMAP && (p.ev[i].te_flags & TR_MAP_STACK))
			stacks++;
	ck_assert_uint_eq(stacks, 2);   /* [stack], and the child's growth of it */
	ck_assert_uint_eq(p.st.stack_growth, 1);
	parsed_free(&p);
}
END_TEST

/* Every prefix of every sample line, and bytes of noise: counted, never a crash (ASan watches). */
START_TEST(prefixes_and_noise)
{
	size_t nlines;
	char **lines = read_sample(&nlines);
	struct trace_writer *w = trace_writer_new();
	struct perf_conv *c = perf_conv_new(w, 8u << 20);
	char buf[512];
	uint64_t seed = 42;

	for (size_t i = 0; i < nlines + sizeof(vfork_lines) / sizeof(vfork_lines[0]); i++) {
		const char *line = i < nlines ? lines[i] : vfork_lines[i - nlines];
		size_t len = strlen(line);
		for (size_t n = 0; n <= len && n < sizeof(buf); n++) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			perf_conv_line(c, buf);
		}
	}
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(seed % 200);
		const char *line = lines[seed % nlines];
		for (size_t k = 0; k < n; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			buf[k] = (char)(seed >> 56) ? (char)(seed >> 56) : ' ';
			if (seed % 3 == 0 && k < strlen(line))
				buf[k] = line[k];   /* half-real lines reach deeper */
		}
		buf[n] = '\0';
		perf_conv_line(c, buf);
	}
	perf_conv_finish(c);
	ck_assert_uint_gt(perf_conv_stats(c)->skipped, 0);
	perf_conv_free(c);
	trace_writer_free(w);
	free_lines(lines, nlines);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PERF-SCRIPT-SAMPLE\n", argv[0]);
		return 99;
	}
	sample_path = argv[1];
	temp_dir_make("hatvm-perf");
	Suite *s = suite_create("trace_perf");
	TCase *tc = tcase_create("parser");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, saved_sample);
	tcase_add_test(tc, crafted_lines);
	tcase_add_test(tc, newtask_tells_a_vfork);
	tcase_add_test(tc, prefixes_and_noise);
	suite_add_tcase(s, tc);
	int status = run_suite(s);
	temp_dir_remove();
	return status;
}
