/* SPDX-License-Identifier: BSD-2-Clause */
/* `vmm record`: run a command under perf and write the trace of its process tree's memory events. */
#define _GNU_SOURCE   /* pipe2 */
#include "trace_record.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hatvm/exit_status.h"
#include "out_file.h"
#include "trace_perf.h"
#include "trace_write.h"

extern char **environ;

#define RECORD_OK      0
#define RECORD_FAILED  1   /* the trace is written; the command failed */
#define RECORD_ERROR   VMM_EXIT_USAGE
#define TAIL_SIZE      4096
#define STACK_LIMIT_MAX (1ull << 30)

static const char usage_text[] =
"Usage: vmm record -o TRACE [--perf=PROGRAM] [--quiet] -- COMMAND [ARGS...]\n"
"\n"
"Run COMMAND and every process it starts under `perf record', and write\n"
"their memory events (fork, exec, exit, mmap, munmap, mprotect, mremap,\n"
"brk, madvise(DONTNEED) and every user page fault) to TRACE, for\n"
"`vmm trace-info' and `vmm --replay'. Needs perf (Debian: linux-perf) and\n"
"root, or CAP_PERFMON (or kernel.perf_event_paranoid=-1) with read access\n"
"to /sys/kernel/tracing.\n"
"\n"
"  -o, --output TRACE  the trace file to write (replaced only when complete)\n"
"      --perf PROGRAM  the perf to run (default: perf, from PATH)\n"
"  -q, --quiet         print nothing but errors\n"
"  -h, --help          print this help and exit\n"
"\n"
"Exit status: 0 trace written, COMMAND succeeded; 1 trace written, COMMAND\n"
"failed; 2 no trace (usage, perf missing or refused, nothing recorded, or\n"
"TRACE not written).\n";

struct record_opts {
	const char *output;
	const char *perf;
	bool quiet;
	char **command;   /* NULL-terminated */
};

/* The last TAIL_SIZE bytes perf and the command wrote to standard error. */
struct tail {
	char text[TAIL_SIZE + 1];
	size_t len;
};

static void usage(const char *what)
{
	fprintf(stderr, "vmm record: %s\n%s", what, usage_text);
}

/* 0 to go on, 1 after --help, -1 after a usage error. */
static int parse(int argc, char **argv, struct record_opts *o)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "perf",   required_argument, NULL, 'p' },
		{ "quiet",  no_argument,       NULL, 'q' },
		{ "help",   no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[PATH_MAX + 160];
	int c;

	*o = (struct record_opts){ .perf = "perf" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:qh", options, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'p': o->perf = optarg; break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage_text, stdout); return 1;
		default:  fputs(usage_text, stderr); return -1;
		}
	}
	if (!o->output || optind >= argc) {
		usage(o->output ? "missing COMMAND" : "missing -o TRACE");
		return -1;
	}
	o->command = argv + optind;
	if (out_file_check(o->output, why, sizeof(why))) {
		fprintf(stderr, "vmm record: -o: %s\n", why);
		return -1;
	}
	return 0;
}

/* True when NAME runs: a path to an executable, or found in PATH as execvp would. */
static bool command_exists(const char *name)
{
	const char *path = getenv("PATH");
	char full[PATH_MAX];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; ; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int len = snprintf(full, sizeof(full), "%.*s/%s", (int)n, n ? p : ".", name);
		if (len > 0 && (size_t)len < sizeof(full) && access(full, X_OK) == 0)
			return true;
		if (!end)
			return false;
		p = end;
	}
}

static void tail_add(struct tail *t, const char *buf, size_t n)
{
	if (n >= TAIL_SIZE) {
		memcpy(t->text, buf + n - TAIL_SIZE, TAIL_SIZE);
		t->len = TAIL_SIZE;
	} else {
		size_t keep = t->len + n > TAIL_SIZE ? TAIL_SIZE - n : t->len;
		memmove(t->text, t->text + t->len - keep, keep);
		memcpy(t->text + keep, buf, n);
		t->len = keep + n;
	}
	t->text[t->len] = '\0';
}

/* Copies what FD has to standard error and into the tail; false at end of file. */
static bool forward(int fd, struct tail *t)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* standard error is gone: keep the tail anyway */
	}
	tail_add(t, buf, (size_t)n);
	return true;
}

/*
 * Forwards the pipe to standard error until PID exits (not until every
 * writer closes it: a daemon the command left behind may hold it open).
 * Returns PID's wait status.
 */
static int wait_forwarding(pid_t pid, int fd, struct tail *t)
{
	int status = 0;
	bool open = true;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (open && poll(&pfd, 1, 200) > 0)
			open = forward(fd, t);
		pid_t done = waitpid(pid, &status, WNOHANG);
		if (done == pid || (done < 0 && errno != EINTR))
			break;
		if (!open)
			usleep(20000);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (open && forward(fd, t) && errno != EAGAIN)
		;
	return status;
}

