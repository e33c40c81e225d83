/* SPDX-License-Identifier: BSD-2-Clause */
/* `perf script` text in, trace events out: the recorder's parser, robust to any line. */
#include "trace_perf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace_format.h"
#include "trace_map.h"

#define HOLD_MAX 8           /* events an exec may hold back while it waits for its program */
#define SYSCALL_ERR (-4096)  /* returns above (u64)-4096 are -errno */
#define MADV_DONTNEED_ 4
#define MADV_DONTNEED_LOCKED_ 24
#define NEWTASK "task:task_newtask:"   /* the sample that tells a clone's flags */
#define CLONE_VM_     0x100ull
#define CLONE_THREAD_ 0x10000ull

enum syscall { SYS_NONE, SYS_MUNMAP, SYS_MPROTECT, SYS_MREMAP, SYS_BRK, SYS_MADVISE, SYS_COUNT };

static const char *const syscall_names[SYS_COUNT] = {
	[SYS_MUNMAP] = "munmap", [SYS_MPROTECT] = "mprotect", [SYS_MREMAP] = "mremap",
	[SYS_BRK] = "brk", [SYS_MADVISE] = "madvise",
};

/* A thread inside a syscall: its entry's arguments until the exit says how it went. */
struct pending {
	enum syscall sys;
	uint64_t a[4];
};

struct proc {
	uint32_t threads;          /* live threads; the process exits with the last */
	uint64_t stack_lo;         /* lowest address of its [stack], 0: unknown */
	uint16_t stack_prot;
	bool borrows;              /* a vfork child until its exec: its stack is its lender's */
	uint32_t lender;
	uint64_t heap_start, brk;  /* 0: unknown */
	bool brk_seen;             /* a brk since the exec */
	bool exec_pending;         /* an EXEC waits for the program's mapping */
	struct trace_event exec_ev;
	struct trace_event held[HOLD_MAX];
	unsigned nheld;
};

/*
 * A FORK waits for the task_newtask sample that follows its record and
 * tells the clone's flags (a vfork shares its parent's memory); an event
 * of the parent or the child, or another FORK, writes it as it is.
 */
struct pending_fork {
	bool active;
	int64_t parent_pid, child_pid;
};

struct perf_conv {
	struct trace_writer *w;
	struct pending_fork fork;
	uint64_t stack_limit;
	struct perf_stats st;
	struct proc *procs;        /* by trace process id */
	uint32_t nprocs, procs_cap;
	struct trace_map pids;     /* live OS pid -> trace process id */
	struct trace_map tids;     /* OS tid -> index in pend */
	struct pending *pend;
	uint32_t npend, pend_cap;
};

struct perf_conv *perf_conv_new(struct trace_writer *w, uint64_t stack_limit)
{
	struct perf_conv *c = calloc(1, sizeof(*c));

	if (c) {
		c->w = w;
		c->stack_limit = stack_limit;
	}
	return c;
}

const struct perf_stats *perf_conv_stats(const struct perf_conv *c)
{
	return &c->st;
}

bool perf_conv_started(const struct perf_conv *c)
{
	return c->nprocs > 0;
}

void perf_conv_free(struct perf_conv *c)
{
	if (!c)
		return;
	free(c->procs);
	free(c->pend);
	trace_map_free(&c->pids);
	trace_map_free(&c->tids);
	free(c);
}

/* ---- small parsing helpers over NUL-terminated text ---- */

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* An unsigned number (0x hex or decimal) at *s; advances *s past it. */
static bool number(const char **s, uint64_t *v)
{
	char *end;

	if (!((**s >= '0' && **s <= '9')))
		return false;
	errno = 0;
	*v = strtoull(*s, &end, 0);
	if (errno || end == *s)
		return false;
	*s = end;
	return true;
}

/* A hex number without prefix (a device's major or minor). */
static bool hex_number(const char **s, uint64_t *v)
{
	char *end;

	if (!((**s >= '0' && **s <= '9') || (**s >= 'a' && **s <= 'f')))
		return false;
	errno = 0;
	*v = strtoull(*s, &end, 16);
	if (errno || end == *s)
		return false;
	*s = end;
	return true;
}