/* posix_spawnp of ARGV with SIGINT and SIGQUIT back to their defaults; stdout/stderr to OUT/ERR (-1: inherit). */
static int spawn(pid_t *pid, char *const argv[], int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t defaults;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	if (err >= 0)
		posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
	posix_spawnattr_init(&attr);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGQUIT);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/* What probably went wrong, from perf's words, and how to fix it. */
static const char *perf_hint(const char *text)
{
	if (strstr(text, "linux-perf") || strstr(text, "not found for kernel"))
		return "perf does not match the running kernel: install the linux-perf package "
		       "for it";
	if (strstr(text, "ermission") || strstr(text, "paranoid") || strstr(text, "Access to"))
		return "perf was refused: record as root, or with CAP_PERFMON (or "
		       "kernel.perf_event_paranoid=-1) and read access to /sys/kernel/tracing";
	if (strstr(text, "tracepoint") || strstr(text, "trace events") || strstr(text, "tracing"))
		return "the kernel does not offer a tracepoint vmm record needs "
		       "(exceptions:page_fault_user, task:task_newtask, "
		       "syscalls:sys_*: CONFIG_FTRACE_SYSCALLS, "
		       "tracefs at /sys/kernel/tracing)";
	return "perf's own message is above";
}

struct run {
	char dir[PATH_MAX];
	char data[PATH_MAX + 32];
	char script_err[PATH_MAX + 32];
	struct tail tail;
	int perf_status;
};

/* perf record -- COMMAND. -1 (after a message) when perf could not run at all. */
static int run_perf_record(const struct record_opts *o, struct run *r)
{
	int argc = 0, pipefd[2], rc;
	size_t n = 0;
	pid_t pid;

	while (o->command[n])
		n++;
	char **argv = calloc(n + 16, sizeof(char *));
	if (!argv || pipe2(pipefd, O_CLOEXEC)) {
		free(argv);
		fprintf(stderr, "vmm record: %s\n", strerror(errno));
		return -1;
	}
	const char *fixed[] = { o->perf, "record", "-q", "-d", "-B", "-N", "-o", r->data,
				"-e", TRACE_PERF_EVENTS, "--" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[argc++] = (char *)fixed[i];
	for (size_t i = 0; i < n; i++)
		argv[argc++] = o->command[i];
	rc = spawn(&pid, argv, -1, pipefd[1]);
	free(argv);
	close(pipefd[1]);
	if (rc) {
		close(pipefd[0]);
		fprintf(stderr, "vmm record: cannot run %s: %s\n", o->perf, strerror(rc));
		if (rc == ENOENT)
			fprintf(stderr, "vmm record: install perf (Debian: apt-get install linux-perf) "
				"or name it with --perf=PROGRAM\n");
		return -1;
	}
	r->perf_status = wait_forwarding(pid, pipefd[0], &r->tail);
	close(pipefd[0]);
	return 0;
}

/*
 * perf script over the data, line by line into the parser. 0, or -1 after
 * a message. --force: the data is ours, in our own temporary directory, but
 * perf refuses a file whose owner is not the caller, as when a shared file
 * system maps owners (root in scripts/nested-kvm.sh's VM, run by a user).
 */
static int run_perf_script(const struct record_opts *o, struct run *r, struct perf_conv *conv)
{
	char *argv[] = { (char *)o->perf, "script", "--force", "-i", r->data, "-F", "pid,tid,event,trace",
			 "--show-mmap-events", "--show-task-events", "--show-lost-events", NULL };
	int pipefd[2], errfd, status, rc;
	pid_t pid;

	errfd = open(r->script_err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (errfd < 0 || pipe2(pipefd, O_CLOEXEC)) {
		fprintf(stderr, "vmm record: %s: %s\n", r->script_err, strerror(errno));
		if (errfd >= 0)
			close(errfd);
		return -1;
	}
	rc = spawn(&pid, argv, pipefd[1], errfd);
	close(pipefd[1]);
	close(errfd);
	if (rc) {
		close(pipefd[0]);
		fprintf(stderr, "vmm record: cannot run %s script: %s\n", o->perf, strerror(rc));
		return -1;
	}
	FILE *in = fdopen(pipefd[0], "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while (in && (len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		perf_conv_line(conv, line);
	}
	free(line);
	if (in)
		fclose(in);
	else
		close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	perf_conv_finish(conv);
	return 0;
}

/* perf script's complaints, less its "'trace' not valid for ... events" noise. */
static void show_script_errors(const struct run *r)
{
	FILE *f = fopen(r->script_err, "r");
	char line[1024];

	while (f && fgets(line, sizeof(line), f))
		if (!strstr(line, "not valid for"))
			fprintf(stderr, "perf script: %s", line);
	if (f)
		fclose(f);
}

/* The command line as one string, arguments with spaces in quotes. */
static char *join_command(char **cmd)
{
	size_t len = 1;

	for (char **a = cmd; *a; a++)
		len += strlen(*a) + 3;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (char **a = cmd; *a; a++) {
		bool quote = !**a || strpbrk(*a, " \t'\"");
		p += sprintf(p, "%s%s%s%s", a == cmd ? "" : " ", quote ? "'" : "", *a, quote ? "'" : "");
	}
	*p = '\0';
	return s;
}

static int save(const struct record_opts *o, struct trace_writer *w, const struct perf_stats *st)
{
	struct utsname u;
	char machine[6 * sizeof(u.release)] = "unknown", date[32] = "", err[PATH_MAX + 256];
	time_t now = time(NULL);
	struct tm tm;
	char *command = join_command(o->command);

	if (uname(&u) == 0)
		snprintf(machine, sizeof(machine), "%s %s %s %s %s", u.sysname, u.nodename, u.release,
			 u.version, u.machine);
	if (gmtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct trace_meta meta = { .command = command, .machine = machine, .date = date,
				   .lost = st->lost, .skipped = st->skipped + st->dropped };
	int rc = trace_writer_save(w, o->output, &meta, err, sizeof(err));
	free(command);
	if (rc)
		fprintf(stderr, "vmm record: %s\n", err);
	return rc;
}

static void summary(const struct record_opts *o, struct trace_writer *w,
		    const struct perf_stats *st)
{
	struct stat sb;

	if (o->quiet)
		return;
	fprintf(stderr, "vmm record: %s: %" PRIu64 " events (%" PRIu64 " faults), %" PRIu32
		" processes (%" PRIu64 " started by vfork), %jd bytes\n", o->output,
		trace_writer_count(w, 0), trace_writer_count(w, TR_FAULT), trace_writer_processes(w),
		st->vforks, stat(o->output, &sb) == 0 ? (intmax_t)sb.st_size : (intmax_t)-1);
	if (st->lost || st->skipped || st->dropped)
		fprintf(stderr, "vmm record: warning: perf lost %" PRIu64 " events; %" PRIu64
			" lines not understood, %" PRIu64 " events not usable\n", st->lost,
			st->skipped, st->dropped);
}

/* The recorded processes' stack limit: how far a stack may grow below its mapping. */
static uint64_t stack_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_STACK, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > STACK_LIMIT_MAX)
		return STACK_LIMIT_MAX;
	return rl.rlim_cur;
}

/* Converts the recorded data and writes the trace: the status of record_main. */
static int convert(const struct record_opts *o, struct run *r)
{
	struct trace_writer *w = trace_writer_new();
	struct perf_conv *conv = w ? perf_conv_new(w, stack_limit()) : NULL;
	int status = RECORD_ERROR;

	if (!conv)
		fprintf(stderr, "vmm record: out of memory\n");
	else if (run_perf_script(o, r, conv) == 0) {
		if (!perf_conv_started(conv)) {
			show_script_errors(r);
			fprintf(stderr, "vmm record: perf recorded nothing of %s: %s\n", o->command[0],
				perf_hint(r->tail.text));
		} else if (save(o, w, perf_conv_stats(conv)) == 0) {
			summary(o, w, perf_conv_stats(conv));
			status = RECORD_OK;
		}
	}
	perf_conv_free(conv);
	trace_writer_free(w);
	return status;
}

/* The command's outcome as perf passed it on: RECORD_OK or RECORD_FAILED, said aloud. */
static int command_status(const struct record_opts *o, int ws)
{
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return RECORD_OK;
	if (WIFEXITED(ws))
		fprintf(stderr, "vmm record: %s exited with status %d (the trace is kept)\n",
			o->command[0], WEXITSTATUS(ws));
	else
		fprintf(stderr, "vmm record: %s ended by signal %d (the trace is kept)\n",
			o->command[0], WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	return RECORD_FAILED;
}

static void cleanup(struct run *r)
{
	unlink(r->data);
	unlink(r->script_err);
	if (r->dir[0])
		rmdir(r->dir);
}

int record_main(int argc, char **argv)
{
	struct record_opts o;
	struct run r = { .dir = "" };
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc > 0 ? RECORD_OK : RECORD_ERROR;
	if (!command_exists(o.command[0])) {
		fprintf(stderr, "vmm record: %s: command not found\n", o.command[0]);
		return RECORD_ERROR;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(r.dir, sizeof(r.dir), "%s/vmm-record-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r.dir)) {
		fprintf(stderr, "vmm record: %s: %s\n", r.dir, strerror(errno));
		return RECORD_ERROR;
	}
	snprintf(r.data, sizeof(r.data), "%s/perf.data", r.dir);
	snprintf(r.script_err, sizeof(r.script_err), "%s/script.err", r.dir);

	/* Ctrl-C reaches perf and the command; perf then stops and keeps what it has */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	rc = run_perf_record(&o, &r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);

	struct stat sb;
	if (rc == 0 && (stat(r.data, &sb) || sb.st_size == 0)) {
		fprintf(stderr, "vmm record: perf record failed (status %d): %s\n",
			WIFEXITED(r.perf_status) ? WEXITSTATUS(r.perf_status) : -1,
			perf_hint(r.tail.text));
		rc = -1;
	}
	if (rc == 0)
		rc = convert(&o, &r) == RECORD_OK ? command_status(&o, r.perf_status) : RECORD_ERROR;
	else
		rc = RECORD_ERROR;
	cleanup(&r);
	return rc;
}