static bool expect(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* A signed decimal (perf prints -1 for "no pid"). */
static bool signed_number(const char **s, int64_t *v)
{
	bool neg = **s == '-';
	uint64_t u;

	if (neg)
		(*s)++;
	if (!number(s, &u) || u > INT32_MAX)
		return false;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

/* "PID/TID" or "PID:TID" at *s. */
static bool pid_pair(const char **s, char sep, int64_t *pid, int64_t *tid)
{
	return signed_number(s, pid) && **s == sep && ((*s)++, signed_number(s, tid));
}

/* The value of "KEY: V" or "KEY=V" in a tracepoint payload, KEY a whole word. */
static bool field(const char *payload, const char *key, uint64_t *v)
{
	size_t n = strlen(key);

	for (const char *p = strstr(payload, key); p; p = strstr(p + 1, key)) {
		bool starts = p == payload || p[-1] == ' ' || p[-1] == ',';
		if (!starts || (p[n] != ':' && p[n] != '='))
			continue;
		const char *q = skip_spaces(p + n + 1);
		return number(&q, v);
	}
	return false;
}

static uint64_t page_up(uint64_t v)
{
	return (v + TRACE_PAGE_SIZE - 1) & ~(TRACE_PAGE_SIZE - 1);
}

static uint64_t page_down(uint64_t v)
{
	return v & ~(TRACE_PAGE_SIZE - 1);
}

static bool user_range(uint64_t addr, uint64_t len)
{
	return addr < TRACE_ADDR_LIMIT && len <= TRACE_ADDR_LIMIT - addr;
}

/* ---- processes and threads ---- */

static struct proc *proc_by_pid(struct perf_conv *c, int64_t pid, uint32_t *id)
{
	if (!trace_map_get(&c->pids, (uint64_t)pid, id))
		return NULL;
	return &c->procs[*id];
}

/* Registers trace process ID (the next one) for OS PID. */
static struct proc *proc_add(struct perf_conv *c, int64_t pid, uint32_t id)
{
	if (id != c->nprocs)
		return NULL;
	if (c->nprocs == c->procs_cap) {
		uint32_t cap = c->procs_cap ? c->procs_cap * 2 : 16;
		struct proc *p = realloc(c->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		c->procs = p;
		c->procs_cap = cap;
	}
	if (trace_map_put(&c->pids, (uint64_t)pid, id))
		return NULL;
	c->procs[id] = (struct proc){ .threads = 1 };
	return &c->procs[c->nprocs++];
}

static struct pending *pending_of(struct perf_conv *c, int64_t tid)
{
	uint32_t i;

	if (trace_map_get(&c->tids, (uint64_t)tid, &i))
		return &c->pend[i];
	if (c->npend == c->pend_cap) {
		uint32_t cap = c->pend_cap ? c->pend_cap * 2 : 64;
		struct pending *p = realloc(c->pend, cap * sizeof(*p));
		if (!p)
			return NULL;
		c->pend = p;
		c->pend_cap = cap;
	}
	if (trace_map_put(&c->tids, (uint64_t)tid, c->npend))
		return NULL;
	c->pend[c->npend] = (struct pending){ .sys = SYS_NONE };
	return &c->pend[c->npend++];
}

/* ---- writing events ---- */

static void write_event(struct perf_conv *c, const struct trace_event *ev)
{
	char why[256];

	if (trace_writer_add(c->w, ev, why, sizeof(why)))
		c->st.dropped++;
}

static void flush_exec(struct perf_conv *c, struct proc *p)
{
	if (!p->exec_pending)
		return;
	p->exec_pending = false;
	write_event(c, &p->exec_ev);
	for (unsigned i = 0; i < p->nheld; i++)
		write_event(c, &p->held[i]);
	p->nheld = 0;
}

/*
 * Writes EV of process P. An EXEC waits for the first mapping of a real
 * file (PROGRAM: the program, its te_file) and holds the mappings that
 * come before it ([stack]); any other event of P writes it as it is.
 */
static void emit(struct perf_conv *c, struct proc *p, const struct trace_event *ev, bool program)
{
	if (p->exec_pending && ev->te_kind == TR_MMAP) {
		if (program) {
			p->exec_ev.te_file = ev->te_file;
		} else if (p->nheld < HOLD_MAX) {
			p->held[p->nheld++] = *ev;
			return;
		}
	}
	flush_exec(c, p);
	write_event(c, ev);
}

/* ---- side-band records ---- */

/* "[0xADDR(0xLEN) @ OFF MAJ:MIN INO GEN]: PROT PATH" after "PERF_RECORD_MMAP2 PID/TID: ". */
struct mmap2 {
	uint64_t addr, len, off, major, minor, inode;
	char prot[4];
	const char *path;
};

static bool parse_mmap2(const char *s, struct mmap2 *m)
{
	uint64_t gen;

	if (!expect(&s, "[") || !number(&s, &m->addr) || !expect(&s, "(") ||
	    !number(&s, &m->len) || !expect(&s, ") @ ") || !number(&s, &m->off) ||
	    !expect(&s, " ") || !hex_number(&s, &m->major) || !expect(&s, ":") ||
	    !hex_number(&s, &m->minor) || !expect(&s, " ") || !number(&s, &m->inode) ||
	    !expect(&s, " ") || !number(&s, &gen) || !expect(&s, "]: "))
		return false;
	static const char allowed[4][3] = { "r-", "w-", "x-", "sp" };
	for (int i = 0; i < 4; i++) {
		if (!s[i] || !strchr(allowed[i], s[i]))
			return false;
		m->prot[i] = s[i];
	}
	if (s[4] != ' ' || !s[5])
		return false;
	m->path = s + 5;
	return true;
}

/* Flags, file and offset of a mapping by its name: //anon, [stack], [heap], [vdso]..., a file. */
static bool classify(struct perf_conv *c, const struct mmap2 *m, struct trace_event *ev,
		     bool *program)
{
	*program = false;
	ev->te_flags = m->prot[3] == 's' ? TR_MAP_SHARED : 0;
	if (strcmp(m->path, "//anon") == 0 || strcmp(m->path, "[heap]") == 0) {
		ev->te_flags |= TR_MAP_ANON;
		return true;
	}
	if (strcmp(m->path, "[stack]") == 0) {
		ev->te_flags = TR_MAP_ANON | TR_MAP_STACK;
		return true;
	}
	/* a file, or the kernel's own pages ([vdso], [vvar]): shared by name like a file */
	if (trace_writer_file(c->w, m->major << 32 | m->minor, m->inode, m->path, &ev->te_file))
		return false;
	ev->te_offset = m->path[0] == '[' ? 0 : m->off;
	*program = m->path[0] == '/';
	return true;
}

static void on_mmap2(struct perf_conv *c, const char *s)
{
	int64_t pid, tid;
	uint32_t id;
	struct mmap2 m;
	struct proc *p;
	bool program;

	if (!pid_pair(&s, '/', &pid, &tid) || !expect(&s, ": ") || !parse_mmap2(s, &m)) {
		c->st.skipped++;
		return;
	}
	struct pending *pd = pending_of(c, tid);
	if (pd && pd->sys != SYS_NONE) {
		c->st.echoes++;   /* the kernel reporting an mprotect's or brk's new VMA */
		return;
	}
	if (!(p = proc_by_pid(c, pid, &id)) || m.len == 0 || (m.addr | m.len | m.off) % TRACE_PAGE_SIZE ||
	    !user_range(m.addr, m.len)) {
		c->st.dropped++;
		return;
	}
	struct trace_event ev = {
		.te_kind = TR_MMAP, .te_pid = id, .te_addr = m.addr, .te_len = m.len,
		.te_file = TR_FILE_NONE,
		.te_prot = (uint16_t)((m.prot[0] == 'r' ? TR_PROT_READ : 0) |
				      (m.prot[1] == 'w' ? TR_PROT_WRITE : 0) |
				      (m.prot[2] == 'x' ? TR_PROT_EXEC : 0)),
	};
	if (!classify(c, &m, &ev, &program)) {
		c->st.dropped++;
		return;
	}
	if (ev.te_flags & TR_MAP_STACK) {
		p->stack_lo = m.addr;
		p->stack_prot = ev.te_prot;
	}
	emit(c, p, &ev, program);
}

/* "NAME:PID/TID" at the end of a COMM record (NAME may hold ':'). */
static bool comm_pid(const char *s, int64_t *pid)
{
	const char *colon = strrchr(s, ':');
	int64_t tid;

	if (!colon)
		return false;
	colon++;
	return pid_pair(&colon, '/', pid, &tid);
}

static void on_exec_record(struct perf_conv *c, const char *s)
{
	int64_t pid;
	uint32_t id = 0;
	struct proc *p;

	if (!comm_pid(s, &pid)) {
		c->st.skipped++;
		return;
	}
	p = proc_by_pid(c, pid, &id);
	if (!p && c->nprocs == 0)
		p = proc_add(c, pid, 0);   /* the recorded command: process 0 */
	if (!p) {
		c->st.dropped++;
		return;
	}
	flush_exec(c, p);
	*p = (struct proc){
		.threads = p->threads, .exec_pending = true,
		.exec_ev = { .te_kind = TR_EXEC, .te_pid = id, .te_file = TR_FILE_NONE },
	};
}

/* Writes the pending FORK, a vfork when FLAGS says so, and registers its child. */
static void flush_fork(struct perf_conv *c, uint8_t flags)
{
	uint32_t parent_id;
	struct proc *parent;

	if (!c->fork.active)
		return;
	c->fork.active = false;
	if (!(parent = proc_by_pid(c, c->fork.parent_pid, &parent_id))) {
		c->st.dropped++;
		return;
	}
	uint32_t child = trace_writer_processes(c->w);
	struct trace_event ev = { .te_kind = TR_FORK, .te_pid = parent_id, .te_arg = child,
				  .te_file = TR_FILE_NONE, .te_flags = flags };
	emit(c, parent, &ev, false);
	if (trace_writer_processes(c->w) != child + 1)
		return;   /* refused: counted as dropped */
	struct proc copy = *parent;
	struct proc *p = proc_add(c, c->fork.child_pid, child);
	if (!p) {
		c->st.dropped++;   /* out of memory: the child's events will be dropped too */
		return;
	}
	*p = (struct proc){ .threads = 1, .stack_lo = copy.stack_lo, .stack_prot = copy.stack_prot,
			    .heap_start = copy.heap_start, .brk = copy.brk, .brk_seen = copy.brk_seen,
			    .borrows = flags & TR_FORK_VM, .lender = copy.borrows ? copy.lender : parent_id };
}

/* Whose [stack] p's faults grow: its own, or its lender's while it is a vfork child. */
static struct proc *stack_of(struct perf_conv *c, struct proc *p)
{
	return p->borrows ? &c->procs[p->lender] : p;
}

static void on_fork_record(struct perf_conv *c, const char *s)
{
	int64_t pid, tid, ppid, ptid;
	uint32_t parent_id;
	struct proc *parent;

	if (!expect(&s, "(") || !pid_pair(&s, ':', &pid, &tid) || !expect(&s, "):(") ||
	    !pid_pair(&s, ':', &ppid, &ptid) || !expect(&s, ")")) {
		c->st.skipped++;
		return;
	}
	flush_fork(c, 0);   /* children get their ids in order */
	if (!(parent = proc_by_pid(c, ppid, &parent_id))) {
		c->st.dropped++;
		return;
	}
	if (pid == ppid) {   /* a new thread of the same process */
		parent->threads++;
		c->st.ignored++;
		return;
	}
	c->fork = (struct pending_fork){ .active = true, .parent_pid = ppid, .child_pid = pid };
}

/*
 * "pid=CHILD comm=NAME clone_flags=HEX oom_score_adj=N": the clone the
 * pending FORK was. NAME may hold anything, " clone_flags=" too: the
 * flags are the last such field, the pid the first.
 */
static void on_newtask(struct perf_conv *c, const char *payload)
{
	const char *key = " clone_flags=", *f = NULL;
	uint64_t child, flags;

	for (const char *q = strstr(payload, key); q; q = strstr(q + 1, key))
		f = q + strlen(key);
	if (!field(payload, "pid", &child) || !f || !hex_number(&f, &flags)) {
		c->st.skipped++;
		return;
	}
	if (!c->fork.active || (int64_t)child != c->fork.child_pid) {
		c->st.ignored++;   /* a thread's, or a FORK's already written */
		return;
	}
	bool vfork = (flags & CLONE_VM_) && !(flags & CLONE_THREAD_);
	c->st.vforks += vfork;
	flush_fork(c, vfork ? TR_FORK_VM : 0);
}

static void on_exit_record(struct perf_conv *c, const char *s)
{
	int64_t pid, tid;
	uint32_t id;
	struct proc *p;

	if (!expect(&s, "(") || !pid_pair(&s, ':', &pid, &tid)) {
		c->st.skipped++;
		return;
	}
	if (!(p = proc_by_pid(c, pid, &id))) {
		c->st.dropped++;
		return;
	}
	if (p->threads > 1) {
		p->threads--;
		c->st.ignored++;
		return;
	}
	struct trace_event ev = { .te_kind = TR_EXIT, .te_pid = id, .te_file = TR_FILE_NONE };
	emit(c, p, &ev, false);
	trace_map_del(&c->pids, (uint64_t)pid);
}

/* The last number on the line: how many events a LOST record says were lost. */
static void on_lost(struct perf_conv *c, const char *s)
{
	uint64_t v = 0, last = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9' && (s[-1] == ' ' || s[-1] == ':')) {
			if (number(&s, &v))
				last = v;
			if (!*s)
				break;
		}
	}
	c->st.lost += last;
}

static void on_record(struct perf_conv *c, const char *s)
{
	if (expect(&s, "PERF_RECORD_MMAP2 "))
		on_mmap2(c, s);
	else if (expect(&s, "PERF_RECORD_COMM exec: "))
		on_exec_record(c, s);
	else if (expect(&s, "PERF_RECORD_FORK"))
		on_fork_record(c, s);
	else if (expect(&s, "PERF_RECORD_EXIT"))
		on_exit_record(c, s);
	else if (strncmp(s, "PERF_RECORD_LOST", 16) == 0)
		on_lost(c, s);
	else if (strncmp(s, "PERF_RECORD_MMAP ", 17) == 0 || strncmp(s, "PERF_RECORD_COMM", 16) == 0)
		c->st.ignored++;   /* the kernel's own text; a rename */
	else
		c->st.skipped++;
}

/* ---- samples: page faults and syscalls ---- */

static void on_fault(struct perf_conv *c, int64_t pid, const char *payload)
{
	uint64_t addr, code;
	uint32_t id;
	struct proc *p;

	if (!field(payload, "address", &addr) || !field(payload, "error_code", &code)) {
		c->st.skipped++;
		return;
	}
	if (!(p = proc_by_pid(c, pid, &id)) || addr >= TRACE_ADDR_LIMIT) {
		c->st.dropped++;
		return;
	}
	uint64_t page = page_down(addr);
	struct proc *st = stack_of(c, p);
	if (st->stack_lo && page < st->stack_lo && st->stack_lo - page <= c->stack_limit) {
		/* the kernel grew the stack down to the fault: no record says so */
		struct trace_event grow = {
			.te_kind = TR_MMAP, .te_pid = id, .te_addr = page, .te_len = st->stack_lo - page,
			.te_prot = st->stack_prot, .te_flags = TR_MAP_ANON | TR_MAP_STACK,
			.te_file = TR_FILE_NONE,
		};
		emit(c, p, &grow, false);
		st->stack_lo = page;
		c->st.stack_growth++;
	}
	struct trace_event ev = {
		.te_kind = TR_FAULT, .te_pid = id, .te_addr = addr, .te_file = TR_FILE_NONE,
		.te_fault = (uint8_t)(code & (TR_FAULT_PRESENT | TR_FAULT_WRITE | TR_FAULT_EXEC)),
	};
	emit(c, p, &ev, false);
}

/* The arguments each syscall's entry must show, in pending.a[] order. */
static const char *const syscall_args[SYS_COUNT][4] = {
	[SYS_MUNMAP] = { "addr", "len" },
	[SYS_MPROTECT] = { "start", "len", "prot" },
	[SYS_MREMAP] = { "addr", "old_len", "new_len", "flags" },
	[SYS_BRK] = { "brk" },
	[SYS_MADVISE] = { "start", "len_in", "behavior" },
};

static enum syscall syscall_by_name(const char *name, size_t len)
{
	for (int i = 1; i < SYS_COUNT; i++)
		if (strlen(syscall_names[i]) == len && strncmp(name, syscall_names[i], len) == 0)
			return (enum syscall)i;
	return SYS_NONE;
}

static void on_enter(struct perf_conv *c, int64_t tid, enum syscall sys, const char *payload)
{
	struct pending *pd = pending_of(c, tid);

	if (!pd) {
		c->st.dropped++;
		return;
	}
	*pd = (struct pending){ .sys = sys };
	for (int i = 0; i < 4 && syscall_args[sys][i]; i++) {
		if (!field(payload, syscall_args[sys][i], &pd->a[i])) {
			pd->sys = SYS_NONE;
			c->st.skipped++;
			return;
		}
	}
}

/* A region syscall that succeeded: its event over whole pages. */
static void emit_range(struct perf_conv *c, struct proc *p, uint32_t id, uint32_t kind,
		       uint64_t addr, uint64_t len, uint16_t prot)
{
	len = page_up(len);
	if (len == 0) {
		c->st.ignored++;   /* a successful no-op */
		return;
	}
	if (addr % TRACE_PAGE_SIZE || !user_range(addr, len)) {
		c->st.dropped++;
		return;
	}
	struct trace_event ev = { .te_kind = kind, .te_pid = id, .te_addr = addr, .te_len = len,
				  .te_prot = prot, .te_file = TR_FILE_NONE };
	emit(c, p, &ev, false);
}

static void on_mremap(struct perf_conv *c, struct proc *p, uint32_t id, const uint64_t *a,
		      uint64_t ret)
{
	uint64_t old_len = page_up(a[1]), new_len = page_up(a[2]);

	if (old_len == 0 || new_len == 0 || a[0] % TRACE_PAGE_SIZE || !user_range(a[0], old_len) ||
	    ret % TRACE_PAGE_SIZE || !user_range(ret, new_len)) {
		c->st.dropped++;   /* old_len 0 duplicates a shared mapping: not modelled */
		return;
	}
	struct trace_event ev = { .te_kind = TR_MREMAP, .te_pid = id, .te_addr = a[0],
				  .te_len = old_len, .te_arg = ret, .te_len2 = new_len,
				  .te_file = TR_FILE_NONE };
	emit(c, p, &ev, false);
}

/* brk returns the break: the first since exec tells the heap's start (brk(0) asks just that). */
static void on_brk(struct perf_conv *c, struct proc *p, uint32_t id, uint64_t asked, uint64_t ret)
{
	bool first = !p->brk_seen;

	if (first && (asked == 0 || ret != asked))
		p->heap_start = ret;
	p->brk_seen = true;
	if (!first && ret == p->brk) {
		c->st.ignored++;
		return;
	}
	p->brk = ret;
	if (ret >= TRACE_ADDR_LIMIT || ret < p->heap_start) {
		c->st.dropped++;
		return;
	}
	struct trace_event ev = { .te_kind = TR_BRK, .te_pid = id, .te_addr = ret,
				  .te_arg = p->heap_start, .te_file = TR_FILE_NONE };
	emit(c, p, &ev, false);
}

static void on_return(struct perf_conv *c, int64_t pid, int64_t tid, enum syscall sys,
		      const char *payload)
{
	struct pending *pd = pending_of(c, tid);
	uint64_t ret, a[4];
	uint32_t id;
	struct proc *p;

	if (!number(&payload, &ret)) {
		c->st.skipped++;
		return;
	}
	if (!pd || pd->sys != sys || !(p = proc_by_pid(c, pid, &id))) {
		c->st.dropped++;
		if (pd)
			pd->sys = SYS_NONE;
		return;
	}
	memcpy(a, pd->a, sizeof(a));
	pd->sys = SYS_NONE;
	if (sys != SYS_BRK && ret > (uint64_t)SYSCALL_ERR) {
		c->st.failed++;
		return;
	}
	switch (sys) {
	case SYS_MUNMAP:
		emit_range(c, p, id, TR_MUNMAP, a[0], a[1], 0);
		break;
	case SYS_MPROTECT:
		emit_range(c, p, id, TR_MPROTECT, a[0], a[1],
			   (uint16_t)(a[2] & (TR_PROT_READ | TR_PROT_WRITE | TR_PROT_EXEC)));
		break;
	case SYS_MADVISE:
		if (a[2] == MADV_DONTNEED_ || a[2] == MADV_DONTNEED_LOCKED_)
			emit_range(c, p, id, TR_DONTNEED, a[0], a[1], 0);
		else
			c->st.ignored++;
		break;
	case SYS_MREMAP:
		on_mremap(c, p, id, a, ret);
		break;
	default:   /* SYS_BRK */
		on_brk(c, p, id, a[0], ret);
		break;
	}
}

/*
 * A sample, after the pid/tid: "exceptions:page_fault_user: ...",
 * "task:task_newtask: ..." or "syscalls:sys_enter_X: ...".
 */
static void on_sample(struct perf_conv *c, int64_t pid, int64_t tid, const char *s)
{
	const char *payload;
	enum syscall sys;

	if (expect(&s, "exceptions:page_fault_user:")) {
		on_fault(c, pid, s);
		return;
	}
	if (expect(&s, NEWTASK)) {
		on_newtask(c, s);
		return;
	}
	bool enter = expect(&s, "syscalls:sys_enter_");
	if (!enter && !expect(&s, "syscalls:sys_exit_")) {
		c->st.skipped++;
		return;
	}
	payload = strchr(s, ':');
	if (!payload || (sys = syscall_by_name(s, (size_t)(payload - s))) == SYS_NONE) {
		c->st.skipped++;
		return;
	}
	payload = skip_spaces(payload + 1);
	if (enter)
		on_enter(c, tid, sys, payload);
	else
		on_return(c, pid, tid, sys, payload);
}

void perf_conv_line(struct perf_conv *c, const char *line)
{
	const char *s = skip_spaces(line);
	int64_t pid, tid;

	c->st.lines++;
	if (!*s) {
		c->st.ignored++;
		return;
	}
	if (!pid_pair(&s, '/', &pid, &tid) || (*s != ' ' && *s != '\t')) {
		c->st.skipped++;
		return;
	}
	s = skip_spaces(s);
	if (c->fork.active && (pid == c->fork.parent_pid || pid == c->fork.child_pid) &&
	    strncmp(s, NEWTASK, strlen(NEWTASK)) != 0)
		flush_fork(c, 0);
	if (strncmp(s, "PERF_RECORD_", 12) == 0)
		on_record(c, s);
	else
		on_sample(c, pid, tid, s);
}

void perf_conv_finish(struct perf_conv *c)
{
	flush_fork(c, 0);
	for (uint32_t i = 0; i < c->nprocs; i++)
		flush_exec(c, &c->procs[i]);
}
